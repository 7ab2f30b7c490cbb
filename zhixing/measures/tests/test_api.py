"""REST API of control measures: lifecycle, each kind, scope, roles, input errors, documents."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from zhixing.audit.models import AuditRecord
from zhixing.courts import services as court_services
from zhixing.esign import verification
from zhixing.events.models import Event
from zhixing.linkage.models import GatewayItem
from zhixing.measures import services
from zhixing.measures.models import ControlMeasure, MeasureDocument, MeasureStep
from zhixing.measures.rules import renewal_opens_on
from zhixing.measures.tests.conftest import ACCOUNT, CAR, HOME, answer_step, client_for
from zhixing.pagination import MAX_LIMIT, LimitOffsetPagination
from zhixing.reports.tests.test_api import assert_documented

State = ControlMeasure.State
MEASURE_PATHS = ("/api/v1/measures",)
MASKED_ACCOUNT = "621226*********0123"


def api_client(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


def listed_ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def step_of(data: dict[str, Any], index: int = -1) -> MeasureStep:
    """Return the stored request of a measure response, to give the agency's answer to it."""
    return MeasureStep.objects.get(pk=data["steps"][index]["id"])


def freeze_body(asset, /, **overrides: Any) -> dict[str, Any]:
    """Return the body of a freeze of 50 000 yuan; an override may replace the asset id too."""
    body: dict[str, Any] = {"asset": asset.pk, "kind": "freeze", "amount": "50000.00"}
    body.update(overrides)
    return body


@pytest.fixture
def asset(case, debtors, make_asset):
    return make_asset(case, debtors[0], ACCOUNT)


@pytest.fixture
def measure(officer, asset):
    """A freeze of 50 000 yuan for 6 months that the bank confirmed.

    Six months, so that its renewal window, the last 6 months of the period, is open today.
    """
    measure = services.request_measure(officer, asset, "freeze", amount="50000.00", period_months=6)
    answer_step(measure.steps.get(), {"type": "freeze", "frozen_amount": "50000.00"})
    measure.refresh_from_db()
    assert measure.state == State.IN_FORCE
    return measure


# The whole lifecycle, through the API only (the agency answers through the gateway)


