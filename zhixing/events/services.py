"""Publishing events for the live stream, and reading those a user may see.

Services call :func:`publish` inside their transaction, so an event exists exactly when the
change it reports was committed. After the commit the stream's waker is bumped in this
process, and on PostgreSQL a ``NOTIFY`` wakes the streams of every other process.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from zhixing.courts.models import Court, User
from zhixing.events import stream
from zhixing.events.models import Event

logger = logging.getLogger(__name__)

CHANNEL = "zhixing_events"
# A page that reconnects receives at most this many missed events at once, oldest first;
# it asks again for the rest.
READ_LIMIT = 200
DEFAULT_KEEP_DAYS = 30
PURGE_CHUNK = 10_000


def _wake_after_commit() -> None:
    if connection.vendor == "postgresql":
        # Delivered by PostgreSQL when the transaction commits, and dropped if it rolls back.
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")
    transaction.on_commit(stream.waker.bump)


def publish(
    kind: str,
    *,
    courts: Iterable[Court] = (),
    users: Iterable[User] = (),
    user_ids: Iterable[int] = (),
    subject: Model | None = None,
    data: dict[str, Any] | None = None,
    severity: str = Event.Severity.INFO,
) -> list[Event]:
    """Append one event of ``kind`` for each recipient court and user (or user id); return them.

    ``data`` must hold no personal data: the events are kept for reconnecting pages and are
    not audited per read.
    """
    subject_type = subject._meta.label_lower if subject is not None else ""
    subject_id = str(subject.pk) if subject is not None else ""
    events = (
        [
            Event(
                kind=kind,
                severity=severity,
                court=court,
                subject_type=subject_type,
                subject_id=subject_id,
                data=data or {},
            )
            for court in courts
        ]
        + [
            Event(
                kind=kind,
                severity=severity,
                user=user,
                subject_type=subject_type,
                subject_id=subject_id,
                data=data or {},
            )
            for user in users
        ]
        + [
            Event(
                kind=kind,
                severity=severity,
                user_id=user_id,
                subject_type=subject_type,
                subject_id=subject_id,
                data=data or {},
            )
            for user_id in user_ids
        ]
    )
    if not events:
        return []
    Event.objects.bulk_create(events)
    _wake_after_commit()
    logger.debug("Published %s event(s) of kind %s", len(events), kind)
    return events


def publish_per_user(
    kind: str,
    data_by_user: Mapping[int, dict[str, Any]],
    *,
    severity: str = Event.Severity.INFO,
) -> list[Event]:
    """Append one event of ``kind`` for each user id, with that user's own ``data``.

    Like :func:`publish` for many users at once, when each needs different data: the events
    are written by one insert, and the streams are woken once.
    """
    events = [
        Event(kind=kind, severity=severity, user_id=user_id, data=data)
        for user_id, data in data_by_user.items()
    ]
    if not events:
        return []
    Event.objects.bulk_create(events)
    _wake_after_commit()
    logger.debug("Published %s event(s) of kind %s", len(events), kind)
    return events


def visible_to(user: User) -> Q:
    """Return the condition on events addressed to ``user`` or to the court they act for."""
    condition = Q(user_id=user.pk)
    if user.court_id is not None:
        condition |= Q(court_id=user.court_id, user__isnull=True)
    return condition


def events_after(user: User, last_id: int, limit: int = READ_LIMIT) -> Sequence[Event]:
    """Return the events for ``user`` with an id above ``last_id``, oldest first."""
    return list(Event.objects.filter(visible_to(user), id__gt=last_id).order_by("id")[:limit])


def latest_id() -> int:
    """Return the id of the newest event, or 0; a new page starts its stream there."""
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def purge_old_events(now: datetime.datetime | None = None) -> int:
    """Delete events older than ``ZHIXING_EVENT_KEEP_DAYS`` (30); return how many.

    Pages reconnect within seconds, so old events serve nobody; what they report stays in
    the records of the apps and in the audit trail.
    """
    now = now or timezone.now()
    days = float(getattr(settings, "ZHIXING_EVENT_KEEP_DAYS", DEFAULT_KEEP_DAYS))
    cutoff = now - datetime.timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            Event.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:PURGE_CHUNK]
        )
        if not ids:
            break
        deleted += Event.objects.filter(id__in=ids).delete()[0]
    if deleted:
        logger.info("Deleted %s event(s) older than %s days", deleted, days)
    return deleted
