"""Every change to enforcement cases and parties; views, API, import and commands call these."""

from __future__ import annotations

import datetime
import logging
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixing.audit import services as audit
from zhixing.cases import deadlines
from zhixing.cases.case_numbers import (
    IMPLEMENTING_TYPE_CODES,
    CaseNumber,
    CaseNumberError,
    parse_case_number,
)
from zhixing.cases.error_messages import translated_message
from zhixing.cases.identity import (
    DocumentType,
    IdentityError,
    check_document,
    check_uscc,
    normalise_resident_id,
)
from zhixing.cases.models import CaseParty, CaseSequence, EnforcementCase, FlowNode, Party
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User

if TYPE_CHECKING:
    from zhixing.approvals.models import Application
    from zhixing.measures.models import ControlMeasure

logger = logging.getLogger(__name__)

Kind = FlowNode.Kind

# One trillion yuan. Larger amounts do not occur, and SQLite stores decimals as doubles, which
# keep 15 significant digits: 12 digits of yuan and 2 of fen stay exact.
MAX_AMOUNT = Decimal("1e12")
# The 2016 case-number format, and so number allocation here, starts with that year.
FIRST_NUMBERED_YEAR = 2016
MAX_NAME_LENGTH = 200

# Inserts of one new party, each of which may lose to a concurrent filing of the same document
# under another name. Every lost attempt means another filing stored its party, so this many
# filings of one new number at once still all succeed.
STORE_PARTY_ATTEMPTS = 10

# Roles that file cases and change them: case officers of their own cases, and the clerks
# and bureau heads of the case's court.
_FILING_ROLES = (Role.Code.CASE_OFFICER, Role.Code.CLERK, Role.Code.BUREAU_HEAD)


def today_in_china() -> datetime.date:
    return timezone.localdate()


@dataclass(frozen=True)
class PartyInput:
    """A party as entered on a form, an import row or an API call, before it is checked."""

    name: str
    kind: str = Party.Kind.PERSON
    document_type: str = ""
    document_number: str = ""
    confirmed: bool = False
    address: str = ""
    phone: str = ""


# Case numbers


def allocate_sequence(court: Court, type_code: str, year: int) -> int:
    """Allocate the next sequence number of ``court`` for ``type_code`` in ``year``.

    One upsert statement increments the counter and returns it, so concurrent filings queue on
    the counter's row lock and each gets its own number. The counter changes inside the
    caller's transaction: a filing that rolls back gives its number back, so numbers have no
    gaps. PostgreSQL and SQLite (3.35 and newer) both support this statement.
    """
    table = CaseSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (court_id, type_code, year, last_sequence) "  # noqa: S608
            "VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (court_id, type_code, year) "
            f"DO UPDATE SET last_sequence = {table}.last_sequence + 1 "
            "RETURNING last_sequence",
            [court.pk, type_code, year],
        )
        (sequence,) = cursor.fetchone()
    return int(sequence)


def reserve_sequence(court: Court, type_code: str, year: int, sequence: int) -> None:
    """Make sure later filings get numbers after ``sequence``, which an import brought in."""
    reserve_sequences([(court.pk, type_code, year, sequence)])


def reserve_sequences(numbers: Iterable[tuple[int, str, int, int]]) -> None:
    """Like :func:`reserve_sequence` for many (court id, type, year, sequence) at once."""
    table = CaseSequence._meta.db_table
    highest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (court_id, type_code, year, last_sequence) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (court_id, type_code, year) "
            f"DO UPDATE SET last_sequence = {highest}({table}.last_sequence, "
            "excluded.last_sequence)",
            list(numbers),
        )


def parse_enforcement_number(text: str) -> CaseNumber:
    """Parse a case number that must be a current-format enforcement number."""
    try:
        number = parse_case_number(text)
    except CaseNumberError as error:
        raise ValidationError({"case_number": translated_message(error)}) from error
    if number.legacy or not number.is_enforcement:
        raise ValidationError(
            {
                "case_number": _(
                    "%(number)s is not an enforcement case number of the 2016 format; "
                    "enter a number such as (2024)粤0104执123号."
                )
                % {"number": text}
            }
        )
    return number


# Parties


@contextmanager
def collect_errors(errors: dict[str, list[ValidationError]]) -> Iterator[None]:
    """Add a ``ValidationError`` raised inside the block to ``errors``, by field, and go on.

    Services run each independent check in its own block and raise one
    ``ValidationError(errors)`` at the end, so a form or an API call reports every problem at
    once. A message without a field goes under ``NON_FIELD_ERRORS``.
    """
    try:
        yield
    except ValidationError as error:
        error.update_error_dict(errors)


@dataclass(frozen=True)
class CheckedParty:
    """A :class:`PartyInput` that passed :func:`check_party`, with its normalised document.

    ``stored`` is the party already registered under the document and name, if there is one;
    otherwise a new party gets ``name_variant``.
    """

    data: PartyInput
    name: str
    document_type: str
    document_number: str
    needs_confirmation: bool
    stored: Party | None
    name_variant: int = 0

    @property
    def document_key(self) -> tuple[str, str] | None:
        return (self.document_type, self.document_number) if self.document_number else None


