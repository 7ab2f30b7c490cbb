"""End-to-end test of the case pages in headless Chromium: file, find, open, reveal.

The browser fixtures come from the web app's browser tests, so this module starts Debian's
chromium the same way, skips (or fails under ZHIXING_REQUIRE_BROWSER=1) when it is missing,
and records requests to other origins and Content Security Policy violations.
Set ZHIXING_SCREENSHOT_DIR to a directory to also save PNG screenshots of the list and detail
pages there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zhixing.audit.models import AuditRecord
from zhixing.cases.identity import mask_id_number
from zhixing.cases.models import EnforcementCase, Party
from zhixing.cases.tests.factories import make_resident_id
from zhixing.courts.models import Role
from zhixing.web.tests.test_browser import _roles, browser, new_tab  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # The browser fixture then skips, or fails when a browser is required.
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOT_ENV = "ZHIXING_SCREENSHOT_DIR"


@pytest.fixture(autouse=True, scope="module")
def _restore_roles(django_db_blocker):
    """Recreate the roles after this module, because the flush after each test deletes them.

    Later tests that do not run in a transaction of their own expect the roles of the
    courts migration 0002.
    """
    yield
    with django_db_blocker.unblock():
        for code in Role.Code.values:
            Role.objects.get_or_create(code=code)


def _screenshot(page, name: str) -> None:
    directory = os.environ.get(SCREENSHOT_ENV)
    if directory:
        # Playwright hides the caret with an injected style, which the CSP may report as a
        # violation; caret="initial" leaves the caret alone.
        path = str(Path(directory) / f"{name}.png")
        page.screenshot(path=path, full_page=True, caret="initial")


@pytest.mark.browser
def test_officer_files_finds_and_reveals(new_tab, make_user, courts):  # noqa: F811
    officer = make_user("officer0104", "粤0104", "case_officer")
    debtor_id = make_resident_id("440104", "19880808", 8)
    tab = new_tab()
    tab.login("officer0104")

    # File the case through the form, reached from the navigation.
    tab.page.locator("[data-testid=nav-cases]").click()
    tab.page.locator("[data-testid=file-case]").click()
    tab.remember()
    assert tab.page.url == tab.base_url + "/cases/new/"
    form = tab.page.locator("[data-testid=filing-form]")
    form.locator("#id_basis_kind").select_option("judgment")
    form.locator("#id_basis_court").fill("广州市越秀区人民法院")
    form.locator("#id_basis_document_number").fill("(2026)粤0104民初88号")
    form.locator("#id_claim_amount").fill("56000.80")
    form.locator("#id_applicants-0-name").fill("广州某某小额贷款有限公司")
    form.locator("#id_applicants-0-kind").select_option("organisation")
    form.locator("#id_debtors-0-name").fill("欧阳明")
    form.locator("#id_debtors-0-document_number").fill(debtor_id)
    _screenshot(tab.page, "case-new")
    with tab.page.expect_navigation():
        form.locator("[data-testid=submit-filing]").click()
    tab.remember()
    case = EnforcementCase.objects.get()
    assert tab.page.url == tab.base_url + f"/cases/{case.pk}/"
    assert case.case_officer_id == officer.pk

    # Find it by the debtor's name; the search box updates the results through htmx.
    tab.open("/cases/")
    tab.page.locator("#case-search").fill("欧阳")
    links = tab.page.locator("#case-results [data-testid=case-link]")
    expect(links).to_have_count(1)
    expect(links.first).to_have_text(case.case_number)
    tab.remember()
    assert debtor_id not in tab.page.locator("#case-results").inner_html()
    _screenshot(tab.page, "case-list")
    with tab.page.expect_navigation():
        links.first.click()
    tab.remember()

    # The detail page masks the number until the officer requests the full view.
    debtors = tab.page.locator("[data-testid=debtors]")
    expect(debtors).to_contain_text(mask_id_number(debtor_id))
    assert debtor_id not in tab.page.content()
    assert not AuditRecord.objects.filter(action="read_personal").exists()
    with tab.page.expect_navigation():
        tab.page.locator("[data-testid=reveal]").click()
    tab.remember()
    expect(debtors).to_contain_text(debtor_id)
    _screenshot(tab.page, "case-detail")

    party = Party.objects.get(document_number=debtor_id)
    record = AuditRecord.objects.get(
        action="read_personal", object_type="cases.party", object_id=str(party.pk)
    )
    assert record.user_id == officer.pk
    assert record.detail["case_number"] == case.case_number
    assert debtor_id not in str(record.detail)

    assert tab.csp_problems() == []
    assert tab.errors == []
    assert tab.foreign == []
    assert [(url, status) for url, status in tab.statics if status != 200] == []
