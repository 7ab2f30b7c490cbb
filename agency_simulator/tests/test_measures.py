"""Control measures against the simulator process: freezes, deductions, seizures, renewals,
releases and exit restrictions, and how queries and the admin endpoint show them."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from agency_simulator.agencies import DEFAULT_AGENCIES_FILE, load_agencies
from agency_simulator.population import generate_records
from agency_simulator.tests.conftest import (
    Court,
    Simulator,
    item,
    measure_item,
    pdf_document,
    person,
)
from agency_simulator.tests.schemas import errors

AGENCIES = load_agencies(DEFAULT_AGENCIES_FILE)
# Subjects of this module come from one region that the other test modules do not use, and
# each test takes subjects no other test has touched, because the simulator is shared.
REGION = "440305"
_taken: set[str] = set()


def find_asset(
    agency: str, category: str, wanted: Callable[[dict[str, Any]], bool]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (subject, record) of the first untouched subject with a record that `wanted`
    accepts, from the synthetic population that the simulator answers with."""
    for sequence in range(1, 1000):
        subject = person(sequence, REGION)
        if subject["document_number"] in _taken:
            continue
        for record in generate_records(AGENCIES[agency], category, subject):
            if wanted(record):
                _taken.add(subject["document_number"])
                return subject, record
    raise AssertionError(f"no subject with a matching {category} record at {agency}")


def fresh_person() -> dict[str, Any]:
    subject, _ = find_asset("police-gd", "household", lambda record: True)
    return subject


def normal_account(minimum: str = "100.00") -> tuple[dict[str, Any], dict[str, Any]]:
    return find_asset(
        "bank-icbc",
        "bank_account",
        lambda record: (
            record["state"] == "normal" and Decimal(record["balance"]) >= Decimal(minimum)
        ),
    )


def free_home() -> tuple[dict[str, Any], dict[str, Any]]:
    return find_asset("housing-gd", "real_estate", lambda record: record["existing_seizures"] == [])


def today(simulator: Simulator) -> date:
    return date.fromisoformat(simulator.client.get("/admin/clock").json()["today"])


def period(simulator: Simulator, days: int = 365, offset: int = 0) -> dict[str, str]:
    """Return `start` and `end` of a period of `days` days that starts `offset` days from today."""
    start = today(simulator) + timedelta(days=offset)
    return {"start": start.isoformat(), "end": (start + timedelta(days=days - 1)).isoformat()}


def record_of(answer: dict[str, Any]) -> dict[str, Any]:
    """Return the one record of a `found` answer, after checking the answer's schema."""
    envelope = {
        "protocol": "zhixing-gateway/1",
        "agency": "bank-icbc",
        "sent_at": "2026-01-01T00:00:00+08:00",
        "answers": [answer],
    }
    assert errors("answers", envelope) == []
    assert answer["status"] == "found", answer
    assert len(answer["records"]) == 1
    return answer["records"][0]


def freeze_item(
    subject: dict[str, Any], account: dict[str, Any], amount: str, simulator: Simulator, **extra
) -> dict[str, Any]:
    return measure_item(
        "freeze",
        "bank_account",
        subject,
        asset_type="bank_account",
        identifier=account["account_number"],
        amount=amount,
        **period(simulator),
        **extra,
    )


def deduct_item(
    subject: dict[str, Any], account: dict[str, Any], amount: str, reference: str | None
) -> dict[str, Any]:
    return measure_item(
        "deduct",
        "bank_account",
        subject,
        asset_type="bank_account",
        identifier=account["account_number"],
        amount=amount,
        reference=reference,
    )


def seize_item(subject: dict[str, Any], home: dict[str, Any], simulator: Simulator, **extra):
    return measure_item(
        "seize",
        "real_estate",
        subject,
        asset_type="real_estate",
        identifier=home["certificate_number"],
        **period(simulator, days=3 * 365),
        **extra,
    )


def follow_up(action: str, original: dict[str, Any], **measure: Any) -> dict[str, Any]:
    """Return a renewal, release or deduction of the measure that `original` applied."""
    fields = {
        "asset_type": original["measure"]["asset_type"],
        "identifier": original["measure"]["identifier"],
        "reference": original["item_id"],
        **measure,
    }
    return measure_item(
        action,
        original["category"],
        original["subject"],
        case_number=original["case_number"],
        **fields,
    )