def _normalise_document(data: PartyInput) -> tuple[str, str, bool]:
    if not data.document_number.strip():
        return "", "", False
    document_type = data.document_type or (
        DocumentType.RESIDENT_ID if data.kind == Party.Kind.PERSON else DocumentType.USCC
    )
    try:
        number = check_document(document_type, data.document_number, confirmed=data.confirmed)
    except IdentityError as error:
        raise ValidationError({"document_number": translated_message(error)}) from error
    except ValueError as error:
        raise ValidationError(
            {"document_type": _("Unknown document type %(type)s.") % {"type": document_type}}
        ) from error
    # A credit code that fails its check character got here only because a person confirmed it.
    needs_confirmation = document_type == DocumentType.USCC and not check_uscc(number).check_ok
    return str(document_type), number, needs_confirmation


def _check_name(name: str) -> None:
    if not name:
        raise ValidationError({"name": _("The party's name is missing.")})
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            {
                "name": _("The name has %(count)s characters; at most %(max)s are allowed.")
                % {"count": len(name), "max": MAX_NAME_LENGTH}
            }
        )


def check_party(data: PartyInput, viewer: User | None = None) -> CheckedParty:
    """Check a party's name, kind and document, and find the party stored under the document.

    Raises one ``ValidationError`` with every problem by field and writes nothing. ``viewer``
    is the user filing the party, or None for the system. A name that differs from the one
    registered under the document is rejected, naming the registered name, only when the
    viewer sees a case of that party anyway. Otherwise the party is checked as a new one with
    its own name (see :attr:`Party.name_variant`): the same answer as for an unknown number,
    so that nobody learns whether a number is known, or the name behind it, by filing. See
    :func:`_match_registered` for the one case where the answer differs.
    """
    errors: dict[str, list[ValidationError]] = {}
    name = data.name.strip()
    with collect_errors(errors):
        _check_name(name)
    kind_known = data.kind in Party.Kind.values
    if not kind_known:
        errors["kind"] = [
            ValidationError(
                _("Unknown party kind %(kind)s; use person or organisation.") % {"kind": data.kind}
            )
        ]
    document_type, number, needs_confirmation = "", "", False
    # Without a known kind the default document type would be a guess.
    if kind_known or data.document_type:
        with collect_errors(errors):
            document_type, number, needs_confirmation = _normalise_document(data)
    checked = CheckedParty(data, name, document_type, number, needs_confirmation, None)
    if number and not errors:
        with collect_errors(errors):
            checked = _match_registered(checked, viewer)
    if errors:
        raise ValidationError(errors)
    return checked


def _match_registered(checked: CheckedParty, viewer: User | None) -> CheckedParty:
    """Return ``checked`` with the party registered under its document and name, if any.

    When ``viewer`` sees a case of a party with the document, only those parties count: a name
    that none of them has raises ``ValidationError`` on the name field, naming the first. Names
    that the viewer cannot see are not compared then, or a filing under a made-up name followed
    by guesses would reveal the registered name. When the viewer sees none, the party with the
    same name is returned, so that one person stays one row, or else the next name variant.
    """
    registered = list(
        Party.objects.filter(
            document_type=checked.document_type, document_number=checked.document_number
        ).order_by("name_variant")
    )
    if not registered:
        return replace(checked, stored=None, name_variant=0)
    seen = _parties_seen_by(viewer, registered)
    wanted = _comparable_name(checked.name)
    for party in seen or registered:
        if _comparable_name(party.name) == wanted:
            return replace(checked, stored=party, name_variant=party.name_variant)
    if seen:
        raise ValidationError(
            {
                "name": _(
                    "This document number is registered under the name %(name)s; check the "
                    "name and the number."
                )
                % {"name": seen[0].name}
            }
        )
    # NOTE: a filer who sees no party of the number and enters its registered name gets the
    # registered party, whose older id tells them the name was right. Each such test files a
    # case, and afterwards the court sees a party of the number, so it works once per court.
    return replace(checked, stored=None, name_variant=registered[-1].name_variant + 1)


def _parties_seen_by(viewer: User | None, parties: Sequence[Party]) -> list[Party]:
    """Return those of ``parties`` that take part in a case in ``viewer``'s scope."""
    if viewer is None:
        return list(parties)
    roles = scope.restrict(
        CaseParty.objects.filter(party__in=parties), viewer, court_field="case__court"
    )
    seen = set(roles.values_list("party_id", flat=True))
    return [party for party in parties if party.pk in seen]


