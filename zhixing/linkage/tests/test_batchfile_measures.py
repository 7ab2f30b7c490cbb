"""Control measures through the batch-file exchange, with the agency simulator as a process.

The shipped agencies file makes the Shenzhen provident fund (hpf-sz) and the ship registry
(ship-gd) batch-file agencies whose folders lie in the data folder. The test makes its own
folder the data folder and starts the simulator with ``--exchange-dir`` there. A query finds
a provident fund account and a ship, and then a freeze of the account and a seizure of the
ship travel as request files, with their sealed documents and ``measure``, and come back in
result files.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count

from agency_simulator import exchange
from agency_simulator.agencies import load_agencies
from agency_simulator.population import generate_records
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.inquiry import services as inquiry
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import keys
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.linkage.services import load_agencies_file
from zhixing.linkage.tests.processes import ROOT, SimulatorProcess
from zhixing.linkage.worker import run_gateway_once
from zhixing.measures import services as measures
from zhixing.measures.kinds import MeasureKind
from zhixing.measures.models import ControlMeasure

FUND = "hpf-sz"
SHIPS = "ship-gd"
ANSWER_TIMEOUT_S = 60.0
# Debtors are looked up among resident ID numbers 440104-19850101-NNN.
REGION, BIRTH = "440104", "19850101"


def owner_sequence(agency: str, category: str) -> int:
    """Return the first sequence number of a debtor who has records of ``category`` there.

    The simulator draws its records from the document number, so its own generator shows
    which debtor owns a provident fund account or a ship.
    """
    agencies = load_agencies(ROOT / "agency_simulator" / "agencies.json")
    for sequence in range(1, 1000):
        subject = {
            "kind": "person",
            "name": "债务人",
            "document_type": "resident_id",
            "document_number": make_resident_id(REGION, BIRTH, sequence),
        }
        if generate_records(agencies[agency], category, subject):
            return sequence
    raise AssertionError(f"no debtor of {REGION}{BIRTH}NNN has {category} records at {agency}")


def run_until_settled(timeout_s: float) -> None:
    """Run worker passes until no gateway item is open, or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        run_gateway_once()
        open_items = GatewayItem.objects.filter(state__in=GatewayItem.OPEN_STATES)
        if not open_items.exists():
            return
        if time.monotonic() > deadline:
            states = list(open_items.values_list("agency__code", "action", "state", "last_error"))
            raise AssertionError(f"items still open after {timeout_s} s: {states}")
        time.sleep(0.2)


def request_items(folder: Path) -> dict[str, dict[str, Any]]:
    """Return by item id the items of the request files that the simulator has processed.

    The files are read with the simulator's own reader, as the agency reads them.
    """
    items: dict[str, dict[str, Any]] = {}
    for path in sorted((folder / "outbox" / "done").glob("*.csv")):
        content, _, _ = exchange.split_signed(path.read_bytes())
        for item in exchange.request_document(content)["items"]:
            items[item["item_id"]] = item
    return items


def simulator_measure(simulator: SimulatorProcess, agency: str, item_id: str) -> dict[str, Any]:
    """Return the simulator's view of the measure that item ``item_id`` applied at ``agency``."""
    response = simulator.admin().get("/admin/measures", params={"agency": agency})
    response.raise_for_status()
    rows = [row for row in response.json()["measures"] if row["item_id"] == item_id]
    assert len(rows) == 1, response.json()["measures"]
    return dict(rows[0])


def exchange_files(folder: Path, box: str, subfolder: str = "") -> list[str]:
    path = folder / box / subfolder
    return sorted(entry.name for entry in path.glob("*.csv")) if path.is_dir() else []


@pytest.fixture
def officer(make_user: Callable[..., Any]) -> Any:
    return make_user("officer", "粤0104", "case_officer")