def query_record(
    court: Court, agency: str, category: str, subject: dict[str, Any], field: str, value: str
) -> dict[str, Any]:
    request = item(category, subject)
    answer = court.run(agency, [request])[request["item_id"]]
    return next(record for record in answer["records"] if record.get(field) == value)


def asset_state(simulator: Simulator, agency: str, identifier: str) -> dict[str, Any]:
    assets = simulator.measures(agency)["assets"]
    return next(entry for entry in assets if entry["identifier"] == identifier)


@pytest.fixture
def clock(simulator: Simulator) -> Iterator[Simulator]:
    """The simulator, whose date of measures a test may move; it follows the real date after."""
    yield simulator
    simulator.set_today(None)


# Freezes


def test_freeze_holds_full_limit(court: Court, simulator: Simulator) -> None:
    subject, account = normal_account()
    freeze = freeze_item(subject, account, "100.00", simulator)

    record = record_of(court.run("bank-icbc", [freeze])[freeze["item_id"]])

    assert record["type"] == "freeze"
    assert record["account_number"] == account["account_number"]
    assert record["frozen_amount"] == "100.00"
    assert record["queue_position"] == 0
    assert record["result"] == "done"
    assert record["start"] == freeze["measure"]["start"]
    assert record["end"] == freeze["measure"]["end"]
    shown = query_record(
        court, "bank-icbc", "bank_account", subject, "account_number", account["account_number"]
    )
    assert shown["state"] == "frozen"
    assert shown["frozen_amount"] == "100.00"
    assert shown["balance"] == account["balance"]


def test_freeze_partial_then_queued(court: Court, other_court: Court, simulator: Simulator) -> None:
    subject, account = normal_account()
    balance = Decimal(account["balance"])
    first = freeze_item(subject, account, str(balance + 1000), simulator)
    first_record = record_of(court.run("bank-icbc", [first])[first["item_id"]])
    second = freeze_item(subject, account, "10.00", simulator)

    second_record = record_of(other_court.run("bank-icbc", [second])[second["item_id"]])

    assert first_record["frozen_amount"] == account["balance"]
    assert first_record["result"] == "partial"
    assert first_record["queue_position"] == 0
    assert "reason" in first_record
    assert second_record["frozen_amount"] == "0.00"
    assert second_record["result"] == "partial"
    assert second_record["queue_position"] == 1
    assert "轮候冻结" in second_record["reason"]
    state = asset_state(simulator, "bank-icbc", account["account_number"])
    assert state["frozen_amount"] == account["balance"]
    assert state["unfrozen_amount"] == "0.00"


def test_freeze_of_zero_balance_holds_nothing(court: Court, simulator: Simulator) -> None:
    subject, account = find_asset(
        "bank-icbc",
        "bank_account",
        lambda record: record["state"] == "normal" and record["balance"] == "0.00",
    )
    freeze = freeze_item(subject, account, "500.00", simulator)

    record = record_of(court.run("bank-icbc", [freeze])[freeze["item_id"]])

    assert record["frozen_amount"] == "0.00"
    assert record["queue_position"] == 0
    assert record["result"] == "partial"


def test_account_frozen_by_other_court_queues(court: Court, simulator: Simulator) -> None:
    subject, account = find_asset(
        "bank-icbc",
        "bank_account",
        lambda record: record["state"] == "frozen" and Decimal(record["balance"]) > 0,
    )
    freeze = freeze_item(subject, account, "100.00", simulator)
    deduct = deduct_item(subject, account, "100.00", None)

    record = record_of(court.run("bank-icbc", [freeze])[freeze["item_id"]])
    deducted = record_of(court.run("bank-icbc", [deduct])[deduct["item_id"]])

    assert record["frozen_amount"] == "0.00"
    assert record["queue_position"] == 1
    assert deducted["result"] == "rejected"
    assert deducted["deducted_amount"] == "0.00"
    holds = asset_state(simulator, "bank-icbc", account["account_number"])["holds"]
    assert holds[0]["synthetic"] is True
    assert holds[0]["frozen_amount"] == account["balance"]


# Deductions