def _store_party(checked: CheckedParty, viewer: User | None) -> Party:
    """Return the stored party of ``checked``, creating it when it is new.

    A concurrent filing may store a party under the same document first. Then the insert
    fails on the unique document key, and the party is matched again as
    :func:`check_party` does: the other filing's party when the name is the same, or the next
    name variant. Raises ``ValidationError`` on the name field when the other filing's name
    differs and ``viewer`` sees its party.
    """
    attempt = 1
    while checked.stored is None:
        try:
            with transaction.atomic():
                return _create_party(checked)
        except IntegrityError:
            if not checked.document_number or attempt == STORE_PARTY_ATTEMPTS:
                raise
            attempt += 1
            checked = _match_registered(checked, viewer)
    return checked.stored


def _create_party(checked: CheckedParty) -> Party:
    data = checked.data
    party = Party(
        kind=data.kind,
        name=checked.name,
        document_type=checked.document_type,
        document_number=checked.document_number,
        name_variant=checked.name_variant,
        needs_confirmation=checked.needs_confirmation,
    )
    if checked.document_type == DocumentType.RESIDENT_ID:
        resident = normalise_resident_id(checked.document_number)
        party.birth_date = resident.birth_date
        party.sex = resident.sex
    party.save()
    return party


def find_or_create_party(data: PartyInput, viewer: User | None = None) -> Party:
    """Return the party with the given identity document and name, creating it when it is new.

    A party without a document number is always created anew, because nothing identifies it.
    A known party is returned unchanged: its record may belong to cases of other courts, so
    filing here does not rename it. Contact details are stored with the case, not here. Raises
    the errors of :func:`check_party` for ``viewer``.
    """
    return _store_party(check_party(data, viewer), viewer)


def _comparable_name(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


# Permissions


def may_file_at(user: User, court: Court) -> bool:
    """Return whether ``user`` may file cases at ``court``: staff of that court who file."""
    return user.is_active and user.court_id == court.pk and user.has_role(*_FILING_ROLES)


def may_change_case(user: User, case: EnforcementCase) -> bool:
    """Return whether ``user`` may change ``case``.

    The case's officer may, and so may the clerks and bureau heads of the case's court.
    Bureau heads of the courts above see the case but change it only through orders.
    """
    if not user.is_active or not scope.court_in_scope(user, case.court):
        return False
    if case.case_officer_id == user.pk:
        return True
    return user.court_id == case.court_id and user.has_role(Role.Code.CLERK, Role.Code.BUREAU_HEAD)


def may_see_identity(user: User, case: EnforcementCase) -> bool:
    """Return whether ``user`` may see the full identity numbers of the case's parties."""
    if not scope.court_in_scope(user, case.court):
        return False
    if case.case_officer_id == user.pk:
        return True
    if user.has_role(Role.Code.BUREAU_HEAD):
        return True
    return user.court_id == case.court_id and user.has_role(Role.Code.CLERK)


def _require_change(actor: User | None, case: EnforcementCase) -> None:
    if actor is not None and not may_change_case(actor, case):
        raise PermissionDenied(
            _("You may not change case %(number)s.") % {"number": case.case_number}
        )


# Filing


def _amount(value: Decimal | str | int, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", "").strip() or "0")
    except InvalidOperation as error:
        raise ValidationError(
            {
                field: _("%(value)s is not an amount in yuan; enter digits such as 12000.50.")
                % {"value": value}
            }
        ) from error
    if amount < 0:
        raise ValidationError({field: _("The amount cannot be negative.")})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: _("Amounts have at most two decimal places (fen).")})
    if amount >= MAX_AMOUNT:
        raise ValidationError({field: _("The amount %(value)s is too large.") % {"value": value}})
    return amount.quantize(Decimal("0.01"))


def _check_filing(
    *,
    court: Court,
    filed_on: datetime.date,
    basis_kind: str,
    type_code: str,
    case_officer: User | None,
) -> dict[str, list[ValidationError]]:
    """Return the problems of a filing's court, type, basis, date and officer, by field."""
    problems: dict[str, str] = {}
    if court.code is None:
        problems["court"] = _(
            "%(court)s has no confirmed court code, so it cannot number cases yet."
        ) % {"court": court.name}
    if type_code not in IMPLEMENTING_TYPE_CODES:
        problems["type_code"] = _(
            "%(code)s is not a case type filed here; use one of %(codes)s."
        ) % {"code": type_code, "codes": ", ".join(sorted(IMPLEMENTING_TYPE_CODES))}
    if basis_kind not in EnforcementCase.BasisKind.values:
        problems["basis_kind"] = _("Unknown kind of enforcement basis %(kind)s.") % {
            "kind": basis_kind
        }
    if filed_on > today_in_china():
        problems["filed_on"] = _("The filing date %(date)s is in the future.") % {"date": filed_on}
    elif filed_on.year < FIRST_NUMBERED_YEAR:
        problems["filed_on"] = _(
            "Cases filed before %(year)s have numbers of the old format; import them "
            "with their numbers instead of filing them here."
        ) % {"year": FIRST_NUMBERED_YEAR}
    if case_officer is not None and (
        case_officer.court_id != court.pk
        or not case_officer.is_active
        or not case_officer.has_role(Role.Code.CASE_OFFICER)
    ):
        problems["case_officer"] = _("Choose an active case officer of %(court)s.") % {
            "court": court
        }
    return {field: [ValidationError(message)] for field, message in problems.items()}


