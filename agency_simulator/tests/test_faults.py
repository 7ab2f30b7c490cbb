"""Fault injection through the admin endpoint: errors, timeouts, garbage, outages."""

from __future__ import annotations

import json

import httpx
import pytest
from cryptography.exceptions import InvalidSignature

from agency_simulator.app import Response as SimulatorResponse
from agency_simulator.app import require_loopback
from agency_simulator.tests.conftest import Court, Simulator, item, person
from agency_simulator.tests.schemas import errors


def test_faults_readable_and_validated(simulator: Simulator, faulty_bank: str) -> None:
    changed = simulator.faults(faulty_bank, error_rate=0.25, delay_ms=[5, 10])

    assert changed["error_rate"] == 0.25
    assert changed["delay_ms"] == {"distribution": "uniform", "min_ms": 5, "max_ms": 10}
    for invalid in ({"error_rate": 2}, {"surprise": 1}, {"timeout_s": 31}, {"delay_ms": [9, 1]}):
        response = simulator.client.post(f"/admin/agencies/{faulty_bank}/faults", json=invalid)
        assert response.status_code == 400, invalid


def test_admin_rejects_other_clients() -> None:
    with pytest.raises(SimulatorResponse) as raised:
        require_loopback({"client": ("192.0.2.7", 5000)})

    assert raised.value.status == 403
    require_loopback({"client": ("127.0.0.1", 5000)})
    require_loopback({"client": ("::1", 5000)})


def test_error_rate_returns_500_and_stores_nothing(
    court: Court, simulator: Simulator, faulty_bank: str
) -> None:
    simulator.faults(faulty_bank, error_rate=1)
    before = simulator.counts(faulty_bank)["batches"]

    response = court.send(faulty_bank, court.batch(faulty_bank, [item("bank_account")]))

    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert simulator.counts(faulty_bank)["batches"] == before


def test_item_errors_cleared_by_resending(
    court: Court, simulator: Simulator, faulty_bank: str
) -> None:
    simulator.faults(faulty_bank, item_error_rate=1)
    request = item("bank_account", person(101))
    court.send(faulty_bank, court.batch(faulty_bank, [request]))
    failed = court.poll_until(faulty_bank, {request["item_id"]})
    cursor = court.poll(faulty_bank, after="0", limit=1000).json()["next_cursor"]
    simulator.faults(faulty_bank, item_error_rate=0)

    court.send(faulty_bank, court.batch(faulty_bank, [request]))
    retried = court.poll_until(faulty_bank, {request["item_id"]}, after=cursor)

    assert failed[-1]["status"] == "error"
    assert failed[-1]["error"]
    assert retried[-1]["status"] in ("found", "not_found")


def test_timeout_holds_response_but_stores_batch(
    court: Court, simulator: Simulator, faulty_bank: str
) -> None:
    simulator.faults(faulty_bank, timeout_rate=1, timeout_s=1.5)
    body = court.batch(faulty_bank, [item("bank_account", person(111))])

    with pytest.raises(httpx.ReadTimeout):
        court.send(faulty_bank, body, timeout=0.3)
    simulator.faults(faulty_bank, timeout_rate=0)
    again = court.send(faulty_bank, body)

    assert again.status_code == 202
    assert again.json()["accepted"] == [body["items"][0]["item_id"]]


def test_garbage_answer_pages(court: Court, simulator: Simulator, faulty_bank: str) -> None:
    simulator.faults(faulty_bank, garbage_rate=1)
    bad_pages = 0

    for _ in range(8):
        response = court.poll(faulty_bank, after="0")
        assert response.status_code == 200
        simulator.verify(faulty_bank, response.content, response.headers)
        try:
            page = json.loads(response.content)
        except ValueError:
            bad_pages += 1
            continue
        if errors("answer-page", page):
            bad_pages += 1

    assert bad_pages == 8


def test_garbage_in_callbacks_retried(
    court: Court, simulator: Simulator, faulty_bank: str, callback_receiver
) -> None:
    simulator.faults(faulty_bank, garbage_rate=1)
    request = item("bank_account", person(121))
    court.send(faulty_bank, court.batch(faulty_bank, [request], callback_receiver.url))
    deadline_bodies = wait_for_bodies(callback_receiver, 1)

    assert all(errors("answers", safe_json(body)) for body, _ in deadline_bodies)


def wait_for_bodies(receiver, count: int) -> list:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        bodies = receiver.bodies()
        if len(bodies) >= count:
            return bodies
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} callbacks arrived")


def safe_json(payload: bytes) -> object:
    try:
        return json.loads(payload)
    except ValueError:
        return None


def test_bad_signature_rate(court: Court, simulator: Simulator, faulty_bank: str) -> None:
    simulator.faults(faulty_bank, bad_signature_rate=1)

    response = court.poll(faulty_bank, after="0")

    assert response.status_code == 200
    with pytest.raises(InvalidSignature):
        simulator.verify(faulty_bank, response.content, response.headers)


def test_outage_switch(court: Court, simulator: Simulator, faulty_bank: str) -> None:
    simulator.faults(faulty_bank, outage=True)
    down = court.send(faulty_bank, court.batch(faulty_bank, [item("bank_account")]))
    simulator.faults(faulty_bank, outage=False)
    up = court.send(faulty_bank, court.batch(faulty_bank, [item("bank_account")]))

    assert down.status_code == 503
    assert down.headers["Retry-After"] == "30"
    assert up.status_code == 202


def test_outage_holds_answers_back(court: Court, simulator: Simulator, faulty_bank: str) -> None:
    request = item("bank_account", person(131))
    simulator.faults(faulty_bank, delay_ms=[200, 200])
    court.send(faulty_bank, court.batch(faulty_bank, [request]))
    simulator.faults(faulty_bank, outage=True)
    import time

    time.sleep(0.5)
    pending = simulator.counts(faulty_bank)["pending_items"]
    simulator.faults(faulty_bank, outage=False)
    answers = court.poll_until(faulty_bank, {request["item_id"]})

    assert pending >= 1
    assert answers[-1]["item_id"] == request["item_id"]
