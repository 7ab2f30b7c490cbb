"""Every option that the case and measure list pages offer is accepted by them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from zhixing.cases.tests.test_views import file_case

pytestmark = pytest.mark.django_db


def options(page: str) -> list[tuple[str, str]]:
    found = []
    for select in re.finditer(r'<select[^>]*name="([a-z_]+)"[^>]*>(.*?)</select>', page, re.S):
        for value in re.findall(r'<option value="([^"]*)"', select.group(2)):
            found.append((select.group(1), value))
    return found


USERS = [
    ("head01", "粤01", "bureau_head"),
    ("officer0104", "粤0104", "case_officer"),
    ("head00", "粤", "bureau_head"),
]
PATHS = ["/cases/", "/measures/", "/audit/", "/measures/expiring/"]
# Case officers do not read the audit trail.
CASES = [
    (path, *user)
    for path in PATHS
    for user in USERS
    if not (path == "/audit/" and user[2] == "case_officer")
]


@pytest.mark.parametrize(("path", "username", "court", "role"), CASES)
def test_own_options_accepted(courts, make_user, path, username, court, role):
    user = make_user(username, court, role)
    file_case(courts["粤0104"], officer=user if role == "case_officer" else None)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    page = client.get(path)
    assert page.status_code == 200
    offered = options(page.content.decode())
    assert offered, path
    rejected = []
    for name, value in offered:
        response = client.get(path, {name: value})
        if response.status_code != 200:
            rejected.append((name, value, response.status_code))
    assert rejected == []
