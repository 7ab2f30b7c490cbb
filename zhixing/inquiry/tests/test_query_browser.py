"""The query pages in headless Chromium, with the agency simulator as a real process.

An officer sends a query from the case's query form, watches the request list fill in
without reloading while the gateway collects the simulator's answers, and opens the assets
page, where account numbers stay masked until the officer asks to see them. A second test
walks a query through a bureau head's approval. Both run in the PostgreSQL pass only: the
gateway runs in the test's thread while the live server answers the page's polling from
its own, which needs a database with a connection per thread.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest

from zhixing.audit.models import AuditRecord
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.inquiry.models import AssetRecord, QueryPolicy, QueryRequest
from zhixing.inquiry.tests.test_simulator_path import running_simulator
from zhixing.linkage import keys
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.linkage.services import load_agencies_file
from zhixing.linkage.worker import run_gateway_once
from zhixing.web.tests.test_browser import _roles, browser, new_tab  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # The browser fixture then skips, or fails when a browser is required.
    expect = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ANSWER_TIMEOUT_S = 60
# The totals row: a heading cell, then one cell per item state in the order of the choices.
ANSWERED_CELL = 1 + GatewayItem.State.values.index(GatewayItem.State.ANSWERED) + 1


@pytest.fixture
def simulator(tmp_path: Path, courts):
    keys.export_public_keys(tmp_path / "court-keys")
    with running_simulator(tmp_path) as url:
        load_agencies_file(keys_dir=tmp_path / "agency-keys", base_url=f"{url}/agencies/{{code}}")
        # Only online agencies answer here; the others wait for files or typed answers.
        Agency.objects.exclude(adapter=Agency.Adapter.ONLINE).update(active=False)
        Agency.objects.update(
            batch_window_seconds=0,
            poll_interval_seconds=0,
            rate_limit=1000,
            service_start=None,
            service_end=None,
            service_days=[1, 2, 3, 4, 5, 6, 7],
        )
        yield url


@pytest.fixture
def officer(make_user):
    return make_user("officer0104", "粤0104", "case_officer")


@pytest.fixture
def case(courts, officer) -> EnforcementCase:
    return case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=[
            PartyInput(
                name=f"被执行人{index}",
                document_type="resident_id",
                document_number=make_resident_id("440104", "19760203", index),
            )
            for index in (31, 32)
        ],
        claim_amount="800000.00",
        case_officer=officer,
    )


def gateway_until_answered() -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while time.monotonic() < deadline:
        run_gateway_once()
        if not GatewayItem.objects.filter(state__in=GatewayItem.OPEN_STATES).exists():
            return
        time.sleep(0.2)


def test_query_progress_and_assets(new_tab, simulator, officer, case):  # noqa: F811
    tab = new_tab()
    tab.login("officer0104")

    # Find the case from the request list and send the query for every category.
    tab.page.locator("[data-testid=nav-inquiry]").click()
    lookup = tab.page.locator("[data-testid=case-lookup]")
    lookup.locator("input[name=number]").fill(case.case_number)
    with tab.page.expect_navigation():
        lookup.locator("button[type=submit]").click()
    tab.remember()
    assert tab.page.url == tab.base_url + f"/inquiry/cases/{case.pk}/new/"
    with tab.page.expect_navigation():
        tab.page.locator("[data-testid=query-form] button[type=submit]").click()
    tab.remember()
    query = QueryRequest.objects.get()
    queued = GatewayItem.objects.count()
    assert queued > 0

    # The list polls while items are open; the page itself is never reloaded.
    tab.page.evaluate("window.zhixingMarker = 'same page'")
    totals = tab.page.locator(f"[data-testid=query-{query.pk}] tfoot th:nth-child({ANSWERED_CELL})")
    expect(totals).to_have_text("0")
    gateway_until_answered()
    expect(totals).to_have_text(str(queued), timeout=15_000)
    assert tab.page.evaluate("window.zhixingMarker") == "same page"

    # The assets page shows the accounts with masked numbers until the officer reveals them.
    account = AssetRecord.objects.filter(case=case, record_type="bank_account").first()
    assert account is not None
    tab.open(f"/inquiry/cases/{case.pk}/assets/")
    accounts = tab.page.locator("[data-testid=assets-bank_account]").first
    expect(accounts).to_be_visible()
    assert account.identifier not in tab.page.content()
    assert not AuditRecord.objects.filter(action="read_personal").exists()
    with tab.page.expect_navigation():
        tab.page.locator("[data-testid=reveal]").click()
    tab.remember()
    expect(tab.page.locator("main")).to_contain_text(account.identifier)
    assert AuditRecord.objects.filter(action="read_personal").exists()

    assert tab.csp_problems() == []
    assert tab.errors == []
    assert tab.foreign == []


def test_query_approved_by_bureau_head(new_tab, simulator, officer, make_user, case):  # noqa: F811
    QueryPolicy.objects.create(court=case.court, approval_required=True)
    make_user("head0104", "粤0104", "bureau_head")
    officer_tab = new_tab()
    officer_tab.login("officer0104")
    officer_tab.open(f"/inquiry/cases/{case.pk}/new/")
    with officer_tab.page.expect_navigation():
        officer_tab.page.locator("[data-testid=query-form] button[type=submit]").click()
    query = QueryRequest.objects.get()
    expect(officer_tab.page.locator(f"[data-testid=query-{query.pk}]")).to_contain_text("待审批")
    assert not GatewayItem.objects.exists()

    head_tab = new_tab()
    head_tab.login("head0104")
    head_tab.open("/inquiry/")
    with head_tab.page.expect_navigation():
        head_tab.page.locator("[data-testid=approvals-link]").click()
    card = head_tab.page.locator(f"[data-testid=approval-{query.pk}]")
    expect(card).to_contain_text(case.case_number)
    with head_tab.page.expect_navigation():
        card.locator("[data-testid=approve]").click()
    expect(head_tab.page.locator(f"[data-testid=approval-{query.pk}]")).to_have_count(0)

    query.refresh_from_db()
    assert query.state == QueryRequest.State.SENT
    assert query.items.exists()
    assert officer_tab.csp_problems() == []
    assert head_tab.csp_problems() == []
