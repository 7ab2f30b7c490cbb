"""Attacks on the Idempotency-Key support: lookalike bodies, guessed fingerprints, headers.

Each test states the behaviour that docs/api.md promises.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.http import QueryDict

from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.tests.test_api import _new_case, api_client
from zhixing.idempotency.keys import request_fingerprint
from zhixing.idempotency.models import IdempotencyKey

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
KEY = "0b8f6c1e-5d2a-4e7b-9c3f-1a2b3c4d5e6f"


@pytest.fixture
def officer(make_user):
    return make_user("officer", "粤0104")


def test_form_and_json_bodies_differ():
    """Check that a form body and a JSON body of lists have different fingerprints."""
    form = QueryDict("case_officer=1&on=2026-12-06")
    as_json = {"case_officer": ["1"], "on": ["2026-12-06"]}

    assert request_fingerprint("POST", CASES, form) != request_fingerprint("POST", CASES, as_json)


def test_json_retry_of_form_request_not_replayed(officer, make_user):
    """Check that a JSON body, which gets 400 when it runs, never gets the form request's 200."""
    client = api_client(make_user("clerk", "粤0104", "clerk"))
    case = EnforcementCase.objects.get(
        pk=client.post(CASES, _new_case(), format="json").json()["id"]
    )
    path = f"{CASES}{case.pk}/assign/"
    today = str(case_services.today_in_china())

    form = client.post(path, {"case_officer": officer.pk, "on": today}, HTTP_IDEMPOTENCY_KEY=KEY)
    as_json = client.post(
        path,
        {"case_officer": [str(officer.pk)], "on": [today]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )

    assert form.status_code == 200
    assert "Idempotent-Replayed" not in as_json
    assert as_json.status_code == 422


def test_fingerprint_not_recomputable_without_secret(officer):
    """Check that a reader of the table cannot test guesses of the body against the fingerprint.

    The stored response masks the debtor's ID number to its first 6 and last 4 digits, so the
    8 digits of the birth date are all that is hidden: about 30,000 guesses. A plain SHA-256 of
    the request lets anyone with a database dump or backup recover the full number (and a
    password sent to POST /api/v1/users/) at SHA-256 speed.
    """
    client = api_client(officer)
    body = _new_case()
    client.post(CASES, body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    stored = IdempotencyKey.objects.get(key=KEY)

    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    plain = hashlib.sha256("\n".join(["POST", CASES, canonical]).encode()).hexdigest()
    assert stored.fingerprint != plain


def test_replay_keeps_stored_language(officer):
    """Check that a replay in another language keeps the stored body's Content-Language."""
    client = api_client(officer)
    client.post(CASES, _new_case(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    replayed = client.post(
        CASES, _new_case(), format="json", HTTP_IDEMPOTENCY_KEY=KEY, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed["Content-Language"] == "en"


def test_repeated_headers_rejected(officer):
    """Check that two Idempotency-Key headers, which arrive joined by a comma, get 400."""
    response = api_client(officer).post(
        CASES, _new_case(), format="json", HTTP_IDEMPOTENCY_KEY=f"{KEY}, other"
    )

    assert response.status_code == 400
    assert "comma" in str(response.json())
    assert not EnforcementCase.objects.exists()