def test_freeze_lifecycle_through_api(officer, asset):
    client = api_client(officer)

    # Six months, so that the renewal window (the last 6 months of the period) is open today.
    requested = client.post("/api/v1/measures/", freeze_body(asset, period_months=6), format="json")

    assert requested.status_code == 201, requested.content
    data = requested.json()
    measure_id = data["id"]
    assert data["state"] == "requested"
    assert data["amount"] == "50000.00"
    assert data["asset"]["identifier"] == MASKED_ACCOUNT
    assert data["period_months"] == 6
    assert data["may_control"] is True
    assert data["renewal"] is None
    assert "in force" in data["renew_refusal"]
    apply = data["steps"][0]
    assert (apply["kind"], apply["state"], apply["action"]) == ("apply", "queued", "freeze")
    assert [document["role"] for document in apply["documents"]] == ["notice", "ruling"]
    assert GatewayItem.objects.get(pk=apply["item_id"]).action == "freeze"

    answer_step(step_of(data), {"type": "freeze", "frozen_amount": "48000.00"})
    answered = client.get(f"/api/v1/measures/{measure_id}/").json()

    assert answered["state"] == "partly_in_force"
    assert answered["actual_amount"] == "48000.00"
    assert answered["steps"][0]["state"] == "partly_done"
    assert answered["steps"][0]["answered_at"] is not None
    assert answered["renew_refusal"] == ""
    assert answered["renewal"]["max_months"] == 12
    end = datetime.date.fromisoformat(answered["end_date"])
    assert answered["renewal"]["start"] == (end + datetime.timedelta(days=1)).isoformat()
    assert answered["days_left"] == (end - timezone.localdate()).days

    renewed = client.post(
        f"/api/v1/measures/{measure_id}/renew/", {"period_months": 6}, format="json"
    )

    assert renewed.status_code == 201, renewed.content
    renewal = renewed.json()["steps"][-1]
    assert (renewal["kind"], renewal["state"], renewal["period_months"]) == ("renew", "queued", 6)
    assert [document["role"] for document in renewal["documents"]] == ["notice"]
    assert "awaits" in renewed.json()["renew_refusal"]
    answer_step(step_of(renewed.json()), {"type": "renew"})
    after_renewal = client.get(f"/api/v1/measures/{measure_id}/").json()
    assert after_renewal["renewals"] == 1
    assert after_renewal["end_date"] == renewal["end_date"]

    released = client.post(
        f"/api/v1/measures/{measure_id}/release/",
        {"reason": "被执行人已全额履行"},
        format="json",
    )

    assert released.status_code == 201, released.content
    release = released.json()["steps"][-1]
    assert (release["kind"], release["reason"]) == ("release", "被执行人已全额履行")
    answer_step(step_of(released.json()), {"type": "release"})
    final = client.get(f"/api/v1/measures/{measure_id}/").json()
    assert final["state"] == "released"
    assert [step["state"] for step in final["steps"]] == ["partly_done", "done", "done"]
    assert final["release_refusal"] == "Only a measure in force can be released."
    kinds = set(Event.objects.filter(subject_id=str(measure_id)).values_list("kind", flat=True))
    assert {"measures.requested", "measures.renewed", "measures.released"} <= kinds

    notice = final["steps"][2]["documents"][0]
    download = client.get(notice["download"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert verification.verify_pdf(download.content).valid


# Requesting each kind


@pytest.mark.parametrize(
    ("record", "agency", "category", "kind", "amount", "months"),
    [
        (ACCOUNT, "bank-icbc", "bank_account", "freeze", "1000.00", 12),
        (ACCOUNT, "bank-icbc", "bank_account", "deduct", "1000.00", None),
        (HOME, "housing-gd", "real_estate", "seize_real_estate", None, 36),
        (CAR, "traffic-gd", "vehicle", "seize_vehicle", None, 24),
        (CAR, "traffic-gd", "vehicle", "distrain", None, 24),
    ],
)
def test_request_each_kind(
    officer, case, debtors, make_asset, record, agency, category, kind, amount, months
):
    asset = make_asset(case, debtors[0], record, agency=agency, category=category)
    body: dict[str, Any] = {"asset": asset.pk, "kind": kind}
    if amount is not None:
        body["amount"] = amount

    response = api_client(officer).post("/api/v1/measures/", body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == kind
    assert data["agency"]["code"] == agency
    assert data["period_months"] == months
    assert data["asset"]["record_type"] == record["type"]
    assert data["amount"] == amount
    assert len(data["steps"][0]["documents"]) == 2


def test_request_with_start_and_months(officer, asset):
    start = timezone.localdate() + datetime.timedelta(days=3)

    response = api_client(officer).post(
        "/api/v1/measures/",
        freeze_body(asset, start_date=start.isoformat(), period_months=4),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["start_date"] == start.isoformat()
    assert response.json()["period_months"] == 4


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"period_months": 6}, "period_months", "has no period"),
        ({"start_date": "2026-12-10"}, "start_date", "takes effect at once"),
    ],
)
def test_deduction_with_a_period_is_rejected(officer, asset, extra, field, words):
    body = {"asset": asset.pk, "kind": "deduct", "amount": "100.00", **extra}

    response = api_client(officer).post("/api/v1/measures/", body, format="json")

    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()[field])
    assert not ControlMeasure.objects.exists()


