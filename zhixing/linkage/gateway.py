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
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Field, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from zhixing.audit import services as audit
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.events import services as events
from zhixing.linkage import bulk, circuit, keys
from zhixing.linkage.adapters import (
    Adapter,
    AdapterFailure,
    PermanentFailure,
    SignedReply,
    TransientFailure,
)
from zhixing.linkage.adapters.online import dumps
from zhixing.linkage.error_text import rejection_error
from zhixing.linkage.models import (
    Action,
    Agency,
    AgencyHealth,
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
# The maximum number of control-measure items in a new batch. Each carries its sealed notice
# and ruling in base64, about 420 kB (measured on a freeze), so 25 make a message of about
# 10 MB, well below the 64 MiB body limit of the simulator and the batch-file exchange.
MAX_MEASURE_ITEMS = 25
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
    # The items whose acknowledgement waits for :func:`settle_acknowledgements`.
    unsettled: list[uuid.UUID] = field(default_factory=list)


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


def answer_hook(items: Sequence[AnsweredItem]) -> None:
    """Pass the answers just stored on ``items`` to the apps that asked.

    Answers to queries become the inquiry app's asset records; answers to control measures
    update their measures, and the answers to a border-control request and to the release that
    lifts it update its application. A release item belongs to the approvals app when it lifts
    an exit restriction (its reference is a border-control request) and to the measures app
    otherwise.
    """
    # Imported here because these apps build on this module.
    from zhixing.approvals.lifting import lifting_items
    from zhixing.approvals.services import record_border_control_answer, record_lifting_answer
    from zhixing.inquiry.assets import announce_answers, record_answers
    from zhixing.measures.services import record_measure_answer

    record_answers(items)
    announce_answers(items)
    # Most items are queries, so the measure and border-control apps get only their own items.
    releases = [item.pk for item in items if item.action == Action.RELEASE]
    liftings = lifting_items(releases) if releases else set()
    measures = [
        item for item in items if item.action not in _NOT_MEASURES and item.pk not in liftings
    ]
    if measures:
        record_measure_answer(measures)
    border_control = [item for item in items if item.action == Action.RESTRICT_EXIT]
    if border_control:
        record_border_control_answer(border_control)
    if liftings:
        record_lifting_answer([item for item in items if item.pk in liftings])


_NOT_MEASURES = {Action.QUERY.value, Action.RESTRICT_EXIT.value}


def measure_fields(entries: list[dict[str, Any]]) -> None:
    """Add the sealed document and the measure to the entries of control-measure items.

    Entries of queries stay as they are; an entry whose document cannot be found keeps
    ``document`` null, and the agency rejects the item.
    """
    ids = [entry["item_id"] for entry in entries if entry["action"] != Action.QUERY]
    if not ids:
        return
    # Imported here because these apps build on this module.
    from zhixing.approvals.services import message_fields as approval_fields
    from zhixing.measures.services import message_fields

    fields = {**message_fields(ids), **approval_fields(ids)}
    for entry in entries:
        extra = fields.get(entry["item_id"])
        if extra is not None:
            entry.update(extra)


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


# The columns of a gateway item in field order, and the values of a new item's other columns.
_ITEM_COLUMNS = [field.attname for field in GatewayItem._meta.concrete_fields]
_NEW_ITEM: dict[str, Any] = {
    "state": State.PENDING.value,
    "attempts": 0,
    "lease_until": None,
    "lease_owner": "",
    "batch_id": None,
    "last_error": "",
    "answered_at": None,
    "answer": None,
}


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
    rows = []
    deadlines: dict[tuple[int, str], datetime.datetime] = {}
    for request in requests:
        _check_request(request, debtors)
        key = (request.agency.pk, request.action)
        if key not in deadlines:
            deadlines[key] = request.agency.deadline_for(request.action, now)
        values = {
            **_NEW_ITEM,
            "id": request.item_id or uuid.uuid4(),
            "agency_id": request.agency.pk,
            "court_id": request.case.court_id,
            "case_id": request.case.pk,
            "party_id": request.party.pk,
            "category": request.category,
            "action": request.action,
            "next_attempt_at": now,
            "deadline": deadlines[key],
            "created_at": now,
            "updated_at": now,
        }
        rows.append([values[name] for name in _ITEM_COLUMNS])
    # Built as loaded rows: that skips most of the model's keyword handling.
    items = [GatewayItem.from_db(connection.alias, _ITEM_COLUMNS, row) for row in rows]
    # Neither path leaves an audit record per item, because the inquiry service audits the query.
    if connection.vendor == "postgresql":
        with transaction.atomic():
            all_new = bulk.copy_insert(GatewayItem._meta.db_table, _ITEM_COLUMNS, rows)
    else:
        GatewayItem.objects.bulk_create(items, ignore_conflicts=True)
        all_new = False
    logger.info("Queued %s gateway item(s)", len(items))
    if all_new:
        return items
    # Some ids existed already: return the stored items, as they are.
    return list(GatewayItem.objects.filter(pk__in=[item.pk for item in items]))


# Forming batches


def _due(agency_id: int, now: datetime.datetime) -> QuerySet[GatewayItem]:
    return GatewayItem.objects.filter(
        agency_id=agency_id, state=State.PENDING, next_attempt_at__lte=now
    )


@dataclass(frozen=True)
class _Unit:
    """Due pending items of one agency and court: new ones, or those of one batch to resend."""

    court_id: int
    batch_id: uuid.UUID | None
    count: int
    oldest: datetime.datetime


# Due items per agency that a pass groups into units, in batches of the agency's size: enough
# for the batches that one pass sends, without reading a backlog of any size in full.
UNIT_SAMPLE_BATCHES = 4


def _agencies_with_due_items(agencies: QuerySet[Agency], now: datetime.datetime) -> list[Agency]:
    """Return those of ``agencies`` that have due pending items.

    Each agency's look is a subquery with LIMIT 1, which reads one entry of the index of
    pending items rather than all of them.
    """
    # Ordered as the index of pending items, so that the planner stops at its first entry.
    # The model's own ordering would sort every due item of the agency.
    first_due = (
        GatewayItem.objects.filter(
            agency=OuterRef("pk"), state=State.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values("pk")[:1]
    )
    return list(agencies.alias(first_due=Subquery(first_due)).filter(first_due__isnull=False))


def _due_units(agency: Agency, now: datetime.datetime) -> list[_Unit]:
    """Return the units of the agency's due items, from those that have been due longest.

    Only ``UNIT_SAMPLE_BATCHES`` batches' worth of items are read, so a unit's count stops
    there. A unit with more items than were read counts as full only when the read items fill
    a batch. Otherwise it is sent when its oldest item has waited the batch window.
    """
    # Grouped outside the subquery that reads the index, so that the planner cannot join
    # the ids read to a scan of the whole table.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT court_id, batch_id, COUNT(*), MIN(created_at) FROM "  # noqa: S608
            f"(SELECT court_id, batch_id, created_at FROM {GatewayItem._meta.db_table} "
            "WHERE agency_id = %s AND state = %s AND next_attempt_at <= %s "
            "ORDER BY next_attempt_at LIMIT %s) AS due GROUP BY court_id, batch_id",
            [
                agency.pk,
                State.PENDING.value,
                _field_value("next_attempt_at", now),
                agency.batch_size * UNIT_SAMPLE_BATCHES,
            ],
        )
        return [
            _Unit(
                court_id,
                None if batch_id is None else _as_uuid(batch_id),
                count,
                _as_datetime(oldest),
            )
            for court_id, batch_id, count, oldest in cursor.fetchall()
        ]


def _as_datetime(value: Any) -> datetime.datetime:
    """Return a time read by raw SQL as an aware datetime (SQLite returns its text in UTC)."""
    if isinstance(value, datetime.datetime):
        return value
    moment = parse_datetime(str(value))
    if moment is None:
        raise ValueError(f"not a time: {value!r}")
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=datetime.UTC)


