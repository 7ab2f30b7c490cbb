"""The gateway benchmark behind ``zhixing bench gateway``.

It runs the whole path of a debtor query on the configured database, with real processes on
loopback: the items are queued, gateway worker processes (``zhixing gateway-worker``, as in
production) claim them into batches, sign and send them to the agency simulator, record the
acknowledgements, poll the answers and store them with their asset records.

Set-up: synthetic cases of one court (:mod:`zhixing.cases.demo_data`, as ``bench cases``
loads them), whose debtors carry ID numbers and credit codes with correct check characters, so
the simulator knows them and answers with records. One benchmark agency per agency of the
registry file (code ``bench-…``, same kind and categories) is created in the database and
in a simulator agencies file, with the simulator's answer delay fixed by ``delay_ms``. Each
eligible debtor is asked about every category of every benchmark agency, as a query fans out.

Measurements (see ``docs/benchmarks.md``):

- the batched run: ``items`` items with the agencies' batch size set to ``batch_size``;
- the unbatched run: ``unbatched_items`` other items with batch size 1;
- the gateway's latency per item in the batched run: from the claim of its batch to its
  answer and assets being stored, less the simulator's fixed answer delay;
- the raw ceiling: the rows that the batched run stored (items, batches, asset records),
  written again by ``bulk_create`` from this process in one transaction, then removed.

Without ``keep`` the run removes its cases, items, batches, asset records and agencies.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Model
from django.utils import timezone

from zhixing.cases import bench as case_bench
from zhixing.cases import demo_data
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.courts.models import Court
from zhixing.heap import freeze_startup_objects
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import bulk, gateway, keys, services
from zhixing.linkage.models import (
    Action,
    Agency,
    AgencyHealth,
    AnswerCursor,
    GatewayBatch,
    GatewayItem,
)
from zhixing.web.processes import SimulatorError, SimulatorProcess

logger = logging.getLogger(__name__)

AGENCY_PREFIX = "bench-"
COURT_CODE = "粤0104"
MAX_ITEMS = 1_000_000
ENQUEUE_CHUNK = 5000
# Open cases of an implementing type with a debtor: about one case in five of the generator.
CASES_PER_DEBTOR = 6
# The run gives up when no item was answered for this long.
STALL_SECONDS = 120.0
# The watch only counts open items, because the run's end comes from the items' own times.
WATCH_SECONDS = 0.5
WORKER_POLL_SECONDS = 0.05
WORKER_STOP_SECONDS = 15.0
# The raw ceiling is one transaction of a second or two, and single runs minutes apart differ
# by up to a third. So the rows are written three times and the median is reported.
RAW_RUNS = 3
WORKER_READY_SECONDS = 60.0
# The line that ``zhixing gateway-worker`` prints just before it starts its loop.
WORKER_STARTED = "Gateway worker running"
DEFAULT_UNBATCHED_ITEMS = 2000
State = GatewayItem.State


@dataclass
class RunResult:
    """One timed pass of the path: how many items, how long, and their latencies."""

    items: int
    answered: int
    failed: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0


class BenchError(Exception):
    """Raised when the benchmark cannot run or a run does not finish."""


def _agency_entries() -> list[dict[str, Any]]:
    """Return the registry file's agencies with the benchmark prefix on their codes."""
    data = json.loads(services.AGENCIES_FILE.read_text(encoding="utf-8"))
    return [
        {
            "code": AGENCY_PREFIX + entry["code"],
            "name": entry["name"],
            "kind": entry["kind"],
            "categories": entry["categories"],
        }
        for entry in data["agencies"]
    ]


