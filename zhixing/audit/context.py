"""Who is acting, from where: set per request (or per command) for the audit trail."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zhixing.courts.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None
    client_address: str
    channel: str  # "web", "api", "cli" or "system"


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "zhixing_audit_actor", default=None
)
SYSTEM_ACTOR = Actor(user=None, client_address="", channel="system")


def current_actor() -> Actor:
    return _current.get() or SYSTEM_ACTOR


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def attach_user(user: User) -> None:
    """Record the user that token authentication found after the middleware ran."""
    actor = current_actor()
    _current.set(Actor(user=user, client_address=actor.client_address, channel=actor.channel))
