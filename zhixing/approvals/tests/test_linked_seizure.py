"""Seizure renewals that link the seizure's record: drafting with a measure, the execution that
renews it through the measures app, and what the pages and the API show."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from rest_framework.test import APIClient

from zhixing.approvals import services
from zhixing.approvals.models import Application, State, Step
from zhixing.approvals.tests.conftest import NOW, _file, renewal_input
from zhixing.audit.models import AuditRecord
from zhixing.cases.tests.factories import make_resident_id
from zhixing.courts import services as court_services
from zhixing.events.models import Event
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage.models import GatewayItem
from zhixing.measures import services as measure_services
from zhixing.measures.documents import asset_property
from zhixing.measures.models import ControlMeasure, MeasureDocument, MeasureStep
from zhixing.measures.tests.conftest import answer_step

pytestmark = pytest.mark.django_db

Action = services.Action


def linked_input(case, measure, **values: Any) -> services.SeizureRenewalInput:
    """Return a renewal of ``measure`` with the seizure's texts and dates left to the record."""
    fields: dict[str, Any] = {
        "seized_property": "",
        "previous_document_number": "",
        "previous_start": None,
        "previous_end": None,
        "measure_id": measure.pk,
    }
    fields.update(values)
    return renewal_input(case, **fields)


def draft(staff, case, measure, **values: Any) -> Application:
    return services.draft_seizure_renewal(
        staff["clerk0104"], linked_input(case, measure, **values), now=NOW
    )


def approve(application: Application, staff) -> Application:
    """Take a seizure renewal of 粤0104 from drafted to approved by 粤01."""
    services.approve_as_head(staff["head0104"], application, now=NOW)
    services.seal(staff["clerk0104"], application, now=NOW)
    services.submit(staff["clerk0104"], application, now=NOW)
    services.receive(staff["commander01"], application, now=NOW)
    services.approve(staff["head01"], application, now=NOW)
    assert application.state == State.APPROVED
    return application


def counts() -> dict[str, int]:
    """Return the number of rows that an execution adds, to compare before and after."""
    return {
        "steps": Step.objects.count(),
        "measure_steps": MeasureStep.objects.count(),
        "documents": MeasureDocument.objects.count(),
        "gateway_items": GatewayItem.objects.count(),
        "events": Event.objects.count(),
        "audit": AuditRecord.objects.count(),
    }


@pytest.fixture
def seizure(case, make_measure) -> ControlMeasure:
    return make_measure(case)


@pytest.fixture
def other_case(courts, staff):
    return _file(
        courts["粤0104"], make_resident_id("440104", "19800202", 345), staff["officer0104"]
    )


# Drafting


def test_draft_fills_fields_from_seizure(staff, case, seizure):
    application = draft(staff, case, seizure)

    assert application.renewed_measure == seizure
    assert application.seized_property == asset_property(seizure.asset)
    assert "粤(2020)广州市不动产权第0000001号" in application.seized_property
    assert application.previous_document_number == seizure.notice_number
    assert application.previous_start == seizure.start_date == datetime.date(2026, 12, 1)
    assert application.previous_end == seizure.end_date == datetime.date(2027, 5, 31)
    assert application.period_start == datetime.date(2027, 6, 1)
    assert application.period_end == datetime.date(2030, 5, 31)
    assert list(seizure.renewal_applications.all()) == [application]


def test_draft_keeps_typed_texts(staff, case, seizure):
    application = draft(
        staff,
        case,
        seizure,
        seized_property="中山五路1号1203房及地下车位",
        previous_document_number="（2026）粤0104执1号",
        previous_end=seizure.end_date,
    )

    assert application.seized_property == "中山五路1号1203房及地下车位"
    assert application.previous_document_number == "（2026）粤0104执1号"
    assert application.previous_start == seizure.start_date


