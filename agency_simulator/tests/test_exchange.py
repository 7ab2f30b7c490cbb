"""Batch-file exchange: request files from the outbox folders, result files to the inboxes."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_simulator import PROTOCOL, exchange
from agency_simulator.agencies import CHINA_TZ
from agency_simulator.signing import public_key_pem
from agency_simulator.tests.conftest import (
    COURT,
    Court,
    Simulator,
    build_agencies,
    item,
    measure_item,
    person,
    start_simulator,
    stop_simulator,
)

WAIT_S = 15


@pytest.fixture(scope="module")
def court_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def exchanging(
    tmp_path_factory: pytest.TempPathFactory, court_key: Ed25519PrivateKey
) -> Iterator[Simulator]:
    """A simulator that exchanges files in `folder/exchange`."""
    folder = tmp_path_factory.mktemp("exchange-simulator")
    (folder / "court-keys").mkdir()
    (folder / "court-keys" / f"{COURT}.pem").write_bytes(public_key_pem(court_key.public_key()))
    agencies = folder / "agencies.json"
    agencies.write_text(json.dumps(build_agencies(datetime.now(CHINA_TZ)), ensure_ascii=False))
    running = start_simulator(
        folder,
        "--agencies",
        str(agencies),
        "--seed",
        "11",
        "--exchange-dir",
        str(folder / "exchange"),
    )
    yield running
    stop_simulator(running)


@pytest.fixture
def faulty(exchanging: Simulator) -> Iterator[str]:
    yield "bank-faults"
    exchanging.faults("bank-faults", reset=True)


def csv_bytes(records: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(records)
    return buffer.getvalue().encode("utf-8")


def request_file(
    agency: str,
    items: list[dict[str, Any]],
    key: Ed25519PrivateKey,
    *,
    batch_id: str | None = None,
    count: int | None = None,
) -> tuple[str, bytes]:
    """Return (batch id, bytes) of a request file signed by the test court."""
    batch_id = batch_id or str(uuid.uuid4())
    sent_at = datetime.now(CHINA_TZ).isoformat(timespec="seconds")
    records = [["H", PROTOCOL, "request", batch_id, agency, COURT, "越秀区法院", sent_at]]
    for entry in items:
        subject = entry["subject"]
        document = entry.get("document") or {}
        records.append(
            [
                "D",
                entry["item_id"],
                entry["action"],
                entry["category"],
                entry["case_number"],
                subject["kind"],
                subject["name"],
                subject["document_type"],
                subject["document_number"],
                entry["deadline"],
                document.get("kind", ""),
                document.get("pdf_base64", ""),
            ]
        )
    records.append(["T", str(len(items) if count is None else count)])
    content = csv_bytes(records)
    signature = base64.b64encode(key.sign(content)).decode("ascii")
    signer = urllib.parse.quote(COURT, safe="")
    return batch_id, content + f"S,{signer},ed25519:{signature}\n".encode("ascii")


def put_request(simulator: Simulator, agency: str, name: str, data: bytes) -> Path:
    outbox = simulator.folder / "exchange" / agency / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    temporary = outbox / f".{name}.tmp"
    temporary.write_bytes(data)
    temporary.replace(outbox / name)
    return outbox / name


def read_result(simulator: Simulator, agency: str, path: Path) -> list[dict[str, Any]]:
    """Verify a result file with the agency's exported key; return its answers."""
    content, signer, signature = exchange.split_signed(path.read_bytes())
    assert signer == agency
    key = simulator.agency_key(agency)
    key.verify(base64.b64decode(signature.removeprefix("ed25519:")), content)
    records = exchange.decode_records(content)
    assert records[0][:4] == ["H", PROTOCOL, "result", agency]
    return [
        {"item_id": row[1], "status": row[2], "error": row[4], "records": json.loads(row[5])}
        for row in records[1:]
    ]


