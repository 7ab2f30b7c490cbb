"""Reliability of the gateway against crashes, agency faults and a database restart.

The agency simulator runs as a real process in every test. A worker killed with SIGKILL, an
agency that errs, hangs, garbles or mis-signs its answers or is down, and a PostgreSQL server
restarted under a running worker must all end with every item answered exactly once, or
failed or expired with a reason: never lost, never answered twice, never with its assets
stored twice.

Where the worker runs in the test process, backoff and cool-down are shortened by
monkeypatching. Worker processes run unchanged, so the only shortcut there is said where it
is taken: a lease that would run out after 60 s is moved into the past.
"""

from __future__ import annotations

import collections
import datetime
import json
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.models import Count
from django.utils import timezone

from zhixing.audit.models import AuditRecord
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase, Party
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.courts import services as court_services
from zhixing.courts.models import Court, Role
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import circuit, gateway, keys, worker
from zhixing.linkage.adapters import online
from zhixing.linkage.models import Agency, GatewayBatch, GatewayItem
from zhixing.linkage.services import load_agencies_file
from zhixing.linkage.tests.processes import (
    POSTGRES_BIN_GLOB,
    PostgresCluster,
    SimulatorProcess,
    WorkerProcess,
    default_database,
    migrate,
    postgres_bin_dir,
    wait_until,
)

State = GatewayItem.State
OPEN = set(GatewayItem.OPEN_STATES)

COURT_ROWS = [
    {"code": "粤", "name": "广东省高级人民法院", "level": "high"},
    {"code": "粤01", "name": "广州市中级人民法院", "level": "intermediate", "parent_code": "粤"},
    {"code": "粤0104", "name": "广州市越秀区人民法院", "level": "basic", "parent_code": "粤01"},
]
EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]
# Time the tests give the gateway to settle every item, well above what a run needs.
SETTLE_TIMEOUT_S = 60.0
# A worker's lease lasts at least 60 s (gateway.lease_length). A test that waits for one to
# run out waits this long at most.
LEASE_TIMEOUT_S = 90.0


@dataclass
class World:
    """The simulator, and a case whose debtors the gateway queries the simulated agencies about."""

    simulator: SimulatorProcess
    case: EnforcementCase
    debtors: list[Party]


def prepare(processes: list[Any], folder: Path, debtors: int, *simulator_arguments: str) -> World:
    """Create courts and a case in the current database, then start the simulator for them.

    The court keys are exported before the simulator starts, so that it accepts their
    signatures from the first request. Every agency of the simulator's file is loaded, sending
    at once, polling on every pass and open at every hour.
    """
    # A flush after a transactional test also empties the roles that a migration added.
    for code in Role.Code.values:
        Role.objects.get_or_create(code=code)
    court_services.load_courts(COURT_ROWS)
    court = Court.objects.get(code="粤0104")
    case = case_services.file_case(
        actor=None,
        court=court,
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=[
            PartyInput(
                name=f"债务人{index}",
                document_type="resident_id",
                document_number=make_resident_id("440106", "19790312", index),
            )
            for index in range(21, 21 + debtors)
        ],
        claim_amount="500000.00",
    )
    simulator = SimulatorProcess(folder, *simulator_arguments)
    keys.export_public_keys(simulator.court_keys)
    # Registered before it starts, so that it is stopped whatever fails next.
    processes.append(simulator)
    simulator.start()
    load_agencies_file(
        keys_dir=simulator.agency_keys, base_url=f"{simulator.url}/agencies/{{code}}"
    )
    Agency.objects.update(
        batch_window_seconds=0,
        poll_interval_seconds=0,
        rate_limit=1000,
        service_start=None,
        service_end=None,
        service_days=EVERY_DAY,
    )
    return World(
        simulator=simulator,
        case=case,
        debtors=list(case.parties.filter(case_roles__role="debtor").order_by("pk")),
    )


def enqueue(world: World, *codes: str) -> list[GatewayItem]:
    """Queue a query about every debtor to each agency of ``codes``."""
    requests: list[gateway.ItemRequest] = []
    for agency in Agency.objects.filter(code__in=codes):
        requests.extend(
            gateway.ItemRequest(
                agency=agency, case=world.case, party=party, category=agency.categories[0]
            )
            for party in world.debtors
        )
    return gateway.enqueue(requests)


