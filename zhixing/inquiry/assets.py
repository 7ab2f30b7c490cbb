"""Turning stored gateway answers into asset records of the cases that asked for them.

The gateway calls :func:`record_answer` right after it stores an answer, in the same
transaction. Every function here may run again for the same answer and adds nothing then:
each record is keyed by case, item and its position in the answer.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from zhixing.inquiry.models import AssetRecord, QueryItem
from zhixing.linkage.models import GatewayItem

logger = logging.getLogger(__name__)

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


def store_assets(item: GatewayItem, case_ids: set[int] | None = None, *, count: bool = True) -> int:
    """Create the asset records of ``item``'s answer for its cases; return how many were new.

    Records of an unknown type or that are no objects are left out (the raw answer stays on
    the item). Running it again for the same answer creates nothing. Without ``count`` it
    skips the two counting queries and returns 0.
    """
    if item.state != GatewayItem.State.ANSWERED or not isinstance(item.answer, dict):
        return 0
    records = item.answer.get("records")
    if not isinstance(records, list) or item.answered_at is None:
        return 0
    rows = []
    for case_id in sorted(case_ids if case_ids is not None else _cases_of(item)):
        for position, record in enumerate(records):
            kind = record.get("type") if isinstance(record, dict) else None
            if kind not in AssetRecord.Type.values:
                logger.warning(
                    "Gateway item %s: record %s has no known type; left out", item.pk, position
                )
                continue
            assert isinstance(record, dict)
            columns = {
                name: (value[: _MAX[name]] if name in _MAX else value)
                for name, value in _columns(str(kind), record).items()
            }
            rows.append(
                AssetRecord(
                    case_id=case_id,
                    party_id=item.party_id,
                    agency_id=item.agency_id,
                    item=item,
                    position=position,
                    answered_at=item.answered_at,
                    record_type=kind,
                    raw=record,
                    **columns,
                )
            )
    if not rows:
        return 0
    before = AssetRecord.objects.filter(item=item).count() if count else 0
    # bulk_create leaves no audit record: assets are copies of answers the gateway stored.
    AssetRecord.objects.bulk_create(rows, ignore_conflicts=True)
    return AssetRecord.objects.filter(item=item).count() - before if count else 0


def record_answer(item_id: uuid.UUID | str) -> None:
    """Store the assets of the answer that the gateway just stored on item ``item_id``."""
    item = GatewayItem.objects.filter(pk=item_id).first()
    if item is not None:
        # The gateway needs no count, and on its hot path two queries per answer matter.
        store_assets(item, count=False)
