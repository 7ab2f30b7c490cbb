"""Control measures in request files: applied and checked as in batches over HTTP.

A request D record carries the document's sha256, its attachments and the measure as JSON
fields (docs/protocol.md section 7). The tests write such files for the provident fund hpf-sz
and the ship registry ship-gd, and compare the answers with those of the same requests sent
over HTTP to the same simulator.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_simulator import PROTOCOL
from agency_simulator.agencies import CHINA_TZ, DEFAULT_AGENCIES_FILE, load_agencies
from agency_simulator.population import generate_records
from agency_simulator.signing import public_key_pem
from agency_simulator.tests.conftest import (
    COURT,
    Court,
    Simulator,
    build_agencies,
    measure_item,
    person,
    start_simulator,
    stop_simulator,
)
from agency_simulator.tests.test_exchange import (
    csv_bytes,
    put_request,
    wait_for,
    wait_for_answers,
)

FUND = "hpf-sz"
SHIPS = "ship-gd"
AGENCIES = load_agencies(DEFAULT_AGENCIES_FILE)
# Subjects of this module come from a region that no other test module uses.
REGION = "440303"
_used_subjects: set[str] = set()


@pytest.fixture(scope="module")
def court_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def exchanging(
    tmp_path_factory: pytest.TempPathFactory, court_key: Ed25519PrivateKey
) -> Iterator[Simulator]:
    """A simulator that exchanges files in `folder/exchange`, with hpf-sz and ship-gd."""
    folder = tmp_path_factory.mktemp("exchange-measures")
    (folder / "court-keys").mkdir()
    (folder / "court-keys" / f"{COURT}.pem").write_bytes(public_key_pem(court_key.public_key()))
    agencies = build_agencies(datetime.now(CHINA_TZ))
    shipped = json.loads(DEFAULT_AGENCIES_FILE.read_text("utf-8"))["agencies"]
    for agency in shipped:
        if agency["code"] in (FUND, SHIPS):
            agency.pop("delay_ms", None)
            agency.pop("service_hours", None)
            agencies["agencies"].append(agency)
    path = folder / "agencies.json"
    path.write_text(json.dumps(agencies, ensure_ascii=False))
    running = start_simulator(
        folder, "--agencies", str(path), "--seed", "13", "--exchange-dir", str(folder / "exchange")
    )
    yield running
    stop_simulator(running)


@pytest.fixture(scope="module")
def court(exchanging: Simulator, court_key: Ed25519PrivateKey) -> Court:
    """The same court over HTTP."""
    return Court(COURT, court_key, exchanging.url)


def find_asset(
    agency: str, category: str, wanted: Callable[[dict[str, Any]], bool] = lambda record: True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (subject, record) of the first untouched subject with a record that `wanted`
    accepts, from the synthetic population that the simulator answers with."""
    for sequence in range(1, 1000):
        subject = person(sequence, REGION)
        if subject["document_number"] in _used_subjects:
            continue
        for record in generate_records(AGENCIES[agency], category, subject):
            if wanted(record):
                _used_subjects.add(subject["document_number"])
                return subject, record
    raise AssertionError(f"no subject with a matching {category} record at {agency}")


def fund_account(minimum: str = "100.00") -> tuple[dict[str, Any], dict[str, Any]]:
    return find_asset(
        FUND, "provident_fund", lambda record: Decimal(record["balance"]) >= Decimal(minimum)
    )


def period(days: int) -> dict[str, str]:
    start = datetime.now(CHINA_TZ).date()
    return {"start": start.isoformat(), "end": (start + timedelta(days=days - 1)).isoformat()}


def fund_freeze(subject: dict[str, Any], account: dict[str, Any]) -> dict[str, Any]:
    return measure_item(
        "freeze",
        "provident_fund",
        subject,
        asset_type="provident_fund",
        identifier=account["account"],
        amount="100.00",
        **period(365),
    )


def ship_seizure(subject: dict[str, Any], ship: dict[str, Any]) -> dict[str, Any]:
    return measure_item(
        "seize",
        "ship",
        subject,
        asset_type="ship",
        identifier=ship["registration_number"],
        **period(2 * 365),
    )