def _check_parties(
    applicants: Sequence[PartyInput], debtors: Sequence[PartyInput], viewer: User | None
) -> tuple[list[tuple[str, str, CheckedParty]], dict[str, list[ValidationError]]]:
    """Check every party of a filing and return the checked parties with the problems found.

    Each checked party comes with its role and its place, such as ``debtors[1]``. A problem's
    field is the party's field after its place, such as ``debtors[1].document_number``, so that
    forms show it at the row.
    """
    checked: list[tuple[str, str, CheckedParty]] = []
    errors: dict[str, list[ValidationError]] = {}
    if not applicants:
        errors["applicants"] = [ValidationError(_("A case needs at least one applicant."))]
    if not debtors:
        errors["debtors"] = [ValidationError(_("A case needs at least one debtor."))]
    # The first name entered for each document, so that one filing cannot name a party twice
    # under two names.
    names: dict[tuple[str, str], str] = {}
    for role, inputs in ((CaseParty.Role.APPLICANT, applicants), (CaseParty.Role.DEBTOR, debtors)):
        for index, data in enumerate(inputs):
            place = f"{role}s[{index}]"
            try:
                party = check_party(data, viewer)
            except ValidationError as error:
                for name, messages in error.error_dict.items():
                    errors.setdefault(f"{place}.{name}", []).extend(messages)
                continue
            key = party.document_key
            if key is not None:
                first_name = names.setdefault(key, party.name)
                if _comparable_name(first_name) != _comparable_name(party.name):
                    message = _(
                        "This document number is entered for another party with a different "
                        "name; check the names and the numbers."
                    )
                    errors.setdefault(f"{place}.name", []).append(ValidationError(message))
                    continue
            checked.append((role, place, party))
    return checked, errors


@transaction.atomic
def file_case(
    *,
    actor: User | None,
    court: Court,
    filed_on: datetime.date,
    basis_kind: str,
    applicants: Sequence[PartyInput],
    debtors: Sequence[PartyInput],
    claim_amount: Decimal | str | int,
    type_code: str = "执",
    basis_court: str = "",
    basis_document_number: str = "",
    case_officer: User | None = None,
) -> EnforcementCase:
    """File a new enforcement case and allocate its number (next sequence of court, type, year).

    ``actor=None`` is a console command or an import run by the system. Raises
    ``PermissionDenied`` first, then one ``ValidationError`` with every problem of the filing
    and its parties by field; then nothing is stored and no number is used.
    """
    if actor is not None and not may_file_at(actor, court):
        raise PermissionDenied(_("You may not file cases at %(court)s.") % {"court": court.name})
    errors = _check_filing(
        court=court,
        filed_on=filed_on,
        basis_kind=basis_kind,
        type_code=type_code,
        case_officer=case_officer,
    )
    amount = Decimal("0.00")
    with collect_errors(errors):
        amount = _amount(claim_amount, "claim_amount")
    parties, party_errors = _check_parties(applicants, debtors, actor)
    errors.update(party_errors)
    if errors:
        raise ValidationError(errors)
    assert court.code is not None
    sequence = allocate_sequence(court, type_code, filed_on.year)
    number = CaseNumber(
        year=filed_on.year,
        court_code=court.code,
        specialised_code="",
        type_code=type_code,
        sequence=sequence,
        suffix="",
        legacy=False,
    )
    case = EnforcementCase.objects.create(
        case_number=number.format(),
        court=court,
        year=filed_on.year,
        type_code=type_code,
        sequence=sequence,
        filed_on=filed_on,
        basis_kind=basis_kind,
        basis_court=basis_court.strip(),
        basis_document_number=basis_document_number.strip(),
        claim_amount=amount,
        case_officer=case_officer,
    )
    _attach_parties(case, parties, actor)
    FlowNode.objects.create(case=case, kind=Kind.FILED, on=filed_on, user=actor)
    if case_officer is not None:
        FlowNode.objects.create(case=case, kind=Kind.OFFICER_ASSIGNED, on=filed_on, user=actor)
    refresh_deadlines(case)
    logger.info("Filed case %s (id %s)", case.case_number, case.pk)
    return case


def _attach_parties(
    case: EnforcementCase, parties: Sequence[tuple[str, str, CheckedParty]], viewer: User | None
) -> None:
    # A document entered twice in this filing is stored once, by its first entry.
    created: dict[tuple[str, str], Party] = {}
    for role, place, checked in parties:
        key = checked.document_key
        party = created.get(key) if key is not None else None
        if party is None:
            try:
                party = _store_party(checked, viewer)
            except ValidationError as error:
                raise ValidationError(
                    {f"{place}.{field}": messages for field, messages in error.error_dict.items()}
                ) from error
            if key is not None:
                created[key] = party
        contact = {"address": checked.data.address.strip(), "phone": checked.data.phone.strip()}
        CaseParty.objects.get_or_create(case=case, party=party, role=role, defaults=contact)