def test_long_record_text_checked(staff, case, seizure):
    raw = {**seizure.asset.raw, "location": "广州市越秀区中山五路" * 100}
    AssetRecord.objects.filter(pk=seizure.asset_id).update(raw=raw)

    with pytest.raises(ValidationError) as error:
        draft(staff, case, seizure)

    assert "seized_property" in error.value.message_dict
    assert not Application.objects.exists()
    assert draft(staff, case, seizure, seized_property="中山五路1号").seized_property == (
        "中山五路1号"
    )


@pytest.mark.parametrize(
    ("field", "typed", "words"),
    [
        ("previous_end", datetime.date(2027, 6, 30), ["ends on 2027-05-31", "not on 2027-06-30"]),
        ("previous_start", datetime.date(2026, 11, 1), ["starts on 2026-12-01", "2026-11-01"]),
    ],
)
def test_typed_date_must_agree_with_record(staff, case, seizure, field, typed, words):
    with pytest.raises(ValidationError) as error:
        draft(staff, case, seizure, **{field: typed})

    message = " ".join(error.value.message_dict[field])
    for word in words:
        assert word in message
    assert "leave the date empty" in message
    assert not Application.objects.exists()


def test_measure_of_other_case_rejected(staff, case, other_case, make_measure):
    measure = make_measure(other_case)

    with pytest.raises(ValidationError) as error:
        draft(staff, case, measure)

    message = " ".join(error.value.message_dict["measure"])
    assert f"Measure #{measure.pk} belongs to case {other_case.case_number}" in message
    assert f"choose a seizure of case {case.case_number}" in message
    assert not Application.objects.exists()


def test_freeze_is_not_a_seizure(staff, case, make_measure):
    freeze = make_measure(case, "freeze", period_months=None)

    with pytest.raises(ValidationError) as error:
        draft(staff, case, freeze)

    message = " ".join(error.value.message_dict["measure"])
    assert f"Measure #{freeze.pk} is of the kind “Freeze deposits”" in message
    assert "not a seizure" in message


def test_seizure_not_in_force_rejected(staff, case, make_measure):
    requested = make_measure(case, in_force=False)

    with pytest.raises(ValidationError) as error:
        draft(staff, case, requested)

    message = " ".join(error.value.message_dict["measure"])
    assert f"Seizure #{requested.pk} is not in force" in message
    assert "“Requested”" in message


def test_seizure_awaiting_renewal_rejected(staff, case, seizure):
    measure_services.renew_measure(staff["officer0104"], seizure, now=NOW)

    with pytest.raises(ValidationError) as error:
        draft(staff, case, seizure)

    message = " ".join(error.value.message_dict["measure"])
    assert f"Seizure #{seizure.pk} cannot be renewed now" in message
    assert "awaits the agency's answer" in message


def test_measure_outside_scope_rejected(staff, courts, case, make_measure):
    sibling_case = _file(
        courts["粤0105"], make_resident_id("440105", "19800303", 456), staff["officer0105"]
    )
    sibling_seizure = make_measure(sibling_case)

    for measure_id in (sibling_seizure.pk, 999_999):
        with pytest.raises(ValidationError) as error:
            services.draft_seizure_renewal(
                staff["clerk0104"],
                renewal_input(case, measure_id=measure_id),
                now=NOW,
            )
        message = " ".join(error.value.message_dict["measure"])
        assert f"No control measure #{measure_id} is in your scope" in message


def test_period_beyond_rule_rejected(staff, case, make_measure):
    vehicle = make_measure(case, "seize_vehicle")

    with pytest.raises(ValidationError) as error:
        draft(staff, case, vehicle, period_months=36)

    message = " ".join(error.value.message_dict["period_months"])
    assert f"Seizure #{vehicle.pk} is renewed for at most 24 months" in message
    assert "choose 1 to 24 months" in message
    assert draft(staff, case, vehicle, period_months=24).period_months == 24


