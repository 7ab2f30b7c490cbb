"""Turning stored gateway answers into asset records of the cases that asked for them.

The gateway calls :func:`record_answers` right after it stores a page of answers, in the same
transaction. Every function here may run again for the same answer and adds nothing then:
each record is keyed by case, item and its position in the answer.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from zhixing.cases.models import EnforcementCase
from zhixing.inquiry.models import AssetRecord, QueryItem, QueryRequest
from zhixing.linkage import bulk
from zhixing.linkage.adapters.online import dumps
from zhixing.linkage.models import Action, GatewayItem

logger = logging.getLogger(__name__)

# Rows per INSERT statement of asset records.
BULK_ROWS = 1000
_MAX = {"institution": 200, "identifier": 100, "location": 300, "status": 32, "description": 300}


def _text(record: dict[str, Any], *names: str) -> str:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    return amount if abs(amount) < Decimal("1e16") else None


def _columns(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """Return the typed columns of one record of type ``kind``."""
    if kind == "bank_account":
        return {
            "institution": _text(record, "bank"),
            "identifier": _text(record, "account_number"),
            "amount": _amount(record.get("balance")),
            "currency": _text(record, "currency"),
            "status": _text(record, "state"),
            "description": _text(record, "account_type"),
        }
    if kind == "real_estate":
        area = _text(record, "area")
        share = _text(record, "share")
        seizures = record.get("existing_seizures")
        return {
            "identifier": _text(record, "certificate_number"),
            "location": _text(record, "location"),
            "status": "seized" if isinstance(seizures, list) and seizures else "",
            "description": " · ".join(
                part for part in (_text(record, "use"), area and f"{area} m²", share) if part
            ),
        }
    if kind == "vehicle":
        return {
            "identifier": _text(record, "plate"),
            "status": _text(record, "state"),
            "description": _text(record, "model"),
        }
    if kind in ("shareholding", "business"):
        return {
            "institution": _text(record, "company"),
            "identifier": _text(record, "credit_code"),
            "amount": _amount(record.get("capital")),
            "description": _text(record, "share", "role"),
        }
    if kind == "employment":
        return {
            "institution": _text(record, "employer"),
            "identifier": _text(record, "credit_code"),
            "amount": _amount(record.get("monthly_contribution")),
            "description": _text(record, "since"),
        }
    if kind == "residence":
        since, until = _text(record, "since"), _text(record, "until")
        return {"location": _text(record, "address"), "description": f"{since} - {until}"}
    if kind == "travel":
        return {
            "location": _text(record, "place", "port"),
            "status": _text(record, "kind"),
            "description": _text(record, "at"),
        }
    if kind == "household":
        return {
            "institution": _text(record, "authority"),
            "location": _text(record, "address"),
            "description": _text(record, "registered_at"),
        }
    if kind == "tax":
        return {
            "identifier": _text(record, "taxpayer_id"),
            "amount": _amount(record.get("arrears")),
            "description": _text(record, "last_filing"),
        }
    if kind == "family":
        return {"description": _text(record, "children")}
    if kind == "organisation":
        return {
            "institution": _text(record, "name"),
            "identifier": _text(record, "credit_code"),
            "location": _text(record, "address"),
        }
    if kind == "securities":
        return {
            "identifier": _text(record, "account"),
            "amount": _amount(record.get("holdings_value")),
        }
    if kind == "provident_fund":
        return {"identifier": _text(record, "account"), "amount": _amount(record.get("balance"))}
    if kind == "payment_account":
        return {
            "institution": _text(record, "platform"),
            "identifier": _text(record, "account"),
            "amount": _amount(record.get("balance")),
        }
    if kind == "ship":
        return {
            "institution": _text(record, "name"),
            "identifier": _text(record, "registration_number"),
            "description": _text(record, "tonnage"),
        }
    return {}


def _cases_of(item: GatewayItem) -> set[int]:
    """Return the item's own case and the cases of queries that reused it."""
    cases = {item.case_id}
    cases.update(
        QueryItem.objects.filter(item=item).values_list("request__case_id", flat=True).distinct()
    )
    return cases


class StoredAnswer(Protocol):
    """An item with its stored answer: a ``GatewayItem``, or what the gateway passes."""

    @property
    def pk(self) -> Any: ...
    @property
    def agency_id(self) -> int: ...
    @property
    def case_id(self) -> int: ...
    @property
    def party_id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def answer(self) -> Any: ...
    @property
    def answered_at(self) -> datetime.datetime | None: ...


# The columns of an asset record that the rows of ``_asset_values`` fill, in their order.
_COLUMNS = (
    "case_id",
    "party_id",
    "agency_id",
    "item_id",
    "position",
    "answered_at",
    "record_type",
    "institution",
    "identifier",
    "amount",
    "currency",
    "location",
    "status",
    "description",
    "raw",
)
_TEXT_COLUMNS = ("institution", "identifier", "currency", "location", "status", "description")
# Looked up once: ``Type.values`` builds a new list on every access.
_RECORD_TYPES = frozenset(AssetRecord.Type.values)
_ANSWERED = GatewayItem.State.ANSWERED.value
# Records of control measures are named after their action: freeze, seize, renew …
_MEASURE_TYPES = frozenset(Action.values) - {Action.QUERY.value}


