"""Closing a case while control measures await the agency's answer, and what the refusal lists.

Exit restrictions that keep a case open are tested with the approvals app, whose fixtures draft
and approve them (zhixing/approvals/tests/test_lifting.py).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from zhixing.cases import services
from zhixing.cases.models import FlowNode
from zhixing.cases.tests.test_services import _file, store_measure
from zhixing.measures.models import ControlMeasure

pytestmark = pytest.mark.django_db

REFUSING_MODES = ["completed", "terminated", "withdrawn", "not_enforced", "application_rejected"]


def close(case, officer, mode):
    return services.close_case(actor=officer, case=case, mode=mode, on=services.today_in_china())


@pytest.mark.parametrize("mode", REFUSING_MODES)
@pytest.mark.parametrize("state", ["requested", "sent"])
def test_close_rejected_while_answer_awaited(make_user, courts, mode, state):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    freeze = store_measure(case, officer, state=state)

    with pytest.raises(ValidationError) as info:
        close(case, officer, mode)

    message = " ".join(info.value.message_dict["mode"])
    assert "awaiting the agency's answer" in message
    assert f"Freeze deposits #{freeze.pk}" in message
    assert f"{case.case_number}之一" in message
    assert "Wait for the answers" in message
    assert "in force:" not in message
    case.refresh_from_db()
    assert case.status == "open"
    assert not FlowNode.objects.filter(case=case, kind="closed").exists()


def test_awaited_deduction_blocks_closing(make_user, courts):
    """A deduction is never released, but one in flight still moves money after closing."""
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    deduction = store_measure(case, officer, kind="deduct", state="sent")

    with pytest.raises(ValidationError, match=f"Deduct deposits #{deduction.pk}"):
        close(case, officer, "completed")


def test_refusal_lists_in_force_and_awaited(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    in_force = store_measure(case, officer, sequence=1)
    awaited = store_measure(case, officer, state="requested", sequence=2)

    with pytest.raises(ValidationError) as info:
        close(case, officer, "completed")

    message = " ".join(info.value.message_dict["mode"])
    in_force_part, awaited_part = message.split("awaiting the agency's answer")
    assert f"#{in_force.pk}," in in_force_part
    assert "Release them first" in in_force_part
    assert f"#{awaited.pk}," in awaited_part
    assert f"#{awaited.pk}," not in in_force_part


def test_terminated_without_assets_keeps_awaited(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    freeze = store_measure(case, officer, state="sent")

    close(case, officer, "terminated_without_assets")

    case.refresh_from_db()
    assert case.is_closed
    freeze.refresh_from_db()
    assert freeze.state == "sent"


def test_answered_measures_do_not_block(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    store_measure(case, officer, state="rejected", sequence=1)
    store_measure(case, officer, state="released", sequence=2)

    close(case, officer, "completed")

    case.refresh_from_db()
    assert case.is_closed


def test_refusal_masks_debtors_home(make_user, courts):
    """The message shows on the case page, so a person's home is masked as on measure pages."""
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    seizure = store_measure(case, officer, kind="seize_real_estate")
    ControlMeasure.objects.filter(pk=seizure.pk).update(
        asset_type="real_estate", asset_label="广州市越秀区中山五路1号"
    )

    with pytest.raises(ValidationError) as info:
        close(case, officer, "completed")

    message = " ".join(info.value.message_dict["mode"])
    assert f"Seize real estate #{seizure.pk}, 广州市越秀区****," in message
    assert "中山五路" not in message
