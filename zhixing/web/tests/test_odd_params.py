"""The 405 page for non-browser clients, and list parameters elsewhere."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from zhixing.courts import services as court_services

pytestmark = pytest.mark.django_db

HUGE = "9" * 5000
FORM_ADDRESS = "/logout/"


@pytest.fixture
def head(make_user):
    return make_user("head01", "粤01", "bureau_head")


def client_for(user, **extra) -> Client:
    client = Client(raise_request_exception=False, **extra)
    client.force_login(user)
    return client


def test_json_client_keeps_empty_405(head):
    response = client_for(head, HTTP_ACCEPT="application/json").get(FORM_ADDRESS)
    assert response.status_code == 405
    assert response.content == b""


def test_405_page_varies_on_accept(head):
    response = client_for(head, HTTP_ACCEPT="text/html").get(FORM_ADDRESS)
    assert response.status_code == 405
    varies = {part.strip().lower() for part in response.get("Vary", "").split(",")}
    assert "accept" in varies, response.get("Vary")


def test_405_page_chinese(head):
    response = client_for(head, HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="zh-hans").get(
        FORM_ADDRESS
    )
    visible = re.sub(r"<[^>]*>", " ", response.content.decode())
    assert "This address" not in visible
    assert "Back to" not in visible


def test_405_head_has_no_body(head):
    response = client_for(head, HTTP_ACCEPT="text/html").head(FORM_ADDRESS)
    assert response.status_code == 405
    assert response.content == b""


def test_405_for_anonymous():
    response = Client(HTTP_ACCEPT="text/html").get("/reports/1/acknowledge/")
    assert response.status_code in (302, 405)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/cases/", {"officer": HUGE}),
        ("/api/v1/cases/", {"officer": HUGE}),
        ("/cases/export.xlsx", {"officer": HUGE}),
        ("/api/v1/cases/", {"limit": HUGE}),
        ("/users/", {"page": HUGE}),
        ("/audit/", {"page": HUGE}),
        ("/audit/", {"object_id": "x" * 100000}),
        ("/audit/", {"since": "9999-99-99"}),
        ("/audit/", {"since": "0001-01-01", "until": "9999-12-31"}),
        ("/audit/", {"court_code": "\x00"}),
        ("/inquiry/", {"page": "0"}),
        ("/agencies/manual/", {"page": "-1"}),
    ],
)
def test_lists_odd_params_not_500(head, path, params):
    client = client_for(head, HTTP_ACCEPT_LANGUAGE="en")
    if path.startswith("/api/"):
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(head)}")
    response = client.get(path, params)
    assert response.status_code != 500, (path, params)