def test_commander_above_may_request(make_user, asset):
    commander = make_user("cmd01", "粤01", "commander")

    response = api_client(commander).post("/api/v1/measures/", freeze_body(asset), format="json")

    assert response.status_code == 201, response.content
    assert ControlMeasure.objects.get().requested_by == commander


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"kind": "confiscate"}, "kind", ["confiscate", "freeze, deduct"]),
        ({"kind": "seize_real_estate"}, "kind", ["does not apply"]),
        ({"amount": ""}, "amount", ["Enter the amount in yuan"]),
        ({"amount": "abc"}, "amount", ["abc is not an amount"]),
        ({"amount": "1.234"}, "amount", ["1.234 is invalid", "two decimals"]),
        ({"amount": "-5"}, "amount", ["-5 is invalid", "more than 0"]),
        ({"period_months": 13}, "period_months", ["13 months is invalid", "1 to 12"]),
        ({"period_months": "many"}, "period_months", ["valid integer"]),
        ({"start_date": "2020-01-01"}, "start_date", ["2020-01-01 is invalid", "choose a day"]),
        ({"start_date": "next week"}, "start_date", ["YYYY-MM-DD"]),
        ({"asset": 999999}, "asset", ["999999", "No asset record in your scope"]),
        ({"asset": "first"}, "asset", ["whole number"]),
    ],
)
def test_request_rejects_bad_input(officer, asset, overrides, field, words):
    items_before = GatewayItem.objects.count()

    response = api_client(officer).post(
        "/api/v1/measures/", freeze_body(asset, **overrides), format="json"
    )

    assert response.status_code == 400, response.content
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message
    assert not ControlMeasure.objects.exists()
    assert not MeasureDocument.objects.exists()
    assert GatewayItem.objects.count() == items_before
    assert not Event.objects.filter(kind__startswith="measures.").exists()


def test_amount_for_seizure_rejected(officer, case, debtors, make_asset):
    home = make_asset(case, debtors[0], HOME, agency="housing-gd", category="real_estate")

    response = api_client(officer).post(
        "/api/v1/measures/",
        {"asset": home.pk, "kind": "seize_real_estate", "amount": "1000.00"},
        format="json",
    )

    assert response.status_code == 400
    assert "Only deposits take an amount" in " ".join(response.json()["amount"])
    assert not ControlMeasure.objects.exists()


def test_second_freeze_of_asset_rejected(officer, asset, measure):
    response = api_client(officer).post("/api/v1/measures/", freeze_body(asset), format="json")

    assert response.status_code == 400
    assert f"Measure #{measure.pk} of this case already holds" in " ".join(response.json()["asset"])
    assert ControlMeasure.objects.count() == 1


def test_closed_case_rejected(officer, case, asset):
    case.status = "suspended"
    case.save()

    response = api_client(officer).post("/api/v1/measures/", freeze_body(asset), format="json")

    assert response.status_code == 400
    assert "is not open" in " ".join(response.json()["case"])
    assert not ControlMeasure.objects.exists()


def test_refusals_tell_a_clerk_why_not(make_user, measure):
    answer_step(measure.steps.get(), {"type": "freeze", "frozen_amount": "100.00"})
    clerk = make_user("clerk", "粤0104", "clerk")

    data = api_client(clerk).get(f"/api/v1/measures/{measure.pk}/").json()

    assert data["may_control"] is False
    assert "Only the case officer" in data["renew_refusal"]
    assert "Only the case officer" in data["release_refusal"]


@pytest.mark.parametrize(
    ("username", "court", "role"),
    [
        ("clerk", "粤0104", "clerk"),
        ("other_officer", "粤0104", "case_officer"),
        ("duty", "粤01", "duty_officer"),
    ],
)
def test_request_forbidden_to_wrong_role(make_user, asset, username, court, role):
    response = api_client(make_user(username, court, role)).post(
        "/api/v1/measures/", freeze_body(asset), format="json"
    )

    assert response.status_code == 403
    assert "Only the case officer" in response.json()["detail"]
    assert not ControlMeasure.objects.exists()


@pytest.mark.parametrize(("username", "court"), [("sibling", "粤0105"), ("other_city", "粤03")])
def test_request_on_asset_of_other_court_rejected(make_user, asset, username, court):
    response = api_client(make_user(username, court, "commander")).post(
        "/api/v1/measures/", freeze_body(asset), format="json"
    )

    assert response.status_code == 400
    assert "No asset record in your scope" in " ".join(response.json()["asset"])
    assert not ControlMeasure.objects.exists()


# Reading


