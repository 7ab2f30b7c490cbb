"""A query through the batch-file exchange with the agency simulator as a real process.

The shipped agencies file makes the Shenzhen provident fund (hpf-sz) and the ship registry
(ship-gd) batch-file agencies whose folders lie in the data folder. The test makes its own
folder the data folder and gives the simulator ``--exchange-dir`` there, so request files
go to the simulator and result files come back until the answers are stored as assets.
"""

from __future__ import annotations

from pathlib import Path

from django.db.models import Count

from zhixing.inquiry import services
from zhixing.inquiry.models import AssetRecord
from zhixing.inquiry.tests.test_simulator_path import (
    ANSWER_TIMEOUT_S,
    case,  # noqa: F401 - a fixture of this module too
    run_until_answered,
    simulator,  # noqa: F401 - a fixture of this module too
)
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.linkage.services import load_agencies_file
from zhixing.linkage.worker import run_gateway_once

FILE_AGENCIES = {"hpf-sz", "ship-gd"}


def exchange_files(folder: Path, agency: str, box: str, subfolder: str = "") -> list[str]:
    path = folder / "exchange" / agency / box / subfolder
    return sorted(entry.name for entry in path.glob("*.csv")) if path.is_dir() else []


def test_query_through_batch_files(simulator, officer, case, monkeypatch, settings):  # noqa: F811
    url, folder = simulator
    settings.DATA_DIR = folder
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
    file_agencies = set(
        Agency.objects.filter(adapter=Agency.Adapter.BATCH_FILE).values_list("code", flat=True)
    )
    assert file_agencies == FILE_AGENCIES
    debtors = list(case.parties.filter(case_roles__role="debtor"))

    result = services.request_query(officer, case, debtors, ["provident_fund", "ship"])
    run_until_answered(ANSWER_TIMEOUT_S)

    items = GatewayItem.objects.filter(agency__code__in=FILE_AGENCIES)
    states = dict(items.values_list("state").annotate(n=Count("id")))
    errors = list(items.exclude(state="answered").values_list("agency__code", "last_error"))
    assert items.count() == len(debtors) * len(FILE_AGENCIES)
    assert states == {GatewayItem.State.ANSWERED: items.count()}, (states, errors)
    assert len(result.queued) == len(debtors) * 3
    for code in FILE_AGENCIES:
        assert exchange_files(folder, code, "outbox", "done"), code
        assert exchange_files(folder, code, "inbox", "done"), code
        assert exchange_files(folder, code, "outbox") == [], code
        assert exchange_files(folder, code, "inbox") == [], code
        assert exchange_files(folder, code, "inbox", "quarantine") == [], code
    assets = AssetRecord.objects.filter(case=case, agency__code__in=FILE_AGENCIES)
    assert assets.filter(record_type="provident_fund").exists()
    count = AssetRecord.objects.filter(case=case).count()

    # Answers read again from the same result files change nothing.
    for code in FILE_AGENCIES:
        done = folder / "exchange" / code / "inbox" / "done"
        for path in done.glob("*.csv"):
            path.rename(done.parent / path.name)
    run_gateway_once()

    assert AssetRecord.objects.filter(case=case).count() == count
    for code in FILE_AGENCIES:
        assert exchange_files(folder, code, "inbox") == [], code