def test_typed_seizure_needs_every_field(staff, case):
    with pytest.raises(ValidationError) as error:
        services.draft_seizure_renewal(
            staff["clerk0104"],
            renewal_input(case, previous_start=None, previous_end=None, seized_property=""),
            now=NOW,
        )

    assert set(error.value.message_dict) == {"seized_property", "previous_start", "previous_end"}
    assert "required unless you choose the seizure's record" in error.value.messages[0]


# Execution


def test_execution_renews_seizure(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    assert Action.EXECUTE in services.allowed_actions(staff["officer0104"], application)

    step = services.execute(staff["officer0104"], application, now=NOW)

    assert application.state == State.EXECUTED
    renewal = seizure.steps.get(kind=MeasureStep.Kind.RENEW)
    assert renewal.state == MeasureStep.State.QUEUED
    assert renewal.period_months == 36
    assert renewal.start_date == application.period_start
    assert renewal.end_date == application.period_end
    assert renewal.requested_by == staff["officer0104"]
    assert renewal.documents.get().kind == "assistance_notice_renew_seizure"
    item = GatewayItem.objects.get(pk=renewal.item_id)
    assert item.action == "renew"
    assert item.state == GatewayItem.State.PENDING
    assert item.agency.code == "housing-gd"
    assert step.detail == {
        "measure_renewal": {
            "measure_id": seizure.pk,
            "measure_step_id": renewal.pk,
            "item_id": str(renewal.item_id),
            "period_months": 36,
            "start": "2027-06-01",
            "end": "2030-05-31",
        }
    }
    assert Event.objects.filter(kind="measures.renewal_requested").count() == 1
    assert Event.objects.filter(kind="approvals.executed").exists()


def test_agency_answer_moves_seizure_end(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    services.execute(staff["officer0104"], application, now=NOW)
    renewal = seizure.steps.get(kind=MeasureStep.Kind.RENEW)

    answer_step(renewal, {"type": "renew", "result": "done"})
    measure_services.record_measure_answer(list(GatewayItem.objects.filter(pk=renewal.item_id)))

    seizure.refresh_from_db()
    assert seizure.end_date == application.period_end
    assert seizure.renewals == 1


def test_only_case_officer_executes_linked_renewal(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)

    for name in ("clerk0104", "head0104"):
        assert Action.EXECUTE not in services.allowed_actions(staff[name], application)
    with pytest.raises(PermissionDenied, match=f"renews seizure #{seizure.pk}"):
        services.execute(staff["clerk0104"], application, now=NOW)
    assert application.state == State.APPROVED
    assert not seizure.steps.filter(kind=MeasureStep.Kind.RENEW).exists()


def test_expired_seizure_fails_execution(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    after_end = datetime.datetime(2027, 6, 1, 2, 0, tzinfo=datetime.UTC)
    measure_services.check_expiries(now=after_end)
    seizure.refresh_from_db()
    assert seizure.state == ControlMeasure.State.EXPIRED
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.execute(staff["officer0104"], application, now=after_end)

    message = " ".join(error.value.message_dict["measure"])
    assert (
        f"Seizure #{seizure.pk} cannot be renewed, so the application was not executed" in message
    )
    assert "Only a measure in force can be renewed" in message
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert counts() == before


def test_released_seizure_fails_execution(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    release = measure_services.release_measure(
        staff["officer0104"], seizure, reason="已履行完毕", now=NOW
    )
    answer_step(release, {"type": "release", "result": "done"})
    measure_services.record_measure_answer(list(GatewayItem.objects.filter(pk=release.item_id)))
    before = counts()

    with pytest.raises(ValidationError, match="Only a measure in force can be renewed"):
        services.execute(staff["officer0104"], application, now=NOW)

    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert counts() == before


def test_seizure_renewed_since_drafting_fails_execution(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    renewal = measure_services.renew_measure(staff["officer0104"], seizure, now=NOW)
    answer_step(renewal, {"type": "renew", "result": "done"})
    measure_services.record_measure_answer(list(GatewayItem.objects.filter(pk=renewal.item_id)))
    before = counts()

    with pytest.raises(ValidationError) as error:
        services.execute(staff["officer0104"], application, now=NOW)

    message = " ".join(error.value.message_dict["measure"])
    assert f"Seizure #{seizure.pk} now ends on 2030-05-31, not on 2027-05-31" in message
    assert "Draft a new application" in message
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert counts() == before


def test_renewal_awaiting_agency_fails_execution(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    measure_services.renew_measure(staff["officer0104"], seizure, now=NOW)
    before = counts()

    with pytest.raises(ValidationError, match="awaits the agency's answer"):
        services.execute(staff["officer0104"], application, now=NOW)

    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert counts() == before


def test_renewal_rolled_back_with_failed_step(staff, case, seizure, monkeypatch):
    application = approve(draft(staff, case, seizure), staff)
    before = counts()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("event log unavailable")

    # The execution step publishes its event after the renewal was queued.
    monkeypatch.setattr(services, "_publish", fail)
    with pytest.raises(RuntimeError):
        services.execute(staff["officer0104"], application, now=NOW)

    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert counts() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_executions_renew_once(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def execute() -> None:
        try:
            barrier.wait()
            services.execute(staff["officer0104"], application, now=NOW)
            outcomes.append("executed")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    def renew_from_measure_page() -> None:
        try:
            barrier.wait()
            measure_services.renew_measure(staff["officer0104"], seizure, now=NOW)
            outcomes.append("renewed")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=execute),
        threading.Thread(target=execute),
        threading.Thread(target=renew_from_measure_page),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    renewals = list(seizure.steps.filter(kind=MeasureStep.Kind.RENEW))
    assert len(renewals) == 1, outcomes
    assert outcomes.count("executed") + outcomes.count("renewed") == 1, outcomes
    application.refresh_from_db()
    executed = application.steps.filter(kind=Step.Kind.EXECUTED).first()
    if "executed" in outcomes:
        assert application.state == State.EXECUTED
        assert executed.detail["measure_renewal"]["measure_step_id"] == renewals[0].pk
    else:
        assert application.state == State.APPROVED
        assert executed is None


def test_typed_renewal_executes_without_measure(staff, case, seizure):
    application = approve(
        services.draft_seizure_renewal(staff["clerk0104"], renewal_input(case), now=NOW), staff
    )

    step = services.execute(staff["clerk0104"], application, now=NOW)

    assert application.state == State.EXECUTED
    assert application.renewed_measure is None
    assert step.detail == {}
    assert not MeasureStep.objects.filter(kind=MeasureStep.Kind.RENEW).exists()


# Pages


def page_client(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def form_data(case, **values: Any) -> dict[str, str]:
    data = {
        "case_number": case.case_number,
        "measure": "",
        "seized_property": "",
        "previous_document_number": "",
        "previous_start": "",
        "previous_end": "",
        "reason": "该不动产尚未处置，查封期限即将届满。",
        "legal_basis": "",
        "period_months": "36",
    }
    data.update(values)
    return data


def test_form_lists_seizures_in_force(client, staff, case, seizure, make_measure):
    freeze = make_measure(case, "freeze", period_months=None)
    requested = make_measure(case, "seize_vehicle", in_force=False)

    page = page_client(client, staff["clerk0104"]).get("/approvals/new/seizure_renewal/")

    content = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="{seizure.pk}">#{seizure.pk} · {case.case_number}' in content
    assert f'<option value="{freeze.pk}"' not in content
    assert f'<option value="{requested.pk}"' not in content


def test_form_masks_debtors_home(client, staff, case, seizure):
    """The choices list every seizure of the court, so a person's home is masked."""
    page = page_client(client, staff["clerk0104"]).get("/approvals/new/seizure_renewal/")

    content = page.content.decode()
    assert f"#{seizure.pk} · {case.case_number} · Seize real estate · 广州市越秀区**** ·" in content
    assert "中山五路" not in content


def test_form_drafts_linked_renewal(client, staff, case, seizure):
    response = page_client(client, staff["clerk0104"]).post(
        "/approvals/new/seizure_renewal/", form_data(case, measure=str(seizure.pk))
    )

    application = Application.objects.get()
    assert response.status_code == 302
    assert application.renewed_measure == seizure
    assert application.previous_end == seizure.end_date


def test_form_shows_error_for_other_case_measure(client, staff, case, other_case, make_measure):
    measure = make_measure(other_case)

    response = page_client(client, staff["clerk0104"]).post(
        "/approvals/new/seizure_renewal/", form_data(case, measure=str(measure.pk))
    )

    assert response.status_code == 400
    assert f"Measure #{measure.pk} belongs to case {other_case.case_number}" in (
        response.content.decode()
    )
    assert not Application.objects.exists()


def test_detail_pages_link_application_and_measure(client, staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    page_client(client, staff["officer0104"])

    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert f'href="/measures/{seizure.pk}/"' in page
    assert 'data-testid="renewal-notice"' in page

    client.post(f"/approvals/{application.pk}/step/", {"action": "execute", "comment": ""})
    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert 'data-testid="renewal-request" data-state="queued"' in page
    assert f"Renewal of seizure #{seizure.pk} queued to the agency" in page

    measure_page = client.get(f"/measures/{seizure.pk}/").content.decode()
    assert f'data-testid="measure-application-{application.pk}"' in measure_page
    assert f'href="/approvals/{application.pk}/"' in measure_page


def test_measure_page_links_renewal_application(client, staff, case, seizure, make_measure):
    freeze = make_measure(case, "freeze", period_months=None)
    page_client(client, staff["officer0104"])

    page = client.get(f"/measures/{seizure.pk}/").content.decode()
    freeze_page = client.get(f"/measures/{freeze.pk}/").content.decode()

    assert f'href="/approvals/new/seizure_renewal/?measure={seizure.pk}"' in page
    assert 'data-testid="apply-renewal"' not in freeze_page


def test_form_preselects_linked_seizure(client, staff, case, seizure):
    page = page_client(client, staff["officer0104"]).get(
        f"/approvals/new/seizure_renewal/?measure={seizure.pk}"
    )

    content = page.content.decode()
    assert f'<option value="{seizure.pk}" selected>' in content
    assert f'value="{case.case_number}"' in content
    assert 'name="period_months" value="36"' in content


def test_form_proposes_vehicle_rule_period(client, staff, case, make_measure):
    vehicle = make_measure(case, "seize_vehicle")

    page = page_client(client, staff["officer0104"]).get(
        f"/approvals/new/seizure_renewal/?measure={vehicle.pk}"
    )

    assert 'name="period_months" value="24"' in page.content.decode()


@pytest.mark.parametrize("value", ["999999", "abc", ""])
def test_form_ignores_unknown_preselection(client, staff, case, seizure, value):
    page = page_client(client, staff["officer0104"]).get(
        f"/approvals/new/seizure_renewal/?measure={value}"
    )

    content = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="{seizure.pk}" selected>' not in content
    assert '<option value="" selected>' in content
    assert f'value="{case.case_number}"' not in content


def test_failed_execution_shows_reason(client, staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    measure_services.renew_measure(staff["officer0104"], seizure, now=NOW)

    response = page_client(client, staff["officer0104"]).post(
        f"/approvals/{application.pk}/step/", {"action": "execute", "comment": ""}, follow=True
    )

    assert "awaits the agency&#x27;s answer" in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.APPROVED


# API


def api_client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


def api_body(case, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_number": case.case_number,
        "reason": "该不动产尚未处置，查封期限即将届满。",
        "period_months": 36,
    }
    body.update(values)
    return body


def test_api_drafts_linked_renewal(staff, case, seizure):
    response = api_client(staff["clerk0104"]).post(
        "/api/v1/approvals/seizure-renewal/", api_body(case, measure=seizure.pk), format="json"
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["renewed_measure"]["id"] == seizure.pk
    assert data["renewed_measure"]["kind"] == "seize_real_estate"
    assert data["renewed_measure"]["state"] == "in_force"
    assert data["renewed_measure"]["end_date"] == "2027-05-31"
    assert data["renewed_measure"]["url"].endswith(f"/api/v1/measures/{seizure.pk}/")
    assert data["renewed_measure"]["page_url"].endswith(f"/measures/{seizure.pk}/")
    assert data["previous_document_number"] == seizure.notice_number
    assert data["period_start"] == "2027-06-01"


def test_api_typed_renewal_has_no_measure(staff, case):
    body = api_body(
        case,
        seized_property="广州市越秀区某某路 88 号 1203 房",
        previous_document_number="（2023）粤0104执88号",
        previous_start="2023-12-20",
        previous_end="2027-01-19",
    )

    response = api_client(staff["clerk0104"]).post(
        "/api/v1/approvals/seizure-renewal/", body, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["renewed_measure"] is None


@pytest.mark.parametrize(
    ("make", "words"),
    [
        ("other_case", ["belongs to case"]),
        ("freeze", ["Freeze deposits", "not a seizure"]),
        ("requested", ["is not in force", "Requested"]),
    ],
)
def test_api_rejects_invalid_measure(staff, case, other_case, make_measure, make, words):
    measure = {
        "other_case": lambda: make_measure(other_case),
        "freeze": lambda: make_measure(case, "freeze", period_months=None),
        "requested": lambda: make_measure(case, in_force=False),
    }[make]()

    response = api_client(staff["clerk0104"]).post(
        "/api/v1/approvals/seizure-renewal/", api_body(case, measure=measure.pk), format="json"
    )

    assert response.status_code == 400, response.content
    message = " ".join(response.json()["measure"])
    assert f"#{measure.pk}" in message
    for word in words:
        assert word in message
    assert not Application.objects.exists()


def test_api_execution_reports_renewal(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)

    response = api_client(staff["officer0104"]).post(
        f"/api/v1/approvals/{application.pk}/steps/", {"action": "execute"}, format="json"
    )

    assert response.status_code == 201, response.content
    executed = response.json()["steps"][-1]
    renewal = seizure.steps.get(kind=MeasureStep.Kind.RENEW)
    assert executed["kind"] == "executed"
    assert executed["measure_renewal"]["measure_step_id"] == renewal.pk
    assert executed["measure_renewal"]["item_id"] == str(renewal.item_id)
    assert executed["border_control"] is None


def test_api_failed_execution_is_400(staff, case, seizure):
    application = approve(draft(staff, case, seizure), staff)
    measure_services.renew_measure(staff["officer0104"], seizure, now=NOW)
    # Issuing the token adds an audit record, so the client comes first.
    client = api_client(staff["officer0104"])
    before = counts()

    response = client.post(
        f"/api/v1/approvals/{application.pk}/steps/", {"action": "execute"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert f"Seizure #{seizure.pk} cannot be renewed" in " ".join(response.json()["measure"])
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert counts() == before


def test_api_measure_lists_renewal_applications(staff, case, seizure):
    application = draft(staff, case, seizure)

    response = api_client(staff["officer0104"]).get(f"/api/v1/measures/{seizure.pk}/")

    listed = response.json()["renewal_applications"]
    assert response.status_code == 200
    assert [entry["id"] for entry in listed] == [application.pk]
    assert listed[0]["state"] == "drafted"
    assert listed[0]["period_start"] == application.period_start.isoformat()
    assert listed[0]["url"].endswith(f"/api/v1/approvals/{application.pk}/")