def test_detail_masks_account_as_page_does(officer, measure):
    before = AuditRecord.objects.filter(action="read_personal").count()

    response = api_client(officer).get(f"/api/v1/measures/{measure.pk}/")
    page = client_for(officer).get(f"/measures/{measure.pk}/").content.decode()

    assert response.status_code == 200
    assert response.json()["asset"]["identifier"] == MASKED_ACCOUNT
    assert ACCOUNT["account_number"] not in response.content.decode()
    assert MASKED_ACCOUNT in page
    assert ACCOUNT["account_number"] not in page
    # Neither the page nor the API records a read: the identifier is masked.
    assert AuditRecord.objects.filter(action="read_personal").count() == before


def test_certificate_number_shown_in_full(officer, case, debtors, make_asset):
    home = make_asset(case, debtors[0], HOME, agency="housing-gd", category="real_estate")
    measure = services.request_measure(officer, home, "seize_real_estate")

    data = api_client(officer).get(f"/api/v1/measures/{measure.pk}/").json()

    assert data["asset"]["identifier"] == HOME["certificate_number"]
    # The debtor's home is masked to its district unless the measure is read with reveal=1.
    assert data["asset"]["label"] == "广州市越秀区****"


@pytest.mark.parametrize(("username", "court"), [("sibling", "粤0105"), ("other_city", "粤03")])
def test_measure_hidden_from_other_courts(
    make_user, officer, courts, case, measure, username, court
):
    client = api_client(make_user(username, court, "commander"))
    document = MeasureDocument.objects.first()
    measure.end_date = timezone.localdate() + datetime.timedelta(days=10)
    measure.save()
    own_expiries = api_client(officer).get("/api/v1/measures/expiring/").json()
    assert [group["court"]["code"] for group in own_expiries["courts"]] == ["粤0104"]

    assert client.get(f"/api/v1/measures/{measure.pk}/").status_code == 404
    assert client.get(f"/api/v1/measures/documents/{document.pk}/").status_code == 404
    renewed = client.post(f"/api/v1/measures/{measure.pk}/renew/", {}, format="json")
    assert renewed.status_code == 404
    released = client.post(
        f"/api/v1/measures/{measure.pk}/release/", {"reason": "x"}, format="json"
    )
    assert released.status_code == 404
    assert listed_ids(client.get("/api/v1/measures/")) == []
    assert client.get("/api/v1/measures/expiring/").json()["courts"] == []
    by_court = client.get("/api/v1/measures/", {"court": courts["粤0104"].pk})
    assert by_court.status_code == 400
    assert "No court in your scope" in " ".join(by_court.json()["court"])
    by_case = client.get("/api/v1/measures/", {"case": case.pk})
    assert by_case.status_code == 400
    assert MeasureStep.objects.count() == 1


def test_superior_reads_and_downloads(make_user, measure):
    commander = make_user("cmd", "粤", "commander")
    client = api_client(commander)

    data = client.get(f"/api/v1/measures/{measure.pk}/").json()
    download = client.get(data["steps"][0]["documents"][0]["download"])

    assert data["may_control"] is True
    assert download.status_code == 200
    assert listed_ids(client.get("/api/v1/measures/")) == [measure.pk]


def test_police_reads_but_may_not_download(make_user, measure):
    client = api_client(make_user("police", "粤0104", "judicial_police"))
    document = MeasureDocument.objects.first()
    before = AuditRecord.objects.filter(action="read_personal").count()

    data = client.get(f"/api/v1/measures/{measure.pk}/").json()
    download = client.get(f"/api/v1/measures/documents/{document.pk}/")

    assert data["may_control"] is False
    assert all(document["download"] is None for document in data["steps"][0]["documents"])
    assert download.status_code == 403
    assert "Only the case officer, clerks" in download.json()["detail"]
    assert AuditRecord.objects.filter(action="read_personal").count() == before