def states() -> dict[str, int]:
    return dict(GatewayItem.objects.values_list("state").annotate(n=Count("id")))


def open_items() -> int:
    return GatewayItem.objects.filter(state__in=OPEN).count()


def describe_open() -> list[tuple[Any, ...]]:
    """Return what a failure message needs to know of the items still open."""
    return list(
        GatewayItem.objects.filter(state__in=OPEN).values_list(
            "pk", "agency__code", "state", "attempts", "batch_id", "last_error"
        )
    )


def check_answered_once(item: GatewayItem) -> None:
    """Check that ``item`` holds one answer of its own and exactly one asset per record."""
    assert isinstance(item.answer, dict), item.pk
    assert item.answer["item_id"] == str(item.pk)
    assert item.answer["status"] in ("found", "not_found")
    records = [record for record in item.answer["records"] if isinstance(record, dict)]
    positions = sorted(AssetRecord.objects.filter(item=item).values_list("position", flat=True))
    assert positions == list(range(len(records))), (item.pk, positions, len(records))


def check_no_duplicate_assets(case: EnforcementCase) -> None:
    """Check that no record of an agency about a debtor is stored twice for the case."""
    seen = collections.Counter(
        (asset.party_id, asset.agency_id, repr(sorted(asset.raw.items())))
        for asset in AssetRecord.objects.filter(case=case)
    )
    assert [key for key, count in seen.items() if count > 1] == []


def check_items_stored_once_at_agencies(
    simulator: SimulatorProcess, codes: list[str] | None = None
) -> None:
    """Check that the agencies hold each item and each batch id once, and nothing else.

    Every batch the court formed must have reached its agency, so ``codes`` leaves out
    agencies that refused some.
    """
    counts = simulator.counts()
    agencies = Agency.objects.filter(pk__in=GatewayItem.objects.values("agency_id"))
    if codes is not None:
        agencies = agencies.filter(code__in=codes)
    for code, batches, items in agencies.annotate(
        sent=Count("batches", distinct=True), queued=Count("items", distinct=True)
    ).values_list("code", "sent", "queued"):
        assert counts[code]["items"] == items, (code, counts[code])
        assert counts[code]["batches"] == batches, (code, counts[code])


def database_url(settings: dict[str, Any]) -> str:
    user = urllib.parse.quote(settings.get("USER") or "", safe="")
    password = urllib.parse.quote(settings.get("PASSWORD") or "", safe="")
    credentials = f"{user}@" if user else ""
    if password:
        credentials = f"{user}:{password}@"
    host = settings.get("HOST") or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{settings['NAME']}"


@pytest.fixture
def shared_database(tmp_path: Path, django_db_blocker) -> Any:
    """Yield the URL of a database that the test and its worker processes open together.

    On PostgreSQL that is the test database, which a test marked
    ``django_db(transaction=True)`` writes with committed transactions. SQLite's test database
    lives in the test process's memory, so there the test works in a migrated file.
    """
    if connection.vendor == "postgresql":
        yield database_url(connection.settings_dict)
        return
    path = tmp_path / "gateway.sqlite3"
    url = f"sqlite:///{path}"
    migrate(url, tmp_path / "migrate.log")
    with django_db_blocker.unblock(), default_database(NAME=str(path)):
        yield url


@pytest.fixture
def processes() -> Iterator[list[Any]]:
    """Simulators and workers that a test started, stopped after it and before its database."""
    started: list[Any] = []
    yield started
    for process in reversed(started):
        process.stop()


