"""Finding cases: one filter function behind the case list, the API and the export.

Everything goes through :func:`filter_cases`, which applies the data scope first, so no list,
API page or spreadsheet can reach a case outside the user's courts.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhixing.cases.case_numbers import (
    CASE_TYPES,
    ENFORCEMENT_TYPE_CODES,
    CaseNumber,
    CaseNumberError,
    normalise_typed,
    parse_case_number,
)
from zhixing.cases.identity import DocumentType, IdentityError, check_document
from zhixing.cases.models import ENFORCEMENT_TYPE_LABELS, CaseParty, EnforcementCase, Party
from zhixing.cases.services import FIRST_NUMBERED_YEAR
from zhixing.courts import scope
from zhixing.courts.models import Court, User
from zhixing.query_params import InvalidParameter, InvalidQuery, choice, database_id

# Cases without a deadline (closed cases, and open ones with every step done) come last in
# both directions of the deadline sort. By default PostgreSQL puts NULL last ascending and
# first descending, and SQLite the other way round.
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "filed": ("filed_on", "id"),
    "-filed": ("-filed_on", "-id"),
    "due": (F("next_due_on").asc(nulls_last=True), "id"),
    "-due": (F("next_due_on").desc(nulls_last=True), "-id"),
    "amount": ("claim_amount", "id"),
    "-amount": ("-claim_amount", "-id"),
    "number": ("year", "type_code", "sequence", "id"),
    "-number": ("-year", "-type_code", "-sequence", "-id"),
}
DEFAULT_SORT = "-filed"
SOON_DAYS = 7
DUE_CHOICES = [
    ("overdue", gettext_lazy("Overdue")),
    ("soon", gettext_lazy("Due within 7 days")),
]
# Every type code of an enforcement case: new cases are 执, 执恢 or 执保, but imported cases
# may have any of them.
TYPE_FILTER_CHOICES = sorted(
    (code, ENFORCEMENT_TYPE_LABELS[code]) for code in ENFORCEMENT_TYPE_CODES
)
LOWER_CHOICES = [
    ("0", gettext_lazy("only that court")),
    ("1", gettext_lazy("that court and the courts below it")),
]
SORT_CHOICES = [(code, code) for code in SORTS]
_YEAR_PREFIX = re.compile(r"\(\d{4}\)\S")
_TYPE_AND_SEQUENCE = re.compile(r"(?P<type>[^\d()]+?)(?P<sequence>\d+)号?")
# Columns of the case officer that no case list shows. Leaving them out keeps password hashes
# out of case lists and makes the query shorter to build.
OFFICER_UNUSED = (
    "password",
    "password_change_required",
    "last_login",
    "is_superuser",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "date_joined",
    "phone",
)


@dataclass(frozen=True)
class CaseFilter:
    """Search text and filters of a case list, parsed from a query string."""

    text: str = ""
    court_code: str = ""
    include_lower: bool = True
    type_code: str = ""
    status: str = ""
    officer_id: int | None = None
    due: str = ""  # "overdue", "soon" or ""
    sort: str = DEFAULT_SORT

    @classmethod
    def parse(
        cls, params: Mapping[str, str], user: User
    ) -> tuple[CaseFilter, list[InvalidParameter]]:
        """Return the filter of ``params`` and the problem of each value it cannot use.

        The filter leaves out the values with problems, so a page can show the rest in its form.
        Empty values mean no filter. A court must be in the user's scope, and a case officer
        must work at a court in it or handle a case in it.
        """
        problems: list[InvalidParameter] = []
        court_code = params.get("court", "").strip()
        if court_code and not _court_in_scope(user, court_code):
            message = _(
                "%(label)s (%(name)s): no court with the code “%(value)s” is in your scope; "
                "choose a court from the list or leave it empty."
            ) % {"label": _("Court"), "name": "court", "value": court_code}
            problems.append(InvalidParameter("court", court_code, message))
            court_code = ""
        officer_text = params.get("officer", "").strip()
        officer_id = database_id(officer_text)
        if officer_text and (officer_id is None or not _officer_in_scope(user, officer_id)):
            message = _(
                "%(label)s (%(name)s): no case officer with the id “%(value)s” is in your "
                "scope; choose a case officer from the list or leave it empty."
            ) % {"label": _("Case officer"), "name": "officer", "value": officer_text}
            problems.append(InvalidParameter("officer", officer_text, message))
            officer_id = None
        lower = choice(params, "lower", _("Include courts below"), LOWER_CHOICES, problems, "1")
        case_filter = cls(
            text=params.get("q", "").strip(),
            court_code=court_code,
            include_lower=lower != "0",
            type_code=choice(params, "type", _("Type"), TYPE_FILTER_CHOICES, problems),
            status=choice(params, "status", _("Status"), EnforcementCase.Status.choices, problems),
            officer_id=officer_id,
            due=choice(params, "due", _("Deadline"), DUE_CHOICES, problems),
            sort=choice(params, "sort", _("Sort order"), SORT_CHOICES, problems, DEFAULT_SORT),
        )
        return case_filter, problems

    @classmethod
    def from_params(cls, params: Mapping[str, str], user: User) -> CaseFilter:
        """Return the filter of ``params``; raise :class:`InvalidQuery` for values it cannot use."""
        case_filter, problems = cls.parse(params, user)
        if problems:
            raise InvalidQuery(problems)
        return case_filter


def _court_in_scope(user: User, code: str) -> bool:
    court = Court.objects.filter(code=code).first()
    return court is not None and scope.court_in_scope(user, court)


def _officer_in_scope(user: User, officer_id: int) -> bool:
    if User.objects.filter(pk=officer_id, court__in=scope.visible_courts(user)).exists():
        return True
    # An officer who moved to a court outside the scope still handles cases in it.
    cases = EnforcementCase.objects.filter(case_officer_id=officer_id)
    return scope.restrict(cases, user).exists()


def _identity_number(text: str) -> str | None:
    """Return ``text`` as a normalised resident ID or credit code, or None if it is neither."""
    compact = text.replace(" ", "")
    if len(compact) not in (15, 18):
        return None
    for document_type in (DocumentType.RESIDENT_ID, DocumentType.USCC):
        try:
            return check_document(document_type, compact, confirmed=True)
        except (IdentityError, ValueError):
            continue
    return None


def _party_name_condition(text: str) -> Q:
    # Django runs icontains as UPPER(name) LIKE UPPER(...); on PostgreSQL the trigram index on
    # UPPER(name) serves it for fragments of three or more characters. SQLite scans.
    return Q(name__icontains=text)


def _parses(text: str) -> CaseNumber | None:
    try:
        return parse_case_number(text)
    except CaseNumberError:
        return None


def _partial_number_condition(text: str, today: datetime.date) -> Q | None:
    """Return the condition for a case number missing its year, its 号 or its end, or None.

    On PostgreSQL every condition reads an index on ``case_number``. A number without its year
    (粤0104执16号) becomes an IN list of the full number in each year from 2016, when the
    current format began, to this year. That is one index lookup per year, where a suffix match
    would scan the table. A number without 号 ((2026)粤0104执16) is looked up with 号 added.
    Any other text that starts with the year in parentheses ((2026)粤0104执) matches by prefix,
    through the varchar_pattern_ops index that Django adds for the unique column. SQLite scans
    for the prefix, because its LIKE ignores case and so cannot use a plain index.
    """
    normalized = normalise_typed(text).replace(" ", "")
    ending = "" if "号" in normalized else "号"
    if normalized.startswith("("):
        number = _parses(normalized + ending)
        if number is not None:
            return Q(case_number=number.format())
        if _YEAR_PREFIX.match(normalized):
            return Q(case_number__startswith=normalized)
        return None
    # A type and sequence alone (执16号) mean that number in any year at the courts in scope,
    # which the unique index on court, year, type and sequence serves.
    alone = _TYPE_AND_SEQUENCE.fullmatch(normalized)
    if alone is not None and alone["type"] in CASE_TYPES:
        return Q(
            type_code=alone["type"],
            sequence=int(alone["sequence"]),
            year__in=list(range(FIRST_NUMBERED_YEAR, today.year + 1)),
        )
    numbers = [
        _parses(f"({year}){normalized}{ending}")
        for year in range(FIRST_NUMBERED_YEAR, today.year + 1)
    ]
    found = [number.format() for number in numbers if number is not None]
    return Q(case_number__in=found) if found else None


def _text_condition(text: str, today: datetime.date) -> Q:
    """Return the condition for the search box: a case number, an ID number or a name."""
    try:
        number = parse_case_number(text)
    except CaseNumberError:
        number = None
    if number is not None:
        return Q(case_number=number.format())
    partial = _partial_number_condition(text, today)
    if partial is not None:
        return partial
    identity = _identity_number(text)
    if identity is not None:
        # A plain semi-join on the document number: Django builds it and PostgreSQL plans it
        # faster than the nested form below, and an ID number names at most a few parties.
        roles = CaseParty.objects.filter(party__document_number=identity)
        return Q(pk__in=roles.values("case_id"))
    parties = Party.objects.filter(_party_name_condition(text))
    return Q(Exists(CaseParty.objects.filter(case=OuterRef("pk"), party__in=parties)))


def filter_cases(
    user: User, case_filter: CaseFilter, today: datetime.date | None = None
) -> QuerySet[EnforcementCase]:
    """Return the cases in the user's scope that match ``case_filter``, sorted."""
    cases = scope.restrict(EnforcementCase.objects.all(), user)
    if case_filter.court_code:
        court = Court.objects.filter(code=case_filter.court_code).first()
        if court is None or not scope.court_in_scope(user, court):
            return cases.none()
        if case_filter.include_lower:
            below = Court.objects.filter(path__startswith=court.path).values_list("pk", flat=True)
            cases = cases.filter(court_id__in=list(below))
        else:
            cases = cases.filter(court=court)
    if case_filter.type_code:
        cases = cases.filter(type_code=case_filter.type_code)
    if case_filter.status:
        cases = cases.filter(status=case_filter.status)
    if case_filter.officer_id is not None:
        cases = cases.filter(case_officer_id=case_filter.officer_id)
    today = today or timezone.localdate()
    if case_filter.due:
        if case_filter.due == "overdue":
            cases = cases.filter(next_due_on__lt=today)
        elif case_filter.due == "soon":
            cases = cases.filter(
                next_due_on__gte=today,
                next_due_on__lte=today + datetime.timedelta(days=SOON_DAYS),
            )
    if case_filter.text:
        cases = cases.filter(_text_condition(case_filter.text, today))
    return (
        cases.select_related("court", "case_officer")
        .defer(*(f"case_officer__{name}" for name in OFFICER_UNUSED))
        .order_by(*SORTS[case_filter.sort])
    )


def uses_trigram_index() -> bool:
    return connection.vendor == "postgresql"