def _ready_units(agency: Agency, units: list[_Unit], now: datetime.datetime) -> list[_Unit]:
    """Return the units of ``agency`` to send now: batches to resend first, then full batches
    and those whose oldest item has waited the batch window, oldest first."""
    window_start = now - datetime.timedelta(seconds=agency.batch_window_seconds)
    resend = sorted(
        (unit for unit in units if unit.batch_id is not None),
        key=lambda unit: (unit.court_id, str(unit.batch_id)),
    )
    fresh = sorted(
        (
            unit
            for unit in units
            if unit.batch_id is None
            and (unit.count >= agency.batch_size or unit.oldest <= window_start)
        ),
        key=lambda unit: unit.oldest,
    )
    return resend + fresh


def _field_value(name: str, value: Any) -> Any:
    """Return ``value`` of the gateway item field ``name`` as the database stores it."""
    field = GatewayItem._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_db_prep_value(value, connection)


def _claim(
    agency: Agency, unit: _Unit, now: datetime.datetime, owner: str
) -> tuple[GatewayBatch, int] | None:
    """Lease up to a batch of the unit's due items into a new batch, or into the unit's batch.

    Returns the batch and the number of items taken, or None when no item was left.
    """
    lease_until = now + lease_length(agency)
    candidates = _due(agency.pk, now).filter(court_id=unit.court_id)
    if unit.batch_id is None:
        candidates = candidates.filter(batch__isnull=True)
    else:
        candidates = candidates.filter(batch_id=unit.batch_id)
    with transaction.atomic():
        # In the order of the index of pending items alone, which the planner then reads up
        # to a batch. A tie-break would sort every item queued at the same moment, which for
        # a batch query of many cases is all of them.
        ordered = candidates.order_by("next_attempt_at")
        if connection.vendor == "postgresql":
            ordered = ordered.select_for_update(skip_locked=True)
        rows = list(ordered.values_list("pk", "action")[: agency.batch_size])
        if not rows:
            return None
        ids = [pk for pk, _action in rows]
        if unit.batch_id is None:
            # A batch sent again keeps its items, which were capped when it was formed.
            ids = _cap_measure_items(rows)
        if unit.batch_id is None:
            batch = GatewayBatch(
                agency=agency,
                court_id=unit.court_id,
                state=BatchState.SENDING,
                lease_until=lease_until,
                lease_owner=owner,
                attempts=1,
            )
            # bulk_create leaves no audit record: batches are the gateway's bookkeeping.
            GatewayBatch.objects.bulk_create([batch])
        else:
            batch = GatewayBatch.objects.get(pk=unit.batch_id)
            GatewayBatch.objects.filter(pk=batch.pk).update(
                state=BatchState.SENDING,
                lease_until=lease_until,
                lease_owner=owner,
                attempts=F("attempts") + 1,
            )
            batch.refresh_from_db()
        taken = _lease_items(ids, unit, batch, lease_until, owner, now)
    if not taken:
        return None
    logger.info(
        "Claimed %s item(s) into batch %s for agency %s (attempt %s)",
        taken,
        batch.pk,
        agency.code,
        batch.attempts,
    )
    return batch, taken


