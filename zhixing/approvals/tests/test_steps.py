"""The step machine: routing, the actions each court and role may take, and clear refusals."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from zhixing.approvals import services
from zhixing.approvals.models import Kind, State, Step
from zhixing.approvals.tests.conftest import (
    DEBTOR01_ID,
    NOW,
    TODAY,
    exit_input,
    renewal_input,
    run_to,
)
from zhixing.events.models import Event

pytestmark = pytest.mark.django_db

Action = services.Action


@pytest.fixture
def exit_application(staff, case):
    return services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)


def test_route_of_each_kind(courts):
    assert services.route(courts["粤0104"], Kind.EXIT_RESTRICTION) == (courts["粤01"], courts["粤"])
    assert services.route(courts["粤01"], Kind.EXIT_RESTRICTION) == (None, courts["粤"])
    assert services.route(courts["粤0104"], Kind.SEIZURE_RENEWAL) == (None, courts["粤01"])
    assert services.route(courts["粤01"], Kind.SEIZURE_RENEWAL) == (None, courts["粤"])


def test_high_court_does_not_apply(courts):
    with pytest.raises(ValidationError, match="no court above it"):
        services.route(courts["粤"], Kind.EXIT_RESTRICTION)


def test_draft_reads_full_width_case_number(case, staff):
    typed = case.case_number.replace("(", "（").replace(")", "）")

    application = services.draft_exit_restriction(
        staff["officer0104"], exit_input(case, case_number=typed), now=NOW
    )

    assert application.case == case


def test_draft_exit_restriction(exit_application, case):
    application = exit_application
    assert application.state == State.DRAFTED
    assert application.person_name == "黄志强"
    assert application.period_end == datetime.date(2027, 5, 31)
    assert application.step_due_at == NOW + datetime.timedelta(hours=72)
    assert application.revisions.get().number == 0
    assert list(application.steps.values_list("kind", flat=True)) == ["drafted"]
    # Only the applying court hears of a draft.
    assert set(
        Event.objects.filter(kind="approvals.drafted").values_list("court__code", flat=True)
    ) == {"粤0104"}


def test_whole_exit_restriction_path(exit_application, staff):
    application = run_to(exit_application, staff, State.APPROVED)
    services.execute(staff["commander00"], application, comment="已送省公安厅", now=NOW)
    assert application.state == State.EXECUTED
    assert list(application.steps.values_list("kind", flat=True)) == [
        "drafted",
        "head_approved",
        "sealed",
        "submitted",
        "reviewed",
        "received",
        "approved",
        "executed",
    ]
    # Three signatures give revisions 1 to 3 after the draft: head, seal, approval seal.
    assert list(application.revisions.values_list("number", flat=True)) == [0, 1, 2, 3]
    assert application.step_due_at is None
    # After submission every court involved hears of each step.
    codes = set(
        Event.objects.filter(kind="approvals.approved").values_list("court__code", flat=True)
    )
    assert codes == {"粤0104", "粤01", "粤"}


def test_allowed_actions_per_court_and_role(exit_application, staff):
    application = exit_application
    assert services.allowed_actions(staff["head0104"], application) == [
        Action.HEAD_APPROVE,
        Action.COMMENT,
    ]
    assert services.allowed_actions(staff["officer0104"], application) == [Action.COMMENT]
    assert services.allowed_actions(staff["head00"], application) == []

    run_to(application, staff, State.SUBMITTED)
    assert services.allowed_actions(staff["head01"], application) == [
        Action.REVIEW,
        Action.REJECT,
        Action.COMMENT,
    ]
    assert services.allowed_actions(staff["commander01"], application) == [Action.COMMENT]
    # The high court waits for the intermediate court's review.
    assert services.allowed_actions(staff["head00"], application) == [Action.COMMENT]

    run_to(application, staff, State.REVIEWED)
    assert Action.RECEIVE in services.allowed_actions(staff["commander00"], application)
    run_to(application, staff, State.RECEIVED)
    assert services.allowed_actions(staff["head00"], application) == [
        Action.APPROVE,
        Action.REJECT,
        Action.COMMENT,
    ]
    assert services.allowed_actions(staff["commander00"], application) == [Action.COMMENT]
    assert services.allowed_actions(staff["head0105"], application) == []


def test_wrong_role_is_refused(exit_application, staff):
    with pytest.raises(PermissionDenied, match="Only the Bureau head of 广州市越秀区人民法院"):
        services.approve_as_head(staff["officer0104"], exit_application, now=NOW)
    assert exit_application.state == State.DRAFTED
    assert exit_application.revisions.count() == 1


def test_wrong_court_is_refused(exit_application, staff):
    run_to(exit_application, staff, State.SUBMITTED)
    with pytest.raises(PermissionDenied, match="广州市中级人民法院"):
        services.review(staff["head03"], exit_application, comment="同意", now=NOW)


def test_skipping_a_step_is_refused(exit_application, staff):
    with pytest.raises(ValidationError, match="The application is Drafted; submit is not possible"):
        services.submit(staff["officer0104"], exit_application, now=NOW)
    with pytest.raises(ValidationError, match="approve with the court's seal is not possible"):
        services.approve(staff["head00"], exit_application, now=NOW)
    run_to(exit_application, staff, State.SUBMITTED)
    # The high court may not receive before the intermediate court's review.
    with pytest.raises(ValidationError, match="register receipt is not possible"):
        services.receive(staff["commander00"], exit_application, now=NOW)


def test_review_and_rejection_need_a_comment(exit_application, staff):
    run_to(exit_application, staff, State.SUBMITTED)
    with pytest.raises(ValidationError) as error:
        services.review(staff["head01"], exit_application, comment="  ", now=NOW)
    assert "comment" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.reject(staff["head01"], exit_application, comment="", now=NOW)
    assert "comment" in error.value.message_dict


def test_intermediate_court_rejects(exit_application, staff):
    run_to(exit_application, staff, State.SUBMITTED)
    services.reject(staff["head01"], exit_application, comment="材料不全", now=NOW)
    assert exit_application.state == State.REJECTED
    assert exit_application.step_due_at is None
    assert services.allowed_actions(staff["head00"], exit_application) == [Action.COMMENT]
    with pytest.raises(ValidationError, match="Rejected"):
        services.receive(staff["commander00"], exit_application, now=NOW)


def test_high_court_rejects_without_seal(exit_application, staff):
    run_to(exit_application, staff, State.RECEIVED)
    step = services.reject(staff["head00"], exit_application, comment="理由不足", now=NOW)
    assert step.revision is None
    assert exit_application.revisions.count() == 3


def test_comments_by_courts_reached(exit_application, staff):
    with pytest.raises(PermissionDenied, match="reached"):
        services.add_comment(staff["head01"], exit_application, "请补充材料", now=NOW)
    run_to(exit_application, staff, State.SUBMITTED)
    step = services.add_comment(staff["commander01"], exit_application, "请补充材料", now=NOW)
    assert step.kind == Step.Kind.COMMENT
    assert exit_application.state == State.SUBMITTED
    with pytest.raises(PermissionDenied):
        services.add_comment(staff["head0105"], exit_application, "无关", now=NOW)


def test_intermediate_court_applies_to_high_court(staff, case01):
    application = services.draft_exit_restriction(
        staff["officer01"],
        exit_input(case01, person_document_number=DEBTOR01_ID),
        now=NOW,
    )
    assert application.reviewing_court is None
    assert application.deciding_court.code == "粤"


def test_seizure_renewal_path(staff, case):
    application = services.draft_seizure_renewal(staff["clerk0104"], renewal_input(case), now=NOW)
    assert application.deciding_court.code == "粤01"
    assert application.period_start == datetime.date(2026, 12, 20)
    assert application.period_end == datetime.date(2029, 12, 19)
    services.approve_as_head(staff["head0104"], application, now=NOW)
    services.seal(staff["clerk0104"], application, now=NOW)
    services.submit(staff["clerk0104"], application, now=NOW)
    assert services.allowed_actions(staff["head00"], application) == []
    services.receive(staff["commander01"], application, now=NOW)
    services.approve(staff["head01"], application, now=NOW)
    # The applying court carries out a renewal.
    assert services.allowed_actions(staff["head01"], application) == [Action.COMMENT]
    services.execute(staff["officer0104"], application, now=NOW)
    assert application.state == State.EXECUTED


def test_renewal_deadline_before_seizure_ends(staff, case):
    application = services.draft_seizure_renewal(
        staff["clerk0104"],
        renewal_input(case, previous_end=TODAY + datetime.timedelta(days=1)),
        now=NOW,
    )
    # 72 hours would pass the seizure's end; the deadline is the seizure's last moment.
    assert application.step_due_at == datetime.datetime(2026, 12, 2, 16, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"period_months": 2}, "period_months"),
        ({"period_months": 61}, "period_months"),
        ({"reason": " "}, "reason"),
        ({"case_number": "(2026)粤0104执9999号"}, "case_number"),
        ({"person_document_number": "440104198506121230"}, "person_document_number"),
        ({"period_start": TODAY - datetime.timedelta(days=1)}, "period_start"),
    ],
)
def test_invalid_exit_restriction(staff, case, values, field):
    with pytest.raises(ValidationError) as error:
        services.draft_exit_restriction(staff["officer0104"], exit_input(case, **values), now=NOW)
    assert field in error.value.message_dict


def test_organisation_is_not_restricted(staff, case):
    company = case.parties.get(kind="organisation")
    company.document_type = "passport"
    company.document_number = "E00000001"
    company.save()
    with pytest.raises(ValidationError, match="is an organisation"):
        services.draft_exit_restriction(
            staff["officer0104"],
            exit_input(case, person_document_type="passport", person_document_number="E00000001"),
            now=NOW,
        )


def test_lapsed_seizure_is_not_renewed(staff, case):
    with pytest.raises(ValidationError, match="lapsed"):
        services.draft_seizure_renewal(
            staff["clerk0104"],
            renewal_input(case, previous_end=TODAY - datetime.timedelta(days=1)),
            now=NOW,
        )


def test_sibling_case_is_not_applied_for(staff, case):
    with pytest.raises(ValidationError, match="no such case of 广州市海珠区人民法院"):
        services.draft_exit_restriction(staff["officer0105"], exit_input(case), now=NOW)


def test_commander_does_not_draft(staff, case):
    with pytest.raises(PermissionDenied):
        services.draft_exit_restriction(staff["commander0104"], exit_input(case), now=NOW)