def test_document_download_audited(officer, measure):
    document = MeasureDocument.objects.get(role="ruling")

    response = api_client(officer).get(
        f"/api/v1/measures/documents/{document.pk}/", HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert f"{document.kind}-{measure.pk}.pdf" in response["Content-Disposition"]
    assert response.content == bytes(document.pdf)
    read = AuditRecord.objects.get(action="read_personal", object_id=str(document.pk))
    assert read.user == officer
    assert read.channel == "api"
    assert read.detail["measure_id"] == measure.pk
    assert read.detail["sha256"] == document.sha256


def test_anonymous_caller_is_rejected(asset, measure):
    client = api_client()
    document = MeasureDocument.objects.first()

    assert client.get("/api/v1/measures/").status_code == 401
    assert client.get(f"/api/v1/measures/{measure.pk}/").status_code == 401
    assert client.get(f"/api/v1/measures/documents/{document.pk}/").status_code == 401
    assert client.get("/api/v1/measures/expiring/").status_code == 401
    created = client.post("/api/v1/measures/", freeze_body(asset), format="json")
    assert created.status_code == 401
    assert ControlMeasure.objects.count() == 1


# Renewal and release


def test_renew_and_release_forbidden_to_clerk(make_user, measure):
    client = api_client(make_user("clerk", "粤0104", "clerk"))

    renewed = client.post(f"/api/v1/measures/{measure.pk}/renew/", {}, format="json")
    released = client.post(
        f"/api/v1/measures/{measure.pk}/release/", {"reason": "paid"}, format="json"
    )

    assert renewed.status_code == 403
    assert released.status_code == 403
    assert "Only the case officer" in renewed.json()["detail"]
    assert measure.steps.count() == 1
    assert MeasureDocument.objects.count() == 2


def test_renew_without_months_takes_maximum(officer, measure):
    response = api_client(officer).post(f"/api/v1/measures/{measure.pk}/renew/")

    assert response.status_code == 201, response.content
    assert response.json()["steps"][-1]["period_months"] == 12


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"period_months": 13}, "period_months", ["13 months is invalid", "1 to 12"]),
        ({"period_months": 0}, "period_months", ["0 months is invalid"]),
        ({"period_months": "a year"}, "period_months", ["valid integer"]),
    ],
)
def test_renew_rejects_bad_input(officer, measure, body, field, words):
    response = api_client(officer).post(
        f"/api/v1/measures/{measure.pk}/renew/", body, format="json"
    )

    assert response.status_code == 400
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message
    assert measure.steps.count() == 1


def test_renew_too_early_names_date(officer, asset):
    # A freeze of 1 year made today: its renewal window opens in 6 months.
    measure = services.request_measure(officer, asset, "freeze", amount="50000.00")
    answer_step(measure.steps.get(), {"type": "freeze", "frozen_amount": "50000.00"})
    measure.refresh_from_db()
    opens = renewal_opens_on(measure.end_date).isoformat()
    client = api_client(officer)

    detail = client.get(f"/api/v1/measures/{measure.pk}/").json()
    response = client.post(f"/api/v1/measures/{measure.pk}/renew/", {}, format="json")

    assert detail["renewal"] is None
    assert opens in detail["renew_refusal"]
    assert response.status_code == 400
    message = " ".join(response.json()["measure"])
    assert "too early" in message
    assert f"Renew on or after {opens}." in message
    assert measure.steps.count() == 1


def test_second_request_waits_for_agency(officer, measure):
    client = api_client(officer)
    client.post(f"/api/v1/measures/{measure.pk}/renew/", {}, format="json")

    again = client.post(f"/api/v1/measures/{measure.pk}/renew/", {}, format="json")
    release = client.post(
        f"/api/v1/measures/{measure.pk}/release/", {"reason": "paid"}, format="json"
    )

    assert again.status_code == 400
    assert "awaits the agency's answer" in " ".join(again.json()["measure"])
    assert release.status_code == 400
    assert "awaits the agency's answer" in " ".join(release.json()["measure"])
    assert measure.steps.count() == 2


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"reason": "  "}, "reason", ["Give the reason for the release."]),
        ({}, "reason", ["required"]),
        ({"reason": "x" * 501}, "reason", ["500 characters"]),
    ],
)
def test_release_rejects_bad_input(officer, measure, body, field, words):
    response = api_client(officer).post(
        f"/api/v1/measures/{measure.pk}/release/", body, format="json"
    )

    assert response.status_code == 400
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message
    assert measure.steps.count() == 1


