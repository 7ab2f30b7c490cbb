"""Claiming an idempotency key for a request, storing its response, deleting expired keys.

A request with a key runs in three steps (:class:`zhixing.idempotency.api.IdempotentViewMixin`):

1. :func:`claim` inserts the key's row in a transaction of its own and commits it, so that a
   second request with the key finds it. When the row exists, the caller gets it with the
   outcome: a different request (mismatch), a stored response (replay), or no response yet.
2. :func:`lock` locks the row with ``SELECT … FOR UPDATE NOWAIT`` in the caller's transaction.
   A request that gets the lock and finds no stored response runs the view in that same
   transaction. A request that does not get it gets 409.
3. :func:`store_response` writes the response into the row in that transaction, so the row's
   response and the view's changes commit together, or roll back together.

Because of step 3, a row without a response that nobody has locked belongs to a request whose
changes were rolled back (a server error, or a process that died), and the next request with
the key runs the view again. On SQLite, which has no row locks, the write transactions of the
requests run one after another, so the second finds the first one's response.
"""

from __future__ import annotations

import datetime
import enum
import logging
from typing import Any

from django.db import IntegrityError, OperationalError, transaction

from zhixing.courts.models import User
from zhixing.idempotency.keys import KEEP
from zhixing.idempotency.models import IdempotencyKey

logger = logging.getLogger(__name__)

# Rows deleted per statement by the periodic check.
DELETE_BATCH = 1000
# Response headers stored with the body; the others are set again by the replaying request.
STORED_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Content-Disposition",
    "Location",
    "Cache-Control",
)


class Outcome(enum.Enum):
    """The next step of a request with an idempotency key, as :func:`claim` finds it."""

    RUN = "run"
    REPLAY = "replay"
    MISMATCH = "mismatch"


def claim(
    user: User,
    key: str,
    *,
    fingerprint: str,
    method: str,
    path: str,
    now: datetime.datetime,
) -> tuple[IdempotencyKey, Outcome]:
    """Return the row of ``user``'s ``key``, inserted and committed if it was new, and the outcome.

    Call it outside a transaction, so that the row is visible to other requests at once. An
    expired row that the periodic check has not deleted yet is replaced.
    """
    while True:
        record = _insert_or_get(user, key, fingerprint, method, path, now)
        if record is None:
            continue
        if record.expires_at > now:
            break
        IdempotencyKey.objects.filter(pk=record.pk, expires_at__lte=now).delete()
    if record.fingerprint != fingerprint:
        return record, Outcome.MISMATCH
    if record.is_complete:
        return record, Outcome.REPLAY
    return record, Outcome.RUN


def _insert_or_get(
    user: User, key: str, fingerprint: str, method: str, path: str, now: datetime.datetime
) -> IdempotencyKey | None:
    """Insert the row and return it, or the existing one, or None if that was just deleted."""
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                user=user,
                key=key,
                fingerprint=fingerprint,
                method=method,
                path=path[: IdempotencyKey._meta.get_field("path").max_length],
                created_at=now,
                expires_at=now + KEEP,
            )
    except IntegrityError:
        return IdempotencyKey.objects.filter(user=user, key=key).first()


def lock(record: IdempotencyKey) -> IdempotencyKey | None:
    """Lock ``record``'s row until the current transaction ends and return it as stored now.

    Returns None when another transaction holds the lock, or the row is gone.
    """
    try:
        # A savepoint, so that a failed NOWAIT leaves the caller's transaction usable.
        with transaction.atomic():
            return IdempotencyKey.objects.select_for_update(nowait=True).get(pk=record.pk)
    except OperationalError as error:
        logger.info("Idempotency key %s is locked by another request: %s", record.pk, error)
        return None
    except IdempotencyKey.DoesNotExist:
        return None


def store_response(record: IdempotencyKey, status_code: int, headers: Any, body: bytes) -> None:
    """Write the response of ``record``'s request, in the transaction of the request's changes."""
    stored = {name: headers[name] for name in STORED_HEADERS if name in headers}
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status_code=status_code, response_headers=stored, response_body=body
    )


def delete_expired(now: datetime.datetime) -> int:
    """Delete the keys that expired by ``now``, in batches, and return how many were deleted.

    Running it twice, or in two processes at once, deletes each row once.
    """
    deleted = 0
    while True:
        batch = list(
            IdempotencyKey.objects.filter(expires_at__lte=now)
            .order_by("pk")
            .values_list("pk", flat=True)[:DELETE_BATCH]
        )
        if not batch:
            break
        # Only the ids are loaded, so the deletion signals never read the stored bodies.
        count, _by_model = (
            IdempotencyKey.objects.filter(pk__in=batch, expires_at__lte=now).only("pk").delete()
        )
        deleted += count
        if len(batch) < DELETE_BATCH:
            break
    if deleted:
        logger.info("Deleted %s expired idempotency keys", deleted)
    return deleted
