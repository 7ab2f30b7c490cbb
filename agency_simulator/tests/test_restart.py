"""Restarts on the same database, and the sources of court keys."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_simulator.agencies import CHINA_TZ, DEFAULT_AGENCIES_FILE, load_agencies
from agency_simulator.population import generate_records
from agency_simulator.signing import KEYS_ENV, CourtKeyring, SignatureError, public_key_pem, sign
from agency_simulator.tests.conftest import (
    COURT,
    Court,
    build_agencies,
    item,
    measure_item,
    person,
    start_simulator,
    stop_simulator,
)


def test_killed_simulator_answers_after_restart(
    tmp_path: Path, court_keys: dict[str, Ed25519PrivateKey]
) -> None:
    (tmp_path / "court-keys").mkdir()
    key = court_keys[COURT]
    (tmp_path / "court-keys" / f"{COURT}.pem").write_bytes(public_key_pem(key.public_key()))
    agencies = tmp_path / "agencies.json"
    agencies.write_text(json.dumps(build_agencies(datetime.now(CHINA_TZ)), ensure_ascii=False))
    arguments = ("--agencies", str(agencies), "--delay-ms", "400", "400")
    first = start_simulator(tmp_path, *arguments)
    exported = (tmp_path / "agency-keys" / "bank-icbc.pem").read_bytes()
    request = item("bank_account", person(201))
    court = Court(COURT, key, first.url)
    assert court.send("bank-icbc", court.batch("bank-icbc", [request])).status_code == 202
    first.process.kill()
    first.process.wait()
    (tmp_path / "ready.json").unlink()

    second = start_simulator(tmp_path, *arguments)
    try:
        court = Court(COURT, key, second.url)
        answers = court.poll_until("bank-icbc", {request["item_id"]})
        assert [answer["item_id"] for answer in answers] == [request["item_id"]]
        assert (tmp_path / "agency-keys" / "bank-icbc.pem").read_bytes() == exported
    finally:
        stop_simulator(second)


def test_measures_survive_restart(tmp_path: Path, court_keys: dict[str, Ed25519PrivateKey]) -> None:
    (tmp_path / "court-keys").mkdir()
    key = court_keys[COURT]
    (tmp_path / "court-keys" / f"{COURT}.pem").write_bytes(public_key_pem(key.public_key()))
    agencies = tmp_path / "agencies.json"
    agencies.write_text(json.dumps(build_agencies(datetime.now(CHINA_TZ)), ensure_ascii=False))
    bank = load_agencies(DEFAULT_AGENCIES_FILE)["bank-icbc"]
    subject, account = next(
        (subject, record)
        for subject in (person(sequence, "440306") for sequence in range(1, 500))
        for record in generate_records(bank, "bank_account", subject)
        if record["state"] == "normal" and Decimal(record["balance"]) > 100
    )
    start = datetime.now(CHINA_TZ).date()
    freeze = measure_item(
        "freeze",
        "bank_account",
        subject,
        asset_type="bank_account",
        identifier=account["account_number"],
        amount="100.00",
        start=start.isoformat(),
        end=(start + timedelta(days=364)).isoformat(),
    )
    first = start_simulator(tmp_path, "--agencies", str(agencies))
    answered = Court(COURT, key, first.url).run("bank-icbc", [freeze])[freeze["item_id"]]
    first.process.kill()
    first.process.wait()
    (tmp_path / "ready.json").unlink()

    second = start_simulator(tmp_path, "--agencies", str(agencies))
    try:
        court = Court(COURT, key, second.url)
        again = court.run("bank-icbc", [freeze])[freeze["item_id"]]
        query = item("bank_account", subject)
        records = court.run("bank-icbc", [query])[query["item_id"]]["records"]
        listing = second.measures("bank-icbc")
    finally:
        stop_simulator(second)

    assert again["records"] == answered["records"]
    assert answered["records"][0]["frozen_amount"] == "100.00"
    shown = next(r for r in records if r["account_number"] == account["account_number"])
    assert shown["frozen_amount"] == "100.00"
    assert shown["state"] == "frozen"
    assert [entry["item_id"] for entry in listing["measures"]] == [freeze["item_id"]]
    assert listing["assets"][0]["frozen_amount"] == "100.00"


def test_keyring_reads_listing_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = Ed25519PrivateKey.generate()
    from_environment = Ed25519PrivateKey.generate()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "listed.pem").write_bytes(public_key_pem(listed.public_key()))
    listing = tmp_path / "courts.txt"
    listing.write_text("# court keys\n粤0104 keys/listed.pem\n", encoding="utf-8")
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "%E7%B2%A40105.pem").write_bytes(public_key_pem(from_environment.public_key()))
    monkeypatch.setenv(KEYS_ENV, str(folder))

    keyring = CourtKeyring.from_arguments([listing])

    headers = dict(sign(listed, "粤0104", b"body"))
    signer = keyring.verify(headers["X-Zhixing-Signer"], headers["X-Zhixing-Signature"], b"body")
    assert signer == "粤0104"
    headers = dict(sign(from_environment, "粤0105", b"body"))
    signer = keyring.verify(headers["X-Zhixing-Signer"], headers["X-Zhixing-Signature"], b"body")
    assert signer == "粤0105"
    with pytest.raises(SignatureError):
        keyring.verify(headers["X-Zhixing-Signer"], headers["X-Zhixing-Signature"], b"other")


def test_poll_position_only_grows(tmp_path: Path) -> None:
    from agency_simulator.store import Store

    store = Store(tmp_path / "simulator.sqlite3")
    store.advance_poll_position("bank-icbc", "粤0104", 5)
    store.advance_poll_position("bank-icbc", "粤0104", 3)
    assert store.poll_position("bank-icbc", "粤0104") == 5
    store.advance_poll_position("bank-icbc", "粤0104", 7)
    assert store.poll_position("bank-icbc", "粤0104") == 7
    assert store.poll_position("bank-icbc", "粤0105") == 0
    store.close()


def test_remembered_item_equals_the_stored_row(tmp_path: Path) -> None:
    """The answer task answers new items from memory and items read back after a restart
    from the database; both must be the same item."""
    import time

    from agency_simulator import protocol
    from agency_simulator.app import new_item
    from agency_simulator.store import Item, Store

    store = Store(tmp_path / "simulator.sqlite3")
    requests = [
        item("bank_account", person(301)),
        measure_item(
            "freeze",
            "bank_account",
            person(302),
            asset_type="bank_account",
            identifier="6222020200000000001",
            amount="100.00",
            start="2026-12-04",
            end="2027-12-03",
        ),
    ]
    new_items = [
        new_item(protocol.ItemRequest(request["item_id"], request, None), time.time(), "越秀法院")
        for request in requests
    ]
    store.save_batch(
        agency="bank-icbc",
        batch_id="batch-1",
        court=COURT,
        now=protocol.now_text(),
        callback_url="http://127.0.0.1:9/answers",
        body_sha256="",
        acknowledgement={},
        new_items=new_items,
        retried=[],
        resent_answers=[],
    )
    stored = store.items(entry.item_id for entry in new_items)
    for entry in new_items:
        remembered = Item.stored(
            entry,
            agency="bank-icbc",
            court=COURT,
            batch_id="batch-1",
            callback_url="http://127.0.0.1:9/answers",
        )
        assert remembered == stored[entry.item_id]
    assert store.due_item_ids(time.time() + 1, [], 10) == [entry.item_id for entry in new_items]
    assert store.due_item_ids(time.time() + 1, ["bank-icbc"], 10) == []
    store.close()