def test_deduct_from_own_freeze(court: Court, other_court: Court, simulator: Simulator) -> None:
    subject, account = normal_account("300.00")
    balance = Decimal(account["balance"])
    own = freeze_item(subject, account, "100.00", simulator)
    court.run("bank-icbc", [own])
    other = freeze_item(subject, account, "100.00", simulator)
    other_court.run("bank-icbc", [other])
    deduct = deduct_item(subject, account, "150.00", own["item_id"])

    record = record_of(court.run("bank-icbc", [deduct])[deduct["item_id"]])

    assert record["type"] == "deduct"
    assert record["deducted_amount"] == "100.00"
    assert record["result"] == "partial"
    state = asset_state(simulator, "bank-icbc", account["account_number"])
    assert state["balance"] == str(balance - 100)
    assert state["frozen_amount"] == "100.00"
    measures = {entry["item_id"]: entry for entry in simulator.measures("bank-icbc")["measures"]}
    assert measures[own["item_id"]]["state"] == "spent"
    assert measures[other["item_id"]]["frozen_amount"] == "100.00"
    assert measures[other["item_id"]]["queue_position"] == 0
    shown = query_record(
        court, "bank-icbc", "bank_account", subject, "account_number", account["account_number"]
    )
    assert shown["balance"] == str(balance - 100)


def test_deduct_never_moves_other_courts_money(
    court: Court, other_court: Court, simulator: Simulator
) -> None:
    subject, account = normal_account("300.00")
    balance = Decimal(account["balance"])
    other = freeze_item(subject, account, str(balance - 50), simulator)
    other_court.run("bank-icbc", [other])
    from_other = deduct_item(subject, account, "10.00", other["item_id"])
    unfrozen = deduct_item(subject, account, "80.00", None)

    rejected = record_of(court.run("bank-icbc", [from_other])[from_other["item_id"]])
    partial = record_of(court.run("bank-icbc", [unfrozen])[unfrozen["item_id"]])

    assert rejected["result"] == "rejected"
    assert "其他法院" in rejected["reason"]
    assert rejected["deducted_amount"] == "0.00"
    assert partial["deducted_amount"] == "50.00"
    assert partial["result"] == "partial"
    state = asset_state(simulator, "bank-icbc", account["account_number"])
    assert state["balance"] == str(balance - 50)
    assert state["frozen_amount"] == str(balance - 50)
    assert state["unfrozen_amount"] == "0.00"


# Seizures


def test_seizure_queue_and_promotion(
    court: Court, other_court: Court, simulator: Simulator
) -> None:
    subject, home = free_home()
    first = seize_item(subject, home, simulator)
    second = seize_item(subject, home, simulator, case_number="(2026)粤0105执7号")

    first_record = record_of(court.run("housing-gd", [first])[first["item_id"]])
    second_record = record_of(other_court.run("housing-gd", [second])[second["item_id"]])
    shown = query_record(
        court,
        "housing-gd",
        "real_estate",
        subject,
        "certificate_number",
        home["certificate_number"],
    )
    release = follow_up("release", first)
    released = record_of(court.run("housing-gd", [release])[release["item_id"]])
    third = seize_item(subject, home, simulator, case_number="(2026)粤0104执9号")
    third_record = record_of(court.run("housing-gd", [third])[third["item_id"]])

    assert first_record["type"] == "seize"
    assert first_record["identifier"] == home["certificate_number"]
    assert first_record["queue_position"] == 0
    assert first_record["result"] == "done"
    assert second_record["queue_position"] == 1
    assert "轮候查封" in second_record["reason"]
    assert [entry["case_number"] for entry in shown["existing_seizures"]] == [
        first["case_number"],
        second["case_number"],
    ]
    assert released["result"] == "done"
    assert released["released_on"] == today(simulator).isoformat()
    assert third_record["queue_position"] == 1
    holds = asset_state(simulator, "housing-gd", home["certificate_number"])["holds"]
    assert [hold["item_id"] for hold in holds] == [second["item_id"], third["item_id"]]
    assert [hold["queue_position"] for hold in holds] == [0, 1]


def test_existing_seizures_queue_first(court: Court, simulator: Simulator) -> None:
    day = today(simulator)
    subject, home = find_asset(
        "housing-gd",
        "real_estate",
        lambda record: any(
            date.fromisoformat(entry["until"]) >= day for entry in record["existing_seizures"]
        ),
    )
    seize = seize_item(subject, home, simulator)

    record = record_of(court.run("housing-gd", [seize])[seize["item_id"]])

    assert record["queue_position"] == 1
    assert record["result"] == "done"


