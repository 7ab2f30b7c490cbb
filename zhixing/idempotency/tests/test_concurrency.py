"""Requests with the same Idempotency-Key at the same time: one runs, never two."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.db import connection, transaction
from django.utils import timezone

from zhixing.cases.models import EnforcementCase
from zhixing.cases.tests.test_api import _new_case, api_client
from zhixing.courts import services as court_services
from zhixing.idempotency import services
from zhixing.idempotency.keys import request_fingerprint
from zhixing.idempotency.models import IdempotencyKey

CASES = "/api/v1/cases/"
KEY = "4b0d9a57-3f0e-4c55-9a7d-0c2f1e8b6d42"
ROUNDS = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_locked_key_gets_409_then_runs(make_user):
    officer = make_user("officer", "粤0104")
    client = api_client(officer)
    body = _new_case()
    # The row of a first request that is still running: claimed, locked, no response.
    record, _outcome = services.claim(
        officer,
        KEY,
        fingerprint=request_fingerprint("POST", CASES, body),
        method="POST",
        path=CASES,
        now=timezone.now(),
    )
    locked = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                IdempotencyKey.objects.select_for_update().get(pk=record.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(30)
    try:
        running = client.post(CASES, body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    finally:
        release.set()
        holder.join(30)
    # The holder ended without a response, as a request that died does, so the key runs now.
    after = client.post(CASES, body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert running.status_code == 409
    assert KEY in running.json()["detail"]
    assert "still running" in running.json()["detail"]
    assert after.status_code == 201
    assert "Idempotent-Replayed" not in after
    assert EnforcementCase.objects.count() == 1


def _post(address: tuple[str, int], token: str, key: str) -> tuple[int, str]:
    """Send a filing to the live server; return the status and the Idempotent-Replayed header."""
    connection = http.client.HTTPConnection(*address, timeout=60)
    try:
        connection.request(
            "POST",
            CASES,
            body=json.dumps(_new_case()).encode(),
            headers={
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Accept-Language": "en",
                "Idempotency-Key": key,
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Idempotent-Replayed", "")
    finally:
        connection.close()


def _send_pair(address: tuple[str, int], token: str, key: str) -> list[tuple[int, str]]:
    """Send the same filing with ``key`` from two threads at once; return the sorted outcomes."""
    start = threading.Barrier(2)

    def send(_thread: int) -> tuple[int, str]:
        start.wait(30)
        return _post(address, token, key)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return sorted(pool.map(send, range(2)))


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_file_one_case(live_server, make_user):
    token = court_services.issue_token(make_user("officer", "粤0104"))
    server = urlsplit(live_server.url)
    address = (server.hostname or "", server.port or 80)

    outcomes = [_send_pair(address, token, f"round-{index}") for index in range(ROUNDS)]

    assert EnforcementCase.objects.count() == ROUNDS
    for outcome in outcomes:
        # The second request either found the first one running or got its stored response.
        assert outcome in ([(201, ""), (201, "true")], [(201, ""), (409, "")]), outcome
    assert IdempotencyKey.objects.filter(status_code=201).count() == ROUNDS
