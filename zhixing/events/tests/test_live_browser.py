"""Live delivery in headless Chromium: an event reaches the open page, and a page that was
away receives what it missed when it reconnects."""

from __future__ import annotations

import time

import pytest

from zhixing.events import services, stream
from zhixing.web.tests.test_browser import _roles, browser, new_tab  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # The browser fixture then skips, or fails when a browser is required.
    expect = None  # type: ignore[assignment]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _quick_heartbeat(monkeypatch):
    """Send keep-alives often, so a stream notices at once that its tab was closed."""
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.3)


def close_tabs(*tabs) -> None:
    """Close the tabs and give their streams time to end while the database is still open."""
    for tab in tabs:
        tab.page.context.close()
    time.sleep(1.0)


def wait_until_open(tab) -> None:
    expect(tab.page.locator("body")).to_have_attribute("data-live-state", "open")


def test_major_event_alerts_both_courts(new_tab, make_user, courts):  # noqa: F811
    make_user("commander01", "粤01", "commander")
    make_user("commander00", "粤", "commander")
    tabs = []
    for username in ("commander01", "commander00"):
        tab = new_tab(live=True)
        tab.login(username)
        wait_until_open(tab)
        tabs.append(tab)

    services.publish(
        "test.major",
        courts=[courts["粤01"], courts["粤"]],
        data={"title": "暴力抗拒执行", "url": "/"},
        severity="major",
    )

    for tab in tabs:
        alert = tab.page.locator("[data-testid=live-alert]")
        expect(alert).to_have_count(1, timeout=3_000)
        expect(alert).to_contain_text("暴力抗拒执行")
        assert tab.csp_problems() == []
        assert tab.errors == []
    close_tabs(*tabs)


def test_reconnected_page_receives_missed_events(new_tab, make_user, courts):  # noqa: F811
    make_user("commander01", "粤01", "commander")
    tab = new_tab(live=True)
    tab.login("commander01")
    wait_until_open(tab)
    (seen,) = services.publish("test.first", courts=[courts["粤01"]], data={"title": "一"})
    expect(tab.page.locator("body")).to_have_attribute("data-last-event-id", str(seen.id))

    # The connection drops; events published meanwhile wait in the log.
    tab.page.context.set_offline(True)
    missed = services.publish(
        "test.missed", courts=[courts["粤01"]], data={"title": "二"}, severity="major"
    )
    tab.page.context.set_offline(False)

    alert = tab.page.locator("[data-testid=live-alert]")
    expect(alert).to_contain_text("二", timeout=10_000)
    expect(tab.page.locator("body")).to_have_attribute("data-last-event-id", str(missed[0].id))
    close_tabs(tab)
