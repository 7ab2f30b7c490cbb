"""Changes to courts and staff accounts; views, API and commands call these and nothing else."""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axes.utils import reset as axes_reset
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from zhixing.audit import services as audit
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User

logger = logging.getLogger(__name__)

COURTS_FILE = Path(__file__).resolve().parent / "data" / "guangdong_courts.json"

_COURT_FIELDS = (
    "code",
    "code_status",
    "short_name",
    "name_en",
    "level",
    "division_code",
    "active_from",
    "active_to",
    "note",
)


class CourtDataError(ValueError):
    """Raised when the court reference file is malformed; names the row and the field."""


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


def _parse_date(row: dict[str, Any], name: str) -> datetime.date | None:
    value = row.get(name)
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as error:
        raise CourtDataError(
            f"Court {row.get('name')!r}: {name}={value!r} is not a date; use YYYY-MM-DD."
        ) from error


def _validated_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    levels = set(Court.Level.values)
    statuses = set(Court.CodeStatus.values)
    names: set[str] = set()
    codes: set[str] = set()
    cleaned = []
    for number, row in enumerate(rows, start=1):
        name = str(row.get("name") or "").strip()
        if not name:
            raise CourtDataError(f"Court row {number}: name is missing.")
        if name in names:
            raise CourtDataError(f"Court row {number}: name {name!r} appears twice.")
        names.add(name)
        code = row.get("code") or None
        if code is not None:
            if code in codes:
                raise CourtDataError(f"Court {name!r}: code {code!r} appears twice.")
            codes.add(code)
        if row.get("level") not in levels:
            raise CourtDataError(
                f"Court {name!r}: level={row.get('level')!r} is invalid; use one of "
                f"{', '.join(sorted(levels))}."
            )
        status = row.get("code_status") or (
            Court.CodeStatus.CONFIRMED if code else Court.CodeStatus.UNKNOWN
        )
        if status not in statuses:
            raise CourtDataError(
                f"Court {name!r}: code_status={status!r} is invalid; use one of "
                f"{', '.join(sorted(statuses))}."
            )
        cleaned.append(
            {
                "name": name,
                "code": code,
                "code_status": status,
                "short_name": row.get("short_name") or "",
                "name_en": row.get("name_en") or "",
                "level": row["level"],
                "division_code": row.get("division_code") or "",
                "active_from": _parse_date(row, "active_from"),
                "active_to": _parse_date(row, "active_to"),
                "note": row.get("note") or "",
                "parent_code": row.get("parent_code") or None,
                "parent_name": row.get("parent_name") or None,
            }
        )
    return cleaned


def _resolve_parent(
    row: dict[str, Any], by_code: dict[str, Court], by_name: dict[str, Court]
) -> Court | None:
    if row["level"] == Court.Level.HIGH:
        return None
    if row["parent_code"] and row["parent_code"] in by_code:
        return by_code[row["parent_code"]]
    if row["parent_name"] and row["parent_name"] in by_name:
        return by_name[row["parent_name"]]
    raise CourtDataError(
        f"Court {row['name']!r}: parent court {row['parent_code'] or row['parent_name']!r} "
        "is not in the file; list the parent court before its children."
    )


def load_courts(rows: list[dict[str, Any]]) -> LoadResult:
    """Create or update courts from reference rows, matching by code, then by name.

    Loading the same rows twice changes nothing; a changed row updates its court. Courts
    absent from the rows are left alone, because staff and records may refer to them.
    """
    result = LoadResult()
    cleaned = _validated_rows(rows)
    order = {level: index for index, level in enumerate(Court.Level.values)}
    cleaned.sort(key=lambda row: order[row["level"]] if row["level"] != "basic" else 9)
    with transaction.atomic():
        existing = list(Court.objects.all())
        by_code = {court.code: court for court in existing if court.code}
        by_name = {court.name: court for court in existing}
        for row in cleaned:
            court = (by_code.get(row["code"]) if row["code"] else None) or by_name.get(row["name"])
            parent = _resolve_parent(row, by_code, by_name)
            values = {name: row[name] for name in _COURT_FIELDS}
            values["name"] = row["name"]
            values["parent"] = parent
            if court is None:
                court = Court(**values)
                court.path = ""
                court.save()
                court.path = tree_path(parent, court)
                court.save(update_fields=["path"])
                result.created.append(row["name"])
            else:
                changed = [name for name, value in values.items() if getattr(court, name) != value]
                if changed:
                    for name in changed:
                        setattr(court, name, values[name])
                    court.save(update_fields=changed)
                    result.updated.append(row["name"])
                else:
                    result.unchanged += 1
            if court.code:
                by_code[court.code] = court
            by_name[court.name] = court
        _rebuild_paths()
    logger.info(
        "Loaded courts: %d created, %d updated, %d unchanged",
        len(result.created),
        len(result.updated),
        result.unchanged,
    )
    return result


def tree_path(parent: Court | None, court: Court) -> str:
    """Return the tree path of ``court``; ids are zero-padded so that paths sort depth-first."""
    return f"{parent.path if parent else '/'}{court.pk:06d}/"


