"""Measure rules on the simulator's database without a process: the date of measures is set
per call, and several connections can share one database file."""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agency_simulator import measures, protocol
from agency_simulator.agencies import CHINA_TZ, DEFAULT_AGENCIES_FILE, load_agencies
from agency_simulator.app import new_item
from agency_simulator.holdings import Hold, allocate, present, synthetic_holds
from agency_simulator.measure_requests import MeasureRejected, parse_measure
from agency_simulator.population import generate_records, subject_key
from agency_simulator.store import Store
from agency_simulator.tests.conftest import COURT, OTHER_COURT, measure_item, person

AGENCIES = load_agencies(DEFAULT_AGENCIES_FILE)
TODAY = date(2026, 12, 4)
BANK = "bank-icbc"


class Agency:
    """One agency on a database of its own: stores items as a batch would, and answers them
    on a given date as the simulator's answer task does."""

    def __init__(self, path: Path, code: str = BANK) -> None:
        self.store = Store(path)
        self.agency = AGENCIES[code]
        self.answers: dict[str, tuple[str, dict[str, Any]]] = {}

    def send(self, request: dict[str, Any], court: str = COURT) -> str:
        reason = protocol.item_reason(request, self.agency, datetime.now(CHINA_TZ))
        assert reason is None, reason
        parsed = protocol.ItemRequest(request["item_id"], request, None)
        self.store.save_batch(
            agency=self.agency.code,
            batch_id=request["item_id"],
            court=court,
            now=protocol.now_text(),
            callback_url=None,
            body_sha256="",
            acknowledgement={},
            new_items=[new_item(parsed, time.time(), f"court {court}")],
            retried=[],
            resent_answers=[],
        )
        return str(request["item_id"])

    def answer(self, *item_ids: str, today: date = TODAY) -> list[tuple[str, dict[str, Any]]]:
        """Answer the items on `today`; return (status, answer) of each, in order."""
        items = [self.store.items([item_id])[item_id] for item_id in item_ids]
        new_assets = []
        for item in items:
            if self.store.assets(item.agency, item.category, item.subject_key, today) is None:
                records = generate_records(self.agency, item.category, item.subject)
                new_assets.append((item.agency, item.category, item.subject_key, records))
        now = protocol.now_text()
        apply = functools.partial(self.apply, today=today, now=now)
        self.store.save_answers([], new_assets, now, items, apply)
        return [self.answers[item_id] for item_id in item_ids]

    def apply(self, db: sqlite3.Connection, item: Any, *, today: date, now: str):
        result = measures.apply_measure(db, item, today=today, now=now)
        self.answers[item.item_id] = result
        return result

    def run(self, request: dict[str, Any], court: str = COURT, today: date = TODAY):
        """Send and answer one item; return the record of a found answer, else the answer."""
        (status, answer) = self.answer(self.send(request, court), today=today)[0]
        return answer["records"][0] if status == "found" else answer

    def state(self, identifier: str, today: date = TODAY) -> dict[str, Any]:
        listing = measures.describe(self.store.connection, self.agency.code, today)
        return next(entry for entry in listing["assets"] if entry["identifier"] == identifier)


def account_of(subject: dict[str, Any]) -> dict[str, Any]:
    return next(
        record
        for record in generate_records(AGENCIES[BANK], "bank_account", subject)
        if record["state"] == "normal" and Decimal(record["balance"]) > 100
    )


# A subject with a normal account of more than 100 yuan at the bank. Every test uses it,
# because each test has a database of its own.
SUBJECT = person(6, "440307")
ACCOUNT = account_of(SUBJECT)


def freeze(amount: str, start: date = TODAY, days: int = 365) -> dict[str, Any]:
    end = start + timedelta(days=days - 1)
    return measure_item(
        "freeze",
        "bank_account",
        SUBJECT,
        asset_type="bank_account",
        identifier=ACCOUNT["account_number"],
        amount=amount,
        start=start.isoformat(),
        end=end.isoformat(),
    )


