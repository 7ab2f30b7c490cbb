"""A filing form sent twice (double click, reload, back button) files one case."""

from __future__ import annotations

import re

import pytest

from zhixing.cases.models import CaseSequence, EnforcementCase
from zhixing.cases.tests.test_views import _filing_data, client_for
from zhixing.web.models import Submission

pytestmark = pytest.mark.django_db


def form_token(page: str) -> str:
    found = re.search(r'name="once" value="([0-9a-f]{32})"', page)
    assert found, "the form carries no one-time token"
    return found.group(1)


def test_second_sending_leads_to_first_case(courts, make_user):
    client = client_for(make_user("officer", "粤0104"))
    token = form_token(client.get("/cases/new/").content.decode())
    data = _filing_data(once=token)

    first = client.post("/cases/new/", data)
    second = client.post("/cases/new/", data)

    case = EnforcementCase.objects.get()
    assert first.status_code == 302
    assert second.status_code == 302
    assert second["Location"] == first["Location"] == f"/cases/{case.pk}/"
    assert CaseSequence.objects.get().last_sequence == 1


def test_each_page_gets_own_token(courts, make_user):
    client = client_for(make_user("officer", "粤0104"))

    for _ in range(2):
        token = form_token(client.get("/cases/new/").content.decode())
        client.post("/cases/new/", _filing_data(once=token))

    assert EnforcementCase.objects.count() == 2


def test_form_with_errors_frees_token(courts, make_user):
    client = client_for(make_user("officer", "粤0104"))
    token = form_token(client.get("/cases/new/").content.decode())

    rejected = client.post("/cases/new/", _filing_data(once=token, claim_amount="12,5x"))
    corrected = client.post("/cases/new/", _filing_data(once=token))

    assert rejected.status_code == 400
    assert corrected.status_code == 302
    assert EnforcementCase.objects.count() == 1
    assert Submission.objects.get(token=token).location == corrected["Location"]


def test_sending_without_token_files_each_time(courts, make_user):
    client = client_for(make_user("officer", "粤0104"))

    client.post("/cases/new/", _filing_data())
    client.post("/cases/new/", _filing_data())

    assert EnforcementCase.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_double_click_files_one_case(courts, make_user):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    officer = make_user("officer", "粤0104")
    token = form_token(client_for(officer).get("/cases/new/").content.decode())
    data = _filing_data(once=token)

    def send(_index: int) -> str:
        try:
            return client_for(officer).post("/cases/new/", data)["Location"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        locations = list(pool.map(send, range(2)))

    case = EnforcementCase.objects.get()
    assert locations == [f"/cases/{case.pk}/"] * 2
