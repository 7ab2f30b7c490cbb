"""The overdue check with an injected clock: a step past its deadline is flagged once."""

from __future__ import annotations

import datetime

import pytest

from zhixing import timers
from zhixing.approvals import services
from zhixing.approvals.models import State, Step
from zhixing.approvals.tests.conftest import NOW, exit_input, run_to
from zhixing.events.models import Event

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def application(staff, case):
    return services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)


def test_timer_is_registered():
    assert "approvals.overdue_steps" in timers.registered()


def test_nothing_before_the_deadline(application):
    assert services.check_overdue(NOW + 72 * HOUR - datetime.timedelta(seconds=1)) == 0
    application.refresh_from_db()
    assert application.overdue_at is None


def test_overdue_step_flagged_once(application):
    due = NOW + 72 * HOUR
    assert services.check_overdue(due) == 1
    application.refresh_from_db()
    assert application.overdue_at == due
    assert application.is_overdue
    step = application.steps.get(kind=Step.Kind.OVERDUE)
    assert step.actor is None
    assert step.court.code == "粤0104"
    event = Event.objects.get(kind="approvals.overdue")
    assert event.severity == "major"
    assert services.check_overdue(due + HOUR) == 0
    assert application.steps.filter(kind=Step.Kind.OVERDUE).count() == 1


def test_next_step_clears_overdue_flag(application, staff):
    services.check_overdue(NOW + 100 * HOUR)
    later = NOW + 101 * HOUR
    services.approve_as_head(staff["head0104"], application, now=later)
    application.refresh_from_db()
    assert application.overdue_at is None
    assert application.step_due_at == later + 24 * HOUR
    step = application.steps.get(kind=Step.Kind.HEAD_APPROVED)
    assert step.due_at == NOW + 72 * HOUR
    assert step.was_late


def test_overdue_at_upper_court_tells_every_court(application, staff):
    run_to(application, staff, State.SUBMITTED)
    application.refresh_from_db()
    assert services.check_overdue(application.step_due_at) == 1
    step = application.steps.get(kind=Step.Kind.OVERDUE)
    assert step.court.code == "粤01"
    courts = set(
        Event.objects.filter(kind="approvals.overdue").values_list("court__code", flat=True)
    )
    assert courts == {"粤0104", "粤01", "粤"}


def test_final_states_are_never_overdue(application, staff):
    run_to(application, staff, State.SUBMITTED)
    services.reject(staff["head01"], application, comment="材料不全", now=NOW)
    assert services.check_overdue(NOW + 1000 * HOUR) == 0
