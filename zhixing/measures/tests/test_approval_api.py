"""REST API of the approval of measures: the same actions and permission rules as the pages."""

from __future__ import annotations

import json

import pytest

from zhixing.inquiry.models import QueryPolicy
from zhixing.linkage.models import GatewayItem
from zhixing.measures.models import ControlMeasure, MeasureDocument
from zhixing.measures.tests.conftest import ACCOUNT
from zhixing.measures.tests.test_api import api_client, freeze_body, listed_ids
from zhixing.measures.tests.test_approval import in_force
from zhixing.reports.tests.test_api import assert_documented

State = ControlMeasure.State


@pytest.fixture
def policy(courts):
    return QueryPolicy.objects.create(court=courts["粤0104"], measure_approval_required=True)


@pytest.fixture
def head(make_user):
    return make_user("head_0104", "粤0104", "bureau_head")


@pytest.fixture
def waiting(policy, officer, case, debtors, make_asset):
    """Return the response data of a freeze that the API stored awaiting approval."""
    asset = make_asset(case, debtors[0], ACCOUNT)
    response = api_client(officer).post("/api/v1/measures/", freeze_body(asset), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def approve_url(data) -> str:
    return f"/api/v1/measures/{data['id']}/approve/"


def reject_url(data) -> str:
    return f"/api/v1/measures/{data['id']}/reject/"


def test_request_stored_awaiting(waiting):
    assert waiting["state"] == "awaiting_approval"
    assert waiting["queue_position"] is None
    assert waiting["may_decide"] is False
    step = waiting["steps"][0]
    assert step["state"] == "awaiting_approval"
    assert step["documents"] == []
    assert step["decided_by"] is None
    assert not GatewayItem.objects.filter(pk=step["item_id"]).exists()


def test_head_sees_may_decide(waiting, head):
    data = api_client(head).get(f"/api/v1/measures/{waiting['id']}/").json()

    assert data["may_decide"] is True


def test_head_approves(waiting, head):
    step_id = waiting["steps"][0]["id"]

    response = api_client(head).post(
        approve_url(waiting), {"step": step_id, "note": "同意"}, format="json"
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["state"] == "requested"
    assert data["may_decide"] is False
    step = data["steps"][0]
    assert step["state"] == "queued"
    assert step["decided_by"] == "head_0104"
    assert step["decision_note"] == "同意"
    assert sorted(document["role"] for document in step["documents"]) == ["notice", "ruling"]
    assert GatewayItem.objects.filter(pk=step["item_id"], action="freeze").exists()


def test_second_approval_rejected(waiting, head):
    client = api_client(head)
    step_id = waiting["steps"][0]["id"]
    client.post(approve_url(waiting), {"step": step_id}, format="json")

    response = client.post(approve_url(waiting), {"step": step_id}, format="json")

    assert response.status_code == 400
    assert "decided already" in json.dumps(response.json())
    assert MeasureDocument.objects.count() == 2


def test_approval_without_step_id(waiting, head):
    response = api_client(head).post(approve_url(waiting), {}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "requested"


def test_unknown_step_rejected(waiting, head):
    response = api_client(head).post(approve_url(waiting), {"step": 999999}, format="json")

    assert response.status_code == 400
    assert "step" in response.json()
    assert ControlMeasure.objects.get().state == State.AWAITING_APPROVAL


def test_rejection_needs_reason(waiting, head):
    response = api_client(head).post(reject_url(waiting), {"note": " "}, format="json")

    assert response.status_code == 400
    assert "note" in response.json()
    assert ControlMeasure.objects.get().state == State.AWAITING_APPROVAL


def test_head_rejects(waiting, head):
    response = api_client(head).post(reject_url(waiting), {"note": "理由不足"}, format="json")

    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "not_approved"
    assert data["steps"][0]["state"] == "not_approved"
    assert data["steps"][0]["decision_note"] == "理由不足"
    assert not MeasureDocument.objects.exists()


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_case_officer_cannot_decide(waiting, officer, action):
    response = api_client(officer).post(
        f"/api/v1/measures/{waiting['id']}/{action}/", {"note": "自批"}, format="json"
    )

    assert response.status_code == 403
    assert ControlMeasure.objects.get().state == State.AWAITING_APPROVAL


@pytest.mark.parametrize(("court_code", "status"), [("粤01", 403), ("粤0105", 404)])
def test_other_court_head_cannot_approve(waiting, make_user, court_code, status):
    other = make_user("other_head", court_code, "bureau_head")

    response = api_client(other).post(approve_url(waiting), {}, format="json")

    assert response.status_code == status
    assert ControlMeasure.objects.get().state == State.AWAITING_APPROVAL
    assert not MeasureDocument.objects.exists()


def test_list_filters_awaiting(waiting, head):
    client = api_client(head)

    awaiting = client.get("/api/v1/measures/", {"awaiting_approval": "true"})
    others = client.get("/api/v1/measures/", {"awaiting_approval": "false"})

    assert listed_ids(awaiting) == [waiting["id"]]
    assert listed_ids(others) == []


def test_release_awaits_and_is_approved(courts, officer, head, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    QueryPolicy.objects.create(court=courts["粤0104"], measure_approval_required=True)

    submitted = api_client(officer).post(
        f"/api/v1/measures/{measure.pk}/release/", {"reason": "已履行完毕"}, format="json"
    )
    approved = api_client(head).post(
        f"/api/v1/measures/{measure.pk}/approve/",
        {"step": submitted.json()["steps"][-1]["id"]},
        format="json",
    )

    assert submitted.status_code == 201
    release = submitted.json()["steps"][-1]
    assert release["kind"] == "release"
    assert release["state"] == "awaiting_approval"
    assert "approval" in submitted.json()["release_refusal"]
    assert approved.status_code == 200, approved.content
    step = approved.json()["steps"][-1]
    assert step["state"] == "queued"
    assert [document["role"] for document in step["documents"]] == ["notice"]
    assert GatewayItem.objects.filter(pk=step["item_id"], action="release").exists()


def test_openapi_documents_decisions(officer):
    document = json.loads(api_client(officer).get("/api/openapi.json").content)

    assert "/api/v1/measures/{id}/approve/" in document["paths"]
    assert "/api/v1/measures/{id}/reject/" in document["paths"]
    assert_documented(document, ("/api/v1/measures",))