def wait_for_answers(simulator: Simulator, agency: str, item_ids: set[str]) -> dict[str, dict]:
    """Read the agency's result files until every item has an answer (files stay in place)."""
    inbox = simulator.folder / "exchange" / agency / "inbox"
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        answers: dict[str, dict[str, Any]] = {}
        for path in sorted(inbox.glob("*.csv")) if inbox.is_dir() else []:
            try:
                entries = read_result(simulator, agency, path)
            except Exception:  # noqa: S112 - a spoiled file is skipped here
                continue
            answers.update((entry["item_id"], entry) for entry in entries)
        if item_ids <= set(answers):
            return answers
        time.sleep(0.1)
    raise AssertionError(f"no result file answers {item_ids} within {WAIT_S} s")


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


# The format, without a process


def test_split_signed_rejects_missing_s_line() -> None:
    with pytest.raises(exchange.FileFormatError, match="not 'S,"):
        exchange.split_signed(b"H,x\nT,0\n")
    with pytest.raises(exchange.FileFormatError, match="line break"):
        exchange.split_signed(b"H,x\nT,0\nS,a,b")


def test_decode_records_checks_trailer() -> None:
    with pytest.raises(exchange.FileFormatError, match="counts '2'"):
        exchange.decode_records(b"H,a\nD,1\nT,2\n")

    assert exchange.decode_records(b"H,a\nD,1\nT,1\n") == [["H", "a"], ["D", "1"]]


def test_result_content_round_trip() -> None:
    answer = {
        "item_id": "a",
        "status": "found",
        "answered_at": "2026-12-04T16:31:01+08:00",
        "records": [{"type": "ship", "name": '粤,海"1'}],
    }

    records = exchange.decode_records(exchange.result_content("ship-gd", [answer]))

    assert records[1][:4] == ["D", "a", "found", "2026-12-04T16:31:01+08:00"]
    assert json.loads(records[1][5]) == answer["records"]


# With a running simulator


def test_request_file_answered_in_inbox(exchanging: Simulator, court_key) -> None:
    requests = [item("bank_account", person(301)), item("bank_account", person(302))]
    _, data = request_file("bank-icbc", requests, court_key)
    path = put_request(exchanging, "bank-icbc", "first.csv", data)

    answers = wait_for_answers(exchanging, "bank-icbc", {entry["item_id"] for entry in requests})

    assert {answer["status"] for answer in answers.values()} <= {"found", "not_found"}
    wait_for(path.parent / "done" / "first.csv")
    assert not path.exists()


def test_file_answers_match_http_answers(exchanging: Simulator, court_key) -> None:
    subject = person(303)
    by_file = item("bank_account", subject)
    _, data = request_file("bank-gzcb", [by_file], court_key)
    put_request(exchanging, "bank-gzcb", "same.csv", data)
    court = Court(COURT, court_key, exchanging.url)
    by_http = item("bank_account", subject)
    assert court.send("bank-gzcb", court.batch("bank-gzcb", [by_http])).status_code == 202

    from_file = wait_for_answers(exchanging, "bank-gzcb", {by_file["item_id"]})
    from_http = court.poll_until("bank-gzcb", {by_http["item_id"]})

    assert from_file[by_file["item_id"]]["records"] == from_http[-1]["records"]


def test_same_batch_twice_stores_nothing_new(exchanging: Simulator, court_key) -> None:
    requests = [item("real_estate", person(304))]
    _, data = request_file("housing-gd", requests, court_key)
    put_request(exchanging, "housing-gd", "again.csv", data)
    done = exchanging.folder / "exchange" / "housing-gd" / "outbox" / "done"
    wait_for(done / "again.csv")
    before = exchanging.counts("housing-gd")

    put_request(exchanging, "housing-gd", "again.csv", data)
    wait_for(done / "again-2.csv")

    assert exchanging.counts("housing-gd")["items"] == before["items"]
    assert exchanging.counts("housing-gd")["batches"] == before["batches"]