def _simulator_file(folder: Path, entries: Sequence[dict[str, Any]], delay_ms: int) -> Path:
    """Write the simulator's agencies file: the benchmark agencies, a fixed answer delay."""
    path = folder / "agencies.json"
    document = {
        "defaults": {"delay_ms": [delay_ms, delay_ms]},
        "agencies": [{**entry, "actions": [Action.QUERY.value]} for entry in entries],
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _create_agencies(
    entries: Sequence[dict[str, Any]], url: str, key_folder: Path, batch_size: int
) -> list[Agency]:
    agencies = []
    for entry in entries:
        code = entry["code"]
        agency = Agency(
            code=code,
            name=entry["name"],
            kind=entry["kind"],
            categories=entry["categories"],
            actions=[Action.QUERY.value],
            adapter=Agency.Adapter.ONLINE,
            base_url=f"{url}/agencies/{code}",
            timeout_seconds=30.0,
            public_key_pem=(key_folder / f"{code}.pem").read_text(encoding="ascii"),
            batch_size=batch_size,
            batch_window_seconds=0,
            rate_limit=100_000.0,
            concurrency=100,
            poll_interval_seconds=0,
        )
        agency.full_clean()
        agency.save()
        agencies.append(agency)
    return agencies


def _eligible_debtors(first_case_id: int) -> list[tuple[int, int]]:
    """Return (case id, party id) of debtors of the loaded open cases that may be queried."""
    return list(
        CaseParty.objects.filter(
            case_id__gte=first_case_id,
            role=CaseParty.Role.DEBTOR,
            case__status=EnforcementCase.Status.OPEN,
            case__type_code__in=IMPLEMENTING_TYPE_CODES,
            party__document_type__in=("resident_id", "uscc"),
        )
        .order_by("case_id", "party_id")
        .values_list("case_id", "party_id")
    )


def _load_debtors(
    court: Court, needed: int, cleanup: case_bench.Cleanup, seed: int, say: Callable[[str], None]
) -> list[tuple[int, int]]:
    profiles = [profile for profile in demo_data.court_profiles() if profile.id == court.pk]
    demo_data.ensure_case_officers(profiles, per_court=2, seed=seed)
    pairs: list[tuple[int, int]] = []
    round_number = 0
    while len(pairs) < needed:
        missing = needed - len(pairs)
        cases = max(100, missing * CASES_PER_DEBTOR)
        say(f"Loading {cases} cases of {court.code} for {missing} more debtors ...")
        demo_data.load_cases(cases, seed=seed + round_number, courts=profiles)
        pairs = _eligible_debtors(cleanup.first_case_id)
        round_number += 1
    return pairs


def _requests(
    pairs: Sequence[tuple[int, int]], agencies: Sequence[Agency], count: int
) -> list[gateway.ItemRequest]:
    cases = EnforcementCase.objects.in_bulk({case_id for case_id, _party in pairs})
    parties = Party.objects.in_bulk({party_id for _case, party_id in pairs})
    asked = [(agency, category) for agency in agencies for category in agency.categories]
    requests: list[gateway.ItemRequest] = []
    if count <= 0:
        return requests
    for case_id, party_id in pairs:
        for agency, category in asked:
            requests.append(
                gateway.ItemRequest(
                    agency=agency,
                    case=cases[case_id],
                    party=parties[party_id],
                    category=category,
                    item_id=uuid.uuid4(),
                )
            )
            if len(requests) == count:
                return requests
    return requests


class Workers:
    """The gateway worker processes, started with ``python -m zhixing gateway-worker``."""

    def __init__(self, count: int, log: Path) -> None:
        self.count = count
        self.log_path = log
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        # Unbuffered, so that the line that reports a running worker reaches the log at once.
        environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Polling, not callbacks: the benchmark runs no web server to receive them.
        environment.pop(gateway.CALLBACK_URL_ENV, None)
        with self.log_path.open("ab") as log:
            for _number in range(self.count):
                command = [
                    sys.executable,
                    "-m",
                    "zhixing",
                    "gateway-worker",
                    "--poll",
                    str(WORKER_POLL_SECONDS),
                ]
                self.processes.append(
                    subprocess.Popen(  # noqa: S603 - our own interpreter and module
                        command, stdout=log, stderr=log, env=environment
                    )
                )

    def wait_ready(self, timeout: float = WORKER_READY_SECONDS) -> None:
        """Wait until every worker has printed that it runs, so that the timed runs leave
        out the start-up of Python and Django. Raises BenchError when a worker exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            log = self.log_path.read_text(encoding="utf-8", errors="replace")
            if log.count(WORKER_STARTED) >= self.count:
                return
            time.sleep(WATCH_SECONDS)
        logger.warning("Gateway workers did not report their start within %.0f s", timeout)

    def check(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise BenchError(
                    f"A gateway worker exited with code {process.returncode}; see {self.log_path}."
                )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("Gateway worker %s did not stop; killing it", process.pid)
                process.kill()
                process.wait(WORKER_STOP_SECONDS)
        self.processes = []


def _timed_run(
    requests: Sequence[gateway.ItemRequest],
    agencies: Sequence[Agency],
    workers: Workers,
    delay_ms: int,
    label: str,
    say: Callable[[str], None],
) -> RunResult:
    """Queue ``requests`` while the workers run; wait until every item is answered or ends."""
    ids = [request.item_id for request in requests]
    started_at = timezone.now()
    started = time.perf_counter()
    # By agency, so that each chunk fills whole batches that the workers send while the
    # next chunk is queued.
    by_agency = sorted(requests, key=lambda request: request.agency.pk)
    for start in range(0, len(by_agency), ENQUEUE_CHUNK):
        gateway.enqueue(by_agency[start : start + ENQUEUE_CHUNK])
    say(f"  {label}: {len(requests)} items queued in {time.perf_counter() - started:.1f} s")
    # Earlier runs left no open items of these agencies, so the open ones are this run's.
    # Counting them reads the agency and state index, which keeps the watch cheap while the
    # workers run. The full count by state follows once.
    still_open = GatewayItem.objects.filter(agency__in=agencies, state__in=GatewayItem.OPEN_STATES)
    last_change = time.monotonic()
    done = 0
    reported = -1
    while True:
        workers.check()
        closed = len(requests) - still_open.count()
        if closed != done:
            done = closed
            last_change = time.monotonic()
        if done * 10 // len(requests) != reported:
            reported = done * 10 // len(requests)
            say(f"  {label}: {done} of {len(requests)} items answered or failed")
        if done >= len(requests):
            break
        if time.monotonic() - last_change > STALL_SECONDS:
            raise BenchError(
                f"{label}: no item finished for {STALL_SECONDS:.0f} s ({done} of "
                f"{len(requests)} answered or failed); see {workers.log_path}"
            )
        time.sleep(WATCH_SECONDS)
    ours = GatewayItem.objects.filter(agency__in=agencies, created_at__gte=started_at)
    states = dict(ours.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    answered = states.get(State.ANSWERED, 0)
    failed = states.get(State.FAILED, 0) + states.get(State.EXPIRED, 0)
    say(f"  {label}: {answered} answered, {failed} failed")
    rows = list(
        GatewayItem.objects.filter(pk__in=ids, state=State.ANSWERED).values_list(
            "updated_at", "batch__created_at"
        )
    )
    finished = max((stored for stored, _claimed in rows), default=timezone.now())
    seconds = (finished - started_at).total_seconds()
    latencies = [
        max((stored - claimed).total_seconds() * 1000 - delay_ms, 0.0)
        for stored, claimed in rows
        if claimed is not None
    ]
    return RunResult(len(requests), answered, failed, seconds, latencies)


# Ids per statement that selects or deletes rows by id (SQLite limits the parameters).
ID_CHUNK = 1000


def _by_ids(model: type[Model], column: str, ids: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
    """Yield conditions with parameters that select the rows of ``model`` whose ``column``
    is one of ``ids``, a chunk of ids each."""
    field = next(field for field in model._meta.concrete_fields if field.column == column)
    for start in range(0, len(ids), ID_CHUNK):
        yield bulk.in_list(column, ids[start : start + ID_CHUNK], field)


def _stored_rows(
    model: type[Model], column: str, ids: Sequence[Any]
) -> tuple[list[str], list[list[Any]]]:
    """Return the column names of ``model`` (without an integer key) and the rows whose
    ``column`` is one of ``ids``, as the database stores them (JSON as text)."""
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and field.get_internal_type() == "BigAutoField")
    ]
    columns = [field.column for field in fields]
    postgres = connection.vendor == "postgresql"
    selected = ", ".join(
        f"{field.column}::text"
        if postgres and field.get_internal_type() == "JSONField"
        else field.column
        for field in fields
    )
    rows: list[list[Any]] = []
    with connection.cursor() as cursor:
        for condition, params in _by_ids(model, column, ids):
            cursor.execute(
                f"SELECT {selected} FROM {model._meta.db_table} WHERE {condition}",  # noqa: S608
                params,
            )
            rows += [list(row) for row in cursor.fetchall()]
    return columns, rows


def _new_id() -> Any:
    """Return a new UUID as the database stores it."""
    return GatewayItem._meta.get_field("id").get_db_prep_value(uuid.uuid4(), connection)


def _write_rows(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` by the fastest bulk insert of the database: COPY on PostgreSQL, one
    prepared INSERT for all rows on SQLite."""
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {model._meta.db_table} ({names}) VALUES ({marks})",  # noqa: S608
            rows,
        )


