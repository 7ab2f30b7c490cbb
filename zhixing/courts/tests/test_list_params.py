"""The page parameter of the staff list: a bad value is reported, not ignored."""

from __future__ import annotations

import pytest
from django.test import Client

from zhixing.courts import views


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def admin(make_user):
    return make_user("admin01", "粤01", "administrator")


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "0", "-1", "2", "1.5"])
def test_staff_list_rejects_bad_page(admin, value):
    response = client_for(admin).get("/users/", {"q": "admin", "page": value})
    page = response.content.decode()

    assert response.status_code == 400
    assert "<td>admin01</td>" not in page
    assert f"Page “{value}” does not exist; use a whole number from 1 to 1." in page
    assert 'href="/users/?q=admin" data-testid="drop-invalid-values">Show the first page<' in page


@pytest.mark.django_db
def test_staff_list_search_partial_bad_page(admin):
    response = client_for(admin).get("/users/", {"page": "x"}, headers={"HX-Request": "true"})
    partial = response.content.decode()

    # htmx swaps in only 2xx responses.
    assert response.status_code == 200
    assert "<html" not in partial
    assert "Page “x” does not exist" in partial
    assert "<td>admin01</td>" not in partial


@pytest.mark.django_db
def test_staff_list_pages_keep_search(admin, make_user, monkeypatch):
    make_user("admin02", "粤01", "administrator")
    monkeypatch.setattr(views, "STAFF_PAGE_SIZE", 1)
    client = client_for(admin)

    first = client.get("/users/", {"q": "admin"})
    second = client.get("/users/", {"q": "admin", "page": "2"})

    assert first.status_code == 200
    assert 'href="?q=admin&amp;page=2"' in first.content.decode()
    assert second.status_code == 200
    assert "<td>admin02</td>" in second.content.decode()