def test_deduction_is_neither_renewed_nor_released(officer, asset):
    deduction = services.request_measure(officer, asset, "deduct", amount="100.00")
    client = api_client(officer)

    renewed = client.post(f"/api/v1/measures/{deduction.pk}/renew/", {}, format="json")
    released = client.post(
        f"/api/v1/measures/{deduction.pk}/release/", {"reason": "x"}, format="json"
    )

    assert renewed.status_code == 400
    assert "A deduction has no period to renew." in renewed.json()["measure"]
    assert released.status_code == 400
    assert "A deduction cannot be released." in released.json()["measure"]


def test_measure_not_in_force_is_not_released(officer, asset):
    requested = services.request_measure(officer, asset, "freeze", amount="100.00")

    response = api_client(officer).post(
        f"/api/v1/measures/{requested.pk}/release/", {"reason": "x"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["measure"] == ["Only a measure in force can be released."]


# Lists


def test_list_filters(officer, make_user, file_case, case, debtors, make_asset, measure, courts):
    home = make_asset(case, debtors[1], HOME, agency="housing-gd", category="real_estate")
    seizure = services.request_measure(officer, home, "seize_real_estate")
    other_case = file_case(first=3)
    other_asset = make_asset(
        other_case, other_case.parties.filter(case_roles__role="debtor")[0], ACCOUNT
    )
    other = services.request_measure(officer, other_asset, "deduct", amount="10.00")
    commander = make_user("cmd01", "粤01", "commander")
    client = api_client(commander)
    measure.end_date = timezone.localdate() + datetime.timedelta(days=10)
    measure.save()

    assert listed_ids(client.get("/api/v1/measures/")) == [other.pk, seizure.pk, measure.pk]
    assert listed_ids(client.get("/api/v1/measures/", {"state": "in_force"})) == [measure.pk]
    assert listed_ids(client.get("/api/v1/measures/", {"kind": "deduct"})) == [other.pk]
    assert listed_ids(client.get("/api/v1/measures/", {"case": other_case.pk})) == [other.pk]
    by_court = client.get("/api/v1/measures/", {"court": courts["粤0104"].pk})
    assert listed_ids(by_court) == [other.pk, seizure.pk, measure.pk]
    assert listed_ids(client.get("/api/v1/measures/", {"court": courts["粤01"].pk})) == []
    within = client.get("/api/v1/measures/", {"expiring_within": 10})
    assert listed_ids(within) == [measure.pk]
    assert listed_ids(client.get("/api/v1/measures/", {"expiring_within": 9})) == []
    row = client.get("/api/v1/measures/", {"state": "in_force"}).json()["results"][0]
    assert row["asset"]["identifier"] == MASKED_ACCOUNT
    assert row["days_left"] == 10
    assert row["debtor"]["name"] == debtors[0].name


@pytest.mark.parametrize(
    ("parameters", "field", "words"),
    [
        ({"state": "done"}, "state", ["done", "in_force"]),
        ({"kind": "seize"}, "kind", ["seize", "seize_real_estate"]),
        ({"court": "粤0104"}, "court", ["whole number", "/api/v1/courts/"]),
        ({"court": 999999}, "court", ["999999", "/api/v1/courts/"]),
        ({"case": 999999}, "case", ["999999", "/api/v1/cases/"]),
        ({"expiring_within": "-1"}, "expiring_within", ["negative"]),
        ({"expiring_within": "soon"}, "expiring_within", ["whole number of days"]),
        ({"expiring_within": "99999"}, "expiring_within", ["at most 3660 days"]),
    ],
)
def test_list_rejects_bad_filter(officer, parameters, field, words):
    response = api_client(officer).get("/api/v1/measures/", parameters)

    assert response.status_code == 400
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message


def test_expiries_by_court_match_page(officer, make_user, measure, case, debtors, make_asset):
    measure.end_date = timezone.localdate() + datetime.timedelta(days=10)
    measure.save()
    home = make_asset(case, debtors[1], HOME, agency="housing-gd", category="real_estate")
    later = services.request_measure(officer, home, "seize_real_estate")
    answer_step(later.steps.get(), {"type": "seize", "queue_position": 0})
    client = api_client(officer)

    data = client.get("/api/v1/measures/expiring/").json()
    page = client_for(officer).get("/measures/expiring/").content.decode()

    assert data["days"] == 30
    assert data["day"] == timezone.localdate().isoformat()
    assert [group["court"]["code"] for group in data["courts"]] == ["粤0104"]
    rows = data["courts"][0]["measures"]
    assert [row["id"] for row in rows] == [measure.pk]
    assert rows[0]["days_left"] == 10
    assert rows[0]["asset"]["identifier"] == MASKED_ACCOUNT
    assert f'data-testid="expiring-{measure.pk}"' in page
    assert f'data-testid="expiring-{later.pk}"' not in page
    assert data["expired"] == []
    assert client.get("/api/v1/measures/expiring/", {"days": 7}).json()["courts"] == []


def test_expired_measures_listed(officer, measure):
    measure.state = State.EXPIRED
    measure.end_date = timezone.localdate() - datetime.timedelta(days=2)
    measure.start_date = measure.end_date - datetime.timedelta(days=364)
    measure.save()

    data = api_client(officer).get("/api/v1/measures/expiring/", {"days": 90}).json()

    assert data["courts"] == []
    assert [row["id"] for row in data["expired"]] == [measure.pk]
    assert data["expired"][0]["days_left"] is None


def test_expiries_reject_other_window(officer):
    response = api_client(officer).get("/api/v1/measures/expiring/", {"days": 10})

    assert response.status_code == 400
    message = " ".join(response.json()["days"])
    assert "10" in message
    assert "7, 15, 30, 60, 90" in message


def test_list_queries_do_not_grow_with_measures(officer, file_case, make_asset):
    client = api_client(officer)
    # The first request also reads the court tree, which later ones reuse.
    assert client.get("/api/v1/measures/").status_code == 200
    counts = []
    for round_number in range(2):
        for offset in range(3):
            case = file_case(first=10 + 10 * round_number + 2 * offset)
            debtor = case.parties.filter(case_roles__role="debtor").first()
            asset = make_asset(case, debtor, ACCOUNT)
            services.request_measure(officer, asset, "freeze", amount="10.00")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/measures/").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


# The OpenAPI document


def test_openapi_documents_measure_endpoints(officer):
    response = api_client(officer).get("/api/openapi.json")
    document = json.loads(response.content)

    for path in (
        "/api/v1/measures/",
        "/api/v1/measures/{id}/",
        "/api/v1/measures/{id}/renew/",
        "/api/v1/measures/{id}/release/",
        "/api/v1/measures/expiring/",
        "/api/v1/measures/documents/{id}/",
    ):
        assert path in document["paths"], path
    assert_documented(document, MEASURE_PATHS)


def test_list_cuts_huge_limit(officer):
    huge = "9" * 20
    request = Request(APIRequestFactory().get("/api/v1/measures/", {"limit": huge}))

    assert LimitOffsetPagination().get_limit(request) == MAX_LIMIT
    assert api_client(officer).get("/api/v1/measures/", {"limit": huge}).status_code == 200


def test_unknown_measure_names_the_id_not_the_model(officer, measure):
    response = api_client(officer).get("/api/v1/measures/999999/")

    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "999999" in detail
    assert "control measure" in detail
    assert "ControlMeasure" not in detail


def test_measure_outside_scope_is_not_found(make_user, measure):
    other = make_user("other_court_officer", "粤0105", "case_officer")

    response = api_client(other).get(f"/api/v1/measures/{measure.pk}/")

    assert response.status_code == 404
    assert f"id {measure.pk} is in your scope" in response.json()["detail"]