def _asset_values(item: StoredAnswer, case_ids: Iterable[int]) -> list[tuple[Any, ...]]:
    """Return the asset records of ``item``'s answer for each of ``case_ids``, as rows of
    ``_COLUMNS`` whose ``raw`` is the record itself."""
    if item.state != _ANSWERED or not isinstance(item.answer, dict):
        return []
    records = item.answer.get("records")
    if not isinstance(records, list) or not records or item.answered_at is None:
        return []
    # Per record: the columns from ``position`` on, which every case's copy shares.
    shared: list[tuple[Any, ...]] = []
    for position, record in enumerate(records):
        kind = record.get("type") if isinstance(record, dict) else None
        if kind not in _RECORD_TYPES:
            if kind in _MEASURE_TYPES:
                # The agency's record of a control measure; zhixing.measures reads it.
                continue
            logger.warning(
                "Gateway item %s: record %s has no known type; left out", item.pk, position
            )
            continue
        assert isinstance(record, dict)
        columns = _columns(str(kind), record)
        text = {name: columns.get(name, "")[: _MAX.get(name)] for name in _TEXT_COLUMNS}
        shared.append(
            (
                position,
                item.answered_at,
                str(kind),
                text["institution"],
                text["identifier"],
                columns.get("amount"),
                text["currency"],
                text["location"],
                text["status"],
                text["description"],
                record,
            )
        )
    return [
        (case_id, item.party_id, item.agency_id, item.pk, *columns)
        for case_id in sorted(case_ids)
        for columns in shared
    ]


def _asset_rows(item: StoredAnswer, case_ids: Iterable[int]) -> list[AssetRecord]:
    """Return the unsaved asset records of ``item``'s answer for each of ``case_ids``."""
    rows = _asset_values(item, case_ids)
    return [AssetRecord(**dict(zip(_COLUMNS, values, strict=True))) for values in rows]


def store_assets(item: GatewayItem, case_ids: set[int] | None = None, *, count: bool = True) -> int:
    """Create the asset records of ``item``'s answer for its cases; return how many were new.

    Records of an unknown type or that are no objects are left out (the raw answer stays on
    the item). Running it again for the same answer creates nothing. Without ``count`` it
    skips the two counting queries and returns 0.
    """
    rows = _asset_rows(item, case_ids if case_ids is not None else _cases_of(item))
    if not rows:
        return 0
    before = AssetRecord.objects.filter(item=item).count() if count else 0
    # bulk_create leaves no audit record: assets are copies of answers the gateway stored.
    AssetRecord.objects.bulk_create(rows, ignore_conflicts=True)
    return AssetRecord.objects.filter(item=item).count() - before if count else 0


def record_answers(items: Sequence[StoredAnswer]) -> None:
    """Store the assets of the answers that the gateway just stored on ``items``.

    One query finds the cases of queries that reused the items, and one bulk insert writes
    the records of all of them (COPY on PostgreSQL). The gateway passes the items as it
    stored them, unread.
    """
    with_records = [
        item for item in items if isinstance(item.answer, dict) and item.answer.get("records")
    ]
    if not with_records:
        return
    cases: dict[Any, set[int]] = {item.pk: {item.case_id} for item in with_records}
    item_field = QueryItem._meta.get_field("item")
    condition, params = bulk.in_list("link.item_id", list(cases), item_field)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT link.item_id, query.case_id FROM {QueryItem._meta.db_table} AS link "  # noqa: S608
            f"JOIN {QueryRequest._meta.db_table} AS query ON query.id = link.request_id "
            f"WHERE {condition}",
            params,
        )
        for item_id, case_id in cursor.fetchall():
            cases[item_field.to_python(item_id)].add(case_id)
    if connection.vendor == "postgresql":
        now = timezone.now()
        rows = [
            (*values[:-1], dumps(values[-1]).decode(), now)
            for item in with_records
            for values in _asset_values(item, cases[item.pk])
        ]
        bulk.copy_insert(AssetRecord._meta.db_table, (*_COLUMNS, "created_at"), rows)
        return
    records = [row for item in with_records for row in _asset_rows(item, cases[item.pk])]
    # bulk_create leaves no audit record: assets are copies of answers the gateway stored.
    AssetRecord.objects.bulk_create(records, ignore_conflicts=True, batch_size=BULK_ROWS)


def record_answer(item_id: uuid.UUID | str) -> None:
    """Store the assets of the answer that the gateway just stored on item ``item_id``."""
    item = GatewayItem.objects.filter(pk=item_id).first()
    if item is not None:
        record_answers([item])


def announce_answers(items: Sequence[StoredAnswer]) -> None:
    """Tell each case officer, through the event stream, how many of their queries were answered.

    One event per officer and page of answers: the request list and the inbox refresh on it.
    Answers to control measures (freeze, seize, renew …) are left out, because the measures
    app publishes its own events for them. An item without ``action`` counts as a query, as
    the gateway's ``AnsweredItem`` defaults to one. A page may contain items of hundreds of
    cases and many officers, so the cases are read with their ids as one array and the
    events are written by one insert.
    """
    from zhixing.events import services as events

    queries = [item for item in items if getattr(item, "action", Action.QUERY) == Action.QUERY]
    case_ids = sorted({item.case_id for item in queries})
    if not case_ids:
        return
    condition, params = bulk.in_list("id", case_ids, EnforcementCase._meta.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, case_officer_id FROM {EnforcementCase._meta.db_table} "  # noqa: S608
            f"WHERE {condition} AND case_officer_id IS NOT NULL",
            params,
        )
        officers = dict(cursor.fetchall())
    counts: Counter[int] = Counter(
        officers[item.case_id] for item in queries if item.case_id in officers
    )
    if not counts:
        return
    url = reverse("inquiry-inbox")
    titles: dict[int, str] = {}
    data_by_officer = {}
    for officer_id, count in counts.items():
        if count not in titles:
            titles[count] = ngettext("%(count)s new answer", "%(count)s new answers", count) % {
                "count": count
            }
        data_by_officer[officer_id] = {"title": titles[count], "url": url, "count": count}
    events.publish_per_user("inquiry.answers", data_by_officer)
