"""Messages of the gateway protocol: checking batches, building answers, making garbage."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import random
import urllib.parse
import uuid
from datetime import datetime
from typing import Any

from agency_simulator import PROTOCOL
from agency_simulator.agencies import ACTIONS, CHINA_TZ, MEASURE_ACTIONS, Agency
from agency_simulator.measure_requests import document_reason, measure_reason

MAX_ITEMS_PER_BATCH = 1000
SUBJECT_KINDS = ("person", "organisation")


class InvalidRequest(ValueError):
    """A request body that breaks the protocol; the whole request is rejected with 400."""


@dataclasses.dataclass(frozen=True)
class ItemRequest:
    """One item of a batch as the court sent it; `reason` is set when it must be rejected."""

    item_id: str
    raw: dict[str, Any]
    reason: str | None


@dataclasses.dataclass(frozen=True)
class BatchRequest:
    batch_id: str
    court_code: str
    court_name: str
    callback_url: str | None
    items: list[ItemRequest]


def now_text() -> str:
    return datetime.now(CHINA_TZ).isoformat(timespec="seconds")


def parse_batch(body: bytes, agency: Agency, signer: str, now: datetime) -> BatchRequest:
    """Check a batch body against the protocol; item-level problems become rejections."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidRequest(f"body is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidRequest("body must be a JSON object")
    if document.get("protocol") != PROTOCOL:
        raise InvalidRequest(f"protocol must be {PROTOCOL!r}, got {document.get('protocol')!r}")
    batch_id = _uuid(document.get("batch_id"), "batch_id")
    if document.get("agency") != agency.code:
        raise InvalidRequest(
            f"agency {document.get('agency')!r} does not match the URL's agency {agency.code!r}"
        )
    court = document.get("court")
    if not isinstance(court, dict) or not isinstance(court.get("code"), str):
        raise InvalidRequest("court must be an object with a string 'code'")
    if court["code"] != signer:
        raise InvalidRequest(f"court.code {court['code']!r} is not the signer {signer!r}")
    _instant(document.get("sent_at"), "sent_at")
    callback_url = document.get("callback_url")
    if callback_url is not None:
        check_callback_url(callback_url)
    items = document.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidRequest("items must be a non-empty list")
    if len(items) > MAX_ITEMS_PER_BATCH:
        raise InvalidRequest(f"{len(items)} items; a batch has at most {MAX_ITEMS_PER_BATCH}")
    parsed: list[ItemRequest] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidRequest(f"items[{index}] must be an object")
        item_id = _uuid(item.get("item_id"), f"items[{index}].item_id")
        reason = "duplicate item_id in batch" if item_id in seen else item_reason(item, agency, now)
        seen.add(item_id)
        parsed.append(ItemRequest(item_id=item_id, raw=item, reason=reason))
    return BatchRequest(
        batch_id=batch_id,
        court_code=signer,
        court_name=court["name"] if isinstance(court.get("name"), str) else "",
        callback_url=callback_url,
        items=parsed,
    )


def item_reason(item: dict[str, Any], agency: Agency, now: datetime) -> str | None:
    """Return why the agency rejects `item`, or None when it accepts it."""
    action = item.get("action")
    if action not in ACTIONS:
        return f"unknown action {action!r}"
    if action not in agency.actions:
        return f"action {action!r} not supported"
    if item.get("category") not in agency.categories:
        return "category not served"
    if not isinstance(item.get("case_number"), str) or not item["case_number"]:
        return "case_number missing"
    subject = item.get("subject")
    if not isinstance(subject, dict):
        return "subject missing"
    if subject.get("kind") not in SUBJECT_KINDS:
        return f"subject.kind must be one of {list(SUBJECT_KINDS)}"
    for field in ("name", "document_type", "document_number"):
        if not isinstance(subject.get(field), str) or not subject[field]:
            return f"subject.{field} missing"
    try:
        deadline = _instant(item.get("deadline"), "deadline")
    except InvalidRequest as error:
        return str(error)
    if deadline <= now:
        return "deadline passed"
    document = item.get("document")
    if action in MEASURE_ACTIONS:
        return document_reason(document) or measure_reason(
            action, item["category"], item.get("measure")
        )
    if document is not None and not isinstance(document, dict):
        return "document must be an object or null"
    return None


def check_callback_url(url: Any) -> None:
    """Raise InvalidRequest unless `url` is http(s) on a literal loopback address.

    Host names are rejected, even `localhost`, because resolving them could lead elsewhere.
    """
    if not isinstance(url, str):
        raise InvalidRequest("callback_url must be a string or null")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidRequest(f"callback_url {url!r}: scheme must be http or https")
    if parts.username or parts.password:
        raise InvalidRequest(f"callback_url {url!r}: credentials are not allowed")
    try:
        address = ipaddress.ip_address(parts.hostname or "")
        parts.port  # noqa: B018 (raises ValueError on an invalid port)
    except ValueError:
        raise InvalidRequest(
            f"callback_url {url!r}: host must be a loopback IP address such as 127.0.0.1"
        ) from None
    if not address.is_loopback:
        raise InvalidRequest(f"callback_url {url!r}: host {address} is not a loopback address")


def answer(
    item_id: str,
    status: str,
    records: list[dict[str, Any]],
    error: str | None,
    *,
    answered_at: str | None = None,
) -> dict:
    """Build one answer. `answered_at` (default: now) lets a page of answers share one time."""
    result: dict[str, Any] = {
        "item_id": item_id,
        "status": status,
        "answered_at": answered_at or now_text(),
        "records": records,
    }
    if error is not None:
        result["error"] = error
    return result


def envelope(agency: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"protocol": PROTOCOL, "agency": agency, "sent_at": now_text(), "answers": answers}


def garbage(body: dict[str, Any], rng: random.Random) -> bytes:
    """Spoil an answer body: truncated JSON, not JSON at all, or JSON of the wrong shape."""
    text = json.dumps(body, ensure_ascii=False)
    kind = rng.choice(("truncated", "not_json", "answers_object", "wrong_types"))
    if kind == "truncated":
        return text[: max(1, len(text) // 2)].encode()
    if kind == "not_json":
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    spoiled = json.loads(text)
    if kind == "answers_object":
        spoiled["answers"] = {entry["item_id"]: entry for entry in spoiled["answers"]}
    else:
        spoiled["sent_at"] = 0
        for entry in spoiled["answers"]:
            entry.pop("item_id", None)
            entry["status"] = 1
            entry["records"] = "none"
    return json.dumps(spoiled, ensure_ascii=False).encode()


def _uuid(value: Any, where: str) -> str:
    """Return `value` when it is a UUID in canonical text form (lower case, with hyphens)."""
    try:
        canonical = str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        canonical = None
    if canonical is None or canonical != value:
        raise InvalidRequest(f"{where} must be a UUID in canonical text form, got {value!r}")
    return canonical


def _instant(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidRequest(f"{where} must be an RFC 3339 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{where} {value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise InvalidRequest(f"{where} {value!r} has no UTC offset")
    return moment
