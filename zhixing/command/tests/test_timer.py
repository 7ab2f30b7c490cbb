"""The overdue check: reminder first, then the supervision notice, each sent once."""

from __future__ import annotations

import datetime

import pytest

from zhixing import timers
from zhixing.command import services
from zhixing.command.models import OrderRecipient, SupervisionNotice
from zhixing.command.tests.conftest import NOW, row_of
from zhixing.events.models import Event

pytestmark = pytest.mark.django_db

State = OrderRecipient.State
HOUR = datetime.timedelta(hours=1)
DUE = NOW + 24 * HOUR


@pytest.fixture
def order(issue):
    return issue("粤01", ["粤0104", "粤0105"], deadline=DUE)


def kinds(kind):
    return sorted((event.court.code, event.severity) for event in Event.objects.filter(kind=kind))


def test_timer_is_registered():
    assert "command.overdue_orders" in timers.registered()


def test_nothing_happens_before_the_deadline(order):
    assert services.check_overdue(DUE - datetime.timedelta(seconds=1)) == 0
    assert set(order.recipients.values_list("state", flat=True)) == {State.SENT}


def test_reminder_then_supervision_each_once(order, commanders, settings):
    settings.COMMAND_SUPERVISION_HOURS = 12
    services.reply(commanders["粤0105"], row_of(order, "粤0105"), "已完成", now=NOW)

    # The deadline passes: the late court is marked overdue and reminded.
    assert services.check_overdue(DUE) == 2
    row = row_of(order, "粤0104")
    assert row.state == State.OVERDUE
    assert row.overdue_at == DUE
    assert row.reminded_at == DUE
    assert kinds("command.order_reminder") == [("粤0104", "info")]
    assert kinds("command.order_overdue") == [("粤01", "info")]
    assert row_of(order, "粤0105").state == State.REPLIED

    # Nothing is repeated, and the notice waits for the configured time.
    assert services.check_overdue(DUE + HOUR) == 0
    assert services.check_overdue(DUE + 12 * HOUR - datetime.timedelta(seconds=1)) == 0
    assert not SupervisionNotice.objects.exists()

    assert services.check_overdue(DUE + 12 * HOUR) == 1
    notice = SupervisionNotice.objects.get()
    assert notice.recipient == row
    assert notice.court.code == "粤0104"
    assert notice.order == order
    assert row_of(order, "粤0104").supervised_at == DUE + 12 * HOUR
    assert kinds("command.supervision_notice") == [
        ("粤", "major"),
        ("粤01", "major"),
        ("粤0104", "major"),
    ]

    assert services.check_overdue(DUE + 100 * HOUR) == 0
    assert SupervisionNotice.objects.count() == 1
    assert len(kinds("command.order_reminder")) == 1
    assert len(kinds("command.supervision_notice")) == 3


def test_default_supervision_delay_is_a_day(order):
    services.check_overdue(DUE)
    assert services.check_overdue(DUE + 23 * HOUR) == 0
    assert services.check_overdue(DUE + 24 * HOUR) == 2


def test_late_reply_stops_the_supervision(order, commanders):
    services.check_overdue(DUE)
    row = services.reply(commanders["粤0104"], row_of(order, "粤0104"), "迟复", now=DUE + HOUR)
    assert row.state == State.REPLIED
    assert row.replied_late is True

    services.check_overdue(DUE + 48 * HOUR)
    assert not SupervisionNotice.objects.filter(court__code="粤0104").exists()
    assert SupervisionNotice.objects.filter(court__code="粤0105").exists()


def test_closed_order_is_never_overdue(order, commanders):
    services.close_order(commanders["粤01"], order, now=NOW)
    assert services.check_overdue(DUE + 48 * HOUR) == 0
    assert not Event.objects.filter(kind="command.order_reminder").exists()


def test_runner_calls_the_check_with_its_clock(order):
    results = timers.run_due(DUE, force=True)
    assert results["command.overdue_orders"] == 4
    assert timers.run_due(DUE, force=True)["command.overdue_orders"] == 0


def test_notice_visible_to_courts_above_only(order, commanders):
    services.check_overdue(DUE)
    services.check_overdue(DUE + 24 * HOUR)
    notice_courts = {"粤0104", "粤01", "粤"}
    for code, user in commanders.items():
        visible = services.visible_notices(user).filter(court__code="粤0104").exists()
        assert visible is (code in notice_courts), code