def follow_up(action: str, original: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return measure_item(
        action,
        original["category"],
        original["subject"],
        asset_type=original["measure"]["asset_type"],
        identifier=original["measure"]["identifier"],
        reference=original["item_id"],
        **fields,
    )


def test_reference_without_answer_answered_with_error(tmp_path: Path) -> None:
    bank = Agency(tmp_path / "simulator.sqlite3")
    first = freeze("100.00")
    bank.send(first)
    release = follow_up("release", first)

    (status, answer) = bank.answer(bank.send(release))[0]
    bank.answer(first["item_id"])
    released = bank.run(follow_up("release", first))

    assert status == "error"
    assert "尚无答复" in answer["error"]
    assert released["result"] == "done"


def test_expired_freeze_passes_money_on(tmp_path: Path) -> None:
    bank = Agency(tmp_path / "simulator.sqlite3")
    balance = Decimal(ACCOUNT["balance"])
    first = freeze(str(balance), days=30)
    queued = freeze("60.00")
    bank.run(first)
    waiting = bank.run(queued, court=OTHER_COURT)
    later = TODAY + timedelta(days=30)

    deducted = bank.run(
        follow_up("deduct", queued, amount="100.00"), court=OTHER_COURT, today=later
    )

    assert waiting["frozen_amount"] == "0.00"
    assert waiting["queue_position"] == 1
    assert deducted["deducted_amount"] == "60.00"
    assert deducted["result"] == "partial"
    state = bank.state(ACCOUNT["account_number"], today=later)
    assert state["balance"] == str(balance - 60)
    assert state["holds"] == []
    records = bank.store.assets(BANK, "bank_account", subject_key(SUBJECT), later)
    assert records is not None
    shown = next(r for r in records if r["account_number"] == ACCOUNT["account_number"])
    assert shown["state"] == "normal"
    assert shown["balance"] == str(balance - 60)


def test_measure_in_past_rejected(tmp_path: Path) -> None:
    bank = Agency(tmp_path / "simulator.sqlite3")

    record = bank.run(freeze("10.00", start=TODAY - timedelta(days=40), days=30))

    assert record["result"] == "rejected"
    assert record["frozen_amount"] == "0.00"
    assert "早于今天" in record["reason"]
    assert bank.store.connection.execute("SELECT COUNT(*) FROM measures").fetchone()[0] == 0


def test_concurrent_connections_never_overdraw(tmp_path: Path) -> None:
    path = tmp_path / "simulator.sqlite3"
    balance = Decimal(ACCOUNT["balance"])
    limit = (balance / 5).quantize(Decimal("0.01"))
    Agency(path).run(freeze(str(limit)))
    banks = [Agency(path) for _ in range(4)]
    requests = [[freeze(str(limit)) for _ in range(6)] for _ in banks]
    for bank, batch in zip(banks, requests, strict=True):
        for request in batch:
            bank.send(request)

    def answer_all(bank: Agency, batch: list[dict[str, Any]]) -> None:
        for request in batch:
            bank.answer(request["item_id"])

    threads = [
        threading.Thread(target=answer_all, args=pair) for pair in zip(banks, requests, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    records = [
        bank.answers[request["item_id"]][1]["records"][0]
        for bank, batch in zip(banks, requests, strict=True)
        for request in batch
    ]
    frozen = sum(Decimal(record["frozen_amount"]) for record in records) + limit
    assert len(records) == 24
    assert frozen == balance
    assert sorted(record["queue_position"] for record in records) == list(range(1, 25))
    state = banks[0].state(ACCOUNT["account_number"])
    assert Decimal(state["frozen_amount"]) == balance
    assert state["unfrozen_amount"] == "0.00"


def test_measures_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "simulator.sqlite3"
    first = Agency(path)
    first.run(freeze("80.00"))
    first.store.close()

    reopened = Agency(path)

    state = reopened.state(ACCOUNT["account_number"])
    assert state["frozen_amount"] == "80.00"
    records = reopened.store.assets(BANK, "bank_account", subject_key(SUBJECT), TODAY)
    assert records is not None
    shown = next(r for r in records if r["account_number"] == ACCOUNT["account_number"])
    assert shown["frozen_amount"] == "80.00"


def test_old_database_gets_new_tables(tmp_path: Path) -> None:
    path = tmp_path / "simulator.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE items (item_id TEXT PRIMARY KEY, agency TEXT NOT NULL, court TEXT NOT NULL,
            batch_id TEXT NOT NULL, action TEXT NOT NULL, category TEXT NOT NULL,
            case_number TEXT NOT NULL, subject TEXT NOT NULL, subject_key TEXT NOT NULL,
            deadline TEXT NOT NULL, document TEXT, callback_url TEXT, received_at TEXT NOT NULL,
            due_at REAL NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1);
        CREATE TABLE measures (id INTEGER PRIMARY KEY, asset_id INTEGER NOT NULL,
            item_id TEXT NOT NULL, court TEXT NOT NULL, case_number TEXT NOT NULL,
            action TEXT NOT NULL, amount TEXT, starts_at TEXT NOT NULL, ends_at TEXT,
            state TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE INDEX measures_by_asset ON measures (asset_id);
        """
    )
    old.close()

    bank = Agency(path)
    record = bank.run(freeze("10.00"))

    items = {row[1] for row in bank.store.connection.execute("PRAGMA table_info(items)")}
    assert {"measure", "court_name"} <= items
    assert record["result"] == "done"


# Checks of the measure field


@pytest.mark.parametrize(
    ("action", "category", "asset_type", "reason"),
    [
        ("deduct", "real_estate", "real_estate", "action 'deduct' does not apply to 'real_estate'"),
        ("freeze", "vehicle", "vehicle", "action 'freeze' does not apply to 'vehicle'"),
        ("seize", "bank_account", "bank_account", "does not apply to 'bank_account'"),
        ("seize", "vehicle", "ship", "'ship'; expected 'vehicle'"),
        ("seize", "household", "vehicle", "category 'household' has no assets"),
    ],
)
def test_action_must_fit_asset(action: str, category: str, asset_type: str, reason: str) -> None:
    measure = {"asset_type": asset_type, "identifier": "x", "amount": "1.00"}
    measure |= {"start": "2026-12-04", "end": "2027-12-03"}

    with pytest.raises(MeasureRejected) as rejected:
        parse_measure(action, category, measure)

    assert str(rejected.value).startswith("measure.asset_type invalid")
    assert reason in str(rejected.value)


@pytest.mark.parametrize(
    ("alias", "category", "record_type"),
    [
        ("online_payment", "online_payment", "payment_account"),
        ("land", "land", "real_estate"),
        ("business", "business_registration", "shareholding"),
    ],
)
def test_category_names_accepted_as_asset_type(alias: str, category: str, record_type: str):
    reference = "0c6f1a8e-6a0f-4a55-9d43-5f0d7f2f8b11"
    measure = {"asset_type": alias, "identifier": "x", "reference": reference}

    request = parse_measure("release", category, measure)

    assert request.asset_type == record_type
    assert request.reference == reference


def test_share_freeze_takes_no_amount() -> None:
    measure = {
        "asset_type": "shareholding",
        "identifier": "x",
        "amount": "1.00",
        "start": "2026-12-04",
        "end": "2027-12-03",
    }

    with pytest.raises(MeasureRejected) as rejected:
        parse_measure("freeze", "business_registration", measure)

    assert str(rejected.value).startswith("measure.amount invalid: must be null")


# Holds and records


def test_allocate_gives_money_in_order() -> None:
    holds = [
        Hold("freeze", "a", "1", TODAY, None, limit=Decimal("30.00")),
        Hold("freeze", "b", "2", TODAY, None, limit=Decimal("50.00")),
        Hold("freeze", "c", "3", TODAY, None, limit=Decimal("10.00")),
    ]

    assert allocate(Decimal("60.00"), holds) == [Decimal("30.00"), Decimal("30.00"), 0]


def test_expired_synthetic_seizures_left_out() -> None:
    home = {
        "type": "real_estate",
        "certificate_number": "粤(2020)广州市不动产权第0000001号",
        "existing_seizures": [
            {
                "court": "甲",
                "case_number": "(2024)粤0104执1号",
                "since": "2024-01-01",
                "until": "2026-12-03",
            },
            {
                "court": "乙",
                "case_number": "(2025)粤0105执2号",
                "since": "2025-01-01",
                "until": "2027-12-31",
            },
        ],
    }

    shown = present(home, None, [], TODAY)

    assert [entry["court"] for entry in shown["existing_seizures"]] == ["乙"]
    assert len(synthetic_holds(home, TODAY)) == 1
    assert len(home["existing_seizures"]) == 2


def test_frozen_account_held_whole_by_other_court() -> None:
    account = {**ACCOUNT, "state": "frozen"}

    holds = synthetic_holds(account, TODAY)
    shown = present(account, Decimal("20.00"), [], TODAY)

    assert len(holds) == 1
    assert holds[0].end is None
    assert holds[0].limit == Decimal(ACCOUNT["balance"])
    assert shown["frozen_amount"] == "20.00"
    assert shown["state"] == "frozen"


def test_renewal_length_counts_calendar_months() -> None:
    first_start, first_end = date(2026, 12, 4), date(2027, 12, 3)

    # A year that holds 29 February 2028 is as long as the first year.
    assert measures.latest_renewal_end(first_start, first_end, date(2027, 12, 4)) == date(
        2028, 12, 3
    )
    # Month ends clip: a month from 31 January ends on the last day of February.
    assert measures.latest_renewal_end(
        date(2027, 1, 31), date(2027, 2, 27), date(2027, 2, 28)
    ) == date(2027, 3, 27)
