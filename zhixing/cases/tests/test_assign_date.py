"""An assignment dated before the filing date is rejected."""

from __future__ import annotations

import datetime

import pytest

from zhixing.cases.tests.test_api import _new_case, api_client

pytestmark = pytest.mark.django_db


def test_assign_before_filing_gets_400(make_user):
    clerk = make_user("clerk", "粤0104", "clerk")
    officer = make_user("officer", "粤0104")
    client = api_client(clerk)
    filed = client.post("/api/v1/cases/", _new_case(), format="json").json()
    before = datetime.date.fromisoformat(filed["filed_on"]) - datetime.timedelta(days=1)

    response = client.post(
        f"/api/v1/cases/{filed['id']}/assign/",
        {"case_officer": officer.pk, "on": before.isoformat()},
        format="json",
    )

    assert response.status_code == 400
    assert "between the filing date" in str(response.json())