def test_bad_court_signature_quarantined(exchanging: Simulator) -> None:
    stranger = Ed25519PrivateKey.generate()
    _, data = request_file("bank-icbc", [item("bank_account")], stranger)
    put_request(exchanging, "bank-icbc", "forged.csv", data)
    quarantine = exchanging.folder / "exchange" / "bank-icbc" / "outbox" / "quarantine"

    wait_for(quarantine / "forged.csv.reason.txt")

    assert "does not verify" in (quarantine / "forged.csv.reason.txt").read_text("utf-8")
    wait_for(quarantine / "forged.csv")


def test_malformed_request_quarantined(exchanging: Simulator, court_key) -> None:
    _, data = request_file("bank-icbc", [item("bank_account")], court_key, count=4)
    put_request(exchanging, "bank-icbc", "count.csv", data)
    quarantine = exchanging.folder / "exchange" / "bank-icbc" / "outbox" / "quarantine"

    wait_for(quarantine / "count.csv.reason.txt")

    assert "T record counts '4'" in (quarantine / "count.csv.reason.txt").read_text("utf-8")


def test_unknown_agency_quarantined(exchanging: Simulator, court_key) -> None:
    _, data = request_file("bank-nowhere", [item("bank_account")], court_key)
    put_request(exchanging, "bank-nowhere", "lost.csv", data)
    quarantine = exchanging.folder / "exchange" / "bank-nowhere" / "outbox" / "quarantine"

    wait_for(quarantine / "lost.csv.reason.txt")

    assert "unknown agency" in (quarantine / "lost.csv.reason.txt").read_text("utf-8")


def test_rejected_item_answered_with_error(exchanging: Simulator, court_key) -> None:
    wrong = item("vehicle", person(305))
    _, data = request_file("bank-icbc", [wrong], court_key)
    put_request(exchanging, "bank-icbc", "wrong.csv", data)

    answers = wait_for_answers(exchanging, "bank-icbc", {wrong["item_id"]})

    assert answers[wrong["item_id"]]["status"] == "error"
    assert "[category_not_served]" in answers[wrong["item_id"]]["error"]


def test_measure_item_in_earlier_layout_rejected(exchanging: Simulator, court_key) -> None:
    """A D record of 12 fields has no room for document.sha256, attachments or measure."""
    freeze = measure_item(
        "freeze",
        "bank_account",
        person(306),
        asset_type="bank_account",
        identifier="6212261234567890123",
        amount="100.00",
        start="2026-12-04",
        end="2027-12-03",
    )
    _, data = request_file("bank-icbc", [freeze], court_key)
    put_request(exchanging, "bank-icbc", "freeze.csv", data)

    answers = wait_for_answers(exchanging, "bank-icbc", {freeze["item_id"]})

    assert answers[freeze["item_id"]]["status"] == "error"
    assert (
        answers[freeze["item_id"]]["error"]
        == "rejected [field_missing]: 请求缺少必填项 document.sha256"
    )


@pytest.mark.parametrize("fault", ["garbage_rate", "bad_signature_rate"])
def test_spoiled_result_file_followed_by_good_one(
    exchanging: Simulator, court_key, faulty: str, fault: str
) -> None:
    inbox = exchanging.folder / "exchange" / faulty / "inbox"
    earlier = set(inbox.glob("*.csv"))
    exchanging.faults(faulty, **{fault: 1})
    request = item("bank_account", person(306))
    _, data = request_file(faulty, [request], court_key)
    put_request(exchanging, faulty, f"{fault}.csv", data)
    deadline = time.monotonic() + WAIT_S
    spoiled: set[Path] = set()
    while not spoiled:
        assert time.monotonic() < deadline, "no spoiled result file"
        time.sleep(0.05)
        spoiled = set(inbox.glob("*.csv")) - earlier

    exchanging.faults(faulty, reset=True)
    answers = wait_for_answers(exchanging, faulty, {request["item_id"]})

    assert request["item_id"] in answers
    for path in spoiled:
        with pytest.raises(Exception):  # noqa: B017 - any failure to read is the point
            read_result(exchanging, faulty, path)
        path.unlink()