# Flow and deadlines


def _flow_dates(case: EnforcementCase) -> dict[str, list[FlowNode]]:
    nodes: dict[str, list[FlowNode]] = {}
    for node in case.flow.all():
        nodes.setdefault(node.kind, []).append(node)
    return nodes


def case_dates(case: EnforcementCase) -> tuple[deadlines.CaseDates, dict[str, datetime.date]]:
    """Return the deadline inputs of ``case`` and the dates its steps were done."""
    nodes = _flow_dates(case)

    def first(kind: str) -> datetime.date | None:
        found = nodes.get(kind)
        return found[0].on if found else None

    suspensions = []
    resumes = [node.on for node in nodes.get(Kind.RESUMED, [])]
    for node in nodes.get(Kind.SUSPENDED, []):
        end = next((day for day in resumes if day >= node.on), None)
        suspensions.append(deadlines.Period(start=node.on, end=end))
    extensions = tuple(
        deadlines.Extension(
            months=node.extension_months, days=node.extension_days, approved_on=node.on
        )
        for node in nodes.get(Kind.EXTENSION_APPROVED, [])
    )
    dates = deadlines.CaseDates(
        filed_on=case.filed_on,
        non_litigation=case.non_litigation,
        officer_assigned_on=first(Kind.OFFICER_ASSIGNED),
        file_received_on=first(Kind.FILE_RECEIVED),
        asset_leads_received_on=first(Kind.ASSET_LEADS_RECEIVED),
        suspensions=tuple(suspensions),
        extensions=extensions,
    )
    done_kinds = {
        "assign_officer": Kind.OFFICER_ASSIGNED,
        "enforcement_notice": Kind.NOTICE_SENT,
        "verify_asset_leads": Kind.ASSET_LEADS_VERIFIED,
        "asset_investigation": Kind.ASSET_INVESTIGATION,
        "handling_period": Kind.CLOSED,
    }
    done = {rule: day for rule, kind in done_kinds.items() if (day := first(kind)) is not None}
    return dates, done


def case_deadlines(
    case: EnforcementCase, today: datetime.date | None = None
) -> list[deadlines.Deadline]:
    """Return the deadlines of ``case``; steps a closed case left undone are not applicable."""
    dates, done = case_dates(case)
    today = max(today or today_in_china(), case.filed_on)
    if case.closed_on is not None:
        # A closed case's open steps are judged as of closing, not as of today.
        today = min(today, max(case.closed_on, case.filed_on))
    computed = deadlines.compute_deadlines(dates, today=today, done=done)
    if not case.is_closed:
        return computed
    return [
        item if item.done_on is not None else replace(item, status="not_applicable")
        for item in computed
    ]


def refresh_deadlines(case: EnforcementCase) -> None:
    """Store the case's handling deadline and its earliest open deadline on the case row."""
    computed = case_deadlines(case)
    handling = next((item for item in computed if item.rule_id == "handling_period"), None)
    open_items = sorted(
        (item for item in computed if item.done_on is None), key=lambda item: item.due_on
    )
    case.handling_due_on = handling.due_on if handling else None
    if case.is_closed or not open_items:
        case.next_due_on, case.next_due_rule = None, ""
    else:
        case.next_due_on, case.next_due_rule = open_items[0].due_on, open_items[0].rule_id
    case.save(update_fields=["handling_due_on", "next_due_on", "next_due_rule", "updated_at"])


def _check_extension_length(
    case: EnforcementCase, on: datetime.date, months: int | None, days: int | None
) -> None:
    """Raise ``ValidationError`` when one extension is longer than the law allows.

    Months and days are measured from the handling deadline they extend (from ``on`` when the
    case has none), so 2 months and 30 days pass only where that stays within 3 calendar months.
    """
    base = case.handling_due_on or on
    extended = deadlines.add_months(base, months or 0) + datetime.timedelta(days=days or 0)
    if extended <= deadlines.add_months(base, deadlines.MAX_EXTENSION_MONTHS):
        return
    field = "extension_months" if months else "extension_days"
    raise ValidationError(
        {
            field: _(
                "The extension of %(months)s months and %(days)s days is longer than the "
                "limit of %(limit)s months for one approved extension; enter at most "
                "%(limit)s months."
            )
            % {"months": months or 0, "days": days or 0, "limit": deadlines.MAX_EXTENSION_MONTHS}
        }
    )


