"""The request list's page parameter, and GET of the batch query address."""

from __future__ import annotations

import pytest
from django.test import Client

from zhixing.inquiry import services
from zhixing.web.tests.test_browser import _roles, browser, new_tab  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # The browser fixture then skips, or fails when a browser is required.
    expect = None  # type: ignore[assignment]


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_batch_get_redirects_to_form(officer, agencies):
    client = client_for(officer)

    response = client.get("/inquiry/batch/")

    assert response.status_code == 302
    assert response["Location"] == "/inquiry/#batch-form"
    page = client.get(response["Location"]).content.decode()
    assert 'id="batch-form"' in page


def test_batch_get_needs_login(db):
    response = Client().get("/inquiry/batch/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_batch_put_not_allowed(officer, agencies):
    response = client_for(officer).put("/inquiry/batch/")

    assert response.status_code == 405


def test_request_list_rejects_bad_page(officer, case, debtors, agencies):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request
    client = client_for(officer)

    for value in ("abc", "0", "-1", "2", "1.5"):
        response = client.get("/inquiry/", {"page": value})
        page = response.content.decode()
        assert response.status_code == 400, value
        assert f"Page “{value}” does not exist; use a whole number from 1 to 1." in page
        assert f'data-testid="query-{query.pk}"' not in page
        assert "bank-icbc" not in page


def test_request_list_first_page_by_number(officer, case, debtors, agencies):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request
    client = client_for(officer)

    response = client.get("/inquiry/", {"page": "1"})

    assert response.status_code == 200
    assert f'data-testid="query-{query.pk}"' in response.content.decode()


def test_request_list_partial_bad_page(officer, case, debtors, agencies):
    services.request_query(officer, case, debtors, ["bank_account"])

    response = client_for(officer).get("/inquiry/", {"page": "x"}, HTTP_HX_REQUEST="true")
    partial = response.content.decode()

    # htmx swaps in only 2xx responses, and a list in error must not poll itself back.
    assert response.status_code == 200
    assert "Page “x” does not exist" in partial
    assert "hx-trigger" not in partial
    assert "bank-icbc" not in partial


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_batch_get_opens_form_in_browser(new_tab, make_user, courts):  # noqa: F811
    make_user("officer0104", "粤0104", "case_officer")
    tab = new_tab()
    tab.login("officer0104")

    tab.open("/inquiry/batch/")

    assert tab.page.url == tab.base_url + "/inquiry/#batch-form"
    expect(tab.page.locator("#batch-form textarea[name=numbers]")).to_be_visible()