def _raw_ceiling(item_ids: Sequence[uuid.UUID]) -> tuple[float, int]:
    """Write copies of the rows the run stored for its items by bulk inserts from this process.

    The copies (items, batches, asset records) get new ids and point to each other. The
    seconds cover the inserts and the commit, which checks the foreign keys. The rows are
    read and prepared before the clock starts, and removed afterwards. Returns the seconds
    and the number of rows. Events that announced the answers are left out, about one row per
    page of answers and officer.
    """
    item_columns, items = _stored_rows(GatewayItem, "id", item_ids)
    item_key, item_batch = item_columns.index("id"), item_columns.index("batch_id")
    batch_ids = sorted({row[item_batch] for row in items} - {None})
    batch_columns, batches = _stored_rows(GatewayBatch, "id", batch_ids)
    asset_columns, assets = _stored_rows(AssetRecord, "item_id", [row[item_key] for row in items])
    batch_key, asset_item = batch_columns.index("id"), asset_columns.index("item_id")
    new_batch = {row[batch_key]: _new_id() for row in batches}
    new_item = {row[item_key]: _new_id() for row in items}
    for row in batches:
        row[batch_key] = new_batch[row[batch_key]]
    for row in items:
        row[item_key] = new_item[row[item_key]]
        row[item_batch] = new_batch.get(row[item_batch])
    for row in assets:
        row[asset_item] = new_item[row[asset_item]]
    started = time.perf_counter()
    with transaction.atomic():
        _write_rows(GatewayBatch, batch_columns, batches)
        _write_rows(GatewayItem, item_columns, items)
        _write_rows(AssetRecord, asset_columns, assets)
    seconds = time.perf_counter() - started
    # Raw deletes: Django's delete() would send signals that audit each row.
    with transaction.atomic(), connection.cursor() as cursor:
        for model, column, ids in (
            (AssetRecord, "item_id", list(new_item.values())),
            (GatewayItem, "id", list(new_item.values())),
            (GatewayBatch, "id", list(new_batch.values())),
        ):
            for condition, params in _by_ids(model, column, ids):
                cursor.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE {condition}",  # noqa: S608
                    params,
                )
    return seconds, len(items) + len(batches) + len(assets)