@transaction.atomic
def record_step(
    *,
    actor: User | None,
    case: EnforcementCase,
    kind: str,
    on: datetime.date,
    note: str = "",
    extension_months: int | None = None,
    extension_days: int | None = None,
) -> FlowNode:
    """Record a flow step of ``case`` on the day ``on`` and update its deadlines."""
    _require_change(actor, case)
    if kind not in Kind.values or kind in {Kind.FILED, Kind.CLOSED}:
        raise ValidationError(
            {
                "kind": _(
                    "%(kind)s cannot be recorded as a step; filing and "
                    "closing have their own actions."
                )
                % {"kind": Kind(kind).label if kind in Kind.values else kind}
            }
        )
    if case.is_closed:
        raise ValidationError(
            {"kind": _("Case %(number)s is closed.") % {"number": case.case_number}}
        )
    _check_step_day(case, on)
    if kind == Kind.EXTENSION_APPROVED and not (extension_months or extension_days):
        raise ValidationError({"extension_months": _("Give the months or days approved.")})
    if kind != Kind.EXTENSION_APPROVED and (extension_months or extension_days):
        raise ValidationError(
            {"extension_months": _("Months and days belong to an approved extension only.")}
        )
    if kind == Kind.EXTENSION_APPROVED:
        _check_extension_length(case, on, extension_months, extension_days)
    if kind == Kind.RESUMED:
        suspended_on = (
            case.flow.filter(kind=Kind.SUSPENDED)
            .order_by("-on", "-id")
            .values_list("on", flat=True)
        ).first()
        if suspended_on is not None and on < suspended_on:
            raise ValidationError(
                {
                    "on": _("The case was suspended on %(date)s; it cannot resume before that.")
                    % {"date": suspended_on}
                }
            )
    if kind == Kind.SUSPENDED:
        if case.status == EnforcementCase.Status.SUSPENDED:
            raise ValidationError({"kind": _("The case is already suspended.")})
        case.status = EnforcementCase.Status.SUSPENDED
    elif kind == Kind.RESUMED:
        if case.status != EnforcementCase.Status.SUSPENDED:
            raise ValidationError({"kind": _("Only a suspended case can resume.")})
        case.status = EnforcementCase.Status.OPEN
    node = FlowNode.objects.create(
        case=case,
        kind=kind,
        on=on,
        user=actor,
        note=note.strip(),
        extension_months=extension_months if kind == Kind.EXTENSION_APPROVED else None,
        extension_days=extension_days if kind == Kind.EXTENSION_APPROVED else None,
    )
    case.save(update_fields=["status", "updated_at"])
    refresh_deadlines(case)
    return node


def record_first_online_query(
    *, actor: User | None, case: EnforcementCase, on: datetime.date
) -> FlowNode | None:
    """Add the online-query step to the flow of ``case`` unless it has one; return the new node.

    The inquiry app calls this when it sends a query to the agencies, so the flow shows the
    first online query without the officer recording it. The caller checks the permission.
    """
    if case.flow.filter(kind=Kind.ONLINE_QUERY).exists():
        return None
    return FlowNode.objects.create(case=case, kind=Kind.ONLINE_QUERY, on=on, user=actor)


def _check_step_day(case: EnforcementCase, on: datetime.date) -> None:
    if on < case.filed_on or on > today_in_china():
        raise ValidationError(
            {
                "on": _("The date %(date)s must lie between the filing date %(filed)s and today.")
                % {"date": on, "filed": case.filed_on}
            }
        )


@transaction.atomic
def assign_officer(
    *, actor: User | None, case: EnforcementCase, officer: User, on: datetime.date
) -> EnforcementCase:
    """Make ``officer`` the case officer; the first assignment closes the 7-day deadline."""
    if actor is not None and not (
        actor.court_id == case.court_id and actor.has_role(Role.Code.BUREAU_HEAD, Role.Code.CLERK)
    ):
        raise PermissionDenied(_("Only the bureau head or a clerk of the court assigns cases."))
    if officer.court_id != case.court_id:
        raise ValidationError(
            {"case_officer": _("Choose a case officer of %(court)s.") % {"court": case.court}}
        )
    if not officer.has_role(Role.Code.CASE_OFFICER):
        raise ValidationError(
            {
                "case_officer": _("%(name)s is not a case officer of %(court)s.")
                % {"name": officer, "court": case.court}
            }
        )
    _check_step_day(case, on)
    case.case_officer = officer
    case.save(update_fields=["case_officer", "updated_at"])
    FlowNode.objects.create(case=case, kind=Kind.OFFICER_ASSIGNED, on=on, user=actor)
    refresh_deadlines(case)
    return case


# Closing modes after which the case's control measures and exit restrictions stay in force.
# Terminating the current procedure (终本) keeps assets frozen and seized and the debtor
# restricted, so that enforcement can resume on them.
MODES_KEEPING_MEASURES = frozenset({EnforcementCase.ClosingMode.TERMINATED_WITHOUT_ASSETS})


def measures_in_force(case: EnforcementCase) -> list[ControlMeasure]:
    """Return the freezes, seizures and distraints of ``case`` that are in force.

    Deductions are left out, because a completed deduction has moved the money and no release
    can undo it.
    """
    # Imported here because the measures app builds on this one.
    from zhixing.measures.kinds import MeasureKind
    from zhixing.measures.models import ControlMeasure

    return list(
        ControlMeasure.objects.filter(case=case, state__in=ControlMeasure.ACTIVE_STATES)
        .exclude(kind=MeasureKind.DEDUCT)
        .select_related("agency", "party")
        .order_by("ruling_sequence", "id")
    )


