"""The whole path with the agency simulator as a real process: query, answers, assets.

The gateway polls for answers (no callback URL), so the test's own database connection sees
everything and no committed data is needed.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db.models import Count

from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.inquiry import services
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import keys
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.linkage.services import load_agencies_file
from zhixing.linkage.worker import run_gateway_once

ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT_S = 30
ANSWER_TIMEOUT_S = 30


@contextlib.contextmanager
def running_simulator(tmp_path: Path) -> Iterator[str]:
    """Start the simulator on what ``keys.export_public_keys`` wrote to ``tmp_path/court-keys``."""
    ready = tmp_path / "ready.json"
    command = [
        sys.executable,
        "-m",
        "agency_simulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--db",
        str(tmp_path / "simulator.sqlite3"),
        "--keys",
        str(tmp_path / "court-keys"),
        "--trust-root",
        str(tmp_path / "court-keys" / keys.TRUST_FILE_NAME),
        "--export-keys",
        str(tmp_path / "agency-keys"),
        # The batch-file agencies' folders, when the test makes it the data folder.
        "--exchange-dir",
        str(tmp_path / "exchange"),
        "--ready-file",
        str(ready),
        "--always-open",
        "--delay-ms",
        "0",
        "50",
        "--log-level",
        "warning",
    ]
    log = (tmp_path / "simulator.log").open("ab")
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "simulator.log").read_text(errors="replace"))
            time.sleep(0.05)
        yield json.loads(ready.read_text())["url"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run_until_answered(deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        run_gateway_once()
        if not GatewayItem.objects.filter(state__in=GatewayItem.OPEN_STATES).exists():
            return
        time.sleep(0.2)


@pytest.fixture
def simulator(tmp_path: Path, courts) -> Iterator[tuple[str, Path]]:
    # The simulator reads its key folder at start and then at most once a second.
    keys.export_public_keys(tmp_path / "court-keys")
    with running_simulator(tmp_path) as url:
        yield url, tmp_path


@pytest.fixture
def sm2_simulator(tmp_path: Path, courts, settings) -> Iterator[tuple[str, Path]]:
    """The simulator with the courts' SM2 public keys, for courts that sign with SM2."""
    settings.GATEWAY_SIGNATURE = "sm2"
    keys.export_public_keys(tmp_path / "court-keys", courts=[courts["粤0104"]])
    with running_simulator(tmp_path) as url:
        yield url, tmp_path


@pytest.fixture
def case(courts, officer) -> EnforcementCase:
    """A case with several debtors, so that their answers hold every kind of record."""
    return case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=[
            PartyInput(
                name=f"债务人{index}",
                document_type="resident_id",
                document_number=make_resident_id("440106", "19790312", index),
            )
            for index in range(11, 15)
        ],
        claim_amount="500000.00",
        case_officer=officer,
    )


def test_query_answers_become_assets(simulator, officer, case, monkeypatch, settings):
    url, folder = simulator
    # Batch-file agencies exchange files in DATA_DIR/exchange, which the simulator reads.
    settings.DATA_DIR = folder
    debtors = list(case.parties.filter(case_roles__role="debtor"))
    monkeypatch.delenv("ZHIXING_GATEWAY_CALLBACK_URL", raising=False)
    load_agencies_file(keys_dir=folder / "agency-keys", base_url=f"{url}/agencies/{{code}}")
    # Send at once, poll on every pass and at any hour (the simulator runs always open), so
    # the test waits for the simulator only.
    Agency.objects.update(
        batch_window_seconds=0,
        poll_interval_seconds=0,
        rate_limit=1000,
        service_start=None,
        service_end=None,
        service_days=[1, 2, 3, 4, 5, 6, 7],
    )

    result = services.request_query(officer, case, debtors)
    assert len(result.queued) >= len(debtors) * Agency.objects.count()

    run_until_answered(ANSWER_TIMEOUT_S)

    states = dict(GatewayItem.objects.values_list("state").annotate(n=Count("id")))
    pending = list(
        GatewayItem.objects.exclude(state="answered").values_list("agency__code", "last_error")
    )
    assert states == {GatewayItem.State.ANSWERED: len(result.queued)}, (states, pending)
    assets = AssetRecord.objects.filter(case=case).select_related("agency")
    kinds = set(assets.values_list("record_type", flat=True))
    assert "bank_account" in kinds
    assert kinds & {"real_estate", "vehicle"}
    assert kinds & {"residence", "travel", "household"}
    account = assets.filter(record_type="bank_account").first()
    assert account.agency.kind == Agency.Kind.BANK
    assert account.raw["account_number"] == account.identifier
    assert account.amount is not None
    assert account.institution == account.raw["bank"]
    count = assets.count()

    run_gateway_once()
    Agency.objects.update(poll_interval_seconds=0)
    run_until_answered(2)

    assert AssetRecord.objects.filter(case=case).count() == count


def test_sm2_signed_queries_answered(sm2_simulator, officer, case, monkeypatch, settings):
    url, folder = sm2_simulator
    settings.DATA_DIR = folder
    debtors = list(case.parties.filter(case_roles__role="debtor"))[:1]
    monkeypatch.delenv("ZHIXING_GATEWAY_CALLBACK_URL", raising=False)
    load_agencies_file(keys_dir=folder / "agency-keys", base_url=f"{url}/agencies/{{code}}")
    Agency.objects.update(
        batch_window_seconds=0,
        poll_interval_seconds=0,
        rate_limit=1000,
        service_start=None,
        service_end=None,
        service_days=[1, 2, 3, 4, 5, 6, 7],
    )

    result = services.request_query(officer, case, debtors)
    run_until_answered(ANSWER_TIMEOUT_S)

    states = dict(GatewayItem.objects.values_list("state").annotate(n=Count("id")))
    pending = list(
        GatewayItem.objects.exclude(state="answered").values_list("agency__code", "last_error")
    )
    assert states == {GatewayItem.State.ANSWERED: len(result.queued)}, (states, pending)
    # Online and batch-file agencies both accepted the SM2 signatures.
    adapters = set(GatewayItem.objects.values_list("agency__adapter", flat=True))
    assert {Agency.Adapter.ONLINE, Agency.Adapter.BATCH_FILE} <= adapters
