"""The border-control request that the high court hands to the provincial public-security agency."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError

from zhixing.approvals import services
from zhixing.approvals.models import State
from zhixing.approvals.tests.conftest import NOW, exit_input, run_to
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


def test_nothing_is_queued_while_gateway_lacks_action(approved, police):
    handover = services.hand_over_border_control(approved)
    assert handover.sent is False
    assert "restrict_exit" in handover.gap
    assert not GatewayItem.objects.exists()


def test_execution_records_handover_and_needs_comment(approved, police, staff):
    with pytest.raises(ValidationError, match="Hand the sealed PDF to 广东省公安厅"):
        services.execute(staff["commander00"], approved, now=NOW)
    step = services.execute(staff["commander00"], approved, comment="纸质送达省公安厅", now=NOW)
    detail = step.detail["border_control"]
    assert detail["agency"] == "police-gd"
    assert detail["sent"] is False
    assert detail["action"] == "restrict_exit"
    assert not GatewayItem.objects.exists()


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