def _rebuild_paths() -> None:
    """Recompute every court's tree path after parents may have changed."""
    courts = {court.pk: court for court in Court.objects.all()}

    def path_of(court: Court) -> str:
        parent = courts.get(court.parent_id) if court.parent_id else None
        prefix = path_of(parent) if parent is not None else "/"
        return f"{prefix}{court.pk:06d}/"

    for court in courts.values():
        path = path_of(court)
        if court.path != path:
            court.path = path
            court.save(update_fields=["path"])


def load_courts_file(path: Path = COURTS_FILE) -> LoadResult:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise CourtDataError(f"Cannot read court file {path}: {error}") from error
    return load_courts(document["courts"])


# Staff accounts


def _check_roles(role_codes: Iterable[str]) -> list[str]:
    codes = sorted(set(role_codes))
    if not codes:
        raise ValidationError({"roles": _("Choose at least one role.")})
    unknown = [code for code in codes if code not in Role.Code.values]
    if unknown:
        raise ValidationError(
            {
                "roles": _("Unknown roles: %(roles)s. Use one of %(choices)s.")
                % {"roles": ", ".join(unknown), "choices": ", ".join(Role.Code.values)}
            }
        )
    return codes


def _roles(codes: list[str]) -> list[Role]:
    roles = list(Role.objects.filter(code__in=codes))
    if len(roles) != len(codes):
        missing = sorted(set(codes) - {role.code for role in roles})
        raise ValidationError(
            {
                "roles": _("Roles %(roles)s are missing from the database; run `zhixing migrate`.")
                % {"roles": ", ".join(missing)}
            }
        )
    return roles


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error


def _require_manager(actor: User | None, court: Court) -> None:
    """Allow the change when the actor administers ``court``; ``None`` is a console command."""
    if actor is not None and not scope.may_manage_users(actor, court):
        raise PermissionDenied(_("You may not manage the staff of %(court)s.") % {"court": court})


@transaction.atomic
def create_user(
    *,
    actor: User | None,
    court: Court,
    username: str,
    full_name: str,
    role_codes: Iterable[str],
    password: str | None,
    phone: str = "",
) -> User:
    """Create a staff account for ``court``; ``password=None`` makes one that cannot log in yet."""
    _require_manager(actor, court)
    codes = _check_roles(role_codes)
    username = username.strip()
    if not username:
        raise ValidationError({"username": _("A user name is required.")})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            {"username": _("The user name %(name)s is taken; choose another.") % {"name": username}}
        )
    user = User(username=username, full_name=full_name.strip(), court=court, phone=phone.strip())
    if password is None:
        user.set_unusable_password()
    else:
        _validate_password(password, user)
        user.set_password(password)
        user.password_change_required = actor is not None
    user.full_clean(exclude=["password"])
    user.save()
    user.roles.set(_roles(codes))
    logger.info("Created user %s at court %s", user.pk, court.code)
    return user


@transaction.atomic
def update_user(
    *,
    actor: User | None,
    user: User,
    full_name: str | None = None,
    role_codes: Iterable[str] | None = None,
    phone: str | None = None,
    is_active: bool | None = None,
    court: Court | None = None,
) -> User:
    """Change a staff account; moving it to another court needs rights over both courts."""
    _require_manager(actor, user.court)
    if court is not None and court != user.court:
        _require_manager(actor, court)
        user.court = court
    if actor is not None and actor.pk == user.pk and is_active is False:
        raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
    # Separation of duties: an administrator who could grant themselves the roles that approve,
    # seal and reveal would hold them alone.
    if (
        actor is not None
        and actor.pk == user.pk
        and role_codes is not None
        and set(_check_roles(role_codes)) != user.role_codes()
    ):
        raise ValidationError(
            {
                "roles": _(
                    "You cannot change your own roles; another administrator of your court or "
                    "of a court above changes them."
                )
            }
        )
    if full_name is not None:
        user.full_name = full_name.strip()
    if phone is not None:
        user.phone = phone.strip()
    if is_active is not None:
        user.is_active = is_active
    user.full_clean(exclude=["password"])
    user.save()
    if role_codes is not None:
        codes = _check_roles(role_codes)
        if set(codes) != user.role_codes():
            user.roles.set(_roles(codes))
            user.__dict__.pop("_role_codes", None)
    return user


@transaction.atomic
def set_password(*, actor: User | None, user: User, password: str) -> None:
    """Set a new password after checking it against the password rules.

    A password that an administrator sets must be changed by its user at the next login, so
    that the password in use is the user's alone.
    """
    own = actor is not None and actor.pk == user.pk
    if not own:
        _require_manager(actor, user.court)
    _validate_password(password, user)
    user.set_password(password)
    user.password_change_required = actor is not None and not own
    user.save(update_fields=["password", "password_change_required"])
    # A new password set by an administrator is the usual way out of a lockout.
    axes_reset(username=user.username)


def issue_token(user: User) -> str:
    """Return the user's API token, creating it on first use; each issue is audited."""
    token, created = Token.objects.get_or_create(user=user)
    audit.record(audit.Action.UPDATE, user, detail={"api_token": "created" if created else "shown"})
    return token.key


def unlock_login(*, actor: User | None, user: User) -> int:
    """Clear the failed-login lockout of ``user``; returns the number of records cleared."""
    _require_manager(actor, user.court)
    cleared = axes_reset(username=user.username)
    audit.record(audit.Action.UPDATE, user, detail={"login_lockout": "cleared"})
    logger.info("Cleared login lockout of user %s (%d records)", user.pk, cleared)
    return cleared
