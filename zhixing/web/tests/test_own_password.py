"""A password that an administrator set must be replaced by its user at the next login."""

from __future__ import annotations

import pytest
from django.test import Client

from zhixing.conftest import TEST_PASSWORD
from zhixing.courts import services
from zhixing.courts.models import User

pytestmark = pytest.mark.django_db

SET_BY_ADMIN = "Gz-Temp#2026-reset"
CHOSEN = "Yx-Own#2026-chosen"


def logged_in(username: str, password: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed"
    return client


@pytest.fixture
def reset_officer(make_user):
    admin = make_user("admin01", "粤01", "administrator")
    officer = make_user("officer", "粤0104", "case_officer")
    services.set_password(actor=admin, user=officer, password=SET_BY_ADMIN)
    return officer


def test_reset_password_sends_to_change_page(reset_officer):
    client = logged_in("officer", SET_BY_ADMIN)

    home = client.get("/")
    cases = client.get("/cases/")
    page = client.get("/account/password/")

    assert home.status_code == 302
    assert home["Location"] == "/account/password/"
    assert cases["Location"] == "/account/password/"
    assert page.status_code == 200
    assert 'data-testid="password-required"' in page.content.decode()


def test_changed_password_opens_pages(reset_officer):
    client = logged_in("officer", SET_BY_ADMIN)
    data = {"current_password": SET_BY_ADMIN, "password": CHOSEN, "password_again": CHOSEN}

    response = client.post("/account/password/", data)

    assert response.status_code == 302
    assert client.get("/").status_code == 200
    officer = User.objects.get(pk=reset_officer.pk)
    assert officer.check_password(CHOSEN)
    assert not officer.password_change_required


def test_wrong_current_password_changes_nothing(reset_officer):
    client = logged_in("officer", SET_BY_ADMIN)
    data = {"current_password": "wrong", "password": CHOSEN, "password_again": CHOSEN}

    response = client.post("/account/password/", data)

    assert response.status_code == 400
    assert "The current password is wrong." in response.content.decode()
    assert User.objects.get(pk=reset_officer.pk).check_password(SET_BY_ADMIN)


def test_own_change_needs_no_second_change(make_user):
    make_user("officer", "粤0104", "case_officer")
    client = logged_in("officer", TEST_PASSWORD)
    data = {"current_password": TEST_PASSWORD, "password": CHOSEN, "password_again": CHOSEN}

    client.post("/account/password/", data)

    assert not User.objects.get(username="officer").password_change_required
    assert client.get("/").status_code == 200


def test_account_created_by_admin_must_change(make_user, courts):
    admin = make_user("admin01", "粤01", "administrator")

    created = services.create_user(
        actor=admin,
        court=courts["粤0104"],
        username="newbie",
        full_name="新人",
        role_codes=["clerk"],
        password=SET_BY_ADMIN,
    )

    assert created.password_change_required
    assert not User.objects.get(username="admin01").password_change_required
