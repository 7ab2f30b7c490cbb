"""An approved exit restriction, and its lifting, reach the border-control agency of the
simulator process.

The high court executes the approved application; the gateway sends the restrict_exit item with
the doubly sealed PDF to the provincial police, and the agency's answer becomes a step of the
application. Lifting it sends a release item with the sealed lifting notice, whose answer
becomes a step too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from zhixing.approvals import services
from zhixing.approvals.models import State, Step
from zhixing.approvals.tests.conftest import exit_input, run_to
from zhixing.inquiry.tests.test_simulator_path import (  # noqa: F401 (fixtures)
    run_until_answered,
    simulator,
)
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.linkage.services import load_agencies_file

pytestmark = pytest.mark.django_db

ANSWER_TIMEOUT_S = 30


def connect_police(running: tuple[str, Path]) -> None:
    """Register the simulator's agencies and keep only its police agency active and open."""
    url, folder = running
    load_agencies_file(keys_dir=folder / "agency-keys", base_url=f"{url}/agencies/{{code}}")
    Agency.objects.exclude(code="police-gd").update(active=False)
    Agency.objects.update(
        batch_window_seconds=0,
        poll_interval_seconds=0,
        service_start=None,
        service_end=None,
        service_days=[1, 2, 3, 4, 5, 6, 7],
    )


def test_exit_restriction_reaches_border_control(simulator, staff, case, monkeypatch):  # noqa: F811
    monkeypatch.delenv("ZHIXING_GATEWAY_CALLBACK_URL", raising=False)
    connect_police(simulator)
    application = services.draft_exit_restriction(
        staff["officer0104"], exit_input(case, period_start=timezone.localdate())
    )
    approved = run_to(application, staff, State.APPROVED)

    step = services.execute(staff["commander00"], approved)
    run_until_answered(ANSWER_TIMEOUT_S)

    assert step.detail["border_control"]["sent"] is True
    item = GatewayItem.objects.get(pk=approved.border_control_item)
    assert item.state == GatewayItem.State.ANSWERED, item.last_error
    answered = approved.steps.get(kind=Step.Kind.AGENCY_ANSWERED)
    assert answered.detail["border_control"]["result"] == "done"
    assert answered.detail["border_control"]["start"] == approved.period_start.isoformat()
    assert answered.detail["border_control"]["end"] == approved.period_end.isoformat()


def test_lifting_reaches_border_control(simulator, staff, case, monkeypatch):  # noqa: F811
    monkeypatch.delenv("ZHIXING_GATEWAY_CALLBACK_URL", raising=False)
    connect_police(simulator)
    application = services.draft_exit_restriction(
        staff["officer0104"], exit_input(case, period_start=timezone.localdate())
    )
    approved = run_to(application, staff, State.APPROVED)
    services.execute(staff["commander00"], approved)
    run_until_answered(ANSWER_TIMEOUT_S)

    step = services.lift(staff["commander00"], approved, comment="被执行人已履行全部义务。")
    run_until_answered(ANSWER_TIMEOUT_S)

    assert step.detail["border_control_release"]["sent"] is True
    item = GatewayItem.objects.get(pk=step.detail["border_control_release"]["item_id"])
    assert item.action == "release"
    assert item.state == GatewayItem.State.ANSWERED, item.last_error
    answered = approved.steps.get(kind=Step.Kind.LIFTING_ANSWERED)
    release = answered.detail["border_control_release"]
    assert release["result"] == "done", release
    assert release["released_on"] == timezone.localdate().isoformat()
