"""The number of an exit-restriction decision on the application's page and in the API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from zhixing.approvals import services
from zhixing.approvals.models import State
from zhixing.approvals.tests.conftest import NOW, exit_input, renewal_input, run_to
from zhixing.approvals.tests.test_api import api_client

pytestmark = pytest.mark.django_db

DECISION = "（2026）粤0104执1号之一"


@pytest.fixture
def approved(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    return run_to(application, staff, State.APPROVED)


@pytest.fixture
def renewal(staff, case):
    return services.draft_seizure_renewal(staff["clerk0104"], renewal_input(case), now=NOW)


@pytest.mark.parametrize("name", ["officer0104", "head01", "commander00"])
def test_page_shows_decision_number(client, staff, approved, name):
    client.force_login(staff[name])

    page = client.get(f"/approvals/{approved.pk}/").content.decode()

    assert approved.decision_number == DECISION
    assert f'data-testid="decision-number">{DECISION}</dd>' in page


def test_page_of_renewal_has_no_decision_number(client, staff, renewal):
    client.force_login(staff["clerk0104"])

    page = client.get(f"/approvals/{renewal.pk}/").content.decode()

    assert 'data-testid="decision-number"' not in page


def test_api_shows_decision_number(staff, approved, renewal):
    client = api_client(staff["head00"])

    detail = client.get(f"/api/v1/approvals/{approved.pk}/").json()
    listed = client.get("/api/v1/approvals/", {"direction": "received"}).json()["results"]
    own = api_client(staff["clerk0104"]).get(f"/api/v1/approvals/{renewal.pk}/").json()

    assert detail["decision_number"] == DECISION
    assert [row["decision_number"] for row in listed] == [DECISION]
    assert own["decision_number"] == ""


def test_api_decision_number_is_read_only(staff, case):
    """A number typed into the draft is ignored: the court allocates it."""
    body = {
        "case_number": case.case_number,
        "person_document_type": "resident_id",
        "person_document_number": exit_input(case).person_document_number,
        "reason": "被执行人有出境可能。",
        "period_months": 6,
        "period_start": timezone.localdate().isoformat(),
        "decision_number": "（2026）粤0104执1号之九",
    }

    created = api_client(staff["officer0104"]).post(
        "/api/v1/approvals/exit-restriction/", body, format="json"
    )

    assert created.status_code == 201, created.content
    assert created.json()["decision_number"] == DECISION


def test_schema_marks_decision_number_read_only(staff):
    schema = api_client(staff["officer0104"]).get("/api/openapi.json").json()

    field = schema["components"]["schemas"]["ApplicationSummary"]["properties"]["decision_number"]

    assert field["readOnly"] is True
