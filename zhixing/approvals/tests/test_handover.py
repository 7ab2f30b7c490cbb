"""The border-control request that the high court hands to the provincial public-security agency."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.core.exceptions import ValidationError

from zhixing.approvals import services
from zhixing.approvals.models import State, Step
from zhixing.approvals.tests.conftest import NOW, exit_input, run_to
from zhixing.linkage import gateway
from zhixing.linkage.models import GatewayItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    return run_to(application, staff, State.APPROVED)


def test_request_it_would_send(approved, police, case):
    handover = services.hand_over_border_control(approved)
    request = handover.item_request()
    assert request.agency == police
    assert request.case == case
    assert request.party == approved.person
    assert request.category == "exit_entry"
    assert request.action == "restrict_exit"
    assert request.item_id == services.hand_over_border_control(approved).item_id
    assert isinstance(request.item_id, uuid.UUID)
    assert handover.document_sha256 == approved.revisions.order_by("-number").first().sha256


def test_agency_without_the_action_gets_the_pdf_by_hand(approved, police, staff):
    handover = services.hand_over_border_control(approved)
    assert handover.sent is False
    assert "restrict_exit" in handover.gap

    with pytest.raises(ValidationError, match="Hand the sealed PDF to 广东省公安厅"):
        services.execute(staff["commander00"], approved, now=NOW)
    step = services.execute(staff["commander00"], approved, comment="纸质送达省公安厅", now=NOW)
    detail = step.detail["border_control"]
    assert detail["agency"] == "police-gd"
    assert detail["sent"] is False
    assert detail["action"] == "restrict_exit"
    assert not GatewayItem.objects.exists()


def answer(item_id, *records, status="found"):
    return {
        "item_id": str(item_id),
        "status": status,
        "answered_at": "2026-12-04T16:31:01+08:00",
        "records": list(records),
    }


def test_execution_sends_the_request_with_the_sealed_pdf(approved, police, staff):
    police.actions = ["query", "restrict_exit"]
    police.save()

    step = services.execute(staff["commander00"], approved, now=NOW)

    approved.refresh_from_db()
    assert approved.state == State.EXECUTED
    assert step.detail["border_control"]["sent"] is True
    item = GatewayItem.objects.get()
    assert item.pk == approved.border_control_item
    assert (item.action, item.category, item.agency) == ("restrict_exit", "exit_entry", police)
    assert item.party == approved.person

    # The batch message carries the approved PDF and the period.
    entries = [{"item_id": str(item.pk), "action": "restrict_exit", "document": None}]
    gateway.measure_fields(entries)
    final = approved.revisions.order_by("-number").first()
    document = entries[0]["document"]
    assert document["sha256"] == final.sha256
    assert base64.b64decode(document["pdf_base64"]) == bytes(final.pdf)
    assert entries[0]["measure"]["start"] == approved.period_start.isoformat()
    assert entries[0]["measure"]["end"] == approved.period_end.isoformat()

    # The agency's answer becomes a step of the application, once.
    GatewayItem.objects.filter(pk=item.pk).update(state=GatewayItem.State.ACKNOWLEDGED)
    record = {"type": "restrict_exit", "start": "2026-12-04", "end": "2027-06-03"}
    gateway.apply_answers(police, [answer(item.pk, record)])
    assert services.record_border_control_answer([GatewayItem.objects.get(pk=item.pk)]) == 0
    answered = approved.steps.get(kind=Step.Kind.AGENCY_ANSWERED)
    assert answered.detail["border_control"]["result"] == "done"
    assert answered.detail["border_control"]["end"] == "2027-06-03"


def test_not_found_answer_is_a_rejection(approved, police, staff):
    police.actions = ["query", "restrict_exit"]
    police.save()
    services.execute(staff["commander00"], approved, now=NOW)
    item = GatewayItem.objects.get()
    GatewayItem.objects.filter(pk=item.pk).update(state=GatewayItem.State.ACKNOWLEDGED)

    gateway.apply_answers(police, [answer(item.pk, status="not_found")])

    answered = approved.steps.get(kind=Step.Kind.AGENCY_ANSWERED)
    assert answered.detail["border_control"]["result"] == "rejected"


def test_unapproved_application_is_not_handed_over(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    with pytest.raises(ValidationError, match="only an approved one"):
        services.hand_over_border_control(application)


def test_without_police_agency(approved):
    handover = services.hand_over_border_control(approved)
    assert handover.agency is None
    assert handover.agency_name == "广东省公安厅"
    with pytest.raises(ValueError):
        handover.item_request()
