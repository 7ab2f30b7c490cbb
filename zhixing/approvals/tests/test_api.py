"""REST API of approvals: both kinds' lifecycles, steps per court and role, scope, input errors,
PDF downloads."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from zhixing.approvals import services
from zhixing.approvals.models import Application, Revision, State, Step
from zhixing.approvals.tests.conftest import DEBTOR_ID, NOW, exit_input, renewal_input, run_to
from zhixing.audit.models import AuditRecord
from zhixing.cases.identity import mask_id_number
from zhixing.cases.tests.factories import make_resident_id
from zhixing.courts import services as court_services
from zhixing.esign import verification
from zhixing.events.models import Event
from zhixing.linkage import gateway
from zhixing.linkage.models import GatewayItem
from zhixing.reports.tests.test_api import assert_documented

pytestmark = pytest.mark.django_db

APPROVAL_PATHS = ("/api/v1/approvals",)
# The audit records of PDF downloads name the application.
PDF_READ_TYPE = "approvals.application"


def api_client(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


def today() -> datetime.date:
    return timezone.localdate()


def exit_body(case, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_number": case.case_number,
        "person_document_type": "resident_id",
        "person_document_number": DEBTOR_ID,
        "reason": "被执行人未履行生效判决确定的义务，且有出境可能。",
        "legal_basis": "《中华人民共和国民事诉讼法》",
        "period_months": 6,
        "period_start": today().isoformat(),
    }
    body.update(overrides)
    return body


def renewal_body(case, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_number": case.case_number,
        "seized_property": "广州市越秀区某某路 88 号 1203 房",
        "previous_document_number": "（2023）粤0104执88号",
        "previous_start": "2023-12-20",
        "previous_end": (today() + datetime.timedelta(days=30)).isoformat(),
        "reason": "被执行人未履行义务，该不动产尚未处置，查封期限即将届满。",
        "period_months": 36,
    }
    body.update(overrides)
    return body


def take(user, application_id: int, action: str, comment: str = ""):
    return api_client(user).post(
        f"/api/v1/approvals/{application_id}/steps/",
        {"action": action, "comment": comment},
        format="json",
    )


def action_names(data: dict[str, Any]) -> list[str]:
    return [entry["action"] for entry in data["actions"]]


def listed_ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def agency_answer(item_id, *records, status="found") -> dict[str, Any]:
    return {
        "item_id": str(item_id),
        "status": status,
        "answered_at": "2026-12-05T16:31:01+08:00",
        "records": list(records),
    }


@pytest.fixture
def drafted(staff, case):
    return services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)


@pytest.fixture
def submitted(drafted, staff):
    return run_to(drafted, staff, State.SUBMITTED)


# The whole lifecycle of each kind, through the API only


def test_exit_restriction_lifecycle_through_api(staff, case, police):
    police.actions = ["query", "restrict_exit"]
    police.save()

    created = api_client(staff["officer0104"]).post(
        "/api/v1/approvals/exit-restriction/", exit_body(case), format="json"
    )

    assert created.status_code == 201, created.content
    data = created.json()
    application_id = data["id"]
    path = f"/api/v1/approvals/{application_id}/"
    assert (data["kind"], data["state"]) == ("exit_restriction", "drafted")
    courts = (
        data["court"]["code"],
        data["reviewing_court"]["code"],
        data["deciding_court"]["code"],
    )
    assert courts == ("粤0104", "粤01", "粤")
    assert [court["code"] for court in data["involved_courts"]] == ["粤0104", "粤01", "粤"]
    assert data["person"]["name"] == "黄志强"
    assert data["person"]["document_number"] == mask_id_number(DEBTOR_ID)
    assert DEBTOR_ID not in created.content.decode()
    assert [revision["number"] for revision in data["revisions"]] == [0]
    assert action_names(data) == ["comment"]

    for name, action, comment, state in [
        ("head0104", "head_approve", "同意", "head_approved"),
        ("officer0104", "seal", "", "sealed"),
        ("officer0104", "submit", "", "submitted"),
        ("head01", "review", "同意上报", "reviewed"),
        ("commander00", "receive", "", "received"),
        ("head00", "approve", "同意", "approved"),
    ]:
        before = api_client(staff[name]).get(path).json()
        assert action in action_names(before), (name, action)
        response = take(staff[name], application_id, action, comment)
        assert response.status_code == 201, (action, response.content)
        assert response.json()["state"] == state
        assert response.json()["steps"][-1]["court"]["id"] == staff[name].court_id

    inbox = api_client(staff["head00"]).get("/api/v1/approvals/", {"direction": "received"})
    assert listed_ids(inbox) == [application_id]
    outbox = api_client(staff["officer0104"]).get("/api/v1/approvals/", {"direction": "sent"})
    assert listed_ids(outbox) == [application_id]
    approved = api_client(staff["commander00"]).get(path).json()
    # An approved restriction may also be lifted before it is handed over.
    assert action_names(approved) == ["execute", "lift", "comment"]
    assert approved["handover_gap"] is None

    executed = take(staff["commander00"], application_id, "execute")

    assert executed.status_code == 201, executed.content
    result = executed.json()
    assert result["state"] == "executed"
    handover = result["steps"][-1]["border_control"]
    assert (handover["agency"], handover["action"], handover["sent"]) == (
        "police-gd",
        "restrict_exit",
        True,
    )
    item = GatewayItem.objects.get(pk=handover["item_id"])
    assert item.category == "exit_entry"

    # The provincial police answer through the gateway.
    GatewayItem.objects.filter(pk=item.pk).update(state=GatewayItem.State.ACKNOWLEDGED)
    record = {"type": "restrict_exit", "start": result["period_start"], "end": result["period_end"]}
    gateway.apply_answers(police, [agency_answer(item.pk, record)])

    final = api_client(staff["officer0104"]).get(path).json()
    kinds = [step["kind"] for step in final["steps"]]
    assert kinds == [
        "drafted",
        "head_approved",
        "sealed",
        "submitted",
        "reviewed",
        "received",
        "approved",
        "executed",
        "agency_answered",
    ]
    assert final["steps"][-1]["border_control"]["result"] == "done"
    assert final["steps"][-1]["actor"] is None
    assert [revision["number"] for revision in final["revisions"]] == [0, 1, 2, 3]
    assert [step["revision"] for step in final["steps"][:3]] == [0, 1, 2]

    pdf = api_client(staff["head01"]).get(f"{path}pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    report = verification.verify_pdf(pdf.content)
    assert report.valid, report.as_dict()
    assert len(report.signatures) == 3
    draft = api_client(staff["head01"]).get(final["revisions"][0]["download"])
    assert draft.status_code == 200
    assert draft.content == bytes(Revision.objects.get(application_id=application_id, number=0).pdf)
    reads = AuditRecord.objects.filter(
        action="read_personal", object_type="approvals.application", object_id=str(application_id)
    )
    assert [record.detail["revision"] for record in reads.order_by("id")] == [3, 0]


def test_seizure_renewal_lifecycle_through_api(staff, case):
    created = api_client(staff["clerk0104"]).post(
        "/api/v1/approvals/seizure-renewal/", renewal_body(case), format="json"
    )

    assert created.status_code == 201, created.content
    data = created.json()
    application_id = data["id"]
    assert data["kind"] == "seizure_renewal"
    assert data["reviewing_court"] is None
    assert data["deciding_court"]["code"] == "粤01"
    previous_end = datetime.date.fromisoformat(data["previous_end"])
    assert data["period_start"] == (previous_end + datetime.timedelta(days=1)).isoformat()
    assert data["person"] is None
    assert data["seized_property"] == "广州市越秀区某某路 88 号 1203 房"

    for name, action, state in [
        ("head0104", "head_approve", "head_approved"),
        ("clerk0104", "seal", "sealed"),
        ("clerk0104", "submit", "submitted"),
        ("commander01", "receive", "received"),
        ("head01", "approve", "approved"),
        ("officer0104", "execute", "executed"),
    ]:
        response = take(staff[name], application_id, action)
        assert response.status_code == 201, (action, response.content)
        assert response.json()["state"] == state

    final = api_client(staff["head01"]).get(f"/api/v1/approvals/{application_id}/").json()
    assert final["step_due_at"] is None
    assert final["steps"][-1]["border_control"] is None
    assert action_names(final) == ["comment"]


def test_intermediate_court_rejects_with_reason(staff, submitted):
    without = take(staff["head01"], submitted.pk, "reject")
    rejected = take(staff["head01"], submitted.pk, "reject", "材料不全")

    assert without.status_code == 400
    assert without.json()["comment"] == ["Give the reason for the rejection."]
    assert rejected.status_code == 201
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["steps"][-1]["comment"] == "材料不全"
    assert submitted.steps.filter(kind=Step.Kind.REJECTED).count() == 1


def test_comment_keeps_state(staff, submitted):
    response = take(staff["commander01"], submitted.pk, "comment", "请补充材料")

    assert response.status_code == 201
    assert response.json()["state"] == "submitted"
    assert response.json()["steps"][-1]["kind"] == "comment"


def test_execution_without_gateway_needs_comment(staff, drafted, police):
    approved = run_to(drafted, staff, State.APPROVED)
    path = f"/api/v1/approvals/{approved.pk}/"

    data = api_client(staff["commander00"]).get(path).json()
    without = take(staff["commander00"], approved.pk, "execute")
    with_comment = take(staff["commander00"], approved.pk, "execute", "纸质送达省公安厅")

    assert data["handover_gap"]["agency_name"] == "广东省公安厅"
    assert "restrict_exit" in data["handover_gap"]["gap"]
    assert without.status_code == 400
    assert "Hand the sealed PDF to 广东省公安厅" in " ".join(without.json()["comment"])
    assert with_comment.status_code == 201
    assert with_comment.json()["steps"][-1]["border_control"]["sent"] is False
    assert not GatewayItem.objects.exists()


# Drafting: input errors and who may draft


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"period_months": 2}, "period_months", ["2 months is outside 3 to 60 months"]),
        ({"period_months": "six"}, "period_months", ["valid integer"]),
        ({"reason": " "}, "reason", ["Give the reason for the application."]),
        ({"case_number": "(2026)粤0104执9999号"}, "case_number", ["执9999号", "no such case"]),
        ({"person_document_type": "uscc"}, "person_document_type", ["uscc", "resident_id"]),
        (
            {"person_document_number": make_resident_id("440104", "19700101", 5)},
            "person_document_number",
            ["No debtor of case"],
        ),
        ({"period_start": "2026-01-01"}, "period_start", ["cannot start in the past"]),
        ({"period_start": "soon"}, "period_start", ["YYYY-MM-DD"]),
        ({"period_start": "9999-12-01"}, "period_start", ["9999-12-01", "check the year"]),
        ({"case_number": ""}, "case_number", ["blank"]),
    ],
)
def test_exit_restriction_rejects_bad_input(staff, case, overrides, field, words):
    response = api_client(staff["officer0104"]).post(
        "/api/v1/approvals/exit-restriction/", exit_body(case, **overrides), format="json"
    )

    assert response.status_code == 400, response.content
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message
    assert not Application.objects.exists()
    assert not Revision.objects.exists()
    assert not Event.objects.filter(kind__startswith="approvals.").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"previous_end": "2023-12-01"}, "previous_end", ["ends before it starts"]),
        ({"previous_end": "2026-01-01"}, "previous_end", ["lapsed", "seize the property anew"]),
        ({"seized_property": ""}, "seized_property", ["required"]),
        ({"previous_document_number": " "}, "previous_document_number", ["required"]),
        ({"period_months": 37}, "period_months", ["37 months is outside 1 to 36 months"]),
        ({"previous_start": "last year"}, "previous_start", ["YYYY-MM-DD"]),
        ({"previous_end": "9999-12-31"}, "previous_end", ["9999-12-31", "check the year"]),
    ],
)
def test_seizure_renewal_rejects_bad_input(staff, case, overrides, field, words):
    response = api_client(staff["clerk0104"]).post(
        "/api/v1/approvals/seizure-renewal/", renewal_body(case, **overrides), format="json"
    )

    assert response.status_code == 400, response.content
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message
    assert not Application.objects.exists()


def test_commander_may_not_draft(staff, case):
    response = api_client(staff["commander0104"]).post(
        "/api/v1/approvals/exit-restriction/", exit_body(case), format="json"
    )

    assert response.status_code == 403
    assert "draft applications" in response.json()["detail"]
    assert not Application.objects.exists()


def test_high_court_does_not_apply(staff, case):
    response = api_client(staff["head00"]).post(
        "/api/v1/approvals/seizure-renewal/", renewal_body(case), format="json"
    )

    assert response.status_code == 400
    assert "no court above it" in " ".join(response.json()["court"])
    assert not Application.objects.exists()


def test_other_court_may_not_apply_for_case(staff, case):
    response = api_client(staff["officer0105"]).post(
        "/api/v1/approvals/exit-restriction/", exit_body(case), format="json"
    )

    assert response.status_code == 400
    assert "no such case of 广州市海珠区人民法院" in " ".join(response.json()["case_number"])
    assert not Application.objects.exists()


# Steps: who may take which, and clear rejections


def test_wrong_role_may_not_sign(staff, drafted):
    response = take(staff["officer0104"], drafted.pk, "head_approve")

    assert response.status_code == 403
    assert "Only the Bureau head of 广州市越秀区人民法院" in response.json()["detail"]
    drafted.refresh_from_db()
    assert drafted.state == State.DRAFTED
    assert drafted.revisions.count() == 1
    assert drafted.steps.count() == 1


def test_reviewing_court_commander_rejected(staff, submitted):
    response = take(staff["commander01"], submitted.pk, "review", "同意")

    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_skipped_step_rejected(staff, drafted):
    response = take(staff["officer0104"], drafted.pk, "submit")

    assert response.status_code == 400
    assert "The application is Drafted; submit is not possible now." in response.json()["state"]
    drafted.refresh_from_db()
    assert drafted.state == State.DRAFTED


def test_high_court_waits_for_review(staff, submitted):
    response = take(staff["commander00"], submitted.pk, "receive")

    assert response.status_code == 400
    assert "register receipt is not possible" in " ".join(response.json()["state"])


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"action": "sign"}, "action", ["sign", "head_approve, seal"]),
        ({}, "action", ["required"]),
        ({"action": "review", "comment": " "}, "comment", ["Write the court's opinion"]),
    ],
)
def test_step_rejects_bad_input(staff, submitted, body, field, words):
    response = api_client(staff["head01"]).post(
        f"/api/v1/approvals/{submitted.pk}/steps/", body, format="json"
    )

    assert response.status_code == 400
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message
    assert submitted.steps.count() == 4


@pytest.mark.parametrize("name", ["head0105", "officer0105", "head03"])
def test_application_hidden_from_other_courts(staff, submitted, name):
    client = api_client(staff[name])
    path = f"/api/v1/approvals/{submitted.pk}/"

    assert client.get(path).status_code == 404
    assert client.get(f"{path}pdf/").status_code == 404
    assert client.get(f"{path}pdf/0/").status_code == 404
    stepped = client.post(f"{path}steps/", {"action": "review", "comment": "同意"}, format="json")
    assert stepped.status_code == 404
    assert listed_ids(client.get("/api/v1/approvals/")) == []
    assert listed_ids(client.get("/api/v1/approvals/", {"direction": "others"})) == []
    assert not AuditRecord.objects.filter(
        action="read_personal", object_type=PDF_READ_TYPE
    ).exists()
    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_anonymous_caller_is_rejected(staff, case, submitted):
    client = api_client()
    path = f"/api/v1/approvals/{submitted.pk}/"

    assert client.get("/api/v1/approvals/").status_code == 401
    assert client.get(path).status_code == 401
    assert client.get(f"{path}pdf/").status_code == 401
    stepped = client.post(f"{path}steps/", {"action": "review", "comment": "同意"}, format="json")
    assert stepped.status_code == 401
    created = client.post("/api/v1/approvals/exit-restriction/", exit_body(case), format="json")
    assert created.status_code == 401
    assert Application.objects.count() == 1


# Reading and downloading


def test_detail_shows_actions_per_user(staff, submitted):
    path = f"/api/v1/approvals/{submitted.pk}/"

    reviewer = api_client(staff["head01"]).get(path).json()
    officer = api_client(staff["officer0104"]).get(path).json()

    assert action_names(reviewer) == ["review", "reject", "comment"]
    assert reviewer["actions"][0]["label"] == "review and forward"
    assert action_names(officer) == ["comment"]
    assert reviewer["step_due_at"] is not None
    assert [step["kind"] for step in reviewer["steps"]] == [
        "drafted",
        "head_approved",
        "sealed",
        "submitted",
    ]


def test_pdf_download_audited_as_on_page(client, staff, submitted):
    client.force_login(staff["head00"])
    client.get(f"/approvals/{submitted.pk}/pdf/")
    page_record = AuditRecord.objects.get(action="read_personal", object_type=PDF_READ_TYPE)

    response = api_client(staff["head00"]).get(
        f"/api/v1/approvals/{submitted.pk}/pdf/", HTTP_ACCEPT="application/pdf"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"application-{submitted.pk}-r2.pdf" in response["Content-Disposition"]
    assert response.content == bytes(submitted.revisions.get(number=2).pdf)
    api_record = (
        AuditRecord.objects.filter(action="read_personal", object_type=PDF_READ_TYPE)
        .exclude(pk=page_record.pk)
        .get()
    )
    assert api_record.detail == page_record.detail
    assert api_record.detail["personal_fields"] == ["person_name", "person_document_number"]
    assert api_record.channel == "api"
    assert api_record.user == staff["head00"]


def test_missing_revision_not_found(staff, drafted):
    response = api_client(staff["officer0104"]).get(f"/api/v1/approvals/{drafted.pk}/pdf/7/")

    assert response.status_code == 404
    assert "no revision 7" in response.json()["detail"]
    assert not AuditRecord.objects.filter(
        action="read_personal", object_type=PDF_READ_TYPE
    ).exists()


# Lists


def test_list_filters(staff, case, submitted):
    renewal = services.draft_seizure_renewal(staff["clerk0104"], renewal_input(case), now=NOW)
    high = api_client(staff["head00"])
    basic = api_client(staff["officer0104"])

    assert listed_ids(high.get("/api/v1/approvals/")) == [submitted.pk]
    assert listed_ids(high.get("/api/v1/approvals/", {"direction": "others"})) == [renewal.pk]
    assert listed_ids(high.get("/api/v1/approvals/", {"direction": "sent"})) == []
    assert listed_ids(basic.get("/api/v1/approvals/")) == [renewal.pk, submitted.pk]
    assert listed_ids(basic.get("/api/v1/approvals/", {"kind": "seizure_renewal"})) == [renewal.pk]
    assert listed_ids(basic.get("/api/v1/approvals/", {"state": "submitted"})) == [submitted.pk]
    row = basic.get("/api/v1/approvals/", {"state": "submitted"}).json()["results"][0]
    assert row["case"]["case_number"] == case.case_number
    assert row["overdue"] is False


def test_drafts_are_not_in_upper_inbox(staff, drafted):
    response = api_client(staff["head01"]).get("/api/v1/approvals/", {"direction": "received"})

    assert listed_ids(response) == []


@pytest.mark.parametrize(
    ("parameters", "field", "words"),
    [
        ({"direction": "up"}, "direction", ["up", "sent, received, others"]),
        ({"kind": "travel_ban"}, "kind", ["travel_ban", "exit_restriction"]),
        ({"state": "done"}, "state", ["done", "executed"]),
    ],
)
def test_list_rejects_bad_filter(staff, parameters, field, words):
    response = api_client(staff["head01"]).get("/api/v1/approvals/", parameters)

    assert response.status_code == 400
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message


def test_list_queries_do_not_grow_with_applications(staff, case):
    client = api_client(staff["officer0104"])
    # The first request also reads the court tree, which later ones reuse.
    assert client.get("/api/v1/approvals/").status_code == 200
    counts = []
    for _round in range(2):
        for _number in range(3):
            drafted = services.draft_exit_restriction(
                staff["officer0104"], exit_input(case), now=NOW
            )
            # Only one exit restriction of a person is open at a time.
            Application.objects.filter(pk=drafted.pk).update(state=State.REJECTED)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/approvals/").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


# The OpenAPI document


def test_openapi_documents_approval_endpoints(staff):
    response = api_client(staff["head01"]).get("/api/openapi.json")
    document = json.loads(response.content)

    for path in (
        "/api/v1/approvals/",
        "/api/v1/approvals/{id}/",
        "/api/v1/approvals/{id}/steps/",
        "/api/v1/approvals/{id}/pdf/",
        "/api/v1/approvals/{id}/pdf/{number}/",
        "/api/v1/approvals/exit-restriction/",
        "/api/v1/approvals/seizure-renewal/",
    ):
        assert path in document["paths"], path
    assert_documented(document, APPROVAL_PATHS)
