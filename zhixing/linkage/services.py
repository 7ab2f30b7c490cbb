"""Changes to the agency registry: loading the reference file, and edits from its pages."""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy

from zhixing.courts import scope
from zhixing.linkage.models import Agency, GatewayItem

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from zhixing.courts.models import User

logger = logging.getLogger(__name__)

AGENCIES_FILE = Path(__file__).resolve().parent / "data" / "agencies.json"

# Keys of an agency entry, besides its code, that the file may set.
_FIELDS = (
    "name",
    "kind",
    "categories",
    "actions",
    "adapter",
    "base_url",
    "timeout_seconds",
    "outbox_dir",
    "inbox_dir",
    "public_key_pem",
    "batch_size",
    "batch_window_seconds",
    "rate_limit",
    "concurrency",
    "poll_interval_seconds",
    "service_start",
    "service_end",
    "service_days",
    "deadlines",
    "active",
)


class AgencyDataError(Exception):
    """Raised when the agencies file cannot be read or one of its entries is invalid."""


@dataclass
class LoadResult:
    """Codes of the agencies a load created and updated, and how many it left unchanged."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    # Manual agencies whose adapter the load left manual, because typed answers are awaited.
    kept_manual: list[str] = field(default_factory=list)


def _time(value: Any, code: str, name: str) -> datetime.time | None:
    if value in (None, ""):
        return None
    try:
        return datetime.time.fromisoformat(str(value))
    except ValueError as error:
        raise AgencyDataError(
            f"Agency {code}: {name} {value!r} is invalid; write a time such as 08:30."
        ) from error


def _values(
    entry: dict[str, Any], defaults: dict[str, Any], keys_dir: Path | None
) -> dict[str, Any]:
    code = entry["code"]
    merged = {**defaults, **entry}
    unknown = set(merged) - {"code", *_FIELDS}
    if unknown:
        raise AgencyDataError(f"Agency {code}: unknown keys {sorted(unknown)}; remove them.")
    values = {name: merged[name] for name in _FIELDS if name in merged}
    if isinstance(values.get("base_url"), str):
        values["base_url"] = values["base_url"].replace("{code}", code)
    for name in ("service_start", "service_end"):
        if name in values:
            values[name] = _time(values[name], code, name)
    if keys_dir is not None:
        key_file = keys_dir / f"{code}.pem"
        if key_file.exists():
            values["public_key_pem"] = key_file.read_text(encoding="ascii")
    return values


def load_agencies(
    rows: list[dict[str, Any]],
    *,
    defaults: dict[str, Any] | None = None,
    keys_dir: Path | None = None,
    base_url: str | None = None,
    connection_only: bool = False,
) -> LoadResult:
    """Create or update the agencies of ``rows`` by code; loading them twice changes nothing.

    ``defaults`` fill keys an entry leaves out, and ``{code}`` in a base URL becomes the
    agency's code. ``keys_dir`` supplies public keys from ``{code}.pem`` files, and
    ``base_url`` replaces every entry's base URL. With ``connection_only``, agencies that
    exist get only their base URL and public key, and keep the settings that administrators
    changed. A manual agency stays manual while its requests await typed answers, as the
    registry form requires. Raises :class:`AgencyDataError` naming the agency and field of the
    first invalid entry, and then stores nothing.
    """
    defaults = dict(defaults or {})
    result = LoadResult()
    with transaction.atomic():
        for entry in rows:
            if not isinstance(entry, dict) or not entry.get("code"):
                raise AgencyDataError(f"Every agency needs a code; this entry has none: {entry!r}")
            entry = {**entry, **({"base_url": base_url} if base_url is not None else {})}
            values = _values(entry, defaults, keys_dir)
            agency = Agency.objects.filter(code=entry["code"]).first()
            created = agency is None
            if agency is None:
                agency = Agency(code=entry["code"])
            elif connection_only:
                values = {name: values[name] for name in _CONNECTION_FIELDS if name in values}
            if _keeps_manual(agency, values):
                values.pop("adapter")
                result.kept_manual.append(agency.code)
            changed = [name for name, value in values.items() if getattr(agency, name) != value]
            if not created and not changed:
                result.unchanged += 1
                continue
            for name, value in values.items():
                setattr(agency, name, value)
            try:
                agency.full_clean()
            except ValidationError as error:
                raise AgencyDataError(f"Agency {entry['code']}: {error.message_dict}") from error
            agency.save()
            (result.created if created else result.updated).append(agency.code)
    logger.info(
        "Loaded agencies: %s created, %s updated, %s unchanged",
        len(result.created),
        len(result.updated),
        result.unchanged,
    )
    return result


# The fields that tie an agency to the server it runs on. The demo sets them on every start.
_CONNECTION_FIELDS = ("base_url", "public_key_pem")


def awaiting_typed_answers(agency: Agency) -> int:
    """Return how many requests of a manual ``agency`` wait for staff to type the answer in.

    The manual adapter accepts every batch at once, so its open items are the acknowledged ones.
    """
    return GatewayItem.objects.filter(agency=agency, state=GatewayItem.State.ACKNOWLEDGED).count()


def _keeps_manual(agency: Agency, values: dict[str, Any]) -> bool:
    """Return whether a load must leave ``agency`` manual: typed answers to it are awaited."""
    if agency.pk is None or agency.adapter != Agency.Adapter.MANUAL:
        return False
    if values.get("adapter", Agency.Adapter.MANUAL) == Agency.Adapter.MANUAL:
        return False
    waiting = awaiting_typed_answers(agency)
    if waiting:
        logger.warning(
            "Agency %s stays manual: %s request(s) await typed answers; enter or expire them, "
            "then load again",
            agency.code,
            waiting,
        )
    return bool(waiting)


def load_agencies_file(
    path: Path = AGENCIES_FILE,
    *,
    keys_dir: Path | None = None,
    base_url: str | None = None,
    connection_only: bool = False,
) -> LoadResult:
    """Load the agencies of a JSON file with ``defaults`` and a list of ``agencies``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AgencyDataError(f"{path} cannot be read as JSON: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("agencies"), list):
        raise AgencyDataError(f"{path} needs an object with a list under the key 'agencies'.")
    return load_agencies(
        data["agencies"],
        defaults=data.get("defaults"),
        keys_dir=keys_dir,
        base_url=base_url,
        connection_only=connection_only,
    )


# Changes through the registry pages


def may_manage_agencies(user: User | AnonymousUser | None) -> bool:
    """Return whether ``user`` may change the province's agency registry: the high court's
    administrators.

    The registry serves every court, and its addresses receive the courts' queries, so an
    administrator of a court below could redirect the queries of courts outside their scope.
    """
    return scope.may_manage_province(user)


REGISTRY_MANAGERS_ONLY = gettext_lazy(
    "Only administrators of the high court manage the linkage agencies, because the registry "
    "serves every court of the province."
)


def _require_manager(actor: User) -> None:
    if not may_manage_agencies(actor):
        raise PermissionDenied(REGISTRY_MANAGERS_ONLY)


def save_agency(actor: User, agency: Agency) -> Agency:
    """Validate and store a new or changed agency; the audit trail records what changed.

    Raises ``PermissionDenied`` unless ``actor`` is an administrator and ``ValidationError``
    naming the field of an invalid value, and then stores nothing.
    """
    _require_manager(actor)
    created = agency._state.adding
    agency.full_clean()
    with transaction.atomic():
        agency.save()
    logger.info("Agency %s %s by user %s", agency.code, "created" if created else "saved", actor.pk)
    return agency


def set_agency_active(actor: User, agency: Agency, active: bool) -> bool:
    """Activate or deactivate ``agency``; return False when it already was in that state.

    An inactive agency gets no new requests and no batches. Its items already queued wait, and
    expire at their deadline unless the agency is activated again before.
    """
    _require_manager(actor)
    if agency.active == active:
        return False
    agency.active = active
    with transaction.atomic():
        agency.save(update_fields=["active", "updated_at"])
    logger.info(
        "Agency %s %s by user %s", agency.code, "activated" if active else "deactivated", actor.pk
    )
    return True
