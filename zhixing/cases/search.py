"""Finding cases: one filter function behind the case list, the API and the export.

Everything goes through :func:`filter_cases`, which applies the data scope first, so no list,
API page or spreadsheet can reach a case outside the user's courts.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from zhixing.cases.case_numbers import CaseNumberError, parse_case_number
from zhixing.cases.identity import DocumentType, IdentityError, check_document
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.courts import scope
from zhixing.courts.models import Court, User

SORTS = {
    "filed": ("filed_on", "id"),
    "-filed": ("-filed_on", "-id"),
    "due": ("next_due_on", "id"),
    "-due": ("-next_due_on", "-id"),
    "amount": ("claim_amount", "id"),
    "-amount": ("-claim_amount", "-id"),
    "number": ("year", "type_code", "sequence", "id"),
    "-number": ("-year", "-type_code", "-sequence", "-id"),
}
DEFAULT_SORT = "-filed"
SOON_DAYS = 7
# Columns of the case officer that no case list shows. Leaving them out keeps password hashes
# out of case lists and makes the query shorter to build.
OFFICER_UNUSED = (
    "password",
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
    def from_params(cls, params: Mapping[str, str]) -> CaseFilter:
        officer = params.get("officer", "")
        return cls(
            text=params.get("q", "").strip(),
            court_code=params.get("court", "").strip(),
            include_lower=params.get("lower", "1") != "0",
            type_code=params.get("type", "").strip(),
            status=params.get("status", "").strip(),
            officer_id=int(officer) if officer.isdigit() else None,
            due=params.get("due", "").strip(),
            sort=params.get("sort", DEFAULT_SORT) if params.get("sort") in SORTS else DEFAULT_SORT,
        )


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


def _text_condition(text: str) -> Q:
    """Return the condition for the search box: a case number, an ID number or a name."""
    try:
        number = parse_case_number(text)
    except CaseNumberError:
        number = None
    if number is not None:
        return Q(case_number=number.format())
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
    if case_filter.due:
        today = today or timezone.localdate()
        if case_filter.due == "overdue":
            cases = cases.filter(next_due_on__lt=today)
        elif case_filter.due == "soon":
            cases = cases.filter(
                next_due_on__gte=today,
                next_due_on__lte=today + datetime.timedelta(days=SOON_DAYS),
            )
    if case_filter.text:
        cases = cases.filter(_text_condition(case_filter.text))
    return (
        cases.select_related("court", "case_officer")
        .defer(*(f"case_officer__{name}" for name in OFFICER_UNUSED))
        .order_by(*SORTS[case_filter.sort])
    )


def uses_trigram_index() -> bool:
    return connection.vendor == "postgresql"
