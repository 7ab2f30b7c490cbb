"""Idempotency keys on the REST API: replay, mismatch, users, errors, expiry, schema."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone

from zhixing import timers
from zhixing.audit.models import AuditRecord
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.tests.test_api import _new_case, api_client
from zhixing.idempotency import services
from zhixing.idempotency.models import IdempotencyKey
from zhixing.measures.models import ControlMeasure
from zhixing.measures.tests.conftest import ACCOUNT
from zhixing.measures.tests.test_api import api_client as measures_client
from zhixing.measures.tests.test_api import freeze_body
from zhixing.web.tests.test_api_schema import _documented

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"
KEY = "6f1c2a8e-9a51-4d1e-8f0c-2b7d4e5a9c31"


def file_with_key(client, body, key=KEY):
    return client.post(CASES, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def officer(make_user):
    return make_user("officer", "粤0104")


# Replay


def test_repeat_files_one_case(officer):
    client = api_client(officer)

    first = file_with_key(client, _new_case())
    second = file_with_key(client, _new_case())

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert EnforcementCase.objects.count() == 1


def test_quoted_key_is_same_key(officer):
    client = api_client(officer)

    first = file_with_key(client, _new_case())
    second = file_with_key(client, _new_case(), key=f'"{KEY}"')

    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert EnforcementCase.objects.count() == 1


def test_repeat_of_step_records_one_step(officer):
    client = api_client(officer)
    filed = file_with_key(client, _new_case(case_officer=officer.pk))
    case = EnforcementCase.objects.get(pk=filed.json()["id"])
    path = f"{CASES}{case.pk}/steps/"
    body = {"kind": "notice_sent", "on": str(case_services.today_in_china())}

    first = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="step-1")
    second = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="step-1")

    assert first.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert case.flow.filter(kind="notice_sent").count() == 1


def test_repeat_sends_one_freeze(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    client = measures_client(officer)
    body = freeze_body(asset)

    first = client.post("/api/v1/measures/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    second = client.post("/api/v1/measures/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert ControlMeasure.objects.count() == 1


def test_validation_error_is_stored(officer):
    client = api_client(officer)

    first = file_with_key(client, _new_case(debtors=[]))
    second = file_with_key(client, _new_case(debtors=[]))

    assert first.status_code == 400
    assert "debtors" in first.json()
    assert second.status_code == 400
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert EnforcementCase.objects.count() == 0


def test_server_error_is_rolled_back_and_retried(officer, monkeypatch):
    # Unit test of the 5xx path: the service files the case and then fails.
    real_file_case = case_services.file_case

    def file_then_fail(**arguments):
        real_file_case(**arguments)
        raise RuntimeError("injected failure after filing")

    client = api_client(officer)
    client.raise_request_exception = False
    monkeypatch.setattr(case_services, "file_case", file_then_fail)
    failed = file_with_key(client, _new_case())
    monkeypatch.setattr(case_services, "file_case", real_file_case)
    retried = file_with_key(client, _new_case())

    assert failed.status_code == 500
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert EnforcementCase.objects.count() == 1


# Another request, another user, no key


def test_other_body_with_key_gets_422(officer):
    client = api_client(officer)
    file_with_key(client, _new_case())

    response = file_with_key(client, _new_case(claim_amount="9900.00"))

    assert response.status_code == 422
    message = response.json()["detail"]
    assert KEY in message
    assert "POST /api/v1/cases/" in message
    assert "Send a new key" in message
    assert "Idempotent-Replayed" not in response
    assert EnforcementCase.objects.count() == 1


def test_other_path_with_key_gets_422(officer):
    client = api_client(officer)
    case_id = file_with_key(client, _new_case()).json()["id"]

    response = client.post(
        f"{CASES}{case_id}/steps/", {"kind": "notice_sent"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert response.status_code == 422
    assert not EnforcementCase.objects.get().flow.filter(kind="notice_sent").exists()


def test_key_of_other_user_is_independent(officer, make_user):
    colleague = make_user("colleague", "粤0104")

    mine = file_with_key(api_client(officer), _new_case())
    theirs = file_with_key(api_client(colleague), _new_case())

    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != mine.json()["id"]
    assert EnforcementCase.objects.count() == 2
    assert IdempotencyKey.objects.filter(key=KEY).count() == 2


def test_other_user_never_gets_stored_response(officer, make_user):
    file_with_key(api_client(officer), _new_case())
    colleague = api_client(make_user("colleague", "粤0104"))

    response = file_with_key(colleague, _new_case(claim_amount="1.00"))

    assert response.status_code == 201
    assert response.json()["claim_amount"] == "1.00"


def test_without_key_files_each_time(officer):
    client = api_client(officer)

    first = client.post(CASES, _new_case(), format="json")
    second = client.post(CASES, _new_case(), format="json")

    assert first.status_code == 201
    assert second.status_code == 201
    assert EnforcementCase.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_key_on_get_is_ignored(officer):
    response = api_client(officer).get(CASES, HTTP_IDEMPOTENCY_KEY="")

    assert response.status_code == 200
    assert not IdempotencyKey.objects.exists()


def test_unauthenticated_request_stores_nothing(courts):
    from rest_framework.test import APIClient

    response = APIClient().post(CASES, _new_case(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_refusal_of_service_is_stored(make_user):
    police = api_client(make_user("police", "粤0104", "judicial_police"))

    first = file_with_key(police, _new_case())
    second = file_with_key(police, _new_case())

    assert first.status_code == 403
    assert second.status_code == 403
    assert second["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().status_code == 403
    assert not EnforcementCase.objects.exists()


def test_role_check_of_view_stores_nothing(officer):
    # The order endpoints let only commanders, duty officers and bureau heads in.
    response = api_client(officer).post(
        "/api/v1/orders/", {}, format="json", HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert response.status_code == 403
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "The Idempotency-Key header is empty"),
        ("k" * 300, "has 300 characters, more than the maximum of 255"),
        ("bell\x07", "“bell\\x07” contains a character that is not printable ASCII"),
    ],
)
def test_malformed_key_gets_400(officer, value, words):
    response = file_with_key(api_client(officer), _new_case(), key=value)

    assert response.status_code == 400
    messages = response.json()["Idempotency-Key"]
    assert len(messages) == 1
    assert words in messages[0]
    assert "1 to 255 printable ASCII characters" in messages[0]
    assert not EnforcementCase.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_message_in_chinese(officer):
    client = api_client(officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    file_with_key(client, _new_case())

    response = file_with_key(client, _new_case(claim_amount="9900.00"))

    assert response.status_code == 422
    assert KEY in response.json()["detail"]
    assert "幂等键" in response.json()["detail"]


# Storage and expiry


def test_stored_row_and_no_audit_records(officer):
    before = AuditRecord.objects.count()
    file_with_key(api_client(officer), _new_case())

    record = IdempotencyKey.objects.get()
    assert record.user == officer
    assert record.status_code == 201
    assert record.method == "POST"
    assert record.path == CASES
    assert len(record.fingerprint) == 64
    assert record.expires_at - record.created_at == datetime.timedelta(hours=24)
    assert record.response_headers == {"Content-Type": "application/json", "Content-Language": "en"}
    assert not AuditRecord.objects.filter(object_type="idempotency.idempotencykey").exists()
    # Filing the case itself is audited as before.
    assert AuditRecord.objects.count() > before


def test_expired_keys_are_deleted(officer):
    client = api_client(officer)
    file_with_key(client, _new_case())
    file_with_key(client, _new_case(), key="second")
    expiry = IdempotencyKey.objects.get(key="second").expires_at

    assert services.delete_expired(expiry - datetime.timedelta(seconds=1)) == 0
    assert services.delete_expired(expiry) == 2
    assert services.delete_expired(expiry) == 0
    assert not IdempotencyKey.objects.exists()


def test_delete_expired_in_batches(officer, monkeypatch):
    now = timezone.now()
    for index in range(5):
        services.claim(
            officer, f"key-{index}", fingerprint="0" * 64, method="POST", path=CASES, now=now
        )
    monkeypatch.setattr(services, "DELETE_BATCH", 2)

    assert services.delete_expired(now + services.KEEP) == 5
    assert not IdempotencyKey.objects.exists()


def test_expired_key_runs_again(officer):
    client = api_client(officer)
    file_with_key(client, _new_case())
    IdempotencyKey.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = file_with_key(client, _new_case())

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert EnforcementCase.objects.count() == 2
    assert IdempotencyKey.objects.get().expires_at > timezone.now()


def test_periodic_check_is_registered(officer):
    file_with_key(api_client(officer), _new_case())
    IdempotencyKey.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    results = timers.run_due(force=True)

    assert results["idempotency.delete_expired"] == 1
    assert not IdempotencyKey.objects.exists()


# OpenAPI


def test_openapi_lists_header_on_changes(officer):
    paths = json.loads(api_client(officer).get("/api/openapi.json").content)["paths"]

    for path, method in [
        ("/api/v1/cases/", "post"),
        ("/api/v1/cases/{id}/close/", "post"),
        ("/api/v1/measures/", "post"),
        ("/api/v1/users/{id}/", "put"),
    ]:
        operation = paths[path][method]
        headers = [item for item in operation["parameters"] if item["in"] == "header"]
        assert [item["name"] for item in headers] == ["Idempotency-Key"], (path, method)
        assert headers[0].get("required", False) is False
        assert {"400", "409", "422"} <= set(operation["responses"]), (path, method)
        success = next(code for code in operation["responses"] if code.startswith("2"))
        assert "Idempotent-Replayed" in operation["responses"][success]["headers"]
    listing = paths["/api/v1/cases/"]["get"]
    assert "Idempotency-Key" not in {item["name"] for item in listing["parameters"]}
    assert "409" not in listing["responses"]


def test_key_errors_match_documented_schema(officer):
    client = api_client(officer)
    document = json.loads(client.get("/api/openapi.json").content)
    file_with_key(client, _new_case())

    malformed = file_with_key(client, _new_case(), key="")
    reused = file_with_key(client, _new_case(claim_amount="1.00"))

    assert malformed.status_code == 400
    assert reused.status_code == 422
    _documented(document, CASES, "post", malformed)
    _documented(document, CASES, "post", reused)
