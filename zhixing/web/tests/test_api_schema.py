"""The OpenAPI document lists each operation's error responses, as the API sends them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from zhixing.courts import services
from zhixing.courts.models import User

ERROR = {"$ref": "#/components/schemas/Error"}
INPUT_ERROR = {"oneOf": [{"$ref": "#/components/schemas/ValidationError"}, ERROR]}


def _client(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {services.issue_token(user)}")
    return client


@pytest.fixture
def document(make_user) -> dict[str, Any]:
    response = _client(make_user("reader", "粤0104")).get("/api/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def _schema(operation: dict[str, Any], code: int) -> dict[str, Any]:
    return operation["responses"][str(code)]["content"]["application/json"]["schema"]


def _matches(value: Any, schema: dict[str, Any], document: dict[str, Any]) -> bool:
    """Check ``value`` against the parts of JSON Schema that the error schemas use."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return _matches(value, document["components"]["schemas"][name], document)
    if "oneOf" in schema:
        return sum(_matches(value, option, document) for option in schema["oneOf"]) == 1
    kind = schema.get("type")
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        items = schema.get("items", {})
        return isinstance(value, list) and all(_matches(v, items, document) for v in value)
    if kind != "object" or not isinstance(value, dict):
        return False
    if any(key not in value for key in schema.get("required", [])):
        return False
    if len(value) < schema.get("minProperties", 0):
        return False
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            if not _matches(item, properties[key], document):
                return False
        elif isinstance(extra, dict) and not _matches(item, extra, document):
            return False
    return True


def _documented(document: dict[str, Any], route: str, method: str, response: Any) -> None:
    operation = document["paths"][route][method]
    code = str(response.status_code)
    assert code in operation["responses"], (route, method, code)
    body = json.loads(response.content)
    assert _matches(body, _schema(operation, response.status_code), document), body


@pytest.mark.django_db
def test_list_operation_lists_authentication_errors(document):
    courts = document["paths"]["/api/v1/courts/"]["get"]
    # A paginated list checks limit and offset, so it can return 400 too.
    assert set(courts["responses"]) == {"200", "400", "401", "403"}
    assert _schema(courts, 401) == ERROR
    assert _schema(courts, 403) == ERROR
    assert "WWW-Authenticate" in courts["responses"]["401"]["headers"]
    # Its query parameters are validated, so a bad one gets a 400.
    measures = document["paths"]["/api/v1/measures/"]["get"]
    assert set(measures["responses"]) == {"200", "400", "401", "403"}
    assert _schema(measures, 400) == INPUT_ERROR


@pytest.mark.django_db
def test_detail_operation_lists_not_found(document):
    case = document["paths"]["/api/v1/cases/{id}/"]["get"]
    assert set(case["responses"]) == {"200", "401", "403", "404"}
    assert _schema(case, 404) == ERROR
    court = document["paths"]["/api/v1/courts/{code}/"]["get"]
    assert "404" in court["responses"]


@pytest.mark.django_db
def test_post_operations_list_input_errors(document):
    # 409 and 422 come from the Idempotency-Key that every POST accepts.
    create = document["paths"]["/api/v1/cases/"]["post"]
    assert set(create["responses"]) == {"201", "400", "401", "403", "409", "422"}
    assert _schema(create, 400) == INPUT_ERROR
    assert _schema(create, 409) == ERROR
    assert _schema(create, 422) == ERROR
    step = document["paths"]["/api/v1/cases/{id}/steps/"]["post"]
    assert set(step["responses"]) == {"200", "400", "401", "403", "404", "409", "422"}
    patch = document["paths"]["/api/v1/users/{id}/"]["patch"]
    assert {"400", "404"} <= set(patch["responses"])


@pytest.mark.django_db
def test_every_operation_lists_authentication_errors(document):
    for route, item in document["paths"].items():
        for method, operation in item.items():
            assert {"401", "403"} <= set(operation["responses"]), (route, method)
    schemas = document["components"]["schemas"]
    assert schemas["Error"]["required"] == ["detail"]
    assert schemas["ValidationError"]["type"] == "object"


@pytest.mark.django_db
def test_real_errors_match_documented_schema(document, make_user):
    reader = _client(make_user("clerk01", "粤0104", "clerk"))
    # 401: no credentials, and a token that does not exist.
    anonymous = _client().get("/api/v1/courts/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    _documented(document, "/api/v1/courts/", "get", anonymous)
    unknown = APIClient()
    unknown.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    _documented(document, "/api/v1/courts/", "get", unknown.get("/api/v1/courts/"))
    # 404: the exception handler's message naming the thing and the id.
    missing = reader.get("/api/v1/cases/999999/")
    assert missing.status_code == 404
    assert "999999" in missing.json()["detail"]
    _documented(document, "/api/v1/cases/{id}/", "get", missing)
    # 403: a clerk may not create accounts.
    forbidden = reader.post("/api/v1/users/", {}, format="json")
    assert forbidden.status_code == 403
    _documented(document, "/api/v1/users/", "post", forbidden)


@pytest.mark.django_db
def test_real_input_errors_match_documented_schema(document, make_user):
    reader = _client(make_user("clerk01", "粤0104", "clerk"))
    # Field errors. Those of a list of parties are keyed by item index.
    invalid = reader.post(
        "/api/v1/cases/",
        {"basis_kind": "nonsense", "claim_amount": "-1", "applicants": [{}], "debtors": []},
        format="json",
    )
    assert invalid.status_code == 400
    body = invalid.json()
    assert isinstance(body["basis_kind"], list)
    assert isinstance(body["applicants"]["0"]["name"], list)
    _documented(document, "/api/v1/cases/", "post", invalid)
    # A body that is not JSON gets a single message.
    malformed = reader.post("/api/v1/cases/", "{", content_type="application/json")
    assert malformed.status_code == 400
    assert isinstance(malformed.json()["detail"], str)
    _documented(document, "/api/v1/cases/", "post", malformed)
    # A validated query parameter.
    query = reader.get("/api/v1/measures/", {"court": "x"})
    assert query.status_code == 400
    _documented(document, "/api/v1/measures/", "get", query)


class _DocumentedView(APIView):
    versioning_class = None

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(description="Own text.")}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response({})


class _OpenView(APIView):
    permission_classes = [permissions.AllowAny]
    versioning_class = None

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response({})


def test_keeps_explicit_and_anonymous_responses():
    patterns = [
        path("things/<int:pk>/", _DocumentedView.as_view()),
        path("open/", _OpenView.as_view()),
    ]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    documented = schema["paths"]["/things/{id}/"]["get"]["responses"]
    assert documented["404"] == {"description": "Own text."}
    assert {"401", "403"} <= set(documented)
    assert set(schema["paths"]["/open/"]["get"]["responses"]) == {"200"}