def measures_awaiting_answer(case: EnforcementCase) -> list[ControlMeasure]:
    """Return the measures of ``case`` that were requested and await the agency's answer.

    Any of them may take effect when the answer comes, deductions included.
    """
    from zhixing.measures.models import ControlMeasure

    awaiting = (ControlMeasure.State.REQUESTED, ControlMeasure.State.SENT)
    return list(
        ControlMeasure.objects.filter(case=case, state__in=awaiting)
        .select_related("agency", "party")
        .order_by("ruling_sequence", "id")
    )


def measures_awaiting_approval(case: EnforcementCase) -> list[ControlMeasure]:
    """Return the measures of ``case`` that were requested and await a bureau head's approval."""
    from zhixing.measures.models import ControlMeasure

    return list(
        ControlMeasure.objects.filter(case=case, state=ControlMeasure.State.AWAITING_APPROVAL)
        .select_related("agency", "party")
        .order_by("ruling_sequence", "id")
    )


def _measure_list(measures: Sequence[ControlMeasure]) -> str:
    # Imported here because the measures app builds on this one.
    from zhixing.measures.masking import shown_asset_label

    # The message shows on the case page to the user who tries to close, so a person's home is
    # masked, as on the measure pages.
    return "; ".join(
        _("%(kind)s #%(id)s, %(asset)s, ruling %(ruling)s")
        % {
            "kind": measure.get_kind_display(),
            "id": measure.pk,
            "asset": shown_asset_label(measure) or measure.agency.name,
            "ruling": measure.ruling_number,
        }
        for measure in measures
    )


def _restriction_list(applications: Sequence[Application]) -> str:
    return "; ".join(
        _("application #%(id)s for %(name)s, until %(end)s (%(state)s)")
        % {
            "id": application.pk,
            "name": application.person_name,
            "end": application.period_end.isoformat(),
            "state": application.get_state_display(),
        }
        for application in applications
    )


def check_nothing_in_force(case: EnforcementCase, today: datetime.date) -> None:
    """Raise ``ValidationError`` on ``mode`` when ``case`` still restricts the debtor.

    That is when control measures are in force, await the agency's answer or a bureau head's
    approval, or when an exit restriction is in force or approved. The message lists each
    with what to do.

    NOTE: exit restrictions not yet decided (drafted to received) are not checked, because the
    applying court cannot withdraw them. Executing one for a closed case fails when the gateway
    refuses the border-control request of a closed case, unless the request is handed over by
    hand.
    """
    # Imported here because the approvals app builds on this one.
    from zhixing.approvals.lifting import Outcome, lifting_outcome
    from zhixing.approvals.models import State as ApplicationState
    from zhixing.approvals.services import exit_restrictions_in_force

    problems = []
    in_force = measures_in_force(case)
    if in_force:
        problems.append(
            _("Control measures in force: %(measures)s. Release them first.")
            % {"measures": _measure_list(in_force)}
        )
    awaiting = measures_awaiting_answer(case)
    if awaiting:
        problems.append(
            _(
                "Control measures awaiting the agency's answer: %(measures)s. Wait for the "
                "answers, then release those that took effect."
            )
            % {"measures": _measure_list(awaiting)}
        )
    waiting = measures_awaiting_approval(case)
    if waiting:
        problems.append(
            _(
                "Control measures awaiting a bureau head's approval: %(measures)s. Have the "
                "bureau head approve or reject them first."
            )
            % {"measures": _measure_list(waiting)}
        )
    restrictions = exit_restrictions_in_force(case, today)
    # A lifted restriction is listed while its release waits for the agency's answer, and, as
    # one in force, after border control rejected the lifting or never got it.
    lifting = [
        item
        for item in restrictions
        if item.state == ApplicationState.LIFTED and lifting_outcome(item) == Outcome.AWAITING
    ]
    in_force_restrictions = [item for item in restrictions if item not in lifting]
    if in_force_restrictions:
        problems.append(
            _(
                "Exit restrictions in force: %(restrictions)s. Ask %(court)s to lift them on "
                "the application's page."
            )
            % {
                "restrictions": _restriction_list(in_force_restrictions),
                "court": in_force_restrictions[0].deciding_court.name,
            }
        )
    if lifting:
        problems.append(
            _(
                "Exit restrictions lifted but not yet released by border control: "
                "%(restrictions)s. Wait for the agency's answer on the application's page."
            )
            % {"restrictions": _restriction_list(lifting)}
        )
    if not problems:
        return
    raise ValidationError(
        {
            "mode": _(
                "Case %(number)s cannot be closed yet. %(problems)s Only the closing mode "
                "“%(mode)s” keeps measures and exit restrictions in force."
            )
            % {
                "number": case.case_number,
                "problems": " ".join(problems),
                "mode": EnforcementCase.ClosingMode.TERMINATED_WITHOUT_ASSETS.label,
            }
        }
    )


