"""The PDF of an application: the context of its document template, and where the seals go.

A seizure renewal is rendered with the template ``seizure_renewal_form`` (续封申请审批表) and an
exit restriction with ``border_control_request`` (边控对象通知书), the document that the high
court hands to the provincial public-security department. Both are rendered once, when the
application is drafted; every signature after that is an incremental update of that PDF. The
lifting of an exit restriction has a document of its own, ``border_control_lifting``
(解除限制出境通知书), which the high court issues and seals when it lifts the restriction
(:func:`lifting_context`).

The context follows :mod:`zhixing.documents.samples`: plain values only, every variable that
the default templates name. ``measure.reason`` and ``measure.legal_basis`` are passed as well,
so that a court may print them by editing its template.
"""

from __future__ import annotations

import calendar
import datetime
from typing import TYPE_CHECKING, Any

from django.utils import translation

from zhixing.cases.case_numbers import chinese_number
from zhixing.cases.identity import DocumentType
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.documents import rendering
from zhixing.documents.kinds import DocumentKind
from zhixing.documents.numbers import document_number
from zhixing.documents.typed_text import markup_values

if TYPE_CHECKING:
    from zhixing.approvals.models import Application
    from zhixing.courts.models import User

# Addressee of the border-control request when the agency registry has no entry for it.
PROVINCIAL_POLICE_NAME = "广东省公安厅"
# The border-control request covers every port and requests that the person be stopped.
BORDER_CONTROL_PORTS = "全国各口岸"
BORDER_CONTROL_ACTION = "阻止出境"
# Gap in points between the applying court's seal and the deciding court's seal beside it.
SEAL_GAP = 12.0

SealBox = tuple[int, float, float, float, float]


def period_text(months: int) -> str:
    """Return a period in the words of court documents: 6 gives 六个月, 24 gives 二年."""
    if months % 12 == 0:
        return f"{chinese_number(months // 12)}年"
    return f"{chinese_number(months)}个月"