# 1. A worker killed in the middle of a batch


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_loses_and_repeats_nothing(
    shared_database: str, processes: list[Any], tmp_path: Path
) -> None:
    world = prepare(processes, tmp_path, 6, "--seed", "11", "--delay-ms", "0", "50")
    Agency.objects.filter(code__in=("bank-icbc", "police-gd")).update(
        batch_size=3, concurrency=2, timeout_seconds=20
    )
    items = enqueue(world, "bank-icbc", "police-gd")
    # The bank stores the first batch and holds its acknowledgement back, so the worker is
    # killed while it waits for it. The police answer slowly, for the second kill.
    world.simulator.set_faults("bank-icbc", timeout_rate=1.0, timeout_s=5)
    world.simulator.set_faults("police-gd", delay_ms=[1500, 2500])

    first = WorkerProcess(tmp_path, shared_database, "worker-1").start()
    processes.append(first)
    wait_until(
        lambda: world.simulator.counts()["bank-icbc"]["batches"] >= 1,
        20,
        "the bank to store the first batch",
    )
    first.kill()
    world.simulator.set_faults("bank-icbc", reset=True)

    leased = GatewayItem.objects.filter(lease_owner=first.owner, state=State.SENT)
    leased_batches = set(leased.values_list("batch_id", flat=True))
    assert leased.filter(agency__code="bank-icbc").exists(), states()
    # The killed worker's lease would run out after 60 s, so the test moves it into the past.
    lapsed = timezone.now() - datetime.timedelta(seconds=1)
    leased.update(lease_until=lapsed)
    GatewayBatch.objects.filter(lease_owner=first.owner).update(lease_until=lapsed)

    second = WorkerProcess(tmp_path, shared_database, "worker-2").start()
    processes.append(second)
    # Kill it again once every batch is acknowledged and the police's answers are awaited.
    # Its acknowledged batches may not be settled yet: their items are still sent then.
    wait_until(
        lambda: (
            not GatewayItem.objects.filter(state=State.PENDING).exists()
            and not GatewayBatch.objects.exclude(state=GatewayBatch.State.ACKNOWLEDGED).exists()
        ),
        30,
        f"the second worker to send every batch\n{second.log()}",
    )
    assert open_items() > 0, states()
    second.kill()

    third = WorkerProcess(tmp_path, shared_database, "worker-3").start()
    processes.append(third)
    wait_until(lambda: open_items() == 0, SETTLE_TIMEOUT_S, f"every answer\n{third.log()}")
    third.stop()

    assert states() == {State.ANSWERED: len(items)}
    for item in GatewayItem.objects.all():
        check_answered_once(item)
    check_no_duplicate_assets(world.case)
    check_items_stored_once_at_agencies(world.simulator)
    # The batches the killed worker had leased went out again under their own ids.
    resent = GatewayBatch.objects.filter(pk__in=leased_batches)
    assert all(batch.attempts == 2 for batch in resent), [b.attempts for b in resent]


# 2. Agency faults, with the worker in the test process


@dataclass(frozen=True)
class Scenario:
    """Faults of one agency, the ends its items may reach, and a log pattern proving the fault.

    ``registry`` changes the agency's settings in the court's registry. Answers take up to
    SLOW_ANSWERS_MS, so the gateway sends and polls often enough for every fault to show.
    ``then`` replaces the faults once the log pattern has shown: a fault that is certain at
    first cannot be missed by chance, and the milder one after it lets answers through.
    """

    faults: dict[str, Any]
    ends: frozenset[str]
    log: str | None
    registry: tuple[tuple[str, Any], ...] = ()
    then: dict[str, Any] | None = None


ANSWERED = frozenset({State.ANSWERED})
ANSWERED_OR_FAILED = frozenset({State.ANSWERED, State.FAILED})
SLOW_ANSWERS_MS = [300, 4000]
HOLD = {"timeout_s": 1.2}
SHORT_TIMEOUT = (("timeout_seconds", 0.4),)

