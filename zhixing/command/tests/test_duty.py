"""Duty sign-in: once per court and Asia/Shanghai day, and the status of a scope."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from zhixing.command import services
from zhixing.command.models import DutySignIn
from zhixing.command.tests.conftest import aware
from zhixing.events.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def duty(make_user):
    codes = ["粤", "粤01", "粤03", "粤0104", "粤0105", "粤0303"]
    return {code: make_user(f"duty{code}", code, "duty_officer") for code in codes}


def test_sign_in_once_per_court_and_day(duty, make_user, courts):
    colleague = make_user("duty0104b", "粤0104", "duty_officer")
    signed = services.sign_in(duty["粤0104"], now=aware("2026-03-02 08:30"))
    assert signed.day == datetime.date(2026, 3, 2)

    with pytest.raises(ValidationError) as raised:
        services.sign_in(colleague, now=aware("2026-03-02 23:59"))
    message = raised.value.messages[0]
    assert "duty粤0104 already signed in" in message
    assert courts["粤0104"].name in message
    assert "08:30" in message

    # 00:01 in Beijing is still the previous day in UTC, and a new day for sign-in.
    next_day = services.sign_in(colleague, now=aware("2026-03-03 00:01"))
    assert next_day.day == datetime.date(2026, 3, 3)
    assert DutySignIn.objects.count() == 2


def test_sign_in_publishes_to_courts_above(duty):
    services.sign_in(duty["粤0104"], now=aware("2026-03-02 08:30"))
    events = Event.objects.filter(kind="command.duty_signed_in")
    assert sorted(event.court.code for event in events) == ["粤", "粤01", "粤0104"]


def test_only_duty_officers_sign_in(make_user):
    commander = make_user("commander0104", "粤0104", "commander")
    with pytest.raises(PermissionDenied):
        services.sign_in(commander)


def test_status_groups_missing_courts_by_intermediate_court(duty, commanders):
    morning = aware("2026-03-02 09:00")
    for code in ("粤", "粤0104", "粤0303"):
        services.sign_in(duty[code], now=morning)
    # A sign-in of the day before does not count.
    services.sign_in(duty["粤0105"], now=aware("2026-03-01 09:00"))

    status = services.duty_status(commanders["粤"], now=morning)
    assert status.day == datetime.date(2026, 3, 2)
    assert (status.total, status.signed_count, status.missing_count) == (6, 3, 3)
    groups = {group.court.code: group for group in status.groups}
    assert list(groups) == ["粤", "粤01", "粤03"]
    assert [court.code for court in groups["粤01"].missing] == ["粤01", "粤0105"]
    assert [court.code for court, _signed in groups["粤01"].signed] == ["粤0104"]
    assert [court.code for court in groups["粤03"].missing] == ["粤03"]
    assert groups["粤"].missing == []

    city = services.duty_status(commanders["粤01"], now=morning)
    assert [group.court.code for group in city.groups] == ["粤01"]
    assert (city.total, city.missing_count) == (3, 2)

    basic = services.duty_status(commanders["粤0105"], now=morning)
    assert (basic.total, basic.missing_count) == (1, 1)


def test_status_leaves_out_inactive_courts(duty, commanders, courts):
    courts["粤0105"].active_to = datetime.date(2026, 1, 1)
    courts["粤0105"].save()
    status = services.duty_status(commanders["粤01"], now=aware("2026-03-02 09:00"))
    assert status.total == 2
