"""The `document` and `measure` fields of measure items: checks at acknowledgement, and parsing.

Each check returns the rejection reason of the item, or None when the field is usable. The
reasons are listed in docs/protocol.md, section "Clarifications of version 1".
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from agency_simulator.holdings import (
    APPLICABLE,
    ASSET_TYPES,
    CATEGORY_ASSET_TYPES,
    TYPE_ALIASES,
)

EXIT_CATEGORY = "exit_entry"
# Actions whose period the court asks for, and actions that continue or end an earlier measure.
PERIOD_ACTIONS = frozenset({"freeze", "seize", "renew", "restrict_exit"})
REFERENCE_ACTIONS = frozenset({"renew", "release", "deduct"})
MONEY_PATTERN = re.compile(r"^\d{1,15}\.\d{2}$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHA256_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")
PDF_MAGIC = b"%PDF-"


class MeasureRejected(ValueError):
    """A measure item that the agency rejects at acknowledgement; the message is the reason."""


@dataclasses.dataclass(frozen=True)
class MeasureRequest:
    """The checked `measure` of an item. `asset_type` is a key of ASSET_TYPES, or None for
    exit restrictions."""

    asset_type: str | None
    identifier: str | None
    amount: Decimal | None
    start: date | None
    end: date | None
    reference: str | None


def document_reason(document: Any) -> str | None:
    """Return why a measure item's `document` is unusable, or None.

    The simulator checks that each PDF decodes, starts with `%PDF-` and has the stated SHA-256.
    It does not verify the PAdES seal, which a real agency verifies with the platform's root
    certificate.
    """
    if not isinstance(document, dict):
        return "document missing"
    reason = _pdf_reason(document, "document")
    if reason is not None:
        return reason
    attachments = document.get("attachments")
    if attachments is None:
        return None
    if not isinstance(attachments, list):
        return "document.attachments invalid: expected a list"
    for index, attachment in enumerate(attachments):
        where = f"document.attachments[{index}]"
        if not isinstance(attachment, dict):
            return f"{where} invalid: expected an object"
        reason = _pdf_reason(attachment, where)
        if reason is not None:
            return reason
    return None


def _pdf_reason(document: dict[str, Any], where: str) -> str | None:
    for field in ("kind", "sha256", "pdf_base64"):
        if not isinstance(document.get(field), str) or not document[field]:
            return f"{where}.{field} missing"
    if not SHA256_PATTERN.match(document["sha256"]):
        return f"{where}.sha256 invalid: expected 64 hexadecimal digits"
    try:
        pdf = base64.b64decode(document["pdf_base64"], validate=True)
    except (binascii.Error, ValueError):
        return f"{where}.pdf_base64 invalid: not standard base64"
    if not pdf.startswith(PDF_MAGIC):
        return f"{where}.pdf_base64 invalid: the decoded bytes do not start with %PDF-"
    if hashlib.sha256(pdf).hexdigest() != document["sha256"].lower():
        # The reason starts with "document missing" because the document that the hash
        # names did not arrive.
        prefix = "document missing" if where == "document" else f"{where} missing"
        return f"{prefix}: sha256 does not match the decoded pdf_base64"
    return None


def parse_measure(action: str, category: str, measure: Any) -> MeasureRequest:
    """Check the `measure` of an item with a measure action; raise MeasureRejected if unusable."""
    if not isinstance(measure, dict):
        raise MeasureRejected("measure missing")
    if action == "restrict_exit" and category != EXIT_CATEGORY:
        raise MeasureRejected(f"action 'restrict_exit' needs category {EXIT_CATEGORY!r}")
    asset_type, identifier = _asset(action, category, measure)
    amount = _amount(action, asset_type, measure.get("amount"))
    start, end = _period(action, measure.get("start"), measure.get("end"))
    reference = _reference(action, measure.get("reference"))
    return MeasureRequest(asset_type, identifier, amount, start, end, reference)


def measure_reason(action: str, category: str, measure: Any) -> str | None:
    try:
        parse_measure(action, category, measure)
    except MeasureRejected as rejected:
        return str(rejected)
    return None


def _asset(action: str, category: str, measure: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return (asset type, identifier). Exit restrictions, and renewals and releases of them
    (category exit_entry), name no asset."""
    raw_type, identifier = measure.get("asset_type"), measure.get("identifier")
    if category == EXIT_CATEGORY:
        if raw_type is not None:
            raise MeasureRejected(
                "measure.asset_type invalid: must be null for an exit restriction"
            )
        if identifier is not None:
            raise MeasureRejected(
                "measure.identifier invalid: must be null for an exit restriction"
            )
        return None, None

    if raw_type is None or raw_type == "":
        raise MeasureRejected("measure.asset_type missing")
    if not isinstance(raw_type, str):
        raise MeasureRejected(f"measure.asset_type invalid: expected a string, got {raw_type!r}")
    asset_type = TYPE_ALIASES.get(raw_type, raw_type)
    expected = CATEGORY_ASSET_TYPES.get(category)
    if asset_type not in ASSET_TYPES or asset_type != expected:
        served = f"expected {expected!r}" if expected else f"category {category!r} has no assets"
        raise MeasureRejected(f"measure.asset_type invalid: {raw_type!r}; {served}")
    if action in APPLICABLE and asset_type not in APPLICABLE[action]:
        raise MeasureRejected(
            f"measure.asset_type invalid: action {action!r} does not apply to {asset_type!r}"
        )

    if identifier is None or identifier == "":
        raise MeasureRejected("measure.identifier missing")
    if not isinstance(identifier, str):
        raise MeasureRejected(f"measure.identifier invalid: expected a string, got {identifier!r}")
    return asset_type, identifier


