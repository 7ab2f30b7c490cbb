"""The API lists' limit and offset: a value that is not a whole number gets status 400."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from zhixing.courts.models import User
from zhixing.web.tests.test_api_schema import _documented, document  # noqa: F401 (fixture)

LIMIT_ERROR = "limit: “{}” is not a number of items; use a whole number from 1 to 1000."
OFFSET_ERROR = "offset: “{}” is not a position; use a whole number from 0 upwards."


def api_for(user: User) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def head(make_user) -> User:
    return make_user("head01", "粤01", "bureau_head", "administrator")


def paginated_lists(schema: dict[str, Any]) -> list[str]:
    """Return the list routes without path parameters that document ``limit``."""
    routes = []
    for route, item in schema["paths"].items():
        operation = item.get("get")
        if operation is None or "{" in route:
            continue
        if any(parameter["name"] == "limit" for parameter in operation.get("parameters", [])):
            routes.append(route)
    return routes


@pytest.mark.django_db
def test_court_list_rejects_bad_limit_and_offset(head):
    response = api_for(head).get("/api/v1/courts/", {"limit": "ten", "offset": "-5"})
    body = response.json()

    assert response.status_code == 400
    assert body == {"limit": [LIMIT_ERROR.format("ten")], "offset": [OFFSET_ERROR.format("-5")]}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0", "-1", "1.5", "１０", "abc"])
def test_court_list_rejects_limit(head, value):
    response = api_for(head).get("/api/v1/courts/", {"limit": value})

    assert response.status_code == 400
    assert response.json() == {"limit": [LIMIT_ERROR.format(value)]}


@pytest.mark.django_db
def test_court_list_valid_limit_and_offset(head):
    api = api_for(head)

    page = api.get("/api/v1/courts/", {"limit": "1", "offset": "1"})
    large = api.get("/api/v1/courts/", {"limit": "5000"})
    past_end = api.get("/api/v1/courts/", {"offset": "99999999999999999999999"})
    empty = api.get("/api/v1/courts/", {"limit": "", "offset": ""})

    assert page.status_code == 200
    assert [court["code"] for court in page.json()["results"]] == ["粤0104"]
    assert large.status_code == 200
    assert len(large.json()["results"]) == 3
    assert past_end.status_code == 200
    assert past_end.json()["results"] == []
    assert empty.status_code == 200
    assert empty.json()["count"] == 3


@pytest.mark.django_db
def test_every_paginated_list_rejects_bad_limit(document, head):  # noqa: F811
    api = api_for(head)
    routes = paginated_lists(document)

    assert {"/api/v1/courts/", "/api/v1/cases/", "/api/v1/users/"} <= set(routes)
    for route in routes:
        response = api.get(route, {"limit": "x"})
        assert response.status_code == 400, route
        assert response.json()["limit"] == [LIMIT_ERROR.format("x")], route
        _documented(document, route, "get", response)


@pytest.mark.django_db
def test_schema_lists_400_of_paginated_lists(document):  # noqa: F811
    for route in paginated_lists(document):
        responses = document["paths"][route]["get"]["responses"]
        assert "400" in responses, route
    # An operation that is neither a list nor validates its query parameters has no 400.
    assert "400" not in document["paths"]["/api/v1/duty/today/"]["get"]["responses"]
    assert (
        "query parameter"
        in document["paths"]["/api/v1/courts/"]["get"]["responses"]["400"]["description"]
    )
