"""Gateway passes under Celery on a real RabbitMQ broker, with the simulator as a process.

Two Celery workers consume one queue of their own (one of them also runs the beat schedule)
against the test database, as production runs them. The test only queues a debtor query and
waits: the wake-up message and the periodic ticks must bring every item to the answered state.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from kombu import Connection

from zhixing import wakeup
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.celery import app
from zhixing.inquiry import services
from zhixing.inquiry.models import AssetRecord
from zhixing.inquiry.tests.test_simulator_path import running_simulator
from zhixing.linkage import keys
from zhixing.linkage.models import Agency, GatewayBatch, GatewayItem
from zhixing.linkage.services import load_agencies_file

ROOT = Path(__file__).resolve().parents[3]
BROKER_URL = os.environ.get("ZHIXING_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
ANSWER_TIMEOUT_S = 90
WORKER_STOP_S = 20


def _reachable(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        return False
    return True


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own on the broker, deleted afterwards."""
    if not _reachable(BROKER_URL):
        message = f"RabbitMQ is not reachable at {BROKER_URL}; start it or set the URL."
        if os.environ.get("ZHIXING_REQUIRE_RABBITMQ") == "1":
            pytest.fail(message)
        pytest.skip(message)
    name = f"zhixing-test-{uuid.uuid4().hex[:12]}"
    saved = (app.conf.broker_url, app.conf.task_default_queue)
    app.conf.broker_url = BROKER_URL
    app.conf.task_default_queue = name
    try:
        yield name
    finally:
        app.conf.broker_url, app.conf.task_default_queue = saved
        with Connection(BROKER_URL) as conn, contextlib.suppress(Exception):
            conn.default_channel.queue_delete(name)


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def celery_workers(queue: str, folder: Path, count: int) -> Iterator[list[subprocess.Popen]]:
    """Start ``count`` Celery workers on ``queue``; the first also runs the beat schedule."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": _database_url(),
        "ZHIXING_DATA_DIR": str(settings.DATA_DIR),
        "ZHIXING_BROKER_URL": BROKER_URL,
        "ZHIXING_QUEUE": queue,
        "ZHIXING_GATEWAY_TICK_SECONDS": "0.5",
    }
    env.pop("ZHIXING_GATEWAY_CALLBACK_URL", None)
    processes = []
    for number in range(count):
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "zhixing",
            "worker",
            "--pool",
            "solo",
            "--hostname",
            f"test{number}-{queue}@127.0.0.1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "warning",
        ]
        if number == 0:
            command += ["--beat", "--schedule", str(folder / "beat-schedule")]
        log = (folder / f"celery-{number}.log").open("ab")
        processes.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, env=env))
        log.close()
    try:
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=WORKER_STOP_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _logs(folder: Path) -> str:
    return "\n".join(path.read_text(errors="replace")[-3000:] for path in folder.glob("*.log"))


@pytest.fixture
def officer(make_user):
    return make_user("celery_officer", "粤0104", "case_officer")


@pytest.fixture
def case(courts, officer) -> EnforcementCase:
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
                document_number=make_resident_id("440106", "19800415", index),
            )
            for index in range(21, 24)
        ],
        claim_amount="300000.00",
        case_officer=officer,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_celery_workers_answer_query(queue, tmp_path, courts, officer, case):
    keys.export_public_keys(tmp_path / "court-keys")
    debtors = list(case.parties.filter(case_roles__role="debtor"))
    with running_simulator(tmp_path) as url:
        load_agencies_file(keys_dir=tmp_path / "agency-keys", base_url=f"{url}/agencies/{{code}}")
        Agency.objects.exclude(adapter=Agency.Adapter.ONLINE).update(active=False)
        Agency.objects.update(
            batch_window_seconds=0,
            poll_interval_seconds=0,
            rate_limit=1000,
            service_start=None,
            service_end=None,
            service_days=[1, 2, 3, 4, 5, 6, 7],
        )
        with celery_workers(queue, tmp_path, count=2) as workers:
            result = services.request_query(officer, case, debtors)
            queued = len(result.queued)
            deadline = time.monotonic() + ANSWER_TIMEOUT_S
            while time.monotonic() < deadline:
                if not GatewayItem.objects.filter(state__in=GatewayItem.OPEN_STATES).exists():
                    break
                assert all(worker.poll() is None for worker in workers), _logs(tmp_path)
                time.sleep(0.5)

    states = dict(GatewayItem.objects.values_list("state").annotate(n=Count("id")))
    assert queued > 0
    assert states == {GatewayItem.State.ANSWERED: queued}, _logs(tmp_path)
    # Each batch went out once: no worker sent what another had claimed.
    assert not GatewayBatch.objects.filter(attempts__gt=1).exists()
    assert AssetRecord.objects.filter(case=case).exists()


def test_wake_sends_after_commit_only_with_broker(db, settings, django_capture_on_commit_callbacks):
    sent = []
    original = app.send_task
    app.send_task = lambda name, **options: sent.append(name)  # type: ignore[method-assign]
    try:
        settings.CELERY_BROKER_URL = ""
        with django_capture_on_commit_callbacks(execute=True):
            wakeup.wake(wakeup.GATEWAY_TASK)
        assert sent == []

        settings.CELERY_BROKER_URL = BROKER_URL
        with django_capture_on_commit_callbacks(execute=True):
            wakeup.wake(wakeup.GATEWAY_TASK)
        assert sent == [wakeup.GATEWAY_TASK]
    finally:
        app.send_task = original  # type: ignore[method-assign]