def add_months(start: datetime.date, months: int) -> datetime.date:
    """Return the last day of a period of ``months`` from ``start``: 2026-03-05 + 6 → 2026-09-04."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    # 31 March plus one month: the period ends with the last day of April. A year past 9999
    # raises ValueError.
    day = min(start.day, calendar.monthrange(year, month)[1]) if 1 <= year <= 9999 else start.day
    same_day = datetime.date(year, month, day)
    if day != start.day:
        return same_day
    return same_day - datetime.timedelta(days=1)


def _party_fields(case: EnforcementCase, party: Party | None) -> dict[str, Any]:
    if party is None:
        return {
            "name": "",
            "kind": "",
            "document_label": "",
            "document_number": "",
            "address": "",
        }
    label = ""
    if party.document_type:
        label = (
            "公民身份号码"
            if party.document_type == DocumentType.RESIDENT_ID
            else DocumentType(party.document_type).label
        )
    return {
        "name": party.name,
        "kind": party.kind,
        "document_label": label,
        "document_number": party.document_number,
        "address": case.address_of(party),
    }


def _first_party(case: EnforcementCase, role: str) -> Party | None:
    return (
        Party.objects.filter(case_roles__case=case, case_roles__role=role)
        .order_by("case_roles__id")
        .first()
    )


def _person(application: Application) -> dict[str, Any]:
    party = application.person
    document_kind = (
        DocumentType(application.person_document_type).label
        if application.person_document_type
        else ""
    )
    sex = {"M": "男", "F": "女"}.get(party.sex if party is not None else "", "")
    return {
        **_party_fields(application.case, party),
        "name": application.person_name,
        "document_kind": document_kind,
        "document_number": application.person_document_number,
        "sex": sex,
        "birth_date": party.birth_date if party is not None else None,
        # NOTE: parties carry no nationality. A resident ID card is issued to Chinese citizens
        # only, so only those print one; for other documents the field stays empty.
        "nationality": "中国"
        if application.person_document_type == DocumentType.RESIDENT_ID
        else "",
        "role": "被执行人",
    }


def _measure(application: Application, printed_number: str) -> dict[str, Any]:
    from zhixing.approvals.models import Kind

    reason = application.reason
    period = {
        "period": period_text(application.period_months),
        "start": application.period_start,
        "end": application.period_end,
        "reason": reason,
        "legal_basis": application.legal_basis,
    }
    if application.kind == Kind.EXIT_RESTRICTION:
        return {
            **period,
            "person": _person(application),
            "ports": BORDER_CONTROL_PORTS,
            "action": BORDER_CONTROL_ACTION,
            "decision_number": application.decision_number,
            "on_application": False,
        }
    return {
        **period,
        "property": application.seized_property,
        "previous": {
            "document_number": application.previous_document_number,
            "start": application.previous_start,
            "end": application.previous_end,
        },
        "officer_opinion": reason,
    }


def _ruling_number(application: Application) -> str:
    """Return the number of the case's document that the application concerns, or "".

    That is the exit-restriction decision, or the ruling of the seizure renewed when the
    application links its record. The default templates print neither.
    """
    if application.decision_number:
        return application.decision_number
    measure = application.renewed_measure
    return measure.ruling_number if measure is not None else ""


def template_code(application: Application) -> str:
    from zhixing.approvals.models import Kind

    if application.kind == Kind.EXIT_RESTRICTION:
        return DocumentKind.BORDER_CONTROL_REQUEST.value
    return DocumentKind.SEIZURE_RENEWAL_FORM.value


def document_context(
    application: Application, *, agency_name: str, today: datetime.date
) -> dict[str, Any]:
    """Return the context of the application's document template.

    Every string goes in as one line of markup (see
    :func:`zhixing.documents.typed_text.markup_text`): the texts typed for the application,
    and the party names and enforcement basis typed for the case.
    """
    one_line: dict[str, Any] = markup_values(
        _plain_context(application, agency_name=agency_name, today=today)
    )
    return one_line


def lifting_context(
    application: Application,
    *,
    agency_name: str,
    officer: User,
    reason: str,
    today: datetime.date,
) -> dict[str, Any]:
    """Return the context of the notice lifting the exit restriction ``application``.

    The deciding court issues the notice, as it handed the border-control request over, so it
    is the notice's court and ``officer``, who lifts the restriction, is its contact. The notice
    names the applying court, which decided the restriction and its lifting, as
    ``measure.decision_court`` and the day of the lifting as ``measure.lifted_on``. The reason
    typed for the lifting is ``measure.lifting_reason``, which the default template does not
    print. The strings go in as one line of markup, as in :func:`document_context`.
    """
    context = _plain_context(application, agency_name=agency_name, today=today)
    deciding = application.deciding_court
    context["court"] = {"name": deciding.name, "code": deciding.code or ""}
    context["officer"] = {"name": officer.full_name or officer.username, "phone": officer.phone}
    context["measure"] = {
        **context["measure"],
        "decision_court": application.court.name,
        "lifted_on": today,
        "lifting_reason": reason,
    }
    one_line: dict[str, Any] = markup_values(context)
    return one_line


def _plain_context(
    application: Application, *, agency_name: str, today: datetime.date
) -> dict[str, Any]:
    case = application.case
    court = application.court
    printed_number = document_number(case.case_number)
    with translation.override("zh-hans"):
        basis_kind = case.get_basis_kind_display()
    drafter = application.drafted_by
    context = {
        "court": {"name": court.name, "code": court.code or ""},
        "case_number": printed_number,
        "document_number": printed_number,
        "ruling_number": _ruling_number(application),
        # NOTE: cases carry no cause of action (案由) yet, so documents print none.
        "case_cause": "",
        "date": today,
        "applicant": _party_fields(case, _first_party(case, CaseParty.Role.APPLICANT)),
        "debtor": _party_fields(
            case, application.person or _first_party(case, CaseParty.Role.DEBTOR)
        ),
        "basis": {
            "court": case.basis_court,
            "document_number": case.basis_document_number,
            "document_kind": basis_kind,
        },
        "claim_amount": case.claim_amount,
        "signatories": [],
        "clerk": {"name": ""},
        "officer": {"name": drafter.full_name or drafter.username, "phone": drafter.phone},
        "agency": {"name": agency_name},
        "measure": _measure(application, printed_number),
    }
    return context


def render(
    application: Application, *, agency_name: str, today: datetime.date
) -> rendering.RenderedDocument:
    """Render the application's document; raises ``DocumentTemplateError`` or ``LookupError``."""
    context = document_context(application, agency_name=agency_name, today=today)
    return rendering.render(template_code(application), context)


def deciding_seal_box(applying: SealBox) -> SealBox:
    """Return the box of the deciding court's seal: left of the applying court's, same size.

    When the page has no room on the left, the seal goes above the applying court's instead.
    """
    page, x1, y1, x2, y2 = applying
    width = x2 - x1
    left = x1 - SEAL_GAP - width
    if left >= 0:
        return (page, left, y1, x1 - SEAL_GAP, y2)
    return (page, x1, y2 + SEAL_GAP, x2, y2 + SEAL_GAP + (y2 - y1))