@transaction.atomic
def close_case(
    *,
    actor: User | None,
    case: EnforcementCase,
    mode: str,
    on: datetime.date,
    recovered_amount: Decimal | str | int | None = None,
) -> EnforcementCase:
    """Close ``case`` with a closing mode (执行完毕, 终本, …) on the day ``on``."""
    _require_change(actor, case)
    if case.is_closed:
        raise ValidationError(
            {"mode": _("Case %(number)s is already closed.") % {"number": case.case_number}}
        )
    if mode not in EnforcementCase.ClosingMode.values:
        raise ValidationError({"mode": _("Unknown closing mode %(mode)s.") % {"mode": mode}})
    if on < case.filed_on or on > today_in_china():
        raise ValidationError(
            {
                "on": _("The closing date %(date)s must lie between the filing date and today.")
                % {"date": on}
            }
        )
    last_step = case.flow.order_by("-on").values_list("on", flat=True).first()
    if last_step is not None and on < last_step:
        raise ValidationError(
            {
                "on": _("The last step of the case is dated %(date)s; close on or after it.")
                % {"date": last_step}
            }
        )
    if mode not in MODES_KEEPING_MEASURES:
        check_nothing_in_force(case, today_in_china())
    if recovered_amount is not None:
        case.recovered_amount = _amount(recovered_amount, "recovered_amount")
    case.status = EnforcementCase.Status.CLOSED
    case.closing_mode = mode
    case.closed_on = on
    case.full_clean(exclude=["parties"])
    case.save()
    FlowNode.objects.create(case=case, kind=Kind.CLOSED, on=on, user=actor)
    refresh_deadlines(case)
    return case


# Permissions and watch lists of the case pages and API


def may_assign_officer(user: User, case: EnforcementCase) -> bool:
    """Return whether ``user`` may assign the officer of ``case``, as :func:`assign_officer` checks.

    Bureau heads and clerks of the case's court assign. No one assigns on a closed case.
    """
    return (
        user.is_active
        and not case.is_closed
        and user.court_id == case.court_id
        and user.has_role(Role.Code.BUREAU_HEAD, Role.Code.CLERK)
    )


def watches_whole_scope(user: User) -> bool:
    """Return whether ``user`` watches the deadlines of every case in scope, not only their own.

    Bureau heads, commanders and duty officers supervise their court and the courts below.
    Everyone else watches the cases whose officer they are.
    """
    return user.has_role(Role.Code.BUREAU_HEAD, Role.Code.COMMANDER, Role.Code.DUTY_OFFICER)


def watched_deadline_cases(
    user: User, *, today: datetime.date | None = None, soon_days: int = 7
) -> QuerySet[EnforcementCase]:
    """Return the open cases whose next deadline passed or falls within ``soon_days`` days.

    The cases are those of the user's scope for supervisors (:func:`watches_whole_scope`) and
    the user's own cases otherwise, ordered by court and then by due date. Suspended cases are
    left out because their handling period is paused while they are suspended.
    """
    today = today or today_in_china()
    cases = scope.restrict(EnforcementCase.objects.all(), user).filter(
        status=EnforcementCase.Status.OPEN,
        next_due_on__lte=today + datetime.timedelta(days=soon_days),
    )
    if not watches_whole_scope(user):
        cases = cases.filter(case_officer=user)
    return cases.select_related("court", "case_officer").order_by(
        "court__path", "next_due_on", "id"
    )


def record_identity_read(
    case: EnforcementCase,
    links: Sequence[CaseParty],
    *,
    purpose: str,
    shown: Sequence[str] = ("document_number", "address", "phone"),
) -> int:
    """Record one audit entry per party of ``case`` whose full personal data a user was shown.

    ``links`` are the case's links to its parties with the parties loaded, and ``shown`` the
    fields the user saw: the party's document number, and the address and phone given in the
    case. Each entry names the party and is filed under the case's court, so the bureau heads
    of that court also find reads by staff of the courts above. ``audit.record_personal_read``
    is not used because it would file the entry under no court, since a party has no court.
    Returns the number of entries; parties with none of the shown fields get none.
    """
    recorded = 0
    for link in links:
        party = link.party
        values = {
            "document_number": party.document_number,
            "address": link.address,
            "phone": link.phone,
        }
        fields = [name for name in shown if values[name]]
        if not fields:
            continue
        audit.record(
            audit.Action.READ_PERSONAL,
            case,
            object_type=party._meta.label_lower,
            object_id=str(party.pk),
            object_repr=str(party)[:200],
            detail={
                "fields": sorted(fields),
                "purpose": purpose,
                "case_id": case.pk,
                "case_number": case.case_number,
            },
        )
        recorded += 1
    return recorded