def test_vehicle_and_shares_queries_show_holds(court: Court, simulator: Simulator) -> None:
    subject, car = find_asset("traffic-gd", "vehicle", lambda record: record["state"] == "normal")
    seize = measure_item(
        "seize",
        "vehicle",
        subject,
        asset_type="vehicle",
        identifier=car["plate"],
        **period(simulator, days=730),
    )
    owner, stake = find_asset(
        "amr-gd", "business_registration", lambda r: r["type"] == "shareholding"
    )
    freeze = measure_item(
        "freeze",
        "business_registration",
        owner,
        asset_type="business",
        identifier=stake["credit_code"],
        **period(simulator, days=730),
    )

    seized = record_of(court.run("traffic-gd", [seize])[seize["item_id"]])
    frozen = record_of(court.run("amr-gd", [freeze])[freeze["item_id"]])
    shown_car = query_record(court, "traffic-gd", "vehicle", subject, "plate", car["plate"])
    shares = query_record(
        court, "amr-gd", "business_registration", owner, "credit_code", stake["credit_code"]
    )

    assert seized["identifier"] == car["plate"]
    assert shown_car["state"] == "seized"
    assert shown_car["existing_seizures"][0]["case_number"] == seize["case_number"]
    assert frozen["type"] == "freeze"
    assert frozen["identifier"] == stake["credit_code"]
    assert "frozen_amount" not in frozen
    assert shares["type"] == "shareholding"
    assert shares["existing_seizures"][0]["until"] == freeze["measure"]["end"]


# Renewals and releases


def test_renew_within_and_over_period(court: Court, simulator: Simulator) -> None:
    subject, account = normal_account()
    freeze = freeze_item(subject, account, "50.00", simulator)
    court.run("bank-icbc", [freeze])
    end = date.fromisoformat(freeze["measure"]["end"])
    within = follow_up("renew", freeze, **period(simulator, days=365, offset=365))
    longer = follow_up("renew", freeze, **period(simulator, days=366, offset=730))
    gap = follow_up("renew", freeze, **period(simulator, days=30, offset=800))
    shorter = follow_up("renew", freeze, **period(simulator, days=10, offset=700))

    renewed = record_of(court.run("bank-icbc", [within])[within["item_id"]])
    too_long = record_of(court.run("bank-icbc", [longer])[longer["item_id"]])
    too_late = record_of(court.run("bank-icbc", [gap])[gap["item_id"]])
    too_early = record_of(court.run("bank-icbc", [shorter])[shorter["item_id"]])

    assert within["measure"]["start"] == (end + timedelta(days=1)).isoformat()
    assert renewed["type"] == "renew"
    assert renewed["result"] == "done"
    assert renewed["end"] == within["measure"]["end"]
    assert renewed["frozen_amount"] == "50.00"
    assert too_long["result"] == "rejected"
    assert "长于首次期限" in too_long["reason"]
    assert too_late["result"] == "rejected"
    assert "失效" in too_late["reason"]
    assert too_early["result"] == "rejected"
    assert "未晚于现有期限的截止日" in too_early["reason"]
    measures = {entry["item_id"]: entry for entry in simulator.measures("bank-icbc")["measures"]}
    assert measures[freeze["item_id"]]["end"] == within["measure"]["end"]


def test_renew_of_released_or_expired_rejected(court: Court, clock: Simulator) -> None:
    subject, account = normal_account()
    released = freeze_item(subject, account, "20.00", clock)
    expiring = freeze_item(subject, account, "30.00", clock)
    court.run("bank-icbc", [released, expiring])
    court.run("bank-icbc", [follow_up("release", released)])
    renew_released = follow_up("renew", released, **period(clock, days=30, offset=365))
    renew_expired = follow_up("renew", expiring, **period(clock, days=30, offset=365))
    after_end = date.fromisoformat(expiring["measure"]["end"]) + timedelta(days=1)

    first = record_of(court.run("bank-icbc", [renew_released])[renew_released["item_id"]])
    clock.set_today(after_end.isoformat())
    second = record_of(court.run("bank-icbc", [renew_expired])[renew_expired["item_id"]])
    shown = query_record(
        court, "bank-icbc", "bank_account", subject, "account_number", account["account_number"]
    )

    assert first["result"] == "rejected"
    assert "解除" in first["reason"]
    assert second["result"] == "rejected"
    assert "到期" in second["reason"]
    assert shown["state"] == "normal"
    assert "frozen_amount" not in shown
    measures = {entry["item_id"]: entry for entry in clock.measures("bank-icbc")["measures"]}
    assert measures[expiring["item_id"]]["state"] == "expired"
    assert measures[released["item_id"]]["state"] == "released"


