"""Notes in measure answers: the simulated agencies are Chinese institutions and write them in
Chinese, because the court's measure pages show them to their users as written."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from agency_simulator.tests.conftest import COURT, OTHER_COURT, measure_item
from agency_simulator.tests.test_measure_rules import (
    ACCOUNT,
    SUBJECT,
    TODAY,
    Agency,
    follow_up,
    freeze,
)

BALANCE = Decimal(ACCOUNT["balance"])
# A run of three or more Latin letters: an English word in a note.
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(note: str) -> list[str]:
    """Return the English words of ``note``, leaving out item ids, which are hexadecimal."""
    without_ids = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "", note)
    return ENGLISH_WORD.findall(without_ids)


def test_partial_deduct_note_in_chinese(tmp_path: Path) -> None:
    bank = Agency(tmp_path / "simulator.sqlite3")
    requested = BALANCE + 100

    deduct = measure_item(
        "deduct",
        "bank_account",
        SUBJECT,
        asset_type="bank_account",
        identifier=ACCOUNT["account_number"],
        amount=f"{requested:.2f}",
    )

    record = bank.run(deduct)

    assert record["result"] == "partial"
    assert record["reason"] == f"未冻结余额仅 {BALANCE:.2f} 元，少于要求的 {requested:.2f} 元"


def test_partial_freeze_note_in_chinese(tmp_path: Path) -> None:
    bank = Agency(tmp_path / "simulator.sqlite3")

    record = bank.run(freeze(str(BALANCE + 1000)))

    assert record["result"] == "partial"
    assert record["reason"].startswith(f"未冻结余额仅 {BALANCE:.2f} 元")
    assert english_words(record["reason"]) == []


def test_queued_freeze_note_in_chinese(tmp_path: Path) -> None:
    bank = Agency(tmp_path / "simulator.sqlite3")
    bank.run(freeze(str(BALANCE)))

    record = bank.run(freeze("10.00"), court=OTHER_COURT)

    assert record["queue_position"] == 1
    assert record["reason"].startswith("轮候冻结")
    assert english_words(record["reason"]) == []


def test_rejection_notes_in_chinese(tmp_path: Path) -> None:
    bank = Agency(tmp_path / "simulator.sqlite3")
    released = freeze("10.00")
    bank.run(released)
    bank.run(follow_up("release", released))
    own = freeze("20.00")
    bank.run(own)
    too_long = (TODAY + timedelta(days=3000)).isoformat()
    cases = [
        ("早于今天", freeze("10.00", start=TODAY - timedelta(days=40), days=30), COURT),
        ("解除", follow_up("release", released), COURT),
        ("其他法院", follow_up("release", own), OTHER_COURT),
        ("长于首次期限", follow_up("renew", own, start=TODAY.isoformat(), end=too_long), COURT),
    ]

    for expected, request, court in cases:
        record = bank.run(request, court=court)

        assert record["result"] == "rejected", expected
        assert expected in record["reason"]
        assert english_words(record["reason"]) == [], record["reason"]


def test_unanswered_reference_note_in_chinese(tmp_path: Path) -> None:
    bank = Agency(tmp_path / "simulator.sqlite3")
    first = freeze("100.00")
    bank.send(first)

    (status, answer) = bank.answer(bank.send(follow_up("release", first)))[0]

    assert status == "error"
    assert "尚无答复" in answer["error"]
    assert english_words(answer["error"]) == []
