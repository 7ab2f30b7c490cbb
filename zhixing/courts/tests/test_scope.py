"""The data-scope matrix: every tier against every other tier, in services, pages and API."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from zhixing.courts import scope, services
from zhixing.courts.models import User

# Tiers of the fixture tree: the high court, an intermediate court, its sibling, two basic
# courts under the first intermediate court and a basic court under the sibling.
TIERS = ["粤", "粤01", "粤03", "粤0104", "粤0105", "粤0303"]
VISIBLE = {
    "粤": set(TIERS),
    "粤01": {"粤01", "粤0104", "粤0105"},
    "粤03": {"粤03", "粤0303"},
    "粤0104": {"粤0104"},
    "粤0105": {"粤0105"},
    "粤0303": {"粤0303"},
}
MATRIX = [(viewer, owner) for viewer in TIERS for owner in TIERS]


@pytest.fixture
def staff(make_user) -> dict[str, User]:
    return {code: make_user(f"officer{index}", code) for index, code in enumerate(TIERS)}


@pytest.mark.django_db
@pytest.mark.parametrize(("viewer", "owner"), MATRIX)
def test_service_scope_matrix(staff, courts, viewer, owner):
    expected = owner in VISIBLE[viewer]
    user = staff[viewer]
    assert scope.court_in_scope(user, courts[owner]) is expected
    assert scope.visible_courts(user).filter(code=owner).exists() is expected
    assert scope.restrict(User.objects.all(), user).filter(court__code=owner).exists() is expected


@pytest.mark.django_db
@pytest.mark.parametrize(("viewer", "owner"), MATRIX)
def test_page_scope_matrix(staff, courts, viewer, owner):
    client = Client()
    client.force_login(staff[viewer])
    response = client.get(f"/courts/{courts[owner].pk}/")
    expected_status = 200 if owner in VISIBLE[viewer] else 404
    assert response.status_code == expected_status
    tree = client.get("/courts/").content.decode()
    assert (f'data-court-code="{owner}"' in tree) is (owner in VISIBLE[viewer])


@pytest.mark.django_db
@pytest.mark.parametrize(("viewer", "owner"), MATRIX)
def test_api_scope_matrix(staff, courts, viewer, owner):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.issue_token(staff[viewer])}")
    expected = owner in VISIBLE[viewer]
    court_response = client.get(f"/api/v1/courts/{owner}/")
    assert court_response.status_code == (200 if expected else 404)
    user_response = client.get(f"/api/v1/users/{staff[owner].pk}/")
    assert user_response.status_code == (200 if expected else 404)
    listed = {row["court"] for row in client.get("/api/v1/users/?limit=500").json()["results"]}
    assert (owner in listed) is expected


@pytest.mark.django_db
def test_inactive_user_sees_nothing(staff):
    user = staff["粤"]
    user.is_active = False
    assert not scope.visible_courts(user).exists()
    assert not scope.restrict(User.objects.all(), user).exists()


@pytest.mark.django_db
def test_restrict_includes_records_sent_to_court(staff):
    # A superior court's staff record stands in for any record; ``court__children`` plays the
    # "sent to" relation, so it reaches the courts directly below 粤01 and no other.
    superior_record = User.objects.filter(pk=staff["粤01"].pk)
    assert not scope.restrict(superior_record, staff["粤0104"]).exists()
    for viewer, expected in [("粤0104", True), ("粤0105", True), ("粤0303", False)]:
        received = scope.restrict(
            superior_record, staff[viewer], received_by_field="court__children"
        )
        assert received.exists() is expected, viewer


@pytest.mark.django_db
def test_court_tree_read_once(staff, django_assert_num_queries):
    user = staff["粤01"]
    list(scope.restrict(User.objects.all(), user))
    with django_assert_num_queries(1):
        list(scope.restrict(User.objects.all(), user))


@pytest.mark.django_db
def test_new_court_enters_scope_at_once(staff, courts):
    user = staff["粤01"]
    list(scope.restrict(User.objects.all(), user))
    services.load_courts(
        [
            {
                "code": "粤0106",
                "name": "广州市天河区人民法院",
                "level": "basic",
                "parent_code": "粤01",
            }
        ]
    )
    newcomer = services.create_user(
        actor=None,
        court=courts["粤01"].children.get(code="粤0106"),
        username="officer_new",
        full_name="officer_new",
        role_codes=("case_officer",),
        password="Test-Passw0rd-2026",
    )
    assert scope.restrict(User.objects.all(), user).filter(pk=newcomer.pk).exists()


@pytest.mark.django_db
def test_court_tree_read_again_later(staff, monkeypatch, django_assert_num_queries):
    user = staff["粤01"]
    list(scope.restrict(User.objects.all(), user))
    later = scope.time.monotonic() + scope.COURT_TREE_SECONDS + 1
    monkeypatch.setattr(scope.time, "monotonic", lambda: later)
    # The court tree, then the users.
    with django_assert_num_queries(2):
        list(scope.restrict(User.objects.all(), user))
