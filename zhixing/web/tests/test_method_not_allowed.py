"""Opening an address that takes only form submissions: a page that explains it, status 405."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HEADING = "This address takes a form submission"


@pytest.fixture
def officer(make_user):
    return make_user("officer", "粤0104", "case_officer")


def browser_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_ACCEPT=HTML)
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/reports/1/acknowledge/", "/logout/"])
def test_get_of_form_address_renders_page(officer, url):
    response = browser_for(officer).get(url)
    page = response.content.decode()

    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert response["Content-Type"].startswith("text/html")
    assert f"<h1>{HEADING}</h1>" in page
    assert 'data-testid="current-user"' in page
    assert '<a href="/">Back to the home page</a>' in page
    assert 'data-testid="back-to-referer"' not in page


@pytest.mark.django_db
def test_page_links_same_origin_referer(officer):
    response = browser_for(officer).get(
        "/reports/1/acknowledge/", headers={"Referer": "http://testserver/reports/1/"}
    )

    assert response.status_code == 405
    assert (
        '<a href="http://testserver/reports/1/" data-testid="back-to-referer">'
        in response.content.decode()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "referer",
    [
        "https://other.invalid/reports/1/",
        "https://testserver/reports/1/",
        "javascript:alert(1)",
        "http://testserver/reports/1/acknowledge/",
    ],
)
def test_page_ignores_other_referer(officer, referer):
    response = browser_for(officer).get("/reports/1/acknowledge/", headers={"Referer": referer})
    page = response.content.decode()

    assert response.status_code == 405
    assert 'data-testid="back-to-referer"' not in page
    assert "other.invalid" not in page
    assert '<a href="/">Back to the home page</a>' in page


@pytest.mark.django_db
def test_page_for_anonymous_user(db):
    response = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_ACCEPT=HTML).get("/logout/")
    page = response.content.decode()

    assert response.status_code == 405
    assert HEADING in page
    assert 'data-testid="current-user"' not in page


@pytest.mark.django_db
def test_head_of_form_address_keeps_405(officer):
    response = browser_for(officer).head("/reports/1/acknowledge/")

    assert response.status_code == 405
    assert "POST" in response["Allow"]


@pytest.mark.django_db
def test_other_requests_keep_empty_405(officer):
    client = browser_for(officer)

    put = client.put("/reports/1/acknowledge/")
    json_get = client.get("/reports/1/acknowledge/", headers={"Accept": "application/json"})

    assert put.status_code == 405
    assert put.content == b""
    assert json_get.status_code == 405
    assert json_get.content == b""


@pytest.mark.django_db
def test_api_keeps_json_405(officer):
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_ACCEPT=HTML)
    api.force_authenticate(officer)

    response = api.get("/api/v1/cases/1/steps/")

    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": 'Method "GET" not allowed.'}