def _cap_measure_items(rows: Sequence[tuple[uuid.UUID, str]]) -> list[uuid.UUID]:
    """Return the ids of ``rows`` (id, action) with no more than MAX_MEASURE_ITEMS measures.

    The measures left out stay pending for the next batch. Queries are kept, since they carry
    no documents.
    """
    ids = []
    measures = 0
    for pk, action in rows:
        if action != Action.QUERY:
            if measures >= MAX_MEASURE_ITEMS:
                continue
            measures += 1
        ids.append(pk)
    return ids


def _lease_items(
    ids: Sequence[uuid.UUID],
    unit: _Unit,
    batch: GatewayBatch,
    lease_until: datetime.datetime,
    owner: str,
    now: datetime.datetime,
) -> int:
    """Mark the locked items ``ids`` sent in ``batch``, and return how many were still due.

    The conditions repeat those of the candidates, so the update alone is still safe.
    """
    condition, id_params = bulk.in_list("id", ids, GatewayItem._meta.get_field("id"))
    batch_condition = "batch_id IS NULL" if unit.batch_id is None else "batch_id = %s"
    batch_params = [] if unit.batch_id is None else [_field_value("batch", unit.batch_id)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {GatewayItem._meta.db_table} SET state = %s, batch_id = %s, "  # noqa: S608
            f"lease_until = %s, lease_owner = %s WHERE {condition} AND agency_id = %s "
            f"AND court_id = %s AND state = %s AND next_attempt_at <= %s AND {batch_condition}",
            [
                State.SENT.value,
                _field_value("batch", batch.pk),
                _field_value("lease_until", lease_until),
                owner,
                *id_params,
                batch.agency_id,
                unit.court_id,
                State.PENDING.value,
                _field_value("next_attempt_at", now),
                *batch_params,
            ],
        )
        return cursor.rowcount


