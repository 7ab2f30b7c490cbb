"""The data-scope rule: which courts' records a user may see and change.

A user acts for one court. They see the records of that court and of every court below it,
never those of a sibling or a superior court, except records that were sent to their court
(a transferred case, a report, an order). Every query set, API handler and export filters
through :func:`restrict`, so the rule lives here and nowhere else.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models, transaction
from django.db.models import Q

from zhixing.courts.models import Court, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from zhixing.courts.models import User

M = TypeVar("M", bound=models.Model)

# Every scoped query needs the court tree, which rarely changes. Each process keeps
# it for this many seconds. A court saved or deleted in this process clears it at once (and
# again when that transaction commits), so other processes see a change within this time.
COURT_TREE_SECONDS = 30.0

_tree_lock = threading.Lock()
_tree: tuple[float, list[tuple[int, str]]] | None = None
_tree_generation = 0


def court_tree() -> list[tuple[int, str]]:
    """Return the (id, path) pair of every court, from this process's copy if it is recent."""
    global _tree
    now = time.monotonic()
    with _tree_lock:
        if _tree is not None and now - _tree[0] < COURT_TREE_SECONDS:
            return _tree[1]
        generation = _tree_generation
    courts = list(Court.objects.values_list("pk", "path"))
    with _tree_lock:
        # A court saved while this query ran makes its result stale, so it is not kept.
        if generation == _tree_generation:
            _tree = (now, courts)
    return courts


def court_changed(**_signal: Any) -> None:
    """Drop this process's copy of the court tree now and after the current transaction."""
    clear_court_tree()
    transaction.on_commit(clear_court_tree)


def clear_court_tree() -> None:
    """Drop this process's copy of the court tree."""
    global _tree, _tree_generation
    with _tree_lock:
        _tree = None
        _tree_generation += 1


def _acting_court(user: User | AnonymousUser | None) -> Court | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user.court  # type: ignore[union-attr]


def visible_courts(user: User | AnonymousUser | None) -> models.QuerySet[Court]:
    """Return the user's court and every court below it."""
    court = _acting_court(user)
    if court is None:
        return Court.objects.none()
    return Court.objects.filter(path__startswith=court.path)


def court_in_scope(user: User | AnonymousUser | None, court: Court | None) -> bool:
    """Return whether ``court`` is the user's court or lies below it."""
    acting = _acting_court(user)
    return acting is not None and court is not None and court.path.startswith(acting.path)


def restrict(
    queryset: models.QuerySet[M],
    user: User | AnonymousUser | None,
    *,
    court_field: str = "court",
    received_by_field: str | None = None,
) -> models.QuerySet[M]:
    """Filter ``queryset`` to the records the user may see.

    ``court_field`` names the court that owns a record (a lookup path such as
    ``"case__court"`` works). ``received_by_field`` names a relation to the courts a record was
    sent to; records sent to the user's own court are visible too, but not those sent to
    courts below it, which were not sent to this user.
    """
    court = _acting_court(user)
    if court is None:
        return queryset.none()
    # A literal list of court ids (at most a few hundred) lets the planner use each table's
    # court index; a join on the court path made it scan whole tables for small courts.
    courts = court_tree()
    court_ids = [pk for pk, path in courts if path.startswith(court.path)]
    if len(court_ids) == len(courts):
        # The user's scope is every court there is, so no condition is needed; a list of every
        # id would only cost the planner time.
        return queryset
    condition = Q(**{f"{court_field}__in": court_ids})
    if received_by_field is not None:
        condition |= Q(**{received_by_field: court})
        return queryset.filter(condition).distinct()
    return queryset.filter(condition)


def may_manage_users(user: User | AnonymousUser | None, court: Court | None) -> bool:
    """Return whether the user may create and change staff accounts of ``court``."""
    return court_in_scope(user, court) and user.has_role(Role.Code.ADMINISTRATOR)  # type: ignore[union-attr]


def may_manage_province(user: User | AnonymousUser | None) -> bool:
    """Return whether the user may change what serves every court: an administrator of the
    high court, the court with no court above it."""
    court = _acting_court(user)
    return (
        court is not None and court.parent_id is None and user.has_role(Role.Code.ADMINISTRATOR)  # type: ignore[union-attr]
    )


def may_read_audit(user: User | AnonymousUser | None) -> bool:
    """Return whether the user may search the audit trail of their scope."""
    return _acting_court(user) is not None and user.has_role(  # type: ignore[union-attr]
        Role.Code.BUREAU_HEAD, Role.Code.COMMANDER, Role.Code.ADMINISTRATOR
    )


def may_see_personal_data(user: User | AnonymousUser | None, court: Court | None) -> bool:
    """Return whether the user may see unmasked staff contact data of ``court``."""
    return may_manage_users(user, court)


def audit_scope(user: User | AnonymousUser | None) -> Q:
    """Return the condition for audit records in the user's scope.

    A record is in scope when the acting user's court or the court whose record was touched
    lies in the user's scope.
    """
    court = _acting_court(user)
    if court is None:
        return Q(pk__in=[])
    return Q(actor_court_path__startswith=court.path) | Q(subject_court_path__startswith=court.path)
