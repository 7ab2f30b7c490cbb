"""Orders in headless Chromium: a new order and its acknowledgement appear live on both sides."""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone

from zhixing.command.models import Order
from zhixing.events import stream
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


def live_tab(new_tab, username, path):  # noqa: F811
    tab = new_tab(live=True)
    tab.login(username)
    tab.open(path)
    expect(tab.page.locator("body")).to_have_attribute("data-live-state", "open")
    return tab


def test_order_and_acknowledgement_arrive_live(new_tab, make_user, courts):  # noqa: F811
    make_user("commander01", "粤01", "commander")
    make_user("duty0104", "粤0104", "duty_officer")
    basic = live_tab(new_tab, "duty0104", "/command/")
    city = new_tab(live=True)
    city.login("commander01")

    # The intermediate court issues an order through its form.
    city.open("/command/new/")
    form = city.page.locator("[data-testid=order-form]")
    form.locator("input[name=title]").fill("春节前集中执行")
    form.locator("textarea[name=task]").fill("组织集中执行行动并报告结果。")
    deadline = timezone.localtime(timezone.now() + datetime.timedelta(days=2))
    form.locator("input[name=deadline]").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[data-court-code='粤0104']").check()
    with city.page.expect_navigation():
        form.locator("button[type=submit]").click()
    order = Order.objects.get()
    expect(city.page.locator("body")).to_have_attribute("data-live-state", "open")

    # The basic court's open list shows the order without a reload.
    received = basic.page.locator(f"[data-testid=received-{order.pk}]")
    expect(received).to_contain_text("春节前集中执行", timeout=10_000)

    # The basic court acknowledges, and the issuer's open page shows it without a reload.
    received.locator("a").click()
    basic.page.wait_for_load_state("load")
    with basic.page.expect_navigation():
        basic.page.locator("[data-testid=acknowledge]").click()
    court = courts["粤0104"]
    expect(city.page.locator(f"[data-testid=state-{court.pk}]")).to_have_attribute(
        "data-state", "received", timeout=10_000
    )
    expect(city.page.locator(f"[data-testid=received-at-{court.pk}]")).not_to_have_text("—")

    for tab in (basic, city):
        assert tab.csp_problems() == []
        assert tab.errors == []
        assert tab.foreign == []
        tab.page.context.close()
    time.sleep(1.0)