def test_release_passes_money_to_queued_freeze(
    court: Court, other_court: Court, simulator: Simulator
) -> None:
    subject, account = normal_account()
    first = freeze_item(subject, account, account["balance"], simulator)
    court.run("bank-icbc", [first])
    queued = freeze_item(subject, account, "40.00", simulator)
    queued_record = record_of(other_court.run("bank-icbc", [queued])[queued["item_id"]])

    release = follow_up("release", first)
    released = record_of(court.run("bank-icbc", [release])[release["item_id"]])
    again = record_of(court.run("bank-icbc", [follow_up("release", first)]).popitem()[1])

    assert queued_record["frozen_amount"] == "0.00"
    assert released["type"] == "release"
    assert released["account_number"] == account["account_number"]
    assert released["result"] == "done"
    assert again["result"] == "rejected"
    assert "解除" in again["reason"]
    state = asset_state(simulator, "bank-icbc", account["account_number"])
    assert [hold["item_id"] for hold in state["holds"]] == [queued["item_id"]]
    assert state["holds"][0]["frozen_amount"] == "40.00"
    assert state["holds"][0]["queue_position"] == 0
    other_release = follow_up("release", queued)
    other_court.run("bank-icbc", [other_release])
    shown = query_record(
        court, "bank-icbc", "bank_account", subject, "account_number", account["account_number"]
    )
    assert shown["state"] == "normal"
    assert "frozen_amount" not in shown
    assert shown["balance"] == account["balance"]


def test_release_of_other_courts_measure_rejected(
    court: Court, other_court: Court, simulator: Simulator
) -> None:
    subject, home = free_home()
    seize = seize_item(subject, home, simulator)
    court.run("housing-gd", [seize])
    release = follow_up("release", seize)

    record = record_of(other_court.run("housing-gd", [release])[release["item_id"]])

    assert record["result"] == "rejected"
    assert "其他法院" in record["reason"]
    holds = asset_state(simulator, "housing-gd", home["certificate_number"])["holds"]
    assert [hold["item_id"] for hold in holds] == [seize["item_id"]]


# Exit restrictions


def test_restrict_exit_recorded(court: Court, simulator: Simulator) -> None:
    subject = fresh_person()
    restrict = measure_item("restrict_exit", "exit_entry", subject, **period(simulator))
    second = measure_item(
        "restrict_exit",
        "exit_entry",
        subject,
        case_number="(2026)粤0104执55号",
        **period(simulator, days=180),
    )

    record = record_of(court.run("police-gd", [restrict])[restrict["item_id"]])
    other = record_of(court.run("police-gd", [second])[second["item_id"]])
    renewal = follow_up("renew", restrict, **period(simulator, days=365, offset=365))
    renewed = record_of(court.run("police-gd", [renewal])[renewal["item_id"]])
    release = follow_up("release", second)
    released = record_of(court.run("police-gd", [release])[release["item_id"]])

    assert record == {
        "type": "restrict_exit",
        "start": restrict["measure"]["start"],
        "end": restrict["measure"]["end"],
        "result": "done",
    }
    assert other["result"] == "done"
    assert "另有 1 项在先的限制出境措施" in other["reason"]
    assert renewed["result"] == "done"
    assert renewed["end"] == renewal["measure"]["end"]
    assert released["result"] == "done"
    states = {
        entry["item_id"]: entry["state"] for entry in simulator.measures("police-gd")["measures"]
    }
    assert states[restrict["item_id"]] == "active"
    assert states[second["item_id"]] == "released"


