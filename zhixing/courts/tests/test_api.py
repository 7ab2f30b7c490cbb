"""REST API for courts and staff accounts."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from zhixing.audit.models import AuditRecord
from zhixing.conftest import TEST_PASSWORD
from zhixing.courts import services
from zhixing.courts.models import User


def _client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.issue_token(user)}")
    return client


@pytest.mark.django_db
def test_openapi_document_lists_resources(make_user):
    response = _client(make_user("reader", "粤0104")).get("/api/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/courts/" in document["paths"]
    assert "/api/v1/users/" in document["paths"]


@pytest.mark.django_db
def test_api_needs_authentication(courts):
    assert APIClient().get("/api/v1/courts/").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get("/api/v1/courts/").status_code == 401


@pytest.mark.django_db
def test_court_list_is_scoped(make_user):
    codes = {
        row["code"]
        for row in _client(make_user("gz", "粤01")).get("/api/v1/courts/").json()["results"]
    }
    assert codes == {"粤01", "粤0104", "粤0105"}


@pytest.mark.django_db
def test_admin_creates_user_in_scope(make_user):
    client = _client(make_user("admin", "粤01", "administrator"))
    response = client.post(
        "/api/v1/users/",
        {
            "username": "api_clerk",
            "full_name": "接口",
            "court": "粤0105",
            "roles": ["clerk"],
            "password": TEST_PASSWORD,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["roles"] == ["clerk"]
    assert User.objects.get(username="api_clerk").court.code == "粤0105"
    entry = AuditRecord.objects.filter(action="create", object_type="courts.user").latest("id")
    assert entry.username == "admin"
    assert entry.channel == "api"


@pytest.mark.django_db
def test_admin_cannot_create_outside_scope(make_user):
    client = _client(make_user("admin", "粤01", "administrator"))
    response = client.post(
        "/api/v1/users/",
        {"username": "x", "court": "粤0303", "roles": ["clerk"], "password": TEST_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert "court" in response.json()
    assert not User.objects.filter(username="x").exists()


@pytest.mark.django_db
def test_officer_cannot_create_user(make_user):
    client = _client(make_user("officer", "粤01", "case_officer"))
    response = client.post(
        "/api/v1/users/",
        {"username": "x", "court": "粤0104", "roles": ["clerk"], "password": TEST_PASSWORD},
        format="json",
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_weak_password_names_field(make_user):
    client = _client(make_user("admin", "粤01", "administrator"))
    response = client.post(
        "/api/v1/users/",
        {"username": "y", "court": "粤0104", "roles": ["clerk"], "password": "abc"},
        format="json",
    )
    assert response.status_code == 400
    assert "password" in response.json()


@pytest.mark.django_db
def test_phone_masked_in_list_and_shown_to_admin(make_user):
    target = make_user("target", "粤0104", phone="13512345678")
    admin = _client(make_user("admin", "粤01", "administrator"))
    officer = _client(make_user("officer", "粤01", "case_officer"))
    listed = {row["username"]: row for row in admin.get("/api/v1/users/").json()["results"]}
    assert listed["target"]["phone"] == "135****5678"
    assert admin.get(f"/api/v1/users/{target.pk}/").json()["phone"] == "13512345678"
    assert officer.get(f"/api/v1/users/{target.pk}/").json()["phone"] == "135****5678"
    assert AuditRecord.objects.filter(action="read_personal", username="admin").exists()


@pytest.mark.django_db
def test_admin_deactivates_user(make_user):
    target = make_user("leaver", "粤0104")
    client = _client(make_user("admin", "粤01", "administrator"))
    response = client.patch(f"/api/v1/users/{target.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.is_active is False


def test_openapi_generation_has_no_warnings(tmp_path):
    from django.core.management import call_command

    call_command(
        "spectacular", "--api-version", "v1", "--fail-on-warn", "--file", str(tmp_path / "a.yaml")
    )
    assert (tmp_path / "a.yaml").stat().st_size > 0


@pytest.mark.django_db
def test_admin_cannot_grant_self_roles(make_user):
    admin = make_user("admin", "粤01", "administrator")
    client = _client(admin)

    response = client.patch(
        f"/api/v1/users/{admin.pk}/",
        {"roles": ["administrator", "bureau_head", "commander"]},
        format="json",
    )

    assert response.status_code == 400
    assert "roles" in response.json()
    assert User.objects.get(pk=admin.pk).role_codes() == {"administrator"}
