"""End-to-end test of the manual requests in headless Chromium: list, print, type an answer.

The browser fixtures come from the web app's browser tests: Debian's chromium or the one that
ZHIXING_CHROMIUM names, with requests to other origins and CSP violations recorded.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from zhixing.courts.models import Role
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import worker
from zhixing.linkage.models import Agency, GatewayBatch, GatewayItem
from zhixing.web.tests.test_browser import _roles, browser, new_tab  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # The browser fixture then skips, or fails when a browser is required.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True, scope="module")
def _restore_roles(django_db_blocker):
    """Recreate the roles after this module, because the flush after each test deletes them."""
    yield
    with django_db_blocker.unblock():
        for code in Role.Code.values:
            Role.objects.get_or_create(code=code)


@pytest.mark.browser
def test_clerk_prints_and_answers_manual_request(new_tab, make_user, make_agency, enqueue):  # noqa: F811
    make_user("clerk0104", "粤0104", "clerk")
    land = make_agency(
        "land-manual",
        name="某区不动产登记中心",
        kind=Agency.Kind.NATURAL_RESOURCES,
        adapter=Agency.Adapter.MANUAL,
        categories=["real_estate"],
        base_url="",
        public_key_pem="",
    ).agency
    now = timezone.now()
    (item,) = enqueue(land, 1, now=now)
    worker.run_gateway_once(now + datetime.timedelta(seconds=10), owner="w1")
    batch = GatewayBatch.objects.get()
    tab = new_tab()
    tab.login("clerk0104")

    # From the debtor queries to the batch of the manual agency.
    tab.open("/inquiry/")
    with tab.page.expect_navigation():
        tab.page.locator("[data-testid=manual-requests]").click()
    tab.remember()
    with tab.page.expect_navigation():
        tab.page.locator(f"[data-testid=batch-{batch.pk}] a").click()
    tab.remember()
    assert item.party.document_number not in tab.page.content()

    # The request list for printing shows the full number and loads its print styles.
    with tab.page.expect_navigation():
        tab.page.locator("[data-testid=print-list]").click()
    tab.remember()
    expect(tab.page.locator("[data-testid=sheet-items]")).to_contain_text(
        item.party.document_number
    )
    expect(tab.page.locator("[data-print]")).to_be_visible()
    tab.page.go_back()

    # Type the answer: one property, a second record added and left empty.
    with tab.page.expect_navigation():
        tab.page.locator(f"[data-testid=answer-{item.pk}]").click()
    tab.remember()
    form = tab.page.locator("[data-testid=answer-form]")
    form.locator("input[name=status][value=found]").check()
    form.locator("[name=real_estate-0-location]").fill("广州市越秀区中山路1号1201房")
    form.locator("[name=real_estate-0-certificate_number]").fill("粤(2020)广州市不动产权第1号")
    form.locator("[name=real_estate-0-area]").fill("89.5")
    form.locator("[name=real_estate-0-share]").fill("1")
    form.locator("[name=real_estate-0-use]").select_option("residential")
    with tab.page.expect_navigation():
        form.locator("[data-testid=add-real_estate]").click()
    tab.remember()
    expect(form.locator("[name=real_estate-1-location]")).to_be_visible()
    expect(form.locator("[name=real_estate-0-location]")).to_have_value(
        "广州市越秀区中山路1号1201房"
    )
    expect(form.locator("input[name=status][value=found]")).to_be_checked()
    with tab.page.expect_navigation():
        form.locator("[data-testid=store-answer]").click()
    tab.remember()

    assert tab.page.url == tab.base_url + f"/agencies/manual/{batch.pk}/"
    item.refresh_from_db()
    assert item.state == GatewayItem.State.ANSWERED
    asset = AssetRecord.objects.get(item=item)
    assert asset.location == "广州市越秀区中山路1号1201房"
    assert asset.case_id == item.case_id
    assert tab.csp_problems() == []
    assert tab.errors == []
    assert tab.foreign == []
    assert [(url, status) for url, status in tab.statics if status != 200] == []
    assert any(url.endswith("/static/linkage/manual.css") for url, _status in tab.statics)