def _vacuum(say: Callable[[str], None]) -> None:
    """Vacuum and analyse the tables the run writes, on PostgreSQL.

    Each item is updated three times, so earlier runs leave dead rows and index entries
    behind, which a server without autovacuum keeps. Every run then starts from the same
    state, and the planner has statistics of the cases just loaded.
    """
    if connection.vendor != "postgresql":
        return
    say("Vacuuming the gateway and case tables ...")
    tables = [
        model._meta.db_table
        for model in (GatewayItem, GatewayBatch, AssetRecord, EnforcementCase, Party, CaseParty)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")


def _remove_agencies(agencies: Sequence[Agency]) -> None:
    """Remove the benchmark agencies with their items, batches, assets and cursors."""
    codes = [agency.code for agency in agencies]
    with transaction.atomic(), connection.cursor() as cursor:
        # Raw deletes: the rows were written in bulk, and per-row signals would audit each.
        for model, column in (
            (AssetRecord, "agency_id"),
            (GatewayItem, "agency_id"),
            (GatewayBatch, "agency_id"),
            (AnswerCursor, "agency_id"),
            (AgencyHealth, "agency_id"),
        ):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE {column} IN "  # noqa: S608
                f"(SELECT id FROM {Agency._meta.db_table} WHERE code IN "
                f"({', '.join(['%s'] * len(codes))}))",
                codes,
            )
        Agency.objects.filter(code__in=codes).delete()