def _amount(action: str, asset_type: str | None, raw: Any) -> Decimal | None:
    """Return the limit in yuan. Only freezes and deductions of deposits have one."""
    needs_amount = (
        action in ("freeze", "deduct")
        and asset_type is not None
        and ASSET_TYPES[asset_type].is_deposit
    )
    if not needs_amount:
        if raw is not None:
            raise MeasureRejected(
                f"measure.amount invalid: must be null for action {action!r} on {asset_type!r}"
            )
        return None
    if raw is None or raw == "":
        raise MeasureRejected("measure.amount missing")
    if not isinstance(raw, str) or not MONEY_PATTERN.match(raw):
        raise MeasureRejected(
            f"measure.amount invalid: expected yuan with two decimals such as '50000.00',"
            f" got {raw!r}"
        )
    amount = Decimal(raw)
    if amount <= 0:
        raise MeasureRejected(f"measure.amount invalid: {raw} is not above zero")
    return amount


def _period(action: str, raw_start: Any, raw_end: Any) -> tuple[date | None, date | None]:
    if action not in PERIOD_ACTIONS:
        for name, raw in (("start", raw_start), ("end", raw_end)):
            if raw is not None:
                raise MeasureRejected(f"measure.{name} invalid: must be null for action {action!r}")
        return None, None
    start = _date("start", raw_start)
    end = _date("end", raw_end)
    if end < start:
        raise MeasureRejected(f"measure.end invalid: {end} is before measure.start {start}")
    return start, end


def _date(name: str, raw: Any) -> date:
    if raw is None or raw == "":
        raise MeasureRejected(f"measure.{name} missing")
    try:
        if not isinstance(raw, str) or not DATE_PATTERN.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise MeasureRejected(
            f"measure.{name} invalid: expected a date such as '2026-12-04', got {raw!r}"
        ) from None


def _reference(action: str, raw: Any) -> str | None:
    """Return the item id of the measure that a renewal, release or deduction refers to.

    Renewals and releases need one; a deduction without one takes unfrozen money.
    """
    if action not in REFERENCE_ACTIONS:
        if raw is not None:
            raise MeasureRejected(f"measure.reference invalid: must be null for action {action!r}")
        return None
    if raw is None or raw == "":
        if action == "deduct":
            return None
        raise MeasureRejected("measure.reference missing")
    try:
        canonical = str(uuid.UUID(raw)) if isinstance(raw, str) else None
    except ValueError:
        canonical = None
    if canonical is None or canonical != raw:
        raise MeasureRejected(
            f"measure.reference invalid: expected an item_id in canonical UUID form, got {raw!r}"
        )
    return canonical
