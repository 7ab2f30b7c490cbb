"""The gateway: outstanding requests to agencies, from queueing to answer, expiry or failure.

The ``GatewayItem`` rows are the source of truth. A worker claims due items of one agency and
court into a batch by setting a lease, sends the batch through the agency's adapter and
records the acknowledgement. Answers arrive by callback or polling and are matched by item id.
Every function here can run twice, or again after a crash at any line, and leaves the same
result: each update is guarded by the state it expects, so a repeated step finds nothing to do.

Claims lock candidate rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that
concurrent workers take different items without waiting. SQLite has one writer at a time (the
settings open every transaction with ``BEGIN IMMEDIATE``), so there the update guarded by the
state read before is enough.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from zhixing.audit import services as audit
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.events import services as events
from zhixing.linkage import circuit, keys
from zhixing.linkage.adapters import (
    Adapter,
    AdapterFailure,
    PermanentFailure,
    SignedReply,
    TransientFailure,
)
from zhixing.linkage.adapters.online import dumps
from zhixing.linkage.models import (
    Action,
    Agency,
    AnswerCursor,
    GatewayBatch,
    GatewayItem,
)

logger = logging.getLogger(__name__)

State = GatewayItem.State
BatchState = GatewayBatch.State

PROTOCOL = "zhixing-gateway/1"
CALLBACK_URL_ENV = "ZHIXING_GATEWAY_CALLBACK_URL"
MAX_ATTEMPTS = 5
BACKOFF_BASE = datetime.timedelta(seconds=2)
BACKOFF_MAX = datetime.timedelta(minutes=10)
# The protocol's largest page.
POLL_LIMIT = 1000
# Pages fetched per court and agency in one poll, so one busy agency cannot hold a worker.
POLL_MAX_PAGES = 20
EXPIRY_CHUNK = 500
# Document types whose protocol name differs from the platform's.
PROTOCOL_DOCUMENT_TYPES = {"uscc": "credit_code"}

# A worker's default lease owner; tests and threads pass their own.
DEFAULT_OWNER = f"{socket.gethostname()}:{os.getpid()}"


class InvalidSignatureError(Exception):
    """Raised when a message's signer is unknown or its signature does not verify."""


class InvalidMessageError(Exception):
    """Raised when a signed message is not a valid protocol message."""


@dataclass(frozen=True)
class ItemRequest:
    """One request to queue: ask ``agency`` about ``party`` of ``case`` for ``category``.

    Pass ``item_id`` to make queueing idempotent: a second ``enqueue`` of the same id creates
    nothing.
    """

    agency: Agency
    case: EnforcementCase
    party: Party
    category: str
    action: str = Action.QUERY
    item_id: uuid.UUID | None = None


@dataclass
class AnswerReceipt:
    """Outcome of a message of answers: ids received and unknown, as the protocol replies."""

    received: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    answered: int = 0
    ignored: int = 0
    retried: int = 0

    def as_reply(self) -> dict[str, list[str]]:
        return {"received": self.received, "unknown": self.unknown}


@dataclass
class DispatchResult:
    """Outcome of sending one batch."""

    acknowledged: int = 0
    rejected: int = 0
    retried: int = 0
    failed: int = 0
    error: str = ""


def notify_officer(item: GatewayItem, message: str) -> None:
    """Tell the item's case officer that the request failed or expired.

    The officer's inbox lists the item with its reason, and an event refreshes the open pages.
    The log line and the audit record keep the reason for the gateway's operators.
    """
    logger.warning(
        "Gateway item %s of case %s (officer %s) to agency %s: %s",
        item.pk,
        item.case_id,
        item.case.case_officer_id,
        item.agency_id,
        message,
    )
    audit.record(
        audit.Action.UPDATE,
        item,
        detail={"event": "gateway_item_" + item.state, "message": message[:500]},
    )
    officer_id = item.case.case_officer_id
    if officer_id is not None:
        events.publish(
            "inquiry.item_" + item.state,
            user_ids=[officer_id],
            data={
                "title": _("A request to %(agency)s about case %(number)s ended: %(state)s")
                % {
                    "agency": item.agency.name,
                    "number": item.case.case_number,
                    "state": item.get_state_display(),
                },
                "url": reverse("inquiry-inbox"),
            },
        )


