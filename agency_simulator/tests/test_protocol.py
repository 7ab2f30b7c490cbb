"""The simulator as a real process, driven over HTTP like the platform drives an agency."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from agency_simulator.tests.conftest import (
    COURT,
    CallbackReceiver,
    Court,
    Simulator,
    item,
    measure_item,
    person,
)
from agency_simulator.tests.schemas import errors


def test_health_counts_agencies(simulator: Simulator) -> None:
    response = simulator.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "agencies": 10}


def test_root_lists_agencies(simulator: Simulator) -> None:
    response = simulator.client.get("/")

    body = response.json()
    assert response.status_code == 200
    assert body["health"] == "/health"
    assert len(body["agencies"]) == 10
    assert {"code": "bank-icbc", "name": "中国工商银行", "base_path": "/agencies/bank-icbc"} in (
        body["agencies"]
    )


def test_batch_acknowledged_with_rejections(court: Court, simulator: Simulator) -> None:
    good = item("bank_account")
    wrong_category = item("vehicle")
    seize = measure_item(
        "seize",
        "bank_account",
        person(),
        asset_type="bank_account",
        identifier="6212261234567890123",
        start="2026-12-04",
        end="2027-12-03",
    )
    body = court.batch("bank-icbc", [good, wrong_category, seize, dict(good)])
    assert errors("batch", body) == []

    response = court.send("bank-icbc", body)

    assert response.status_code == 202, response.text
    acknowledgement = response.json()
    assert errors("acknowledgement", acknowledgement) == []
    assert acknowledgement["batch_id"] == body["batch_id"]
    assert acknowledgement["accepted"] == [good["item_id"]]
    reasons = {(entry["item_id"], entry["reason"]) for entry in acknowledgement["rejected"]}
    assert reasons == {
        (wrong_category["item_id"], "category not served"),
        (seize["item_id"], "action 'seize' not supported"),
        (good["item_id"], "duplicate item_id in batch"),
    }
    codes = {
        (entry["item_id"], entry["reason_code"], entry["reason_text"])
        for entry in acknowledgement["rejected"]
    }
    assert codes == {
        (wrong_category["item_id"], "category_not_served", "本单位不办理此类财产的查控"),
        (seize["item_id"], "action_not_supported", "本单位不办理此类协助事项"),
        (good["item_id"], "duplicate_item_id", "同一批次中事项编号重复"),
    }
    simulator.verify("bank-icbc", response.content, response.headers)


def test_batch_resent_stores_nothing_new(court: Court, simulator: Simulator) -> None:
    body = court.batch("bank-gzcb", [item("bank_account"), item("bank_account")])
    first = court.send("bank-gzcb", body)
    counts = simulator.counts("bank-gzcb")

    again = court.send("bank-gzcb", body)

    assert first.status_code == 202
    assert again.status_code == 202
    assert again.json() == first.json()
    assert simulator.counts("bank-gzcb")["items"] == counts["items"]
    assert simulator.counts("bank-gzcb")["batches"] == counts["batches"]


def test_batch_id_of_other_court_conflicts(court: Court, other_court: Court) -> None:
    body = court.batch("bank-icbc", [item("bank_account")])
    assert court.send("bank-icbc", body).status_code == 202
    body["court"] = {"code": other_court.code, "name": "广州市海珠区人民法院"}

    response = other_court.send("bank-icbc", body)

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"


@pytest.mark.parametrize("problem", ["unknown_signer", "bad_signature", "missing_headers"])
def test_bad_signature_rejected_with_401(court: Court, simulator: Simulator, problem: str) -> None:
    body = court.batch("housing-gd", [item("real_estate")])
    payload = json.dumps(body).encode()
    if problem == "unknown_signer":
        headers = dict(court_headers(court, payload))
        headers["X-Zhixing-Signer"] = "%E7%B2%A49999"
    elif problem == "bad_signature":
        headers = dict(court_headers(court, payload + b" "))
    else:
        headers = {}
    before = simulator.counts("housing-gd")["items"]

    response = court.client.post(
        f"{simulator.url}/agencies/housing-gd/v1/batches", content=payload, headers=headers
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert errors("error", response.json()) == []
    assert simulator.counts("housing-gd")["items"] == before


def court_headers(court: Court, payload: bytes) -> list[tuple[str, str]]:
    from agency_simulator.signing import sign

    return sign(court.key, court.code, payload)


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"agency": "bank-gzcb"}, "does not match"),
        ({"court": {"code": "粤0105", "name": "x"}}, "is not the signer"),
        ({"protocol": "zhixing-gateway/2"}, "protocol"),
        ({"batch_id": "NOT-A-UUID"}, "batch_id"),
        ({"items": []}, "non-empty"),
        ({"callback_url": "http://10.0.0.1/answers"}, "not a loopback address"),
        ({"callback_url": "http://localhost:8000/answers"}, "loopback IP"),
        ({"callback_url": "ftp://127.0.0.1/answers"}, "scheme"),
    ],
)
def test_malformed_batch_rejected_with_400(court: Court, change: dict, detail: str) -> None:
    body = {**court.batch("bank-icbc", [item("bank_account")]), **change}

    response = court.send("bank-icbc", body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert detail in response.json()["detail"]


def test_too_many_items_rejected(court: Court) -> None:
    body = court.batch("bank-icbc", [item("bank_account") for _ in range(1001)])

    response = court.send("bank-icbc", body)

    assert response.status_code == 400
    assert "at most 1000" in response.json()["detail"]


def test_polling_pages_with_cursor(court: Court, simulator: Simulator) -> None:
    start = court.poll("police-gd", after="0").json()
    while start["answers"]:
        start = court.poll("police-gd", after=start["next_cursor"]).json()
    items = [item("household", person(sequence)) for sequence in (11, 12, 13)]
    assert court.send("police-gd", court.batch("police-gd", items)).status_code == 202
    item_ids = {entry["item_id"] for entry in items}

    answers = court.poll_until("police-gd", item_ids, after=start["next_cursor"])

    assert {answer["item_id"] for answer in answers} == item_ids
    first = court.poll("police-gd", after=start["next_cursor"], limit=1)
    assert first.status_code == 200
    page = first.json()
    assert errors("answer-page", page) == []
    assert len(page["answers"]) == 1
    simulator.verify("police-gd", first.content, first.headers)
    repeated = court.poll("police-gd", after=start["next_cursor"], limit=1).json()
    assert repeated["answers"] == page["answers"]
    assert repeated["next_cursor"] == page["next_cursor"]
    rest = court.poll("police-gd", after=page["next_cursor"]).json()
    assert {a["item_id"] for a in rest["answers"]} == item_ids - {page["answers"][0]["item_id"]}
    empty = court.poll("police-gd", after=rest["next_cursor"]).json()
    assert empty["answers"] == []
    assert empty["next_cursor"] == rest["next_cursor"]


def test_polling_without_cursor_resumes(court: Court) -> None:
    items = [item("exit_entry", person(21))]
    court.send("police-gd", court.batch("police-gd", items))
    answers = court.poll_until("police-gd", {items[0]["item_id"]}, after="0")
    last = court.poll("police-gd", after="0", limit=1000).json()["next_cursor"]
    court.poll("police-gd", after=last)

    resumed = court.poll("police-gd").json()

    assert answers
    assert resumed["answers"] == []
    assert resumed["next_cursor"] == last


def test_polling_other_court_forbidden(court: Court) -> None:
    response = court.poll("police-gd", court="粤0105")

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_answers_match_record_schemas(court: Court) -> None:
    categories = {
        "police-gd": ["household", "temporary_residence", "hotel_lodging", "exit_entry"],
        "amr-gd": ["business_registration"],
        "housing-gd": ["real_estate"],
        "traffic-gd": ["vehicle"],
        "bank-icbc": ["bank_account"],
    }
    for agency, names in categories.items():
        items = [item(name, person(sequence)) for name in names for sequence in range(30, 45)]
        assert court.send(agency, court.batch(agency, items)).status_code == 202
        answers = court.poll_until(agency, {entry["item_id"] for entry in items})
        assert errors("answers", {**page_header(agency), "answers": answers}) == []
        statuses = {answer["status"] for answer in answers}
        assert "found" in statuses, agency


def page_header(agency: str) -> dict[str, str]:
    return {
        "protocol": "zhixing-gateway/1",
        "agency": agency,
        "sent_at": "2026-01-01T00:00:00+08:00",
    }


def test_same_subject_gets_same_records(court: Court) -> None:
    subject = person(51)
    first = item("bank_account", subject)
    second = item("bank_account", dict(subject))
    court.send("bank-icbc", court.batch("bank-icbc", [first]))
    court.send("bank-icbc", court.batch("bank-icbc", [second]))

    answers = court.poll_until("bank-icbc", {first["item_id"], second["item_id"]})

    by_item = {answer["item_id"]: answer for answer in answers}
    assert by_item[first["item_id"]]["records"] == by_item[second["item_id"]]["records"]
    assert by_item[first["item_id"]]["status"] == by_item[second["item_id"]]["status"]


def test_invalid_resident_id_not_found(court: Court) -> None:
    valid = person(61)["document_number"]
    wrong_check = "0" if valid[-1] != "0" else "1"
    subject = {**person(61), "document_number": valid[:17] + wrong_check}
    request = item("household", subject)
    court.send("police-gd", court.batch("police-gd", [request]))

    answers = court.poll_until("police-gd", {request["item_id"]})

    assert answers[-1]["status"] == "not_found"
    assert answers[-1]["records"] == []


def test_callbacks_delivered_and_signed(
    court: Court, simulator: Simulator, callback_receiver: CallbackReceiver
) -> None:
    items = [item("vehicle", person(sequence)) for sequence in (71, 72)]
    body = court.batch("traffic-gd", items, callback_url=callback_receiver.url)
    assert court.send("traffic-gd", body).status_code == 202

    received = wait_for_answers(callback_receiver, {entry["item_id"] for entry in items})

    for payload, headers in callback_receiver.bodies():
        simulator.verify("traffic-gd", payload, httpx.Headers(headers))
        assert errors("answers", json.loads(payload)) == []
    assert set(received) == {entry["item_id"] for entry in items}


def test_callbacks_retried_after_failures(
    court: Court, callback_receiver: CallbackReceiver
) -> None:
    callback_receiver.failures = 2
    request = item("bank_account", person(81))
    body = court.batch("bank-gzcb", [request], callback_url=callback_receiver.url)
    court.send("bank-gzcb", body)

    deadline = time.monotonic() + 10
    while len(callback_receiver.bodies()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)

    bodies = callback_receiver.bodies()
    assert len(bodies) == 3
    for payload, _ in bodies:
        assert json.loads(payload)["answers"][0]["item_id"] == request["item_id"]


def wait_for_answers(receiver: CallbackReceiver, item_ids: set[str]) -> dict[str, dict]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        received = {}
        for payload, _ in receiver.bodies():
            try:
                answers = json.loads(payload)["answers"]
            except (ValueError, KeyError, TypeError):
                continue
            received.update({answer["item_id"]: answer for answer in answers})
        if item_ids <= set(received):
            return received
        time.sleep(0.05)
    raise AssertionError(f"callbacks missing for {item_ids}")


def test_answered_item_resent_answers_again(court: Court) -> None:
    request = item("household", person(91))
    court.send("police-gd", court.batch("police-gd", [request]))
    first = court.poll_until("police-gd", {request["item_id"]})
    cursor = court.poll("police-gd", after="0", limit=1000).json()["next_cursor"]

    again = court.send("police-gd", court.batch("police-gd", [request]))

    assert again.status_code == 202
    assert again.json()["accepted"] == [request["item_id"]]
    copies = court.poll_until("police-gd", {request["item_id"]}, after=cursor)
    assert copies[-1]["records"] == first[-1]["records"]


def test_item_of_other_court_rejected(court: Court, other_court: Court) -> None:
    request = item("household", person(92))
    court.send("police-gd", court.batch("police-gd", [request]))

    response = other_court.send("police-gd", other_court.batch("police-gd", [request]))

    assert response.status_code == 202
    assert response.json()["accepted"] == []
    assert "another court" in response.json()["rejected"][0]["reason"]


def test_rate_limit_returns_429(court: Court) -> None:
    first = court.send("bank-limited", court.batch("bank-limited", [item("bank_account")]))
    second = court.send("bank-limited", court.batch("bank-limited", [item("bank_account")]))

    assert first.status_code == 202
    assert second.status_code == 429
    assert second.json()["error"] == "rate_limited"
    assert int(second.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("agency", ["bank-closed", "bank-outage"])
def test_closed_agency_returns_503(court: Court, agency: str) -> None:
    response = court.send(agency, court.batch(agency, [item("bank_account")]))

    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_unknown_agency_returns_404(court: Court) -> None:
    response = court.send("bank-nowhere", court.batch("bank-nowhere", [item("bank_account")]))

    assert response.status_code == 404
    assert response.json()["error"] == "unknown_agency"


def test_court_keys_rescanned(court: Court, simulator: Simulator) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from agency_simulator.signing import public_key_pem

    key = Ed25519PrivateKey.generate()
    code = "粤0303"
    (simulator.folder / "court-keys" / f"{code}.pem").write_bytes(public_key_pem(key.public_key()))
    time.sleep(1.1)
    new_court = Court(code, key, simulator.url)

    response = new_court.send("bank-icbc", new_court.batch("bank-icbc", [item("bank_account")]))

    assert response.status_code == 202, response.text


def test_item_ids_must_be_canonical(court: Court) -> None:
    request = item("bank_account", item_id=str(uuid.uuid4()).upper())

    response = court.send("bank-icbc", court.batch("bank-icbc", [request]))

    assert response.status_code == 400
    assert "canonical" in response.json()["detail"]


def test_court_code_in_signer_header_percent_encoded(court: Court) -> None:
    payload = json.dumps(court.batch("bank-icbc", [item("bank_account")])).encode()
    headers = dict(court_headers(court, payload))

    assert headers["X-Zhixing-Signer"] == "%E7%B2%A40104"
    assert COURT == "粤0104"
