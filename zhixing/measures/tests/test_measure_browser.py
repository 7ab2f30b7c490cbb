"""The form of a new measure in headless Chromium: the amount follows the chosen kind."""

from __future__ import annotations

from dataclasses import replace

import pytest

from zhixing.measures.kinds import SPECS
from zhixing.measures.tests.conftest import ACCOUNT, CAR
from zhixing.web.tests.test_browser import _roles, browser, new_tab  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # The browser fixture then skips, or fails when a browser is required.
    expect = None  # type: ignore[assignment]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_amount_follows_kind(new_tab, officer, case, debtors, make_asset, monkeypatch):  # noqa: F811
    # The kinds that apply to one asset all agree on the amount, so distraint is made to need one.
    monkeypatch.setitem(SPECS, "distrain", replace(SPECS["distrain"], needs_amount=True))
    car = make_asset(case, debtors[0], CAR, agency="traffic-gd", category="vehicle")
    tab = new_tab()
    tab.login(officer.username)
    tab.open(f"/measures/assets/{car.pk}/new/")
    amount = tab.page.locator("[data-field=amount]")
    kind = tab.page.locator("select[name=kind]")

    expect(amount).to_be_hidden()
    kind.select_option("distrain")
    expect(amount).to_be_visible()
    expect(amount.locator("input")).to_be_enabled()
    kind.select_option("seize_vehicle")
    expect(amount).to_be_hidden()
    expect(amount.locator("input")).to_be_disabled()
    assert tab.csp_problems() == []
    assert tab.errors == []


def test_amount_shown_for_deposits(new_tab, officer, case, debtors, make_asset):  # noqa: F811
    account = make_asset(case, debtors[0], ACCOUNT)
    tab = new_tab()
    tab.login(officer.username)
    tab.open(f"/measures/assets/{account.pk}/new/")
    amount = tab.page.locator("[data-field=amount]")

    expect(amount).to_be_visible()
    tab.page.locator("select[name=kind]").select_option("deduct")
    expect(amount).to_be_visible()
    assert tab.errors == []