def json_field(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def detail_record(entry: dict[str, Any]) -> list[str]:
    """Return the request D record of an item, in the layout of docs/protocol.md section 7."""
    subject = entry["subject"]
    document = entry.get("document") or {}
    return [
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
        document.get("sha256", ""),
        json_field(document.get("attachments")),
        json_field(entry.get("measure")),
    ]


def request_file(
    agency: str, records: list[list[str]], key: Ed25519PrivateKey
) -> tuple[str, bytes]:
    """Return (batch id, bytes) of a request file with the D `records`, signed by the court."""
    batch_id = str(uuid.uuid4())
    sent_at = datetime.now(CHINA_TZ).isoformat(timespec="seconds")
    header = ["H", PROTOCOL, "request", batch_id, agency, COURT, "越秀区法院", sent_at]
    content = csv_bytes([header, *records, ["T", str(len(records))]])
    signature = base64.b64encode(key.sign(content)).decode("ascii")
    signer = urllib.parse.quote(COURT, safe="")
    return batch_id, content + f"S,{signer},ed25519:{signature}\n".encode("ascii")


def send_file(
    simulator: Simulator, agency: str, items: list[dict[str, Any]], key: Ed25519PrivateKey
) -> dict[str, dict[str, Any]]:
    """Write `items` in one request file and return their answers from the result files."""
    batch_id, data = request_file(agency, [detail_record(entry) for entry in items], key)
    put_request(simulator, agency, f"{batch_id}.csv", data)
    return wait_for_answers(simulator, agency, {entry["item_id"] for entry in items})


def simulator_measure(simulator: Simulator, agency: str, item_id: str) -> dict[str, Any]:
    rows = [row for row in simulator.measures(agency)["measures"] if row["item_id"] == item_id]
    assert len(rows) == 1, rows
    return rows[0]


# Applied as over HTTP


def test_fund_freeze_in_file_applied(exchanging: Simulator, court: Court, court_key) -> None:
    by_file_subject, by_file_account = fund_account()
    by_http_subject, by_http_account = fund_account()
    by_file = fund_freeze(by_file_subject, by_file_account)
    by_http = fund_freeze(by_http_subject, by_http_account)

    from_file = send_file(exchanging, FUND, [by_file], court_key)[by_file["item_id"]]
    from_http = court.run(FUND, [by_http])[by_http["item_id"]]

    assert from_file["status"] == "found", from_file
    [record] = from_file["records"]
    assert record["type"] == "freeze"
    assert record["account_number"] == by_file_account["account"]
    assert record["frozen_amount"] == "100.00"
    assert record["result"] == "done"
    assert record["queue_position"] == 0
    assert record["start"] == by_file["measure"]["start"]
    assert record["end"] == by_file["measure"]["end"]
    [http_record] = from_http["records"]
    assert record | {"account_number": None} == http_record | {"account_number": None}
    fund_hold = simulator_measure(exchanging, FUND, by_file["item_id"])
    assert fund_hold["state"] == "active"
    assert fund_hold["frozen_amount"] == "100.00"


def test_ship_seizure_in_file_applied(exchanging: Simulator, court_key) -> None:
    subject, ship = find_asset(SHIPS, "ship")
    seizure = ship_seizure(subject, ship)

    answer = send_file(exchanging, SHIPS, [seizure], court_key)[seizure["item_id"]]

    assert answer["status"] == "found", answer
    [record] = answer["records"]
    assert record["type"] == "seize"
    assert record["identifier"] == ship["registration_number"]
    assert record["result"] == "done"
    assert record["queue_position"] == 0
    assert simulator_measure(exchanging, SHIPS, seizure["item_id"])["state"] == "active"


def test_release_in_file_ends_freeze(exchanging: Simulator, court_key) -> None:
    subject, account = fund_account()
    freeze = fund_freeze(subject, account)
    send_file(exchanging, FUND, [freeze], court_key)
    release = measure_item(
        "release",
        "provident_fund",
        subject,
        asset_type="provident_fund",
        identifier=account["account"],
        reference=freeze["item_id"],
    )

    answer = send_file(exchanging, FUND, [release], court_key)[release["item_id"]]

    assert answer["status"] == "found", answer
    assert answer["records"][0]["type"] == "release"
    assert answer["records"][0]["result"] == "done"
    assert "released_on" in answer["records"][0]
    assert simulator_measure(exchanging, FUND, freeze["item_id"])["state"] == "released"


# Checked as over HTTP


def _broken_measure(changes: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(entry: dict[str, Any]) -> None:
        entry["measure"] = entry["measure"] | changes

    return change


def _broken_attachment(entry: dict[str, Any]) -> None:
    entry["document"]["attachments"][0]["sha256"] = "0" * 64


def _attachments_object(entry: dict[str, Any]) -> None:
    entry["document"]["attachments"] = {"kind": "ruling_freeze"}


def _measure(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(entry: dict[str, Any]) -> None:
        entry["measure"] = value

    return change


def _without(field: str) -> Callable[[dict[str, Any]], None]:
    def change(entry: dict[str, Any]) -> None:
        del entry["document"][field]

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            _broken_measure({"amount": "100"}),
            "measure.amount invalid: expected yuan with two decimals such as '50000.00', got '100'",
        ),
        (
            _broken_measure({"asset_type": "bank_account"}),
            "measure.asset_type invalid: 'bank_account'; expected 'provident_fund'",
        ),
        (_broken_measure({"identifier": None}), "measure.identifier missing"),
        (_broken_measure({"end": "2020-01-01"}), "measure.end invalid"),
        (_broken_measure({"reference": "A"}), "measure.reference invalid"),
        (_measure(None), "measure missing"),
        (_measure(["provident_fund"]), "measure missing"),
        (_without("sha256"), "document.sha256 missing"),
        (_attachments_object, "document.attachments invalid: expected a list"),
        (
            _broken_attachment,
            "document.attachments[0] missing: sha256 does not match the decoded pdf_base64",
        ),
    ],
)
def test_malformed_measure_rejected_as_over_http(
    exchanging: Simulator, court: Court, court_key, change, reason: str
) -> None:
    # Rejected items are not stored, so every case may use the same subject and account.
    by_file = fund_freeze(person(999, REGION), {"account": "440300123456"})
    by_http = copy.deepcopy(by_file) | {"item_id": str(uuid.uuid4())}
    for entry in (by_file, by_http):
        change(entry)

    answer = send_file(exchanging, FUND, [by_file], court_key)[by_file["item_id"]]
    response = court.send(FUND, court.batch(FUND, [by_http]))

    assert response.status_code == 202, response.text
    [rejected] = response.json()["rejected"]
    assert rejected["reason"].startswith(reason), rejected["reason"]
    assert answer["status"] == "error"
    assert answer["error"] == f"rejected [{rejected['reason_code']}]: {rejected['reason_text']}"