def answer_hook(items: Sequence[GatewayItem]) -> None:
    """Turn the answers just stored on ``items`` into the inquiry app's asset records."""
    # Imported here because the inquiry app builds on this module.
    from zhixing.inquiry.assets import announce_answers, record_answers

    record_answers(items)
    announce_answers(items)


def lease_length(agency: Agency) -> datetime.timedelta:
    """Return the length of a worker's lease on the items it sends to ``agency``."""
    return datetime.timedelta(seconds=max(60.0, 3 * agency.timeout_seconds))


def backoff(attempts: int) -> datetime.timedelta:
    """Return the wait before attempt ``attempts + 1``: exponential, with random jitter.

    The wait doubles with each attempt up to ``BACKOFF_MAX`` and is drawn between half and all
    of that, so that items failed together do not all return at the same moment.
    """
    ceiling = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(attempts - 1, 0)))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter needs no secure random


def _local_text(moment: datetime.datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat(timespec="seconds")


# Queueing


def _check_request(request: ItemRequest, debtors: set[tuple[int, int]]) -> None:
    agency = request.agency
    if not agency.active:
        raise ValidationError({"agency": f"Agency {agency.code} is inactive; activate it first."})
    if request.category not in agency.categories:
        raise ValidationError(
            {"category": f"Agency {agency.code} does not answer category {request.category!r}."}
        )
    if request.action not in agency.actions:
        raise ValidationError(
            {"action": f"Agency {agency.code} does not accept action {request.action!r}."}
        )
    case = request.case
    if case.status != EnforcementCase.Status.OPEN or case.type_code not in IMPLEMENTING_TYPE_CODES:
        raise ValidationError(
            {"case": f"Case {case.case_number} is not an open case of type 执, 执恢 or 执保."}
        )
    if (case.pk, request.party.pk) not in debtors:
        raise ValidationError(
            {"party": f"Party {request.party.pk} is not a debtor of case {case.case_number}."}
        )


def enqueue(
    requests: Iterable[ItemRequest], *, now: datetime.datetime | None = None
) -> list[GatewayItem]:
    """Create a pending item for each request; return the items (existing ones included).

    Checks the purpose binding that the gateway can see: the case is open and of an
    implementing type and the party is its debtor. Who may ask is the caller's check. Raises
    ``ValidationError`` naming the field of the first invalid request, and then stores nothing.
    """
    now = now or timezone.now()
    requests = list(requests)
    if not requests:
        return []
    debtors = set(
        CaseParty.objects.filter(
            case_id__in={request.case.pk for request in requests},
            party_id__in={request.party.pk for request in requests},
            role=CaseParty.Role.DEBTOR,
        ).values_list("case_id", "party_id")
    )
    items = []
    for request in requests:
        _check_request(request, debtors)
        items.append(
            GatewayItem(
                id=request.item_id or uuid.uuid4(),
                agency=request.agency,
                court_id=request.case.court_id,
                case=request.case,
                party=request.party,
                category=request.category,
                action=request.action,
                next_attempt_at=now,
                deadline=request.agency.deadline_for(request.action, now),
                created_at=now,
            )
        )
    # bulk_create leaves no audit record per item; the inquiry service audits the query.
    GatewayItem.objects.bulk_create(items, ignore_conflicts=True)
    logger.info("Queued %s gateway item(s)", len(items))
    return list(GatewayItem.objects.filter(pk__in=[item.pk for item in items]))


# Forming batches


def _due(agency: Agency, now: datetime.datetime) -> QuerySet[GatewayItem]:
    return GatewayItem.objects.filter(agency=agency, state=State.PENDING, next_attempt_at__lte=now)


def _claim(
    agency: Agency,
    candidates: QuerySet[GatewayItem],
    batch: GatewayBatch | None,
    court_id: int,
    now: datetime.datetime,
    owner: str,
) -> GatewayBatch | None:
    """Lease up to a batch of ``candidates`` into ``batch`` (or a new one); None if none left."""
    lease_until = now + lease_length(agency)
    with transaction.atomic():
        ordered = candidates.order_by("created_at", "id")
        if connection.vendor == "postgresql":
            ordered = ordered.select_for_update(skip_locked=True)
        ids = list(ordered.values_list("pk", flat=True)[: agency.batch_size])
        if not ids:
            return None
        if batch is None:
            batch = GatewayBatch(agency=agency, court_id=court_id)
            # bulk_create leaves no audit record: batches are the gateway's bookkeeping.
            GatewayBatch.objects.bulk_create([batch])
        taken = candidates.filter(pk__in=ids).update(
            state=State.SENT, batch=batch, lease_until=lease_until, lease_owner=owner
        )
        if not taken:
            return None
        GatewayBatch.objects.filter(pk=batch.pk).update(
            state=BatchState.SENDING,
            lease_until=lease_until,
            lease_owner=owner,
            attempts=batch.attempts + 1,
        )
    batch.refresh_from_db()
    logger.info(
        "Claimed %s item(s) into batch %s for agency %s (attempt %s)",
        taken,
        batch.pk,
        agency.code,
        batch.attempts,
    )
    return batch


def _ready_units(agency: Agency, now: datetime.datetime) -> list[tuple[int, uuid.UUID | None]]:
    """Return (court id, batch id) pairs with items to send now, batches to resend first."""
    due = _due(agency, now)
    resend: list[tuple[int, uuid.UUID | None]] = [
        (court_id, batch_id)
        for court_id, batch_id in due.filter(batch__isnull=False)
        .values_list("court_id", "batch_id")
        .distinct()
    ]
    window_start = now - datetime.timedelta(seconds=agency.batch_window_seconds)
    fresh: list[tuple[int, uuid.UUID | None]] = [
        (group["court_id"], None)
        for group in due.filter(batch__isnull=True)
        .values("court_id")
        .annotate(oldest=Min("created_at"), count=Count("id"))
        .order_by("oldest")
        if group["count"] >= agency.batch_size or group["oldest"] <= window_start
    ]
    return resend + fresh


def form_batches(
    now: datetime.datetime | None = None,
    *,
    owner: str = DEFAULT_OWNER,
    agencies: QuerySet[Agency] | None = None,
) -> list[GatewayBatch]:
    """Claim due pending items into batches, per agency and court; return the new batches.

    A batch forms when it is full or its oldest item has waited the agency's batch window.
    Agencies outside their service hours, with an open circuit or with ``concurrency`` batches
    in flight get none. Items whose earlier batch failed in passing go out again under the
    same batch id. ``agencies`` limits the pass to some agencies (default: every active one).

    NOTE: the in-flight count is read before claiming, so two workers forming batches at the
    same moment may together exceed an agency's concurrency by the number of workers.
    """
    now = now or timezone.now()
    formed: list[GatewayBatch] = []
    for agency in (agencies if agencies is not None else Agency.objects.all()).filter(active=True):
        if not agency.in_service(now):
            continue
        units = _ready_units(agency, now)
        if not units:
            continue
        in_flight = GatewayBatch.objects.filter(
            agency=agency, state=BatchState.SENDING, lease_until__gt=now
        ).count()
        limit = agency.concurrency - in_flight
        if limit <= 0:
            continue
        allowed = circuit.allowance(agency, now, lease_length(agency))
        if allowed is not None:
            limit = min(limit, allowed)
        for court_id, batch_id in units:
            while limit > 0:
                candidates = _due(agency, now).filter(court_id=court_id)
                if batch_id is None:
                    candidates = candidates.filter(batch__isnull=True)
                    batch = None
                else:
                    candidates = candidates.filter(batch_id=batch_id)
                    batch = GatewayBatch.objects.get(pk=batch_id)
                claimed = _claim(agency, candidates, batch, court_id, now, owner)
                if claimed is None:
                    break
                formed.append(claimed)
                limit -= 1
                if batch_id is not None:
                    break
                # Another full batch may wait; a partial one waits for its window again.
                remaining = candidates.count()
                oldest = candidates.aggregate(oldest=Min("created_at"))["oldest"]
                window_start = now - datetime.timedelta(seconds=agency.batch_window_seconds)
                if remaining < agency.batch_size and (oldest is None or oldest > window_start):
                    break
            if limit <= 0:
                break
    return formed


# Sending


def batch_message(batch: GatewayBatch, items: Sequence[GatewayItem]) -> dict[str, Any]:
    """Build the protocol's batch message for ``items`` of ``batch``."""
    court = batch.court
    message: dict[str, Any] = {
        "protocol": PROTOCOL,
        "batch_id": str(batch.pk),
        "agency": batch.agency.code,
        "court": {"code": court.code, "name": court.name},
        "sent_at": _local_text(timezone.now()),
    }
    callback_url = os.environ.get(CALLBACK_URL_ENV, "")
    if callback_url:
        message["callback_url"] = callback_url
    message["items"] = [
        {
            "item_id": str(item.pk),
            "action": item.action,
            "category": item.category,
            "case_number": item.case.case_number,
            "subject": {
                "kind": item.party.kind,
                "name": item.party.name,
                "document_type": PROTOCOL_DOCUMENT_TYPES.get(
                    item.party.document_type, item.party.document_type
                ),
                "document_number": item.party.document_number,
            },
            "deadline": _local_text(item.deadline),
            # NOTE: control measures carry their sealed document here once the e-seal
            # service produces it; queries need none.
            "document": None,
        }
        for item in items
    ]
    return message


def _retry_or_fail(
    items: QuerySet[GatewayItem],
    error: str,
    now: datetime.datetime,
    *,
    delay: datetime.timedelta | None = None,
    keep_batch: bool = True,
) -> tuple[int, int]:
    """Send ``items`` back to pending with backoff, or fail those out of attempts.

    Items grouped by attempt count share one wait, so that a batch stays together. With
    ``keep_batch`` the items go out again under their batch id. Returns (retried, failed).
    """
    retried = failed = 0
    for attempts in sorted(set(items.values_list("attempts", flat=True))):
        group = items.filter(attempts=attempts)
        if attempts + 1 >= MAX_ATTEMPTS:
            for item in group.select_related("case"):
                if GatewayItem.objects.filter(pk=item.pk, state=item.state).update(
                    state=State.FAILED,
                    attempts=attempts + 1,
                    lease_until=None,
                    lease_owner="",
                    last_error=error[:2000],
                ):
                    failed += 1
                    item.state = State.FAILED
                    notify_officer(item, f"failed after {attempts + 1} attempts: {error}")
            continue
        wait = max(backoff(attempts + 1), delay or datetime.timedelta(0))
        values: dict[str, Any] = {
            "state": State.PENDING,
            "attempts": attempts + 1,
            "next_attempt_at": now + wait,
            "lease_until": None,
            "lease_owner": "",
            "last_error": error[:2000],
        }
        if not keep_batch:
            values["batch"] = None
        retried += group.update(**values)
    return retried, failed


def _fail(items: QuerySet[GatewayItem], error: str) -> int:
    failed = 0
    for item in items.select_related("case"):
        if GatewayItem.objects.filter(pk=item.pk, state=item.state).update(
            state=State.FAILED, lease_until=None, lease_owner="", last_error=error[:2000]
        ):
            failed += 1
            item.state = State.FAILED
            notify_officer(item, error)
    return failed


def _parse_ids(values: Iterable[Any]) -> set[uuid.UUID]:
    ids = set()
    for value in values:
        try:
            ids.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    return ids


def _apply_ack(
    batch: GatewayBatch, ack: dict[str, Any], owner: str, now: datetime.datetime
) -> DispatchResult:
    result = DispatchResult()
    # Items of this batch that a lapsed lease sent back to pending are covered as well.
    ours = GatewayItem.objects.filter(batch=batch, state__in=(State.SENT, State.PENDING))
    accepted = _parse_ids(ack.get("accepted", []))
    result.acknowledged = ours.filter(pk__in=accepted).update(
        state=State.ACKNOWLEDGED, lease_until=None, lease_owner="", last_error=""
    )
    for rejection in ack.get("rejected", []):
        if not isinstance(rejection, dict):
            continue
        reason = str(rejection.get("reason", "")) or "no reason given"
        rejected_ids = _parse_ids([rejection.get("item_id")])
        result.rejected += _fail(
            ours.filter(pk__in=rejected_ids), f"rejected by {batch.agency.code}: {reason}"
        )
    # An item the acknowledgement leaves out goes again in a new batch, because the agency
    # would repeat this acknowledgement for the same batch id.
    missing = GatewayItem.objects.filter(batch=batch, state=State.SENT, lease_owner=owner)
    retried, failed = _retry_or_fail(
        missing, "missing from the acknowledgement", now, keep_batch=False
    )
    result.retried += retried
    result.failed += failed
    GatewayBatch.objects.filter(pk=batch.pk).update(
        state=BatchState.ACKNOWLEDGED,
        sent_at=now,
        ack=ack,
        lease_until=None,
        lease_owner="",
        last_error="",
    )
    return result


def dispatch_batch(
    batch: GatewayBatch,
    adapter: Adapter,
    *,
    owner: str = DEFAULT_OWNER,
    now: datetime.datetime | None = None,
) -> DispatchResult:
    """Sign and send a claimed batch, then record the agency's acknowledgement.

    Accepted items become acknowledged and rejected ones fail with the agency's reason. After a
    transient failure the items return to pending with backoff and one more attempt, or fail
    when out of attempts. After a permanent failure they fail at once. Only items this worker
    still leases are sent, so a batch taken over after a lapsed lease is not sent twice by it.
    """
    agency = batch.agency
    items = list(
        batch.items.filter(state=State.SENT, lease_owner=owner).select_related("case", "party")
    )
    if not items:
        return DispatchResult()
    body = dumps(batch_message(batch, items))
    headers = keys.signed_headers(batch.court, body)
    circuit.rate_limiter.wait(agency)
    started = time.monotonic()
    ours = GatewayItem.objects.filter(batch=batch, state=State.SENT, lease_owner=owner)
    try:
        ack = adapter.send_batch(agency, body, headers)
    except TransientFailure as failure:
        now = now or timezone.now()
        error = str(failure)
        logger.warning("Batch %s to agency %s failed, will retry: %s", batch.pk, agency.code, error)
        circuit.record_failure(agency, error, now)
        retry_after = (
            datetime.timedelta(seconds=failure.retry_after) if failure.retry_after else None
        )
        # One attempt count for the whole batch, so that its items return together.
        retried, failed = _retry_or_fail(ours, error, now, delay=retry_after)
        GatewayBatch.objects.filter(pk=batch.pk).update(
            state=BatchState.RETRY, lease_until=None, lease_owner="", last_error=error[:2000]
        )
        return DispatchResult(retried=retried, failed=failed, error=error)
    except PermanentFailure as failure:
        error = str(failure)
        logger.error("Batch %s to agency %s rejected: %s", batch.pk, agency.code, error)
        failed = _fail(ours, error)
        GatewayBatch.objects.filter(pk=batch.pk).update(
            state=BatchState.FAILED, lease_until=None, lease_owner="", last_error=error[:2000]
        )
        return DispatchResult(failed=failed, error=error)
    latency_ms = int((time.monotonic() - started) * 1000)
    now = now or timezone.now()
    circuit.record_success(agency, latency_ms)
    result = _apply_ack(batch, ack, owner, now)
    logger.info(
        "Batch %s to agency %s: %s acknowledged, %s rejected, %s retried in %s ms",
        batch.pk,
        agency.code,
        result.acknowledged,
        result.rejected,
        result.retried,
        latency_ms,
    )
    return result


# Answers


def _answer_time(answer: dict[str, Any], now: datetime.datetime) -> datetime.datetime:
    value = answer.get("answered_at")
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or timezone.is_naive(parsed):
        return now
    return parsed


def _write_answers(items: Sequence[GatewayItem], stored_at: datetime.datetime) -> None:
    """Write the answers of ``items`` (locked and open) in one statement on PostgreSQL."""
    table = GatewayItem._meta.db_table
    open_states = [state.value for state in GatewayItem.OPEN_STATES]
    # The state condition repeats the lock's, so each statement alone is still safe.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = ", ".join(["(%s::uuid, %s::timestamptz, %s::jsonb)"] * len(items))
            values: list[Any] = [State.ANSWERED.value, stored_at]
            for item in items:
                values += [item.pk, item.answered_at, dumps(item.answer).decode("utf-8")]
            cursor.execute(
                f"UPDATE {table} AS item SET state = %s, answered_at = answer.answered_at, "  # noqa: S608
                "answer = answer.body, lease_until = NULL, lease_owner = '', last_error = '', "
                f"updated_at = %s FROM (VALUES {rows}) AS answer (id, answered_at, body) "
                "WHERE item.id = answer.id AND item.state IN (%s, %s, %s)",
                [*values, *open_states],
            )
            return
        answer_field = GatewayItem._meta.get_field("answer")
        time_field = GatewayItem._meta.get_field("answered_at")
        id_field = GatewayItem._meta.get_field("id")
        stored_value = time_field.get_db_prep_value(stored_at, connection)
        cursor.executemany(
            f"UPDATE {table} SET state = %s, answered_at = %s, answer = %s, "  # noqa: S608
            "lease_until = NULL, lease_owner = '', last_error = '', updated_at = %s "
            "WHERE id = %s AND state IN (%s, %s, %s)",
            [
                (
                    State.ANSWERED.value,
                    time_field.get_db_prep_value(item.answered_at, connection),
                    answer_field.get_db_prep_value(item.answer, connection),
                    stored_value,
                    id_field.get_db_prep_value(item.pk, connection),
                    *open_states,
                )
                for item in items
            ],
        )


def _store_final_answers(
    agency: Agency, answers: dict[uuid.UUID, dict[str, Any]], now: datetime.datetime
) -> int:
    """Store ``found`` and ``not_found`` answers on their open items; return how many.

    One transaction per page: it locks the open items among the answered ones (in id order,
    so two pages that share items wait for each other instead of deadlocking), writes all
    answers and their asset records, and commits them together. A repeated or concurrent
    answer then finds its item answered and changes nothing, and a crash before the commit
    leaves every item open, so the repeated page stores everything.
    """
    stored_at = timezone.now()
    with transaction.atomic():
        open_items = GatewayItem.objects.filter(
            pk__in=list(answers), state__in=GatewayItem.OPEN_STATES
        ).order_by("pk")
        if connection.vendor == "postgresql":
            open_items = open_items.select_for_update()
        rows = list(open_items.values_list("pk", "case_id", "party_id", "court_id"))
        if not rows:
            return 0
        items = [
            GatewayItem(
                id=item_id,
                agency_id=agency.pk,
                case_id=case_id,
                party_id=party_id,
                court_id=court_id,
                state=State.ANSWERED,
                answered_at=_answer_time(answers[item_id], now),
                answer=answers[item_id],
                updated_at=stored_at,
            )
            for item_id, case_id, party_id, court_id in rows
        ]
        _write_answers(items, stored_at)
        answer_hook(items)
    return len(items)


def apply_answers(
    agency: Agency, answers: list[Any], now: datetime.datetime | None = None
) -> AnswerReceipt:
    """Store verified answers on their items; repeated, late and unknown ones change nothing.

    A ``found`` or ``not_found`` answer answers an open item. An ``error`` answer sends a sent
    or acknowledged item, or a pending one still in its batch, back to pending in a new batch,
    with backoff, or fails it when out of attempts. An item id of another agency counts as
    unknown. The final answers of a message are stored together with their asset records in
    one transaction.
    """
    now = now or timezone.now()
    receipt = AnswerReceipt()
    by_id: dict[uuid.UUID, dict[str, Any]] = {}
    for answer in answers:
        raw_id = answer.get("item_id") if isinstance(answer, dict) else None
        try:
            item_id = uuid.UUID(str(raw_id))
        except ValueError:
            receipt.unknown.append(str(raw_id))
            continue
        assert isinstance(answer, dict)
        by_id[item_id] = answer
    known = set(
        GatewayItem.objects.filter(agency=agency, pk__in=by_id).values_list("pk", flat=True)
    )
    final: dict[uuid.UUID, dict[str, Any]] = {}
    others: list[tuple[uuid.UUID, dict[str, Any]]] = []
    for item_id, answer in by_id.items():
        if item_id not in known:
            receipt.unknown.append(str(answer.get("item_id")))
            continue
        receipt.received.append(str(answer.get("item_id")))
        if answer.get("status") in ("found", "not_found"):
            final[item_id] = answer
        else:
            others.append((item_id, answer))
    if final:
        receipt.answered = _store_final_answers(agency, final, now)
        receipt.ignored += len(final) - receipt.answered
    for item_id, answer in others:
        status = answer.get("status")
        detail = str(answer.get("error", "")) if status == "error" else f"invalid status {status!r}"
        retried, failed = _retry_or_fail(
            # A pending item that still has a batch waits to go out again under that batch id
            # (its acknowledgement was lost), and the agency answers that id with its stored
            # acknowledgement without processing the item again. So the error answer takes
            # such an item out of its batch as well; otherwise it would wait for its deadline.
            GatewayItem.objects.filter(pk=item_id).filter(
                Q(state__in=(State.SENT, State.ACKNOWLEDGED))
                | Q(state=State.PENDING, batch__isnull=False)
            ),
            f"{agency.code} answered with an error: {detail}",
            now,
            keep_batch=False,
        )
        if retried or failed:
            receipt.retried += retried
        else:
            receipt.ignored += 1
    logger.info(
        "Answers from agency %s: %s answered, %s ignored, %s retried, %s unknown",
        agency.code,
        receipt.answered,
        receipt.ignored,
        receipt.retried,
        len(receipt.unknown),
    )
    return receipt


def _parse_answers(agency: Agency, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidMessageError(f"the body is not JSON: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("answers"), list):
        raise InvalidMessageError("the body has no list of answers")
    if data.get("agency") != agency.code:
        raise InvalidMessageError(f"the body names agency {data.get('agency')!r}, not the signer")
    return data


def receive_answers(
    agency: Agency, body: bytes, signature_header: str, *, now: datetime.datetime | None = None
) -> AnswerReceipt:
    """Verify and store a message of answers that ``agency`` sent by callback.

    Raises :class:`InvalidSignatureError` when the signature does not verify and
    :class:`InvalidMessageError` for a body that is no answer message; in both cases nothing is
    stored.
    """
    if not keys.verify_agency(agency, body, signature_header):
        logger.warning("Rejected answers from agency %s: invalid signature", agency.code)
        raise InvalidSignatureError(f"The signature does not verify with {agency.code}'s key.")
    data = _parse_answers(agency, body)
    return apply_answers(agency, data["answers"], now)


def _well_formed(answer: Any) -> bool:
    """Return whether ``answer`` has the protocol's shape: an item id, a status and records."""
    if not isinstance(answer, dict) or answer.get("status") not in ("found", "not_found", "error"):
        return False
    try:
        uuid.UUID(str(answer.get("item_id")))
    except ValueError:
        return False
    return isinstance(answer.get("records", []), list)


def _verified_reply(agency: Agency, reply: SignedReply) -> dict[str, Any]:
    if keys.parse_signer(reply.signer) != agency.code or not keys.verify_agency(
        agency, reply.body, reply.signature
    ):
        raise InvalidSignatureError(f"The polled answers of {agency.code} are not validly signed.")
    data = _parse_answers(agency, reply.body)
    # A page with answers in the wrong shape (no item id, no valid status) is fetched again,
    # like one that is not JSON: those answers match no item, and moving the cursor past them
    # would lose them for good.
    if not all(_well_formed(answer) for answer in data["answers"]):
        raise InvalidMessageError("the page holds answers in the wrong shape")
    return data


def _cursor(agency: Agency, court_id: int) -> AnswerCursor:
    AnswerCursor.objects.bulk_create(
        [AnswerCursor(agency=agency, court_id=court_id)], ignore_conflicts=True
    )
    return AnswerCursor.objects.select_related("court").get(agency=agency, court_id=court_id)


def _poll_page(
    agency: Agency, adapter: Adapter, cursor_id: int, now: datetime.datetime
) -> tuple[int, bool] | None:
    """Fetch and store one page of answers after the stored cursor; move the cursor on.

    Returns the answers stored and whether more may wait, or None when the fetch failed or,
    on PostgreSQL, another worker is polling the same agency and court: the cursor row stays
    locked from the fetch to the cursor's update, so two workers never fetch and store the
    same page at the same time. SQLite has one writer at a time, so there a second worker
    may fetch the same page, whose answers then change nothing.
    """
    postgres = connection.vendor == "postgresql"
    with transaction.atomic() if postgres else contextlib.nullcontext():
        rows = AnswerCursor.objects.select_related("court").filter(pk=cursor_id)
        if postgres:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        cursor = rows.first()
        if cursor is None:
            return None
        try:
            reply = adapter.fetch_answers(
                agency,
                court_code=cursor.court.code or "",
                cursor=cursor.cursor,
                limit=POLL_LIMIT,
                headers=keys.signed_headers(cursor.court, b""),
            )
            data = _verified_reply(agency, reply)
        except TransientFailure as failure:
            logger.warning("Polling agency %s failed: %s", agency.code, failure)
            circuit.record_failure(agency, str(failure), now)
            return None
        except (AdapterFailure, InvalidSignatureError, InvalidMessageError) as error:
            logger.error(
                "Polling agency %s for court %s failed: %s", agency.code, cursor.court_id, error
            )
            return None
        receipt = apply_answers(agency, data["answers"], now)
        next_cursor = data.get("next_cursor")
        AnswerCursor.objects.filter(pk=cursor.pk).update(
            cursor=str(next_cursor) if next_cursor else cursor.cursor, polled_at=now
        )
    return receipt.answered, bool(next_cursor) and len(data["answers"]) >= POLL_LIMIT


def poll_answers(
    agency: Agency,
    adapter: Adapter,
    *,
    now: datetime.datetime | None = None,
    force: bool = False,
) -> int:
    """Fetch and store the answers of ``agency`` for each court with outstanding items.

    The cursor per agency and court is stored after the answers it covers, so a crash in
    between fetches the same answers again, which change nothing. Courts polled less than the
    agency's poll interval ago are skipped unless ``force``. Returns the answers stored.
    """
    now = now or timezone.now()
    court_ids = set(
        GatewayItem.objects.filter(
            agency=agency, state__in=(State.SENT, State.ACKNOWLEDGED)
        ).values_list("court_id", flat=True)
    )
    interval = datetime.timedelta(seconds=agency.poll_interval_seconds)
    answered = 0
    for court_id in sorted(court_ids):
        cursor = _cursor(agency, court_id)
        if not force and cursor.polled_at is not None and cursor.polled_at > now - interval:
            continue
        for _page in range(POLL_MAX_PAGES):
            page = _poll_page(agency, adapter, cursor.pk, now)
            if page is None:
                break
            stored, more = page
            answered += stored
            if not more:
                break
    return answered


# Deadlines and leases


def expire_overdue(now: datetime.datetime | None = None) -> int:
    """Expire open items past their deadline and tell their officers; return how many."""
    now = now or timezone.now()
    expired = 0
    while True:
        overdue = list(
            GatewayItem.objects.filter(state__in=GatewayItem.OPEN_STATES, deadline__lte=now)
            .select_related("case")
            .order_by("deadline")[:EXPIRY_CHUNK]
        )
        if not overdue:
            return expired
        for item in overdue:
            if GatewayItem.objects.filter(pk=item.pk, state=item.state).update(
                state=State.EXPIRED, lease_until=None, lease_owner="", last_error="deadline passed"
            ):
                expired += 1
                item.state = State.EXPIRED
                notify_officer(item, f"no answer before the deadline {_local_text(item.deadline)}")


def sweep(now: datetime.datetime | None = None) -> int:
    """Return items whose worker's lease ran out to pending; return how many.

    Their batch keeps its id, so the agency that already stored it stores nothing new.
    """
    now = now or timezone.now()
    returned = GatewayItem.objects.filter(state=State.SENT, lease_until__lt=now).update(
        state=State.PENDING, lease_until=None, lease_owner="", next_attempt_at=now
    )
    GatewayBatch.objects.filter(state=BatchState.SENDING, lease_until__lt=now).update(
        state=BatchState.RETRY, lease_until=None, lease_owner=""
    )
    if returned:
        logger.warning("Swept %s gateway item(s) whose lease ran out back to pending", returned)
    return returned
