"""Fixtures of the approval tests: staff at each court, a case with a debtor, seizures of its
assets, and a fixed clock."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from zhixing.approvals import services
from zhixing.approvals.models import Application
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.documents.defaults import DEFAULTS
from zhixing.documents.models import DocumentTemplate
from zhixing.esign import services as esign
from zhixing.inquiry import services as inquiry
from zhixing.linkage import gateway
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.measures import services as measure_services
from zhixing.measures.models import ControlMeasure
from zhixing.measures.tests.conftest import ACCOUNT, CAR, HOME

# A fixed clock, so that deadlines and periods do not depend on the day the tests run.
NOW = datetime.datetime(2026, 12, 1, 2, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 12, 1)
DEBTOR_ID = make_resident_id("440104", "19850612", 123)
DEBTOR01_ID = make_resident_id("440104", "19900101", 211)


@pytest.fixture
def templates(db: None) -> None:
    # A flush after a transactional test also empties the templates that a migration added.
    for code, (title, body) in DEFAULTS.items():
        DocumentTemplate.objects.get_or_create(
            code=code, version=1, defaults={"title": title, "body": body, "active": True}
        )


@pytest.fixture
def staff(make_user: Callable[..., Any], templates: None) -> dict[str, Any]:
    """Staff keyed by role and court code; every bureau head has a signing certificate."""
    people = {
        "officer0104": make_user("officer0104", "粤0104", "case_officer"),
        "clerk0104": make_user("clerk0104", "粤0104", "clerk"),
        "head0104": make_user("head0104", "粤0104", "bureau_head"),
        "commander0104": make_user("commander0104", "粤0104", "commander"),
        "officer0105": make_user("officer0105", "粤0105", "case_officer"),
        "head0105": make_user("head0105", "粤0105", "bureau_head"),
        "head01": make_user("head01", "粤01", "bureau_head"),
        "commander01": make_user("commander01", "粤01", "commander"),
        "officer01": make_user("officer01", "粤01", "case_officer"),
        "head03": make_user("head03", "粤03", "bureau_head"),
        "head00": make_user("head00", "粤", "bureau_head"),
        "commander00": make_user("commander00", "粤", "commander"),
    }
    for name, user in people.items():
        if name.startswith("head"):
            esign.issue_officer_certificate(user)
    return people


def _file(court: Any, debtor_id: str, officer: Any) -> EnforcementCase:
    return case_services.file_case(
        actor=None,
        court=court,
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        basis_court="广州市越秀区人民法院",
        basis_document_number="（2025）粤0104民初5678号",
        applicants=[
            PartyInput(
                name="林晓峰",
                document_type="resident_id",
                document_number=make_resident_id("440106", "19790304", 135),
            )
        ],
        debtors=[
            PartyInput(name="黄志强", document_type="resident_id", document_number=debtor_id),
            PartyInput(name="某某贸易有限公司", kind="organisation"),
        ],
        claim_amount="356800.00",
        case_officer=officer,
    )


@pytest.fixture
def case(courts: dict[str, Any], staff: dict[str, Any]) -> EnforcementCase:
    return _file(courts["粤0104"], DEBTOR_ID, staff["officer0104"])


@pytest.fixture
def case01(courts: dict[str, Any], staff: dict[str, Any]) -> EnforcementCase:
    """A case of the intermediate court 粤01, which applies to the high court directly."""
    return _file(courts["粤01"], DEBTOR01_ID, staff["officer01"])


@pytest.fixture
def police(db: None) -> Agency:
    return Agency.objects.create(
        code="police-gd",
        name="广东省公安厅",
        kind=Agency.Kind.POLICE,
        categories=["household", "temporary_residence", "hotel_lodging", "exit_entry"],
        base_url="http://127.0.0.1:9/agencies/police-gd",
    )


# Kind of measure: (asset record, agency code, query category, gateway action of the answer).
MEASURE_ASSETS: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "seize_real_estate": (HOME, "housing-gd", "real_estate", "seize"),
    "seize_vehicle": (CAR, "traffic-gd", "vehicle", "seize"),
    "freeze": (ACCOUNT, "bank-icbc", "bank_account", "freeze"),
}


@pytest.fixture
def control_agencies(db: None) -> dict[str, Agency]:
    """Agencies that answer queries and take measures on real estate, vehicles and deposits."""
    rows = [
        ("housing-gd", Agency.Kind.HOUSING, "real_estate", ["query", "seize", "renew", "release"]),
        (
            "traffic-gd",
            Agency.Kind.TRAFFIC_POLICE,
            "vehicle",
            ["query", "seize", "renew", "release"],
        ),
        ("bank-icbc", Agency.Kind.BANK, "bank_account", ["query", "freeze", "renew", "release"]),
    ]
    return {
        code: Agency.objects.create(
            code=code,
            name=code,
            kind=kind,
            categories=[category],
            actions=actions,
            base_url=f"http://127.0.0.1:9/agencies/{code}",
        )
        for code, kind, category, actions in rows
    }


def agency_answer(item_id: Any, *records: dict[str, Any]) -> dict[str, Any]:
    return {
        "item_id": str(item_id),
        "status": "found",
        "answered_at": NOW.isoformat(),
        "records": list(records),
    }


@pytest.fixture
def make_measure(control_agencies: dict[str, Agency]) -> Callable[..., ControlMeasure]:
    """Make a measure of ``kind`` on an asset of the case's first debtor.

    The asset comes from a debtor query answered by the agency. Unless ``in_force`` is false,
    the agency's answer to the measure's request is stored as done, which puts it in force.
    """

    def make(
        case: EnforcementCase,
        kind: str = "seize_real_estate",
        *,
        in_force: bool = True,
        period_months: int | None = 6,
    ) -> ControlMeasure:
        record, agency_code, category, action = MEASURE_ASSETS[kind]
        officer = case.case_officer
        assert officer is not None
        debtor = case.parties.filter(case_roles__role="debtor").order_by("case_roles__id")[0]
        result = inquiry.request_query(
            officer, case, [debtor], [category], force=True, reason="续封测试", now=NOW
        )
        item = next(item for item in result.queued if item.agency.code == agency_code)
        gateway.apply_answers(item.agency, [agency_answer(item.pk, record)], now=NOW)
        asset = item.assets.get()
        measure = measure_services.request_measure(
            officer,
            asset,
            kind,
            amount="10000.00" if kind == "freeze" else None,
            period_months=period_months,
            now=NOW,
        )
        if in_force:
            step = measure.steps.get()
            answer = agency_answer(step.item_id, {"type": action, "result": "done"})
            gateway.apply_answers(item.agency, [answer], now=NOW)
            measure_services.record_measure_answer(
                list(GatewayItem.objects.filter(pk=step.item_id)), now=NOW
            )
        measure.refresh_from_db()
        return measure

    return make


def exit_input(case: EnforcementCase, **values: Any) -> services.ExitRestrictionInput:
    fields: dict[str, Any] = {
        "case_number": case.case_number,
        "person_document_type": "resident_id",
        "person_document_number": DEBTOR_ID,
        "reason": "被执行人未履行生效判决确定的义务，且有出境可能。",
        "legal_basis": "《中华人民共和国民事诉讼法》",
        "period_months": 6,
        "period_start": TODAY,
    }
    fields.update(values)
    return services.ExitRestrictionInput(**fields)


def renewal_input(case: EnforcementCase, **values: Any) -> services.SeizureRenewalInput:
    fields: dict[str, Any] = {
        "case_number": case.case_number,
        "seized_property": "广州市越秀区某某路 88 号 1203 房",
        "previous_document_number": "（2023）粤0104执88号",
        "previous_start": datetime.date(2023, 12, 20),
        "previous_end": datetime.date(2026, 12, 19),
        "reason": "被执行人未履行义务，该不动产尚未处置，查封期限即将届满。",
        "legal_basis": "",
        "period_months": 36,
    }
    fields.update(values)
    return services.SeizureRenewalInput(**fields)


def run_to(application: Application, staff: dict[str, Any], state: str) -> Application:
    """Take an exit restriction of 粤0104 through the usual steps until it reaches ``state``."""
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("drafted", lambda: services.approve_as_head(staff["head0104"], application, now=NOW)),
        ("head_approved", lambda: services.seal(staff["officer0104"], application, now=NOW)),
        ("sealed", lambda: services.submit(staff["officer0104"], application, now=NOW)),
        (
            "submitted",
            lambda: services.review(staff["head01"], application, comment="同意上报", now=NOW),
        ),
        ("reviewed", lambda: services.receive(staff["commander00"], application, now=NOW)),
        (
            "received",
            lambda: services.approve(staff["head00"], application, comment="同意", now=NOW),
        ),
    ]
    for current, take in steps:
        if application.state == state:
            break
        if application.state == current:
            take()
    assert application.state == state
    return application
