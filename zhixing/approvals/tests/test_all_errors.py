"""Drafting an application reports every problem of its input at once, and stores nothing then."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from zhixing.approvals import services
from zhixing.approvals.models import Application, Revision
from zhixing.approvals.tests.conftest import NOW, exit_input, renewal_input
from zhixing.approvals.tests.test_api import api_client, exit_body, renewal_body, today
from zhixing.cases.tests.factories import make_resident_id
from zhixing.events.models import Event
from zhixing.measures.models import FurtherNumberSequence

pytestmark = pytest.mark.django_db

STRANGER_ID = make_resident_id("440104", "19700101", 5)


def _assert_nothing_stored() -> None:
    assert not Application.objects.exists()
    assert not Revision.objects.exists()
    assert not FurtherNumberSequence.objects.filter(last_number__gt=0).exists()
    assert not Event.objects.filter(kind__startswith="approvals.").exists()


def test_exit_restriction_reports_every_problem(staff, case):
    data = exit_input(
        case,
        reason=" ",
        period_months=2,
        period_start=datetime.date(2026, 1, 1),
        person_document_number=STRANGER_ID,
    )

    with pytest.raises(ValidationError) as caught:
        services.draft_exit_restriction(staff["officer0104"], data, now=NOW)

    errors = caught.value.message_dict
    assert set(errors) == {"reason", "period_months", "period_start", "person_document_number"}
    assert "No debtor of case" in errors["person_document_number"][0]
    _assert_nothing_stored()


def test_unknown_case_still_checks_document(staff, case):
    data = exit_input(case, case_number="(2026)粤0104执9999号", person_document_number="123")

    with pytest.raises(ValidationError) as caught:
        services.draft_exit_restriction(staff["officer0104"], data, now=NOW)

    errors = caught.value.message_dict
    assert set(errors) == {"case_number", "person_document_number"}
    assert "no such case" in errors["case_number"][0]
    _assert_nothing_stored()


def test_seizure_renewal_reports_every_problem(staff, case):
    data = renewal_input(
        case,
        seized_property="",
        previous_end=datetime.date(2023, 12, 1),
        period_months=37,
        reason="",
    )

    with pytest.raises(ValidationError) as caught:
        services.draft_seizure_renewal(staff["clerk0104"], data, now=NOW)

    errors = caught.value.message_dict
    assert set(errors) == {"seized_property", "previous_end", "period_months", "reason"}
    assert "ends before it starts" in errors["previous_end"][0]
    _assert_nothing_stored()


def test_long_seized_property_reported_once(staff, case):
    data = renewal_input(case, seized_property="房" * (services.TEXT_MAX_CHARS + 1))

    with pytest.raises(ValidationError) as caught:
        services.draft_seizure_renewal(staff["clerk0104"], data, now=NOW)

    errors = caught.value.message_dict
    assert set(errors) == {"seized_property"}
    assert len(errors["seized_property"]) == 1


def test_new_application_form_shows_every_error(client, staff, case):
    client.force_login(staff["officer0104"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.post(
        "/approvals/new/exit_restriction/",
        {
            "case_number": "(2026)粤0104执9999号",
            "person_document_type": "resident_id",
            "person_document_number": "123",
            "reason": "有出境可能",
            "legal_basis": "",
            "period_months": "6",
            "period_start": "2026-01-01",
        },
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_case_number-error"' in page
    assert 'id="id_person_document_number-error"' in page
    assert 'id="id_period_start-error"' in page
    _assert_nothing_stored()


def test_api_exit_restriction_reports_every_error(staff, case):
    body = exit_body(
        case,
        period_months=2,
        period_start=(today() - datetime.timedelta(days=1)).isoformat(),
        person_document_number=STRANGER_ID,
    )

    response = api_client(staff["officer0104"]).post(
        "/api/v1/approvals/exit-restriction/", body, format="json"
    )

    assert response.status_code == 400, response.content
    assert set(response.json()) == {"period_months", "period_start", "person_document_number"}
    _assert_nothing_stored()


def test_api_seizure_renewal_reports_every_error(staff, case):
    body = renewal_body(case, previous_end="2026-01-01", previous_document_number=" ")

    response = api_client(staff["clerk0104"]).post(
        "/api/v1/approvals/seizure-renewal/", body, format="json"
    )

    assert response.status_code == 400, response.content
    errors = response.json()
    assert set(errors) == {"previous_end", "previous_document_number"}
    assert "lapsed" in errors["previous_end"][0]
    _assert_nothing_stored()
