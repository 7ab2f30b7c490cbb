"""The expiry watch: warnings at 30, 15 and 7 days, once each, and expired measures flagged."""

from __future__ import annotations

import datetime

from zhixing import timers
from zhixing.events.models import Event
from zhixing.measures import services
from zhixing.measures.models import ControlMeasure, ExpiryAlert
from zhixing.measures.tests.conftest import ACCOUNT, answer_step

CHINA = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=CHINA)


def in_force(officer, asset, months=1):
    measure = services.request_measure(
        officer, asset, "freeze", amount="100.00", period_months=months, now=NOW
    )
    step = measure.steps.get()
    answer_step(step, {"type": "freeze", "frozen_amount": "100.00"})
    services.sync_gateway_states(NOW)
    measure.refresh_from_db()
    return measure


def on(day):
    return datetime.datetime.combine(day, datetime.time(9, 0), tzinfo=CHINA)


def test_timers_registered():
    assert {"measures.expiry_watch", "measures.item_sync"} <= set(timers.registered())


def test_each_threshold_once(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT), months=2)
    end = measure.end_date
    assert end == datetime.date(2027, 2, 3)

    assert services.check_expiries(on(end - datetime.timedelta(days=31))) == 0
    assert services.check_expiries(on(end - datetime.timedelta(days=30))) == 1
    assert services.check_expiries(on(end - datetime.timedelta(days=29))) == 0
    assert services.check_expiries(on(end - datetime.timedelta(days=15))) == 1
    assert services.check_expiries(on(end - datetime.timedelta(days=15))) == 0
    assert services.check_expiries(on(end - datetime.timedelta(days=7))) == 1
    assert services.check_expiries(on(end)) == 0

    assert sorted(ExpiryAlert.objects.values_list("threshold_days", flat=True)) == [7, 15, 30]
    officer_events = Event.objects.filter(kind="measures.expiring", user=officer)
    assert officer_events.count() == 3
    courts = set(
        Event.objects.filter(kind="measures.expiring", court__isnull=False).values_list(
            "court__code", flat=True
        )
    )
    assert courts == {"粤0104", "粤01", "粤"}
    assert all(event.severity == "info" for event in officer_events)


def test_late_first_look_sends_one_warning(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))

    assert services.check_expiries(on(measure.end_date - datetime.timedelta(days=5))) == 1

    assert ExpiryAlert.objects.count() == 3
    assert Event.objects.filter(kind="measures.expiring", user=officer).count() == 1


def test_expired_flagged_major(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    after = on(measure.end_date + datetime.timedelta(days=1))

    assert services.check_expiries(after) == 1
    assert services.check_expiries(after) == 0

    measure.refresh_from_db()
    assert measure.state == ControlMeasure.State.EXPIRED
    flagged = Event.objects.filter(kind="measures.expired", court__isnull=False)
    assert {event.court.code for event in flagged} == {"粤0104", "粤01", "粤"}
    assert all(event.severity == "major" for event in flagged)
    assert Event.objects.filter(kind="measures.expired", user=officer).exists()


def test_renewal_restarts_warnings(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    services.check_expiries(on(measure.end_date - datetime.timedelta(days=6)))
    step = services.renew_measure(
        officer, measure, period_months=1, now=on(measure.end_date - datetime.timedelta(days=6))
    )
    # A pending renewal holds back both warnings and expiry.
    assert services.check_expiries(on(measure.end_date + datetime.timedelta(days=1))) == 0

    answer_step(step, {"type": "renew"})
    services.sync_gateway_states(NOW)
    measure.refresh_from_db()
    assert measure.end_date == step.end_date
    assert services.check_expiries(on(measure.end_date - datetime.timedelta(days=7))) == 1
    assert ExpiryAlert.objects.filter(end_date=measure.end_date).count() == 3


def test_timer_runner_calls_watch(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))

    results = timers.run_due(on(measure.end_date + datetime.timedelta(days=1)), force=True)

    assert results["measures.expiry_watch"] == 1