SCENARIOS = {
    "bank-icbc": Scenario(
        {"error_rate": 1.0, "delay_ms": SLOW_ANSWERS_MS},
        ANSWERED_OR_FAILED,
        r"bank-icbc replied HTTP 500",
        then={"error_rate": 0.5},
    ),
    # Held acknowledgements and answer pages time out in the gateway, but the agency stored the
    # batch all the same.
    "bank-ccb": Scenario(
        {"timeout_rate": 0.5, **HOLD, "delay_ms": SLOW_ANSWERS_MS},
        ANSWERED_OR_FAILED,
        r"bank-(ccb|abc) timed out",
        SHORT_TIMEOUT,
    ),
    # Item errors and held responses together.
    "bank-abc": Scenario(
        {"item_error_rate": 0.3, "timeout_rate": 0.3, **HOLD, "delay_ms": SLOW_ANSWERS_MS},
        ANSWERED_OR_FAILED,
        None,
        SHORT_TIMEOUT,
    ),
    # Spoiled answer pages are fetched again, so they cost no attempt.
    "police-gd": Scenario(
        {"garbage_rate": 1.0, "delay_ms": SLOW_ANSWERS_MS},
        ANSWERED,
        r"Polling agency police-gd for court \d+ failed: the body",
        then={"garbage_rate": 0.7},
    ),
    "housing-gd": Scenario(
        {"bad_signature_rate": 1.0, "delay_ms": SLOW_ANSWERS_MS},
        ANSWERED,
        r"answers of housing-gd are not validly signed",
        then={"bad_signature_rate": 0.7},
    ),
    "tax-gd": Scenario(
        {"item_error_rate": 1.0}, frozenset({State.FAILED}), r"tax-gd answered with an error"
    ),
    "hrss-gd": Scenario(
        {"error_rate": 1.0}, frozenset({State.FAILED}), r"hrss-gd replied HTTP 500"
    ),
    # Down for good: the items expire at their deadline of 3.6 s.
    "nr-gd": Scenario(
        {"outage": True},
        frozenset({State.EXPIRED}),
        r"nr-gd replied HTTP 503",
        (("deadlines", {"query": 0.001}),),
    ),
    # Down at first, then back (see OUTAGE_ENDS_S).
    "amr-gd": Scenario({"outage": True}, ANSWERED, r"amr-gd replied HTTP 503"),
}
OUTAGE_ENDS_S = 2.0


def replay_every_answer(world: World) -> None:
    """Fetch every answer of the agencies again from the start and store it again.

    Late and repeated answers must change nothing: no item changes state, no asset is added.
    """
    before = (states(), AssetRecord.objects.count())
    court = world.case.court
    adapter = online.OnlineAdapter()
    try:
        for agency in Agency.objects.filter(code__in=SCENARIOS):
            world.simulator.set_faults(agency.code, reset=True)
            reply = adapter.fetch_answers(
                agency,
                court_code=court.code or "",
                cursor="0",
                limit=1000,
                headers=keys.signed_headers(court, b""),
            )
            gateway.apply_answers(agency, json.loads(reply.body)["answers"])
    finally:
        adapter.close()
    assert (states(), AssetRecord.objects.count()) == before


