"""An exit restriction between a basic court and the high court, in headless Chromium.

The basic court submits the sealed application on its page, and the high court's open list
shows it without a reload. After the intermediate court's review the high court registers
receipt and approves it. The basic court's open page then shows the approval without a reload.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import timezone

from zhixing.approvals import services
from zhixing.approvals.models import State
from zhixing.approvals.tests.conftest import exit_input
from zhixing.esign import verification
from zhixing.events import stream
from zhixing.web.tests.test_browser import _roles, browser, new_tab  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # The browser fixture then skips, or fails when a browser is required.
    expect = None  # type: ignore[assignment]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_MS = 1_500


@pytest.fixture(autouse=True)
def _quick_heartbeat(monkeypatch):
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.3)


def live_tab(new_tab, username, path):  # noqa: F811
    tab = new_tab(live=True)
    tab.login(username)
    tab.open(path)
    expect(tab.page.locator("body")).to_have_attribute("data-live-state", "open")
    return tab


def in_thread(function, *args, **kwargs):
    """Call ``function`` in another thread and return its result.

    pyHanko signs and verifies with ``asyncio.run``, which fails in the thread where
    Playwright's synchronous API keeps its event loop running.
    """
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(function, *args, **kwargs).result()


def click_action(tab, action):
    with tab.page.expect_navigation():
        tab.page.locator(f"[data-testid=action-{action}]").click()


def test_exit_restriction_approved_live(new_tab, staff, case):  # noqa: F811
    application = in_thread(
        services.draft_exit_restriction,
        staff["officer0104"],
        exit_input(case, period_start=timezone.localdate()),
    )
    in_thread(services.approve_as_head, staff["head0104"], application)
    in_thread(services.seal, staff["officer0104"], application)

    high = live_tab(new_tab, "head00", "/approvals/")
    basic = live_tab(new_tab, "officer0104", f"/approvals/{application.pk}/")

    # The basic court submits; the high court's open list shows it at once.
    high.page.evaluate("window.zhixingMarker = 'same page'")
    click_action(basic, "submit")
    row = high.page.locator(f"[data-testid=received-{application.pk}]")
    expect(row).to_be_visible(timeout=LIVE_MS)
    assert high.page.evaluate("window.zhixingMarker") == "same page"

    # The intermediate court reviews; the high court receives and approves on its page.
    in_thread(services.review, staff["head01"], application, comment="同意上报")
    high.open(f"/approvals/{application.pk}/")
    click_action(high, "receive")
    high.page.locator("#step-comment").fill("同意限制出境")
    click_action(high, "approve")
    expect(high.page.locator("[data-testid=approval-state]")).to_have_attribute(
        "data-state", "approved"
    )

    # The basic court's page shows the approval without a reload.
    basic.page.evaluate("window.zhixingMarker = 'same page'")
    expect(basic.page.locator("[data-testid=approval-state]")).to_have_attribute(
        "data-state", "approved", timeout=LIVE_MS
    )
    expect(basic.page.locator("[data-testid=step-approved]")).to_contain_text("同意限制出境")
    assert basic.page.evaluate("window.zhixingMarker") == "same page"

    application.refresh_from_db()
    assert application.state == State.APPROVED
    final = application.revisions.order_by("-number").first()
    assert in_thread(verification.verify_pdf, bytes(final.pdf)).valid

    # The PDF link downloads the approved revision.
    with basic.page.expect_download() as download:
        basic.page.locator("[data-testid=pdf-download]").click()
    assert download.value.suggested_filename == f"application-{application.pk}-r3.pdf"

    for tab in (basic, high):
        assert tab.csp_problems() == []
        assert tab.errors == []
        tab.page.context.close()
    time.sleep(1.0)