def run(
    *,
    items: int,
    batch_size: int = 1000,
    unbatched_items: int = DEFAULT_UNBATCHED_ITEMS,
    workers: int = 2,
    delay_ms: int = 0,
    seed: int = 1,
    keep: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the gateway benchmark; return the fields of its result line."""
    if not 1 <= items <= MAX_ITEMS:
        raise ValueError(f"items is {items}; give a number from 1 to {MAX_ITEMS}")
    if not 1 <= batch_size <= 1000:
        raise ValueError(f"batch size is {batch_size}; give a number from 1 to 1000")
    if not 0 <= unbatched_items <= MAX_ITEMS:
        raise ValueError(f"unbatched items is {unbatched_items}; give 0 to {MAX_ITEMS}")
    if not 1 <= workers <= 16:
        raise ValueError(f"workers is {workers}; give a number from 1 to 16")
    if not 0 <= delay_ms <= 60_000:
        raise ValueError(f"delay is {delay_ms} ms; give 0 to 60000")
    say = progress or (lambda _text: None)
    court = Court.objects.filter(code=COURT_CODE).first()
    if court is None:
        raise ValueError(f"no court {COURT_CODE} in the database; run `zhixing loadcourts` first")
    entries = _agency_entries()
    if Agency.objects.filter(code__in=[entry["code"] for entry in entries]).exists():
        raise ValueError(
            f"agencies named {AGENCY_PREFIX}… exist from a run with --keep; remove them first"
        )
    asked_per_debtor = sum(len(entry["categories"]) for entry in entries)
    needed = math.ceil(items / asked_per_debtor) + math.ceil(unbatched_items / asked_per_debtor)
    cleanup = case_bench.Cleanup()
    folder = Path(tempfile.mkdtemp(prefix="zhixing-gateway-bench-"))
    agencies: list[Agency] = []
    simulator = SimulatorProcess(
        folder / "simulator",
        0,
        arguments=["--agencies", str(_simulator_file(folder, entries, delay_ms))],
        # Standard output carries only the result line.
        stdout=sys.stderr,
    )
    pool = Workers(workers, folder / "workers.log")
    try:
        # The workers start first, so that they are ready once the cases are loaded.
        say(f"Starting {workers} gateway worker processes ...")
        pool.start()
        pairs = _load_debtors(court, needed, cleanup, seed, say)
        # The simulator verifies the court's signatures with the platform's CA certificates or
        # the court's SM2 public key. Signing once creates the court's seal certificate or SM2
        # key pair here, before the clock starts.
        keys.sign(court, b"")
        keys.export_public_keys(simulator.court_keys, courts=[court])
        say("Starting the agency simulator ...")
        try:
            simulator.start(threading.Event())
        except SimulatorError as error:
            raise BenchError(str(error)) from error
        agencies = _create_agencies(entries, simulator.url, simulator.agency_keys, batch_size)
        split = math.ceil(items / asked_per_debtor)
        batched = _requests(pairs[:split], agencies, items)
        unbatched = _requests(pairs[split:], agencies, unbatched_items)
        _vacuum(say)
        pool.wait_ready()
        # Freeze the set-up's objects, as the web process does at start (see zhixing.heap).
        freeze_startup_objects()
        say(f"Batched run: {items} items, batch size {batch_size} ...")
        main = _timed_run(batched, agencies, pool, delay_ms, "batched", say)
        single: RunResult | None = None
        if unbatched:
            Agency.objects.filter(pk__in=[agency.pk for agency in agencies]).update(batch_size=1)
            say(f"Unbatched run: {len(unbatched)} items, batch size 1 ...")
            single = _timed_run(unbatched, agencies, pool, delay_ms, "unbatched", say)
        pool.stop()
        say("Writing the same rows by bulk inserts (raw ceiling) ...")
        item_ids = [request.item_id for request in batched if request.item_id is not None]
        raw_runs = [_raw_ceiling(item_ids) for _run in range(RAW_RUNS)]
        raw_rows = raw_runs[0][1]
        raw_times = sorted(seconds for seconds, _rows in raw_runs)
        raw_seconds = raw_times[len(raw_times) // 2]
    finally:
        pool.stop()
        simulator.stop()
        if not keep:
            say("Removing the benchmark's agencies, items and cases ...")
            if agencies:
                _remove_agencies(agencies)
            cleanup.run()
            shutil.rmtree(folder, ignore_errors=True)
    raw_per_s = items / raw_seconds if raw_seconds > 0 else 0.0
    latencies = main.latencies_ms or [0.0]
    return {
        "items": items,
        "batched_items_per_s": round(main.per_second),
        "unbatched_items": single.items if single else 0,
        "unbatched_items_per_s": round(single.per_second) if single else None,
        "gateway_p50_ms": round(case_bench.percentile(latencies, 0.5), 1),
        "gateway_p95_ms": round(case_bench.percentile(latencies, 0.95), 1),
        "raw_items_per_s": round(raw_per_s),
        "raw_runs_items_per_s": [round(items / seconds) for seconds in raw_times if seconds > 0],
        "fraction_of_raw": round(main.per_second / raw_per_s, 3) if raw_per_s else None,
        "batched_seconds": round(main.seconds, 2),
        "failed": main.failed + (single.failed if single else 0),
        "raw_rows": raw_rows,
        "batch_size": batch_size,
        "workers": workers,
        "worker_kind": "process",
        "answers_by": "polling",
        "delay_ms": delay_ms,
        "kept": keep,
        "date": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "database": case_bench.database_info(),
        "machine": case_bench.machine_info(),
        "load_average": _load_average(),
        "simulator_folder": str(folder) if keep else None,
    }


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None
