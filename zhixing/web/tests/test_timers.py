"""The runner of the apps' periodic checks: intervals, failures, registration."""

from __future__ import annotations

import datetime

import pytest

from zhixing import timers

NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture
def fresh_timers(monkeypatch):
    monkeypatch.setattr(timers, "_timers", {})


def test_check_runs_once_per_interval(fresh_timers):
    calls = []
    timers.register("test.count", lambda now: calls.append(now) or 1, every_seconds=60)

    timers.run_due(NOW)
    timers.run_due(NOW + datetime.timedelta(seconds=30))
    timers.run_due(NOW + datetime.timedelta(seconds=61))

    assert calls == [NOW, NOW + datetime.timedelta(seconds=61)]


def test_failing_check_does_not_stop_others(fresh_timers, caplog):
    def broken(now):
        raise RuntimeError("boom")

    timers.register("test.broken", broken, every_seconds=1)
    timers.register("test.fine", lambda now: 2, every_seconds=1)

    results = timers.run_due(NOW)

    assert results == {"test.fine": 2}
    assert "test.broken failed" in caplog.text


def test_apps_register_their_checks():
    assert {"events.purge", "reports.escalate"} <= set(timers.registered())
