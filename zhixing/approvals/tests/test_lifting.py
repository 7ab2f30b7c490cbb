"""Lifting an exit restriction before its period ends, and the exit restrictions that keep a case
from closing."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from zhixing.approvals import services
from zhixing.approvals.models import Application, State, Step
from zhixing.approvals.tests.conftest import NOW, exit_input, renewal_input, run_to
from zhixing.approvals.tests.test_api import agency_answer, api_client, take
from zhixing.cases import services as case_services
from zhixing.linkage import gateway
from zhixing.linkage.models import GatewayItem

pytestmark = pytest.mark.django_db

Action = services.Action
LIFT_REASON = "被执行人已履行全部义务。解除限制出境决定书已于当日纸质送达省公安厅。"


def restriction(staff, case, state: str = State.EXECUTED) -> Application:
    """Return an exit restriction of the case's debtor from today, taken to ``state``.

    Without a police agency the high court executes it by handing the sealed PDF over by hand.
    """
    data = exit_input(case, period_start=timezone.localdate())
    application = services.draft_exit_restriction(staff["officer0104"], data)
    run_to(application, staff, State.APPROVED if state == State.EXECUTED else state)
    if state == State.EXECUTED:
        services.execute(staff["commander00"], application, comment="纸质送达省公安厅")
    assert application.state == state
    return application


def sent_restriction(staff, case, police) -> tuple[Application, GatewayItem]:
    """Return an executed exit restriction whose border-control request went to the gateway."""
    police.actions = ["query", "restrict_exit"]
    police.save()
    application = restriction(staff, case, State.APPROVED)
    services.execute(staff["commander00"], application)
    assert application.border_control_item is not None
    return application, GatewayItem.objects.get(pk=application.border_control_item)


def answer_border_control(police, item: GatewayItem, *records, status: str = "found") -> None:
    GatewayItem.objects.filter(pk=item.pk).update(state=GatewayItem.State.ACKNOWLEDGED)
    gateway.apply_answers(police, [agency_answer(item.pk, *records, status=status)])


def close(case, mode: str = "completed"):
    officer = case.case_officer
    return case_services.close_case(
        actor=officer, case=case, mode=mode, on=case_services.today_in_china()
    )


def refusal(case, mode: str = "completed") -> str:
    with pytest.raises(ValidationError) as info:
        close(case, mode)
    return " ".join(info.value.message_dict["mode"])


# Lifting


@pytest.mark.parametrize("state", [State.APPROVED, State.EXECUTED])
def test_high_court_lifts_restriction(staff, case, state):
    application = restriction(staff, case, state)
    assert Action.LIFT in services.allowed_actions(staff["commander00"], application)

    step = services.lift(staff["commander00"], application, comment=LIFT_REASON)

    application.refresh_from_db()
    assert application.state == State.LIFTED
    assert application.is_final
    assert application.step_due_at is None
    assert (step.kind, step.comment) == (Step.Kind.LIFTED, LIFT_REASON)
    assert step.court == staff["commander00"].court
    assert services.allowed_actions(staff["commander00"], application) == [Action.COMMENT]


def test_lifting_needs_a_reason(staff, case):
    application = restriction(staff, case)

    with pytest.raises(ValidationError) as info:
        services.lift(staff["commander00"], application, comment="  ")

    assert "广东省公安厅" in " ".join(info.value.message_dict["comment"])
    application.refresh_from_db()
    assert application.state == State.EXECUTED


@pytest.mark.parametrize("name", ["head0104", "officer0104", "head01", "commander01"])
def test_only_high_court_staff_lift(staff, case, name):
    application = restriction(staff, case)

    assert Action.LIFT not in services.allowed_actions(staff[name], application)
    with pytest.raises(PermissionDenied):
        services.lift(staff[name], application, comment=LIFT_REASON)


def test_lapsed_restriction_is_not_lifted(staff, case):
    application = restriction(staff, case)
    after_end = datetime.datetime.combine(
        application.period_end + datetime.timedelta(days=1), datetime.time(4), datetime.UTC
    )

    with pytest.raises(ValidationError, match="has lapsed"):
        services.lift(staff["commander00"], application, comment=LIFT_REASON, now=after_end)


def test_lifting_waits_for_border_control_answer(staff, case, police):
    application, item = sent_restriction(staff, case, police)
    assert Action.LIFT not in services.allowed_actions(staff["commander00"], application)
    with pytest.raises(ValidationError, match="awaits the agency's answer"):
        services.lift(staff["commander00"], application, comment=LIFT_REASON)

    answer_border_control(police, item, {"type": "restrict_exit", "result": "done"})

    assert Action.LIFT in services.allowed_actions(staff["commander00"], application)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    application.refresh_from_db()
    assert application.state == State.LIFTED


def test_seizure_renewal_has_no_lifting(staff, case):
    application = services.draft_seizure_renewal(staff["clerk0104"], renewal_input(case), now=NOW)
    services.approve_as_head(staff["head0104"], application, now=NOW)
    services.seal(staff["clerk0104"], application, now=NOW)
    services.submit(staff["clerk0104"], application, now=NOW)
    services.receive(staff["commander01"], application, now=NOW)
    services.approve(staff["head01"], application, now=NOW)

    for user in staff.values():
        assert Action.LIFT not in services.allowed_actions(user, application)
    with pytest.raises(ValidationError, match="not possible now"):
        services.lift(staff["head01"], application, comment=LIFT_REASON)


def test_page_lifts_with_notice(client, staff, case):
    application = restriction(staff, case)
    client.force_login(staff["commander00"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert 'data-testid="action-lift"' in page
    assert 'data-testid="lift-notice"' in page
    assert "not sent through the gateway" in page

    response = client.post(
        f"/approvals/{application.pk}/step/", {"action": "lift", "comment": LIFT_REASON}
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.LIFTED
    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert 'data-testid="step-lifted"' in page
    assert 'data-testid="action-lift"' not in page


def test_api_lifts(staff, case):
    application = restriction(staff, case)
    detail = api_client(staff["commander00"]).get(f"/api/v1/approvals/{application.pk}/").json()
    assert [entry["action"] for entry in detail["actions"]] == ["lift", "comment"]

    without = take(staff["commander00"], application.pk, "lift")
    lifted = take(staff["commander00"], application.pk, "lift", LIFT_REASON)

    assert without.status_code == 400
    assert "comment" in without.json()
    assert lifted.status_code == 201, lifted.content
    assert lifted.json()["state"] == "lifted"
    assert lifted.json()["steps"][-1]["kind"] == "lifted"


def test_new_restriction_after_lifting(staff, case):
    application = restriction(staff, case)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)

    again = services.draft_exit_restriction(
        staff["officer0104"], exit_input(case, period_start=timezone.localdate())
    )

    assert again.state == State.DRAFTED


# Closing the case


@pytest.mark.parametrize("state", [State.APPROVED, State.EXECUTED])
def test_restriction_keeps_case_open(staff, case, state):
    application = restriction(staff, case, state)

    message = refusal(case)

    assert f"application #{application.pk} for 黄志强" in message
    assert application.period_end.isoformat() in message
    assert "Ask 广东省高级人民法院 to lift them" in message
    assert "Control measures" not in message
    case.refresh_from_db()
    assert case.status == "open"


def test_lifted_restriction_lets_case_close(staff, case):
    application = restriction(staff, case)
    refusal(case)

    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    close(case)

    case.refresh_from_db()
    assert case.is_closed


def test_terminated_without_assets_keeps_restriction(staff, case):
    application = restriction(staff, case)

    close(case, "terminated_without_assets")

    case.refresh_from_db()
    assert case.is_closed
    application.refresh_from_db()
    assert application.state == State.EXECUTED


def test_undecided_restriction_does_not_block(staff, case):
    restriction(staff, case, State.RECEIVED)

    close(case)

    case.refresh_from_db()
    assert case.is_closed


def test_lapsed_restriction_does_not_block(staff, case):
    application = restriction(staff, case)
    today = case_services.today_in_china()
    Application.objects.filter(pk=application.pk).update(
        period_start=today - datetime.timedelta(days=10),
        period_end=today - datetime.timedelta(days=1),
    )

    close(case)

    case.refresh_from_db()
    assert case.is_closed


def test_refused_restriction_does_not_block(staff, case, police):
    _application, item = sent_restriction(staff, case, police)
    refusal(case)

    answer_border_control(police, item, status="not_found")

    close(case)
    case.refresh_from_db()
    assert case.is_closed


def test_registered_restriction_blocks(staff, case, police):
    application, item = sent_restriction(staff, case, police)

    answer_border_control(police, item, {"type": "restrict_exit", "result": "done"})

    assert f"application #{application.pk}" in refusal(case)


def test_refusal_lists_measures_and_restriction(staff, case, make_measure):
    seizure = make_measure(case)
    application = restriction(staff, case)

    message = refusal(case)

    assert f"Seize real estate #{seizure.pk}" in message
    assert f"application #{application.pk}" in message
    assert message.index("Control measures in force") < message.index("Exit restrictions")