def test_release_lifts_exit_restriction(court: Court, simulator: Simulator) -> None:
    subject = fresh_person()
    restrict = measure_item("restrict_exit", "exit_entry", subject, **period(simulator))
    court.run("police-gd", [restrict])
    release = follow_up("release", restrict)
    release["document"] = pdf_document("border_control_lifting")

    released = record_of(court.run("police-gd", [release])[release["item_id"]])
    again = record_of(court.run("police-gd", [follow_up("release", restrict)]).popitem()[1])
    later = measure_item("restrict_exit", "exit_entry", subject, **period(simulator, days=90))
    restricted = record_of(court.run("police-gd", [later])[later["item_id"]])

    assert released == {
        "type": "release",
        "released_on": today(simulator).isoformat(),
        "result": "done",
    }
    assert again["result"] == "rejected"
    assert "解除" in again["reason"]
    assert "reason" not in restricted
    measures = {entry["item_id"]: entry for entry in simulator.measures("police-gd")["measures"]}
    assert measures[restrict["item_id"]]["state"] == "released"
    assert measures[release["item_id"]]["reference"] == restrict["item_id"]


def test_restrict_exit_of_organisation_not_found(court: Court, simulator: Simulator) -> None:
    organisation = {
        "kind": "organisation",
        "name": "测试公司",
        "document_type": "credit_code",
        "document_number": "91440300MA5DC0QX8L",
    }
    restrict = measure_item("restrict_exit", "exit_entry", organisation, **period(simulator))

    answer = court.run("police-gd", [restrict])[restrict["item_id"]]

    assert answer["status"] == "not_found"
    assert answer["records"] == []


# Idempotency, unknown assets and rejections


def test_measure_sent_again_applied_once(court: Court, simulator: Simulator) -> None:
    subject, account = normal_account()
    freeze = freeze_item(subject, account, "70.00", simulator)
    body = court.batch("bank-icbc", [freeze])
    first = court.send("bank-icbc", body)
    answers = court.run("bank-icbc", [freeze])

    repeated_batch = court.send("bank-icbc", body)
    resent = court.run("bank-icbc", [freeze])

    assert repeated_batch.json() == first.json()
    assert resent[freeze["item_id"]]["records"] == answers[freeze["item_id"]]["records"]
    measures = simulator.measures("bank-icbc")["measures"]
    assert [entry["item_id"] for entry in measures].count(freeze["item_id"]) == 1
    state = asset_state(simulator, "bank-icbc", account["account_number"])
    assert state["frozen_amount"] == "70.00"


def test_unknown_asset_not_found(court: Court, simulator: Simulator) -> None:
    subject, account = normal_account()
    unknown = freeze_item(
        subject, {"account_number": account["account_number"][:-1] + "X"}, "10.00", simulator
    )

    answer = court.run("bank-icbc", [unknown])[unknown["item_id"]]

    assert answer["status"] == "not_found"