def form_batches(
    now: datetime.datetime | None = None,
    *,
    owner: str = DEFAULT_OWNER,
    agencies: QuerySet[Agency] | None = None,
    item_limit: int | None = None,
) -> list[GatewayBatch]:
    """Claim due pending items into batches, per agency and court; return the new batches.

    A batch forms when it is full or its oldest item has waited the agency's batch window.
    Agencies outside their service hours, with an open circuit or with ``concurrency`` batches
    in flight get none. Items whose earlier batch failed in passing go out again under the
    same batch id. ``agencies`` limits the pass to some agencies (default: every active one).
    With ``item_limit``, no further batch is formed once the batches hold that many items. One
    look per agency at the first entry of the pending index finds those with due items, and
    only the agencies that may send now have their due items grouped into units.

    NOTE: the in-flight count is read before claiming, so two workers forming batches at the
    same moment may together exceed an agency's concurrency by the number of workers.
    """
    now = now or timezone.now()
    active = (agencies if agencies is not None else Agency.objects.all()).filter(active=True)
    due_agencies = _agencies_with_due_items(active, now)
    if not due_agencies:
        return []
    due_ids = [agency.pk for agency in due_agencies]
    in_flight = dict(
        GatewayBatch.objects.filter(
            agency_id__in=due_ids, state=BatchState.SENDING, lease_until__gt=now
        )
        .values_list("agency_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    # A closed circuit lets every batch through, so only the others need a look.
    closed = set(
        AgencyHealth.objects.filter(
            agency_id__in=due_ids, circuit=AgencyHealth.Circuit.CLOSED
        ).values_list("agency_id", flat=True)
    )
    formed: list[GatewayBatch] = []
    claimed_items = 0
    for agency in due_agencies:
        if item_limit is not None and claimed_items >= item_limit:
            break
        if not agency.in_service(now):
            continue
        allowed_here = agency.concurrency - in_flight.get(agency.pk, 0)
        if allowed_here <= 0:
            continue
        ready = _ready_units(agency, _due_units(agency, now), now)
        if not ready:
            continue
        # After the units: a circuit's allowance may take its one probe.
        if agency.pk not in closed:
            allowed = circuit.allowance(agency, now, lease_length(agency))
            if allowed is not None:
                allowed_here = min(allowed_here, allowed)
        window_start = now - datetime.timedelta(seconds=agency.batch_window_seconds)
        for unit in ready:
            remaining = unit.count
            while allowed_here > 0:
                claimed = _claim(agency, unit, now, owner)
                if claimed is None:
                    break
                batch, taken = claimed
                formed.append(batch)
                allowed_here -= 1
                claimed_items += taken
                if item_limit is not None and claimed_items >= item_limit:
                    return formed
                remaining -= taken
                if unit.batch_id is not None or remaining <= 0:
                    break
                # Another full batch may wait, but a partial one waits for its window again.
                if remaining < agency.batch_size and not _window_passed(
                    agency, unit, window_start, now
                ):
                    break
            if allowed_here <= 0:
                break
    return formed


def _window_passed(
    agency: Agency, unit: _Unit, window_start: datetime.datetime, now: datetime.datetime
) -> bool:
    """Return whether the item left in ``unit`` that has been due longest has waited the batch
    window since it was queued.

    The look follows the index of due items and stops at the first one of the unit, so that a
    backlog is not read in full.
    """
    oldest = (
        _due(agency.pk, now)
        .filter(court_id=unit.court_id, batch__isnull=True)
        .order_by("next_attempt_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return oldest is not None and oldest <= window_start


# Sending

# The columns of an item that its entry in a batch message needs, in the order that
# ``_message_entries`` reads them.
_MESSAGE_COLUMNS = (
    "pk",
    "action",
    "category",
    "deadline",
    "case__case_number",
    "party__kind",
    "party__name",
    "party__document_type",
    "party__document_number",
)


def _message_entries(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Return the batch message's items from rows of ``_MESSAGE_COLUMNS``."""
    deadlines: dict[datetime.datetime, str] = {}
    entries = []
    for item_id, action, category, deadline, case_number, kind, name, document_type, number in rows:
        # Items queued together share their deadline, so each is formatted once.
        deadline_text = deadlines.get(deadline)
        if deadline_text is None:
            deadline_text = deadlines[deadline] = _local_text(deadline)
        entries.append(
            {
                "item_id": str(item_id),
                "action": action,
                "category": category,
                "case_number": case_number,
                "subject": {
                    "kind": kind,
                    "name": name,
                    "document_type": PROTOCOL_DOCUMENT_TYPES.get(document_type, document_type),
                    "document_number": number,
                },
                "deadline": deadline_text,
                "document": None,
            }
        )
    measure_fields(entries)
    return entries


def _message(batch: GatewayBatch, entries: list[dict[str, Any]]) -> dict[str, Any]:
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
    message["items"] = entries
    return message


def batch_message(batch: GatewayBatch, items: Sequence[GatewayItem]) -> dict[str, Any]:
    """Build the protocol's batch message for ``items`` of ``batch``."""
    rows = [
        (
            item.pk,
            item.action,
            item.category,
            item.deadline,
            item.case.case_number,
            item.party.kind,
            item.party.name,
            item.party.document_type,
            item.party.document_number,
        )
        for item in items
    ]
    return _message(batch, _message_entries(rows))


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


def _acknowledge(batch: GatewayBatch, accepted: Sequence[uuid.UUID]) -> int:
    """Mark the accepted items of ``batch`` acknowledged, and return how many changed.

    Items of the batch that a lapsed lease sent back to pending are covered as well.
    """
    if not accepted:
        return 0
    table = GatewayItem._meta.db_table
    condition, id_params = bulk.in_list("id", accepted, GatewayItem._meta.get_field("id"))
    ours = f"{condition} AND batch_id = %s AND state IN (%s, %s)"
    params = [*id_params, _field_value("batch", batch.pk), State.SENT.value, State.PENDING.value]
    values = f"state = '{State.ACKNOWLEDGED.value}', lease_until = NULL, lease_owner = '', "
    values += "last_error = ''"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The rows are locked in id order, as the storing of answers locks them, so that
            # an acknowledgement and a page of answers about the same items cannot deadlock.
            cursor.execute(
                f"UPDATE {table} AS item SET {values} FROM (SELECT id FROM {table} "  # noqa: S608
                f"WHERE {ours} ORDER BY id FOR UPDATE) AS locked WHERE item.id = locked.id",
                params,
            )
        else:
            cursor.execute(f"UPDATE {table} SET {values} WHERE {ours}", params)  # noqa: S608
        return cursor.rowcount


def _apply_ack(
    batch: GatewayBatch,
    ack: dict[str, Any],
    owner: str,
    now: datetime.datetime,
    sent: Sequence[uuid.UUID] | None = None,
    *,
    settle_later: bool = False,
) -> DispatchResult:
    """Record the acknowledgement of ``batch`` in one transaction.

    ``sent`` are the ids of the items this worker sent. When the acknowledgement names each
    of them, no item can be missing from it, and the look for missing items is skipped.

    With ``settle_later``, an acknowledgement that accepts every sent item is written to the
    batch alone, and the items stay sent until :func:`settle_acknowledgements` or the sweep
    marks them. Most items of a fast agency are answered by then, which saves a write of each
    item row and its index entries. Anything else is recorded item by item at once.
    """
    result = DispatchResult()
    if settle_later and sent is not None and _accepts_all(ack, sent):
        # Every item went through: the batch alone records the acknowledgement now.
        GatewayBatch.objects.filter(pk=batch.pk).update(**_acknowledged_batch(ack, now))
        result.acknowledged = len(sent)
        result.unsettled = list(sent)
        return result
    ours = GatewayItem.objects.filter(batch=batch, state__in=(State.SENT, State.PENDING))
    accepted = _parse_ids(ack.get("accepted", []))
    named = set(accepted)
    with transaction.atomic():
        result.acknowledged = _acknowledge(batch, list(accepted))
        for rejection in ack.get("rejected", []):
            if not isinstance(rejection, dict):
                continue
            rejected_ids = _parse_ids([rejection.get("item_id")])
            named |= rejected_ids
            result.rejected += _fail(
                ours.filter(pk__in=rejected_ids), rejection_error(batch.agency.code, rejection)
            )
        if sent is None or not named.issuperset(sent):
            # An item the acknowledgement leaves out goes again in a new batch, because the
            # agency would repeat this acknowledgement for the same batch id.
            missing = GatewayItem.objects.filter(batch=batch, state=State.SENT, lease_owner=owner)
            retried, failed = _retry_or_fail(
                missing, "missing from the acknowledgement", now, keep_batch=False
            )
            result.retried += retried
            result.failed += failed
        GatewayBatch.objects.filter(pk=batch.pk).update(**_acknowledged_batch(ack, now))
    return result


def _accepts_all(ack: dict[str, Any], sent: Sequence[uuid.UUID]) -> bool:
    """Return whether ``ack`` rejects nothing and accepts each of ``sent`` by its id as sent.

    The ids are compared as text, which saves parsing a thousand of them per batch. An agency
    that writes the ids another way (in capitals, say) gets the full check instead.
    """
    accepted = ack.get("accepted")
    if ack.get("rejected") or not isinstance(accepted, list):
        return False
    texts = {value for value in accepted if isinstance(value, str)}
    return all(str(pk) in texts for pk in sent)


def _acknowledged_batch(ack: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    return {
        "state": BatchState.ACKNOWLEDGED,
        "sent_at": now,
        "ack": ack,
        "lease_until": None,
        "lease_owner": "",
        "last_error": "",
    }


def settle_acknowledgements(results: Iterable[tuple[GatewayBatch, DispatchResult]]) -> int:
    """Mark the items that ``results`` left sent acknowledged; return how many changed.

    An item answered in the meantime is left as it is, so a worker that settles a few seconds
    after the acknowledgement writes only the items still waiting for their answers.
    """
    settled = 0
    for batch, result in results:
        if result.unsettled:
            with transaction.atomic():
                settled += _acknowledge(batch, result.unsettled)
    return settled


def dispatch_batch(
    batch: GatewayBatch,
    adapter: Adapter,
    *,
    owner: str = DEFAULT_OWNER,
    now: datetime.datetime | None = None,
    settle_later: bool = False,
) -> DispatchResult:
    """Sign and send a claimed batch, then record the agency's acknowledgement.

    ``settle_later`` is passed on to :func:`_apply_ack`; the caller then settles the result.

    Accepted items become acknowledged and rejected ones fail with the agency's reason. After a
    transient failure the items return to pending with backoff and one more attempt, or fail
    when out of attempts. After a permanent failure they fail at once. Only items this worker
    still leases are sent, so a batch taken over after a lapsed lease is not sent twice by it.
    """
    agency = batch.agency
    # Only the batch id goes into the query, so that the planner reads the batch's items by
    # its index rather than every sent item by the state index. The rest is checked here.
    rows = [
        row[:-2]
        for row in batch.items.values_list(*_MESSAGE_COLUMNS, "state", "lease_owner")
        if row[-2] == State.SENT and row[-1] == owner
    ]
    if not rows:
        return DispatchResult()
    body = dumps(_message(batch, _message_entries(rows)))
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
    # One transaction, so that the health counters and the acknowledgement wait for one
    # commit to reach the disk instead of one each.
    with transaction.atomic():
        circuit.record_success(agency, latency_ms)
        result = _apply_ack(
            batch, ack, owner, now, sent=[row[0] for row in rows], settle_later=settle_later
        )
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


class AnsweredItem(NamedTuple):
    """An item whose answer was just stored, with what its asset records and events need.

    A named tuple, because a page creates up to 1,000 of them and a frozen dataclass takes
    several times longer to build.
    """

    pk: uuid.UUID
    agency_id: int
    case_id: int
    party_id: int
    court_id: int
    answered_at: datetime.datetime
    answer: dict[str, Any]
    action: str = Action.QUERY.value
    state: str = State.ANSWERED.value


def _answer_time(
    answer: dict[str, Any], now: datetime.datetime, parsed: dict[str, datetime.datetime]
) -> datetime.datetime:
    """Return the answer's time, or ``now`` when it has none. ``parsed`` caches the parses."""
    value = answer.get("answered_at")
    if not isinstance(value, str):
        return now
    moment = parsed.get(value)
    if moment is None:
        moment = parse_datetime(value)
        if moment is None or timezone.is_naive(moment):
            moment = now
        parsed[value] = moment
    return moment


def _as_uuid(value: Any) -> uuid.UUID:
    """Return an item id read by raw SQL as a UUID (SQLite returns its hexadecimal text)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _known_ids(agency: Agency, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Return those of ``ids`` that are items of ``agency``."""
    if not ids:
        return set()
    condition, params = bulk.in_list("id", ids, GatewayItem._meta.get_field("id"))
    with connection.cursor() as cursor:
        # The agency is checked here, so that the query reads the primary key alone.
        cursor.execute(
            f"SELECT id, agency_id FROM {GatewayItem._meta.db_table} WHERE {condition}",  # noqa: S608
            params,
        )
        return {
            _as_uuid(item_id) for item_id, agency_id in cursor.fetchall() if agency_id == agency.pk
        }


def _open_items_sqlite(
    agency: Agency, ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, int, int, int, str]]:
    """Return (id, case, party, court, action) of the open items of ``agency`` among ``ids``.

    On SQLite the transaction holds the only write lock, so no row lock is needed.
    """
    condition, params = bulk.in_list("id", ids, GatewayItem._meta.get_field("id"))
    open_states = [state.value for state in GatewayItem.OPEN_STATES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, case_id, party_id, court_id, action "  # noqa: S608
            f"FROM {GatewayItem._meta.db_table} "
            f"WHERE {condition} AND agency_id = %s AND state IN (%s, %s, %s) ORDER BY id",
            [*params, agency.pk, *open_states],
        )
        return [
            (_as_uuid(item_id), case_id, party_id, court_id, action)
            for item_id, case_id, party_id, court_id, action in cursor.fetchall()
        ]


def _write_answers_postgresql(
    agency: Agency,
    answers: dict[uuid.UUID, dict[str, Any]],
    times: dict[uuid.UUID, datetime.datetime],
    stored_at: datetime.datetime,
) -> list[tuple[uuid.UUID, int, int, int, str]]:
    """Write ``answers`` on the open items of ``agency`` among them, in one statement.

    Returns (id, case, party, court, action) of the items written. The statement locks the
    items in id order, as an acknowledgement does, so that the two cannot deadlock; an item
    answered meanwhile by another worker is skipped once its lock is released. The answers go
    by COPY into a temporary table, which the update joins, so that no statement carries a
    page of answers as literals for psycopg and the server to parse.
    """
    table = GatewayItem._meta.db_table
    open_states = [state.value for state in GatewayItem.OPEN_STATES]
    with connection.cursor() as cursor:
        # The temporary table lives as long as the connection and is emptied at each commit.
        # The DELETE empties it when one transaction stores two pages.
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS answer_copy "
            "(id uuid, answered_at timestamptz, body jsonb) ON COMMIT DELETE ROWS"
        )
        cursor.execute("DELETE FROM answer_copy")
        with cursor.cursor.copy("COPY answer_copy (id, answered_at, body) FROM STDIN") as copy:
            for item_id, answer in answers.items():
                copy.write_row((item_id, times[item_id], dumps(answer).decode("utf-8")))
        # The temporary table has no statistics, which could lead the planner to scan every
        # item. The list of ids lets it read the items by their key instead. The state
        # condition repeats the lock's, so that the update alone is still safe.
        condition, id_params = bulk.in_list("id", list(answers), GatewayItem._meta.get_field("id"))
        cursor.execute(
            f"UPDATE {table} AS item SET state = %s, answered_at = answer.answered_at, "  # noqa: S608
            "answer = answer.body, lease_until = NULL, lease_owner = '', last_error = '', "
            f"updated_at = %s FROM (SELECT id FROM {table} WHERE {condition} "
            "AND agency_id = %s AND state IN (%s, %s, %s) ORDER BY id FOR UPDATE) AS locked, "
            "answer_copy AS answer WHERE item.id = locked.id AND answer.id = item.id "
            "AND item.state IN (%s, %s, %s) "
            "RETURNING item.id, item.case_id, item.party_id, item.court_id, item.action",
            [
                State.ANSWERED.value,
                stored_at,
                *id_params,
                agency.pk,
                *open_states,
                *open_states,
            ],
        )
        # In id order, as the rows were locked and as SQLite returns them.
        return sorted(cursor.fetchall())


def _write_answers_sqlite(items: Sequence[AnsweredItem], stored_at: datetime.datetime) -> None:
    """Write the answers of ``items``, which are open, on SQLite."""
    table = GatewayItem._meta.db_table
    open_states = [state.value for state in GatewayItem.OPEN_STATES]
    answer_field = GatewayItem._meta.get_field("answer")
    time_field = GatewayItem._meta.get_field("answered_at")
    id_field = GatewayItem._meta.get_field("id")
    stored_value = time_field.get_db_prep_value(stored_at, connection)
    with connection.cursor() as cursor:
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
) -> set[uuid.UUID]:
    """Store ``found`` and ``not_found`` answers on the agency's open items; return their ids.

    One transaction per page: it locks the open items among the answered ones (in id order,
    so two pages that share items wait for each other instead of deadlocking), writes all
    answers and their asset records, and commits them together. A repeated or concurrent
    answer then finds its item answered and changes nothing, and a crash before the commit
    leaves every item open, so the repeated page stores everything.
    """
    stored_at = timezone.now()
    parsed: dict[str, datetime.datetime] = {}
    times = {item_id: _answer_time(answer, now, parsed) for item_id, answer in answers.items()}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            rows = _write_answers_postgresql(agency, answers, times, stored_at)
        else:
            rows = _open_items_sqlite(agency, list(answers))
        if not rows:
            return set()
        items = [
            AnsweredItem(
                pk=item_id,
                agency_id=agency.pk,
                case_id=case_id,
                party_id=party_id,
                court_id=court_id,
                answered_at=times[item_id],
                answer=answers[item_id],
                action=action,
            )
            for item_id, case_id, party_id, court_id, action in rows
        ]
        if connection.vendor != "postgresql":
            _write_answers_sqlite(items, stored_at)
        answer_hook(items)
    return {item.pk for item in items}


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
    final = {
        item_id: answer
        for item_id, answer in by_id.items()
        if answer.get("status") in ("found", "not_found")
    }
    # Storing the final answers reads their items, so only the rest are looked up here: error
    # answers, and repeated answers to items that are no longer open.
    stored = _store_final_answers(agency, final, now) if final else set()
    known = stored | _known_ids(agency, [item_id for item_id in by_id if item_id not in stored])
    others: list[tuple[uuid.UUID, dict[str, Any]]] = []
    for item_id, answer in by_id.items():
        if item_id not in known:
            receipt.unknown.append(str(answer.get("item_id")))
            continue
        receipt.received.append(str(answer.get("item_id")))
        if item_id not in final:
            others.append((item_id, answer))
        elif item_id not in stored:
            receipt.ignored += 1
    receipt.answered = len(stored)
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
        raise InvalidMessageError("the page contains answers without a valid item id or status")
    return data


def _cursor(agency: Agency, court_id: int) -> AnswerCursor:
    cursors = AnswerCursor.objects.select_related("court").filter(agency=agency, court_id=court_id)
    cursor = cursors.first()
    if cursor is not None:
        return cursor
    AnswerCursor.objects.bulk_create(
        [AnswerCursor(agency=agency, court_id=court_id)], ignore_conflicts=True
    )
    return cursors.get()


def _fetch_page(agency: Agency, adapter: Adapter, cursor: AnswerCursor) -> dict[str, Any]:
    """Fetch the page of answers after ``cursor`` and return it verified and parsed.

    Raises :class:`AdapterFailure` when the request fails, :class:`InvalidSignatureError` for
    a page that is not signed by ``agency`` and :class:`InvalidMessageError` for one that is no
    valid page of answers.
    """
    reply = adapter.fetch_answers(
        agency,
        court_code=cursor.court.code or "",
        cursor=cursor.cursor,
        limit=POLL_LIMIT,
        headers=keys.signed_headers(cursor.court, b""),
    )
    return _verified_reply(agency, reply)


def _poll_page(
    agency: Agency, adapter: Adapter, cursor_id: int, now: datetime.datetime
) -> tuple[int, bool] | None:
    """Fetch and store one page of answers after the stored cursor; move the cursor on.

    Returns the answers stored and whether more may wait, or None when the fetch failed or,
    on PostgreSQL, another worker is polling the same agency and court: the cursor row stays
    locked from the fetch to the cursor's update, so two workers never fetch and store the
    same page at the same time. SQLite has one writer at a time, so there a second worker
    may fetch the same page, whose answers then change nothing.

    Each fetch that fails or brings answers counts as a request in the agency's health, like
    a batch sent. A failed request, an invalid signature and a page that is not valid count as
    failures and may open the agency's circuit. An empty page only ends a run of failures.
    The counters change after the page's transaction commits, because a batch's
    acknowledgement locks the health row before its items, and locking the row after the
    page's items could deadlock with it.
    """
    postgres = connection.vendor == "postgresql"
    error: str | None = None
    with transaction.atomic() if postgres else contextlib.nullcontext():
        rows = AnswerCursor.objects.select_related("court").filter(pk=cursor_id)
        if postgres:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        cursor = rows.first()
        if cursor is None:
            return None
        started = time.monotonic()
        try:
            data = _fetch_page(agency, adapter, cursor)
        except TransientFailure as failure:
            error = str(failure)
            logger.warning("Polling agency %s failed: %s", agency.code, error)
        except (AdapterFailure, InvalidSignatureError, InvalidMessageError) as failure:
            error = str(failure)
            logger.error(
                "Polling agency %s for court %s failed: %s", agency.code, cursor.court_id, error
            )
        latency_ms = int((time.monotonic() - started) * 1000)
        if error is None:
            receipt = apply_answers(agency, data["answers"], now)
            next_cursor = data.get("next_cursor")
            AnswerCursor.objects.filter(pk=cursor.pk).update(
                cursor=str(next_cursor) if next_cursor else cursor.cursor, polled_at=now
            )
    if error is not None:
        circuit.record_failure(agency, error, now, latency_ms=latency_ms)
        return None
    if data["answers"]:
        circuit.record_success(agency, latency_ms)
    else:
        circuit.record_recovery(agency)
    return receipt.answered, bool(next_cursor) and len(data["answers"]) >= POLL_LIMIT


def _circuit_lets_poll(agency: Agency, now: datetime.datetime) -> bool:
    """Return whether the agency's circuit lets the next page be fetched.

    An open circuit stops polling like it stops batches. When its cool-down has passed, the
    first fetch is the circuit's probe, and its outcome closes the circuit or opens it again.
    """
    return circuit.allowance(agency, now, lease_length(agency)) != 0


def awaited_agencies() -> set[int]:
    """Return the ids of the agencies with items sent or acknowledged, awaiting answers.

    On PostgreSQL the query skips from one agency to the next in the index of outstanding
    items, so that it reads one entry per agency instead of one per item, which a plain
    DISTINCT would read at every pass of every worker.
    """
    states = [State.SENT.value, State.ACKNOWLEDGED.value]
    if connection.vendor != "postgresql":
        # Without order_by() the model's ordering would add created_at to the DISTINCT.
        return set(
            GatewayItem.objects.filter(state__in=states)
            .order_by()
            .values_list("agency_id", flat=True)
            .distinct()
        )
    table = GatewayItem._meta.db_table
    outstanding = "state IN (%s, %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE awaited (agency_id) AS ("  # noqa: S608
            f"(SELECT agency_id FROM {table} WHERE {outstanding} ORDER BY agency_id LIMIT 1) "
            f"UNION ALL SELECT (SELECT agency_id FROM {table} WHERE {outstanding} "
            "AND agency_id > awaited.agency_id ORDER BY agency_id LIMIT 1) "
            "FROM awaited WHERE awaited.agency_id IS NOT NULL) "
            "SELECT agency_id FROM awaited WHERE agency_id IS NOT NULL",
            [*states, *states],
        )
        return {agency_id for (agency_id,) in cursor.fetchall()}


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
    agency's poll interval ago are skipped unless ``force``. While the agency's circuit is
    open no page is fetched, even with ``force``. Returns the answers stored.
    """
    now = now or timezone.now()
    court_ids = set(
        GatewayItem.objects.filter(agency=agency, state__in=(State.SENT, State.ACKNOWLEDGED))
        .order_by()
        .values_list("court_id", flat=True)
        .distinct()
    )
    interval = datetime.timedelta(seconds=agency.poll_interval_seconds)
    answered = 0
    for court_id in sorted(court_ids):
        cursor = _cursor(agency, court_id)
        if not force and cursor.polled_at is not None and cursor.polled_at > now - interval:
            continue
        for _page in range(POLL_MAX_PAGES):
            if not _circuit_lets_poll(agency, now):
                return answered
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

    Their batch keeps its id, so the agency that already stored it stores nothing new. Sent
    items of a batch that the agency acknowledged become acknowledged instead.
    """
    now = now or timezone.now()
    lapsed = GatewayItem.objects.filter(state=State.SENT, lease_until__lt=now)
    # A worker that stopped before settling its acknowledged batches left their items sent.
    settled = lapsed.filter(batch__state=BatchState.ACKNOWLEDGED).update(
        state=State.ACKNOWLEDGED, lease_until=None, lease_owner="", last_error=""
    )
    if settled:
        logger.warning("Settled %s gateway item(s) of acknowledged batches", settled)
    returned = lapsed.exclude(batch__state=BatchState.ACKNOWLEDGED).update(
        state=State.PENDING, lease_until=None, lease_owner="", next_attempt_at=now
    )
    GatewayBatch.objects.filter(state=BatchState.SENDING, lease_until__lt=now).update(
        state=BatchState.RETRY, lease_until=None, lease_owner=""
    )
    if returned:
        logger.warning("Swept %s gateway item(s) whose lease ran out back to pending", returned)
    return returned
