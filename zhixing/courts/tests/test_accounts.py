"""Staff accounts: the services, the createuser and token commands, and the pages."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.authtoken.models import Token

from zhixing.conftest import TEST_PASSWORD
from zhixing.courts import services
from zhixing.courts.models import User


@pytest.mark.django_db
def test_createuser_command(courts, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Str0ng-Passw0rd!\n"))
    out = StringIO()
    call_command(
        "createuser",
        "li_si",
        "--court",
        "粤0104",
        "--role",
        "case_officer",
        "--role",
        "clerk",
        "--password-stdin",
        stdout=out,
    )
    user = User.objects.get(username="li_si")
    assert user.court.code == "粤0104"
    assert user.role_codes() == {"case_officer", "clerk"}
    assert user.check_password("Str0ng-Passw0rd!")
    assert "粤0104" in out.getvalue()


@pytest.mark.django_db
def test_createuser_unknown_court(courts):
    with pytest.raises(CommandError, match="Court code '粤9999' not found"):
        call_command("createuser", "x", "--court", "粤9999", "--role", "clerk", "--no-password")


@pytest.mark.django_db
def test_createuser_weak_password(courts, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError, match="password"):
        call_command(
            "createuser", "weak", "--court", "粤0104", "--role", "clerk", "--password-stdin"
        )
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.django_db
def test_token_command_prints_stable_token(make_user):
    user = make_user("token_user", "粤01")
    first, second = StringIO(), StringIO()
    call_command("token", "token_user", stdout=first)
    call_command("token", "token_user", stdout=second)
    assert first.getvalue() == second.getvalue()
    assert Token.objects.get(user=user).key == first.getvalue().strip()


@pytest.mark.parametrize(
    "password",
    ["short1!A", "alllowercaseletters", "12345678901234", "Password123456"],
)
@pytest.mark.django_db
def test_weak_passwords_rejected(courts, password):
    with pytest.raises(ValidationError) as info:
        services.create_user(
            actor=None,
            court=courts["粤0104"],
            username="weakling",
            full_name="弱",
            role_codes=["clerk"],
            password=password,
        )
    assert "password" in info.value.message_dict


@pytest.mark.django_db
def test_admin_cannot_manage_other_branch(make_user, courts):
    admin = make_user("gz_admin", "粤01", "administrator")
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=admin,
            court=courts["粤0303"],
            username="intruder",
            full_name="x",
            role_codes=["clerk"],
            password=TEST_PASSWORD,
        )
    created = services.create_user(
        actor=admin,
        court=courts["粤0105"],
        username="newbie",
        full_name="新人",
        role_codes=["clerk"],
        password=TEST_PASSWORD,
    )
    assert created.court.code == "粤0105"


@pytest.mark.django_db
def test_non_admin_cannot_create(make_user, courts):
    head = make_user("head", "粤01", "bureau_head")
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=head,
            court=courts["粤0105"],
            username="x",
            full_name="x",
            role_codes=["clerk"],
            password=TEST_PASSWORD,
        )


@pytest.mark.django_db
def test_unknown_role_rejected(courts):
    with pytest.raises(ValidationError, match="Unknown roles: janitor"):
        services.create_user(
            actor=None,
            court=courts["粤0104"],
            username="r",
            full_name="r",
            role_codes=["janitor"],
            password=TEST_PASSWORD,
        )


@pytest.mark.django_db
def test_admin_page_creates_user(make_user, courts):
    admin = make_user("admin01", "粤01", "administrator")
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/users/new/",
        {
            "username": "clerk7",
            "full_name": "王五",
            "court": courts["粤0105"].pk,
            "roles": ["clerk"],
            "phone": "13800138000",
            "password": TEST_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="clerk7").court.code == "粤0105"


@pytest.mark.django_db
def test_admin_page_rejects_out_of_scope_court(make_user, courts):
    admin = make_user("admin01", "粤01", "administrator")
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/users/new/",
        {
            "username": "spy",
            "full_name": "x",
            "court": courts["粤0303"].pk,
            "roles": ["clerk"],
            "password": TEST_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "court" in response.context["form"].errors
    assert not User.objects.filter(username="spy").exists()


@pytest.mark.django_db
def test_user_pages_need_administrator(make_user):
    officer = make_user("plain", "粤01", "case_officer")
    client = Client()
    client.force_login(officer)
    assert client.get("/users/").status_code == 403
    assert client.get("/users/new/").status_code == 403


@pytest.mark.django_db
def test_phone_masked_for_non_admin(make_user, courts):
    make_user("colleague", "粤0104", phone="13812345678")
    viewer = make_user("viewer", "粤0104", "case_officer")
    client = Client()
    client.force_login(viewer)
    page = client.get(f"/courts/{courts['粤0104'].pk}/").content.decode()
    assert "13812345678" not in page
    assert "138****5678" in page


@pytest.mark.django_db
def test_court_page_leaves_out_reference_note(make_user, courts):
    court = courts["粤0104"]
    court.note = "Derived from a published case number."
    court.save()
    client = Client()
    client.force_login(make_user("viewer", "粤0104", "case_officer"))

    page = client.get(f"/courts/{court.pk}/").content.decode()

    assert court.name in page
    assert "Derived from a published case number." not in page


@pytest.mark.django_db
def test_admin_cannot_change_own_roles(make_user):
    admin = make_user("gz_admin", "粤01", "administrator")

    with pytest.raises(ValidationError) as raised:
        services.update_user(
            actor=admin, user=admin, role_codes=["administrator", "bureau_head", "commander"]
        )

    assert "roles" in raised.value.message_dict
    admin.refresh_from_db()
    assert admin.role_codes() == {"administrator"}


@pytest.mark.django_db
def test_admin_keeps_own_roles_when_editing_self(make_user):
    admin = make_user("gz_admin", "粤01", "administrator")

    services.update_user(actor=admin, user=admin, full_name="穗管理", role_codes=["administrator"])

    admin.refresh_from_db()
    assert admin.full_name == "穗管理"


@pytest.mark.django_db
def test_other_admin_changes_roles(make_user):
    admin = make_user("gz_admin", "粤01", "administrator")
    colleague = make_user("gz_admin2", "粤01", "administrator")

    services.update_user(actor=colleague, user=admin, role_codes=["administrator", "commander"])

    assert User.objects.get(pk=admin.pk).role_codes() == {"administrator", "commander"}
