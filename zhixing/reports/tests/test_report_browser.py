"""A report's whole life in headless Chromium, with three courts' screens open at once.

A basic court reports violent resistance through the form. The intermediate and the high
court's report lists show it within a second, with an alert, without reloading. The
intermediate court acknowledges, the high court instructs, the basic court acknowledges and
replies, then sends a follow-up and a final report, and the routing command names the same
courts as the delivery table.
"""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command

from zhixing.events import stream
from zhixing.reports.models import SituationReport
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


def live_tab(new_tab, username):  # noqa: F811
    tab = new_tab(live=True)
    tab.login(username)
    tab.open("/reports/")
    expect(tab.page.locator("body")).to_have_attribute("data-live-state", "open")
    return tab


def submit_form(tab, values: dict[str, str]) -> None:
    form = tab.page.locator("[data-testid=report-form]")
    for name, value in values.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with tab.page.expect_navigation():
        form.locator("[data-testid=report-submit]").click()


def test_violent_resistance_report_lifecycle(new_tab, make_user, courts):  # noqa: F811
    make_user("reporter0104", "粤0104", "commander")
    make_user("commander01", "粤01", "commander")
    make_user("commander00", "粤", "commander")
    intermediate = live_tab(new_tab, "commander01")
    high = live_tab(new_tab, "commander00")
    basic = live_tab(new_tab, "reporter0104")

    basic.page.locator("[data-testid=report-new]").click()
    submit_form(
        basic,
        {
            "kind": "violent_resistance",
            "severity": "major",
            "title": "查封现场遭暴力抗拒",
            "occurred_at": "2026-12-04T09:30",
            "place": "广州市越秀区",
            "narrative": "被执行人持械阻挠查封。",
        },
    )
    report = SituationReport.objects.get()

    # Both superiors' screens show it at once, with an alert, without a reload.
    for tab in (intermediate, high):
        tab.page.evaluate("window.zhixingMarker = 'same page'")
    for tab in (intermediate, high):
        expect(tab.page.locator(f"[data-testid=received-{report.pk}]")).to_be_visible(
            timeout=LIVE_MS
        )
        expect(tab.page.locator("[data-testid=live-alert]").first).to_contain_text(
            "查封现场遭暴力抗拒"
        )
        assert tab.page.evaluate("window.zhixingMarker") == "same page"

    # The delivery table agrees with the routing command.
    basic.open(f"/reports/{report.pk}/")
    rows = basic.page.locator("[data-testid=deliveries] tbody tr")
    shown = [rows.nth(index).get_attribute("data-testid") for index in range(rows.count())]
    out = StringIO()
    call_command(
        "reports",
        "route",
        "--from",
        "粤0104",
        "--kind",
        "violent_resistance",
        "--severity",
        "major",
        "--json",
        stdout=out,
    )
    assert shown == [f"delivery-{code}" for code in json.loads(out.getvalue())["recipients"]]

    # The intermediate court acknowledges; the basic court's open page shows it live.
    intermediate.open(f"/reports/{report.pk}/")
    with intermediate.page.expect_navigation():
        intermediate.page.locator("[data-testid=acknowledge]").click()
    acknowledged = basic.page.locator("[data-testid=delivery-粤01] [data-testid=acknowledged]")
    expect(acknowledged).not_to_contain_text("尚未", timeout=LIVE_MS)

    # The high court instructs; the basic court answers on the page that updated itself.
    high.open(f"/reports/{report.pk}/")
    high.page.locator("[data-testid=instruction-form] textarea").fill("立即依法处置。续报进展。")
    with high.page.expect_navigation():
        high.page.locator("[data-testid=send-instruction]").click()
    instruction = report.instructions.get()
    section = basic.page.locator(f"[data-testid=instruction-{instruction.pk}]")
    expect(section).to_be_visible(timeout=LIVE_MS)
    section.locator("textarea").fill("已控制现场。")
    with basic.page.expect_navigation():
        section.locator("[data-testid=answer-instruction]").click()
    expect(high.page.locator("[data-testid=entry-instruction_reply]")).to_be_visible(
        timeout=LIVE_MS
    )

    # Follow-up, then the final report; both reach the same courts.
    for link, title in (("follow-up", "续报 现场已控制"), ("final-report", "终报 处置完毕")):
        basic.open(f"/reports/{report.pk}/")
        with basic.page.expect_navigation():
            basic.page.locator(f"[data-testid={link}]").click()
        submit_form(basic, {"title": title, "narrative": title})
    expect(high.page.locator("[data-testid=entry-report_final]")).to_be_visible(timeout=LIVE_MS)
    assert [report.stage for report in SituationReport.objects.order_by("id")] == [
        "first",
        "follow_up",
        "final",
    ]

    for tab in (basic, intermediate, high):
        assert tab.csp_problems() == []
        assert tab.errors == []
        tab.page.context.close()
    time.sleep(1.0)


def test_analysis_map_draws_without_csp_problems(new_tab, make_user, courts):  # noqa: F811
    from zhixing.reports import services
    from zhixing.reports.tests.conftest import report_input

    reporter = make_user("reporter0104", "粤0104", "commander")
    make_user("commander00", "粤", "commander")
    services.submit_report(reporter, report_input())
    tab = new_tab()
    tab.login("commander00")

    tab.open("/reports/analysis/")

    expect(tab.page.locator("[data-testid=chart-map]")).to_have_attribute("data-ready", "true")
    expect(tab.page.locator("[data-testid=analysis-total]")).to_contain_text("1")
    assert tab.page.locator("#chart-map canvas").count() >= 1
    assert tab.csp_problems() == []
    assert tab.errors == []
    assert tab.foreign == []