def test_agency_faults_end_in_answers_or_clear_failures(
    db: None, processes: list[Any], tmp_path: Path, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(gateway, "BACKOFF_BASE", datetime.timedelta(seconds=0.05))
    monkeypatch.setattr(gateway, "BACKOFF_MAX", datetime.timedelta(seconds=0.4))
    monkeypatch.setattr(circuit, "COOL_DOWN", datetime.timedelta(seconds=0.5))
    # The simulator sends Retry-After: 30 with a 503, and here the gateway waits 1.5 s at most.
    monkeypatch.setattr(online, "MAX_RETRY_AFTER_SECONDS", 1.5)
    monkeypatch.delenv(gateway.CALLBACK_URL_ENV, raising=False)
    stored: collections.Counter[str] = collections.Counter()
    original_hook = gateway.answer_hook

    def counting_hook(items: Any) -> None:
        # The hook takes the items whose answers were just stored (or one item id).
        for item in items if isinstance(items, list | tuple) else [items]:
            stored[str(getattr(item, "pk", item))] += 1
        original_hook(items)

    monkeypatch.setattr(gateway, "answer_hook", counting_hook)
    caplog.set_level(logging.INFO, logger="zhixing.linkage")

    world = prepare(processes, tmp_path, 6, "--seed", "7", "--delay-ms", "0", "100")
    for code, scenario in SCENARIOS.items():
        Agency.objects.filter(code=code).update(batch_size=2, **dict(scenario.registry))
        world.simulator.set_faults(code, **scenario.faults)
    items = enqueue(world, *SCENARIOS)
    assert len(items) == 6 * len(SCENARIOS)

    started = time.monotonic()
    outage_on = True
    awaiting_log = {code: scenario for code, scenario in SCENARIOS.items() if scenario.then}
    try:
        while open_items() and time.monotonic() - started < SETTLE_TIMEOUT_S:
            if outage_on and time.monotonic() - started > OUTAGE_ENDS_S:
                world.simulator.set_faults("amr-gd", outage=False)
                outage_on = False
            for code, scenario in list(awaiting_log.items()):
                if re.search(scenario.log or "", caplog.text):
                    world.simulator.set_faults(code, **(scenario.then or {}))
                    del awaiting_log[code]
            worker.run_gateway_once()
            time.sleep(0.05)
    finally:
        worker._online.close()

    assert open_items() == 0, describe_open()
    by_agency: dict[str, set[str]] = collections.defaultdict(set)
    for item in GatewayItem.objects.select_related("agency"):
        by_agency[item.agency.code].add(item.state)
        if item.state == State.ANSWERED:
            check_answered_once(item)
            assert stored[str(item.pk)] == 1, item.pk
        else:
            assert item.last_error, (item.agency.code, item.state)
            assert stored[str(item.pk)] == 0, item.pk
            assert not AssetRecord.objects.filter(item=item).exists()
            # The case officer was notified.
            assert AuditRecord.objects.filter(
                object_id=str(item.pk), detail__event=f"gateway_item_{item.state}"
            ).exists(), item.pk
    for code, scenario in SCENARIOS.items():
        assert by_agency[code] <= scenario.ends, (code, by_agency[code])
        # An answer came through each agency that is not broken for good.
        assert State.ANSWERED in by_agency[code] or State.ANSWERED not in scenario.ends, code
        # The fault did happen, so the test did not pass for want of it.
        assert scenario.log is None or re.search(scenario.log, caplog.text), (code, scenario.log)
    failed = GatewayItem.objects.filter(agency__code="tax-gd")
    assert {item.attempts for item in failed} == {gateway.MAX_ATTEMPTS}
    assert {item.last_error for item in GatewayItem.objects.filter(agency__code="nr-gd")} == {
        "deadline passed"
    }
    check_no_duplicate_assets(world.case)
    replay_every_answer(world)
    assert max(stored.values()) == 1, stored.most_common(3)
    # Agencies that failed requests stored fewer items and batches than the court sent.
    check_items_stored_once_at_agencies(
        world.simulator, [code for code, scenario in SCENARIOS.items() if scenario.ends == ANSWERED]
    )


def test_error_answer_before_resend_uses_new_batch(
    db: None, processes: list[Any], tmp_path: Path, monkeypatch
) -> None:
    """An item whose batch must go out again, and whose error answer comes meanwhile.

    The agency stored the batch, but its acknowledgement timed out, so the batch waits to go
    out again under its id. The same id brings back the stored acknowledgement and nothing
    else, so the error answer must send the item out in a new batch, or the agency never
    processes it again and the item waits for its deadline.
    """
    monkeypatch.setattr(gateway, "BACKOFF_BASE", datetime.timedelta(seconds=0.05))
    monkeypatch.setattr(gateway, "BACKOFF_MAX", datetime.timedelta(seconds=0.4))
    monkeypatch.delenv(gateway.CALLBACK_URL_ENV, raising=False)
    world = prepare(processes, tmp_path, 3, "--seed", "3", "--delay-ms", "0", "0")
    Agency.objects.filter(code="bank-boc").update(batch_size=2, timeout_seconds=0.4)
    agency = Agency.objects.get(code="bank-boc")
    items = enqueue(world, "bank-boc")
    adapter = online.OnlineAdapter()
    try:
        first, second = gateway.form_batches(agencies=Agency.objects.filter(pk=agency.pk))
        world.simulator.set_faults("bank-boc", timeout_rate=1.0, timeout_s=1.5, item_error_rate=1.0)
        assert gateway.dispatch_batch(first, adapter).retried == 2
        world.simulator.set_faults("bank-boc", timeout_rate=0.0)
        assert gateway.dispatch_batch(second, adapter).acknowledged == 1
        wait_until(
            lambda: world.simulator.counts()["bank-boc"]["answers"] == len(items),
            10,
            "the error answers",
        )
        # The error answers of the first batch arrive while its items wait to be resent.
        assert set(first.items.values_list("state", flat=True)) == {State.PENDING}
        gateway.poll_answers(agency, adapter, force=True)
        world.simulator.set_faults("bank-boc", item_error_rate=0.0)

        deadline = time.monotonic() + 15
        while open_items() and time.monotonic() < deadline:
            worker.run_gateway_once(adapters={"bank-boc": adapter})
            time.sleep(0.05)
    finally:
        adapter.close()

    assert states() == {State.ANSWERED: len(items)}, describe_open()
    for item in GatewayItem.objects.all():
        check_answered_once(item)


# 3. PostgreSQL restarted while a worker process dispatches


@pytest.fixture
def private_postgres(django_db_blocker) -> Iterator[PostgresCluster]:
    """A migrated PostgreSQL cluster of the test's own, as the default database meanwhile."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        reason = (
            f"the PostgreSQL server programs (initdb, pg_ctl) are not installed under "
            f"{POSTGRES_BIN_GLOB}; install the Debian package postgresql"
        )
        if os.environ.get("ZHIXING_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = PostgresCluster(bin_dir)
    try:
        cluster.init().start()
        cluster.create_database("zhixing")
        migrate(cluster.url("zhixing"), cluster.folder / "migrate.log")
        with (
            django_db_blocker.unblock(),
            default_database(
                NAME="zhixing", HOST="127.0.0.1", PORT=cluster.port, USER="postgres", PASSWORD=""
            ),
        ):
            yield cluster
    finally:
        cluster.remove()


def settled_after_reconnect() -> int:
    """Return the number of open items, read on a new connection, or -1 while the server is down."""
    connection.close()
    try:
        return open_items()
    except OperationalError:
        return -1


@pytest.mark.postgres
def test_worker_survives_postgres_restart_during_dispatch(
    private_postgres: PostgresCluster, processes: list[Any], tmp_path: Path
) -> None:
    cluster = private_postgres
    world = prepare(processes, tmp_path, 6, "--seed", "5", "--delay-ms", "300", "1500")
    codes = ("bank-icbc", "bank-boc", "police-gd", "housing-gd")
    Agency.objects.filter(code__in=codes).update(batch_size=2, concurrency=2, timeout_seconds=10)
    items = enqueue(world, *codes)
    # Two banks hold their acknowledgements back for 2 s, so that the server goes away while
    # the worker waits for one.
    hold = {"timeout_rate": 1.0, "timeout_s": 2}
    world.simulator.set_faults("bank-icbc", **hold)
    connection.close()

    process = WorkerProcess(tmp_path, cluster.url("zhixing"), "worker").start()
    processes.append(process)
    wait_until(
        lambda: world.simulator.counts()["bank-icbc"]["batches"] >= 1,
        20,
        f"the first batch to reach the bank\n{process.log()}",
    )
    # First the server stays down a while: the acknowledgement arrives meanwhile, and the
    # worker's next passes find no server at all.
    cluster.stop()
    world.simulator.set_faults("bank-boc", **hold)
    time.sleep(2.5)
    cluster.start()
    # Then a quick restart while the other bank holds the next batch.
    wait_until(
        lambda: world.simulator.counts()["bank-boc"]["batches"] >= 3,
        20,
        f"the third batch to reach the other bank\n{process.log()}",
    )
    cluster.restart()
    world.simulator.set_faults("bank-icbc", reset=True)
    world.simulator.set_faults("bank-boc", reset=True)

    readings: list[int] = []

    def reachable() -> bool:
        readings.append(settled_after_reconnect())
        return readings[-1] >= 0

    wait_until(reachable, 10, "the server to accept connections")
    # Items were still open after the restarts, so finishing them needs a reconnected worker.
    assert readings[-1] > 0, states()
    # A batch whose acknowledgement the restart cut off waits for its lease to run out.
    wait_until(
        lambda: settled_after_reconnect() == 0, LEASE_TIMEOUT_S, f"every answer\n{process.log()}"
    )
    assert process.alive(), process.log()
    process.stop()
    # The worker did meet the stopped server, and went on.
    assert "Gateway worker pass failed; trying again" in process.full_log(), process.log()

    connection.close()
    assert states() == {State.ANSWERED: len(items)}
    for item in GatewayItem.objects.all():
        check_answered_once(item)
    check_no_duplicate_assets(world.case)
    check_items_stored_once_at_agencies(world.simulator)