def test_concurrent_freezes_never_exceed_balance(
    court: Court, other_court: Court, simulator: Simulator
) -> None:
    subject, account = normal_account("50.00")
    balance = Decimal(account["balance"])
    limit = (balance / 3).quantize(Decimal("0.01"))
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def freeze_many(sender: Court) -> None:
        for _ in range(4):
            freeze = freeze_item(subject, account, str(limit), simulator)
            answer = sender.run("bank-icbc", [freeze])[freeze["item_id"]]
            with lock:
                results.append(record_of(answer))

    threads = [
        threading.Thread(target=freeze_many, args=(sender,)) for sender in (court, other_court)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    frozen = sum(Decimal(record["frozen_amount"]) for record in results)
    assert len(results) == 8
    assert frozen == balance
    assert sorted(record["queue_position"] for record in results) == list(range(8))
    state = asset_state(simulator, "bank-icbc", account["account_number"])
    assert Decimal(state["frozen_amount"]) == balance
    assert state["unfrozen_amount"] == "0.00"


def valid_measure(**changes: Any) -> dict[str, Any]:
    return {
        "asset_type": "bank_account",
        "identifier": "6212261234567890123",
        "amount": "100.00",
        "start": "2026-12-04",
        "end": "2027-12-03",
        "reference": None,
        **changes,
    }


@pytest.mark.parametrize(
    ("action", "changes", "reason"),
    [
        ("seize", {}, "action 'seize' not supported"),
        ("freeze", {"document": None}, "document missing"),
        (
            "freeze",
            {"document": {"kind": "notice", "pdf_base64": "JVBERi0="}},
            "document.sha256 missing",
        ),
        (
            "freeze",
            {"sha256": "0" * 64},
            "document missing: sha256 does not match the decoded pdf_base64",
        ),
        (
            "freeze",
            {"pdf": b"<html></html>"},
            "document.pdf_base64 invalid: the decoded bytes do not start with %PDF-",
        ),
        ("freeze", {"measure": None}, "measure missing"),
        ("freeze", {"measure": valid_measure(amount=None)}, "measure.amount missing"),
        (
            "freeze",
            {"measure": valid_measure(amount="100")},
            "measure.amount invalid: expected yuan",
        ),
        ("freeze", {"measure": valid_measure(asset_type="vehicle")}, "measure.asset_type invalid"),
        ("freeze", {"measure": valid_measure(identifier="")}, "measure.identifier missing"),
        ("freeze", {"measure": valid_measure(end="2026-01-01")}, "measure.end invalid"),
        ("freeze", {"measure": valid_measure(start="04.12.2026")}, "measure.start invalid"),
        ("freeze", {"measure": valid_measure(reference="a")}, "measure.reference invalid"),
        (
            "release",
            {"measure": valid_measure(amount=None, start=None, end=None)},
            "measure.reference missing",
        ),
        (
            "deduct",
            {"measure": valid_measure(start=None, end=None, reference="A")},
            "measure.reference invalid",
        ),
        ("deduct", {"measure": valid_measure()}, "measure.start invalid: must be null"),
    ],
)
def test_measure_item_rejected(court: Court, action: str, changes: dict[str, Any], reason: str):
    request = measure_item(action, "bank_account", person(1, REGION), **valid_measure())
    if "sha256" in changes:
        request["document"]["sha256"] = changes.pop("sha256")
    if "pdf" in changes:
        changes["document"] = pdf_document("notice") | {"pdf_base64": _base64(changes.pop("pdf"))}
        changes["document"]["sha256"] = _sha256(changes["document"]["pdf_base64"])
    request.update(changes)

    response = court.send("bank-icbc", court.batch("bank-icbc", [request]))

    assert response.status_code == 202
    rejected = response.json()["rejected"]
    assert len(rejected) == 1
    assert rejected[0]["reason"].startswith(reason), rejected[0]["reason"]


def test_exit_restrictions_of_wrong_kind_rejected(court: Court, simulator: Simulator) -> None:
    in_household = measure_item(
        "restrict_exit", "household", person(1, REGION), **period(simulator)
    )
    with_asset = measure_item(
        "restrict_exit",
        "exit_entry",
        person(1, REGION),
        asset_type="bank_account",
        **period(simulator),
    )

    response = court.send("police-gd", court.batch("police-gd", [in_household, with_asset]))

    reasons = {entry["item_id"]: entry["reason"] for entry in response.json()["rejected"]}
    assert reasons[in_household["item_id"]] == "action 'restrict_exit' needs category 'exit_entry'"
    assert reasons[with_asset["item_id"]].startswith("measure.asset_type invalid")


def test_measure_items_match_batch_schema(court: Court, simulator: Simulator) -> None:
    subject, account = normal_account()
    freeze = freeze_item(subject, account, "10.00", simulator)
    items = [
        freeze,
        follow_up("renew", freeze, **period(simulator, offset=365)),
        follow_up("release", freeze),
        deduct_item(subject, account, "5.00", freeze["item_id"]),
        measure_item("restrict_exit", "exit_entry", subject, **period(simulator)),
    ]

    assert errors("batch", court.batch("bank-icbc", items)) == []
    broken = dict(items[0], document=None)
    assert errors("batch", court.batch("bank-icbc", [broken])) != []


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sha256(text: str) -> str:
    return hashlib.sha256(base64.b64decode(text)).hexdigest()


def test_admin_measures_and_clock_checked(simulator: Simulator) -> None:
    unknown = simulator.client.get("/admin/measures", params={"agency": "bank-nowhere"})
    invalid = simulator.client.post("/admin/clock", json={"today": "tomorrow"})
    extra = simulator.client.post("/admin/clock", json={"today": None, "offset": 1})
    listing = simulator.client.get("/admin/measures")

    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_agency"
    assert invalid.status_code == 400
    assert "not a date" in invalid.json()["detail"]
    assert extra.status_code == 400
    assert listing.status_code == 200
    assert set(listing.json()) == {"today", "measures", "assets"}