@pytest.mark.parametrize(
    ("field", "text", "reason"),
    [
        (14, "{asset_type: provident_fund}", "record 2: the measure field is not JSON"),
        (13, "[{", "record 2: the document attachments field is not JSON"),
    ],
)
def test_field_not_json_quarantined(
    exchanging: Simulator, court_key, field: int, text: str, reason: str
) -> None:
    subject, account = fund_account()
    record = detail_record(fund_freeze(subject, account))
    record[field] = text
    batch_id, data = request_file(FUND, [record], court_key)
    name = f"{batch_id}.csv"
    before = exchanging.counts(FUND)
    put_request(exchanging, FUND, name, data)
    quarantine = exchanging.folder / "exchange" / FUND / "outbox" / "quarantine"

    wait_for(quarantine / f"{name}.reason.txt")

    assert reason in (quarantine / f"{name}.reason.txt").read_text("utf-8")
    wait_for(quarantine / name)
    after = exchanging.counts(FUND)
    assert after["batches"] == before["batches"]
    assert after["items"] == before["items"]


def test_query_in_file_leaves_measure_fields_empty(exchanging: Simulator, court_key) -> None:
    subject, account = fund_account()
    query = {**fund_freeze(subject, account), "action": "query", "document": None}
    del query["measure"]
    record = detail_record(query)

    answer = send_file(exchanging, FUND, [query], court_key)[query["item_id"]]

    assert record[10:] == ["", "", "", "", ""]
    assert answer["status"] == "found"
    assert answer["records"][0]["account"] == account["account"]


def test_large_documents_read(exchanging: Simulator, court_key) -> None:
    subject, account = fund_account()
    freeze = fund_freeze(subject, account)
    # Sealed notices are PDFs of about 160 kB. Their base64 is longer than the 131,072
    # characters that Python's csv module accepts in a field by default.
    data = b"%PDF-1.7\n" + b"0" * 200_000
    notice = {
        "kind": "assistance_notice_freeze",
        "sha256": hashlib.sha256(data).hexdigest(),
        "pdf_base64": base64.b64encode(data).decode("ascii"),
    }
    freeze["document"] = notice | {"attachments": [dict(notice, kind="ruling_freeze")]}

    answer = send_file(exchanging, FUND, [freeze], court_key)[freeze["item_id"]]

    assert answer["status"] == "found", answer
    assert answer["records"][0]["result"] == "done"