@pytest.fixture
def exchange_simulator(
    tmp_path: Path, courts: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SimulatorProcess]:
    """The simulator exchanging files in ``tmp_path/exchange``, which is the platform's too."""
    keys.export_public_keys(tmp_path / "court-keys")
    exchange = str(tmp_path / "exchange")
    simulator = SimulatorProcess(tmp_path, "--exchange-dir", exchange, "--delay-ms", "0", "50")
    simulator.start()
    try:
        settings.DATA_DIR = tmp_path
        # Without a callback URL the gateway polls online agencies, so no web server is needed.
        monkeypatch.delenv("ZHIXING_GATEWAY_CALLBACK_URL", raising=False)
        load_agencies_file(
            keys_dir=simulator.agency_keys, base_url=f"{simulator.url}/agencies/{{code}}"
        )
        Agency.objects.exclude(code__in=[FUND, SHIPS]).update(active=False)
        Agency.objects.update(
            batch_window_seconds=0,
            poll_interval_seconds=0,
            rate_limit=1000,
            service_start=None,
            service_end=None,
            service_days=[1, 2, 3, 4, 5, 6, 7],
        )
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def case(courts: dict[str, Any], officer: Any) -> EnforcementCase:
    """A case whose two debtors own a provident fund account at hpf-sz and a ship at ship-gd."""
    sequences = [owner_sequence(FUND, "provident_fund"), owner_sequence(SHIPS, "ship")]
    return case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=[
            PartyInput(
                name=f"债务人{sequence}",
                document_type="resident_id",
                document_number=make_resident_id(REGION, BIRTH, sequence),
            )
            for sequence in dict.fromkeys(sequences)
        ],
        claim_amount="500000.00",
        basis_court="广州市越秀区人民法院",
        basis_document_number="（2025）粤0104民初5678号",
        case_officer=officer,
    )


def test_freeze_and_seizure_through_batch_files(exchange_simulator, officer, case):
    debtors = list(case.parties.filter(case_roles__role="debtor"))
    inquiry.request_query(officer, case, debtors, ["provident_fund", "ship"])
    run_until_settled(ANSWER_TIMEOUT_S)
    fund = AssetRecord.objects.get(case=case, agency__code=FUND, record_type="provident_fund")
    ship = AssetRecord.objects.get(case=case, agency__code=SHIPS, record_type="ship")
    limit = Decimal("100.00")

    freeze = measures.request_measure(officer, fund, MeasureKind.FREEZE, amount=limit)
    seizure = measures.request_measure(officer, ship, MeasureKind.DISTRAIN)
    run_until_settled(ANSWER_TIMEOUT_S)

    # Every item of both agencies came back answered, and no file was quarantined.
    states = dict(GatewayItem.objects.values_list("state").annotate(n=Count("id")))
    errors = list(GatewayItem.objects.exclude(last_error="").values_list("action", "last_error"))
    assert states == {GatewayItem.State.ANSWERED: 6}, errors
    folders = {code: exchange_simulator.folder / "exchange" / code for code in (FUND, SHIPS)}
    for code, folder in folders.items():
        assert exchange_files(folder, "outbox", "quarantine") == [], code
        assert exchange_files(folder, "inbox", "quarantine") == [], code
        assert exchange_files(folder, "outbox") == [], code
        assert exchange_files(folder, "inbox") == [], code

    # The court's measures are in force with what the agencies answered.
    freeze.refresh_from_db()
    seizure.refresh_from_db()
    frozen = min(limit, fund.amount)
    expected = (
        ControlMeasure.State.IN_FORCE if frozen == limit else ControlMeasure.State.PARTLY_IN_FORCE
    )
    assert freeze.state == expected, freeze.outcome_note
    assert freeze.actual_amount == frozen
    assert seizure.state == ControlMeasure.State.IN_FORCE, seizure.outcome_note

    # The agencies hold the measures that the request files asked for.
    freeze_id = str(freeze.steps.get().item_id)
    seizure_id = str(seizure.steps.get().item_id)
    fund_hold = simulator_measure(exchange_simulator, FUND, freeze_id)
    assert fund_hold["state"] == "active"
    assert Decimal(fund_hold["frozen_amount"]) == frozen
    assert simulator_measure(exchange_simulator, SHIPS, seizure_id)["state"] == "active"

    # The request files carried the measure and both sealed documents.
    sent = request_items(folders[FUND]) | request_items(folders[SHIPS])
    freeze_item, seizure_item = sent[freeze_id], sent[seizure_id]
    assert freeze_item["measure"]["asset_type"] == "provident_fund"
    assert freeze_item["measure"]["identifier"] == fund.identifier
    assert freeze_item["measure"]["amount"] == "100.00"
    assert freeze_item["document"]["kind"] == "assistance_notice_freeze"
    assert [entry["kind"] for entry in freeze_item["document"]["attachments"]] == ["ruling_freeze"]
    assert seizure_item["measure"]["asset_type"] == "ship"
    assert seizure_item["measure"]["identifier"] == ship.identifier
    assert seizure_item["measure"]["amount"] is None
    assert seizure_item["document"]["kind"] == "assistance_notice_distrain"
    assert [entry["kind"] for entry in seizure_item["document"]["attachments"]] == [
        "ruling_distrain"
    ]
