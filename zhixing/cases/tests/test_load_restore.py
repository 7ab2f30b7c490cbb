"""A large load on PostgreSQL puts back every index and key it set aside, validated.

Outside a transaction the load builds its plain indexes and checks its foreign keys after the
commit, on two connections. These tests let it commit, so they run transactionally.
"""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from zhixing.cases import demo_data
from zhixing.cases.apps import finish_interrupted_loads
from zhixing.cases.models import CaseParty, EnforcementCase, FlowNode, Party, PendingRestore

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLES = [model._meta.db_table for model in demo_data.LOAD_TABLES]


def schema() -> tuple[set[tuple[str, str]], set[tuple[str, str, bool]]]:
    """The indexes and the constraints of the case tables, with whether each key is valid."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) AND indisvalid AND indisready",
            [TABLES],
        )
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[])",
            [TABLES],
        )
        constraints = set(cursor.fetchall())
    return indexes, constraints


def test_load_restores_indexes_and_keys(courts) -> None:
    indexes, constraints = schema()
    assert any("gin_trgm_ops" in definition for _name, definition in indexes)
    assert any(definition.startswith("FOREIGN KEY") for _name, definition, _ in constraints)

    load = demo_data.load_cases(700, seed=11, parallel=False)

    assert schema() == (indexes, constraints)
    assert all(valid for _name, _definition, valid in constraints)
    assert not PendingRestore.objects.exists()
    assert EnforcementCase.objects.count() == load.cases == 700
    assert Party.objects.count() == load.parties
    assert CaseParty.objects.count() == load.case_parties
    assert FlowNode.objects.count() == load.flow_nodes


def primary_keys() -> set[str]:
    """Return the case tables that have a primary key."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'p' AND conrelid = ANY(%s::regclass[])",
            [TABLES],
        )
        return {table for (table,) in cursor.fetchall()}


def test_load_drops_unreferenced_primary_keys(courts) -> None:
    during: list[set[str]] = []

    # Progress is reported inside the load's transaction, after each batch is written.
    demo_data.load_cases(
        300,
        seed=12,
        parallel=False,
        batch_size=100,
        progress=lambda _done: during.append(primary_keys()),
    )

    referenced = {EnforcementCase._meta.db_table, Party._meta.db_table}
    assert primary_keys() == set(TABLES)
    assert during
    assert all(tables == referenced for tables in during), during


def test_restore_failure_names_statements(courts) -> None:
    table = FlowNode._meta.db_table
    broken = f'ALTER TABLE {table} VALIDATE CONSTRAINT "no_such_key"'
    left = f"CREATE INDEX IF NOT EXISTS flow_restore_probe ON {table} (kind)"

    with pytest.raises(RuntimeError) as raised:
        demo_data._restore_after_commit(demo_data._record_restores([broken, left]), 1)

    message = str(raised.value)
    assert "the cases are stored" in message
    assert "no_such_key" in message
    assert "cases.finish_restores" in message
    assert message.endswith(broken)
    # The failure did not stop the statement after it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('flow_restore_probe')")
        assert cursor.fetchone() == ("flow_restore_probe",)
        cursor.execute("DROP INDEX flow_restore_probe")
    # Only the failed one stays recorded for the periodic check.
    assert list(PendingRestore.objects.values_list("statement", flat=True)) == [broken]


def test_restore_connection_failure_raises(courts, monkeypatch) -> None:
    def fail_to_connect(*_args: object) -> None:
        raise OperationalError("connection refused")

    # The test's own connection is open already; only the restoring threads connect anew.
    connection.ensure_connection()
    monkeypatch.setattr(type(connections["default"]), "get_new_connection", fail_to_connect)
    statement = f"CREATE INDEX IF NOT EXISTS flow_restore_probe ON {FlowNode._meta.db_table} (kind)"

    with pytest.raises(RuntimeError) as raised:
        demo_data._restore_after_commit([(1, statement)], connections=2)

    message = str(raised.value)
    assert "connecting to the database" in message
    assert "connection refused" in message
    assert message.endswith(statement)


def test_interrupted_load_finished_later(courts, monkeypatch) -> None:
    indexes, constraints = schema()

    def crash(*_args: object) -> None:
        raise KeyboardInterrupt

    # The process dies after the commit, before any index is built or key checked.
    monkeypatch.setattr(demo_data, "_restore_after_commit", crash)
    with pytest.raises(KeyboardInterrupt):
        demo_data.load_cases(500, seed=13, parallel=False)
    monkeypatch.undo()

    assert EnforcementCase.objects.count() == 500
    assert PendingRestore.objects.exists()
    assert schema() != (indexes, constraints)

    assert finish_interrupted_loads(timezone.now()) > 0

    assert not PendingRestore.objects.exists()
    assert schema() == (indexes, constraints)
    assert finish_interrupted_loads(timezone.now()) == 0


@pytest.fixture
def other_connection(courts):
    """Record an index build, and return a second connection; drop the index afterwards."""
    table = FlowNode._meta.db_table
    PendingRestore.objects.create(
        statement=f"CREATE INDEX IF NOT EXISTS flow_restore_probe ON {table} (kind)"
    )
    other = connections.create_connection("default")
    yield other
    other.close()
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS flow_restore_probe")


def test_finish_restores_waits_for_running_load(other_connection) -> None:
    # A running load holds the lock on its own connection while it restores.
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [demo_data.RESTORE_LOCK_KEY])
    assert demo_data.finish_restores() == 0
    assert PendingRestore.objects.count() == 1

    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [demo_data.RESTORE_LOCK_KEY])
    assert demo_data.finish_restores() == 1
    assert not PendingRestore.objects.exists()


def test_finish_restores_leaves_locked_tables(other_connection, monkeypatch) -> None:
    monkeypatch.setattr(demo_data, "FINISH_LOCK_TIMEOUT_MS", 200)
    results: list[int] = []

    def finish() -> None:
        try:
            results.append(demo_data.finish_restores())
        finally:
            connection.close()  # this thread's own connection

    # A long transaction locks the table, as a running load does.
    other_connection.set_autocommit(False)
    with other_connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {FlowNode._meta.db_table} IN ACCESS EXCLUSIVE MODE")
    check = threading.Thread(target=finish)
    check.start()
    check.join(timeout=20)
    assert not check.is_alive()
    assert results == [0]
    assert PendingRestore.objects.count() == 1

    other_connection.rollback()
    assert demo_data.finish_restores() == 1
    assert not PendingRestore.objects.exists()


def test_recorded_index_build_tolerates_existing_index(courts, monkeypatch) -> None:
    def crash(*_args: object, **_options: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_data, "_restore_after_commit", crash)
    with pytest.raises(KeyboardInterrupt):
        demo_data.load_cases(300, seed=14, parallel=False)
    monkeypatch.undo()
    builds = [
        statement
        for statement in PendingRestore.objects.values_list("statement", flat=True)
        if statement.startswith("CREATE")
    ]
    assert builds
    assert all(" IF NOT EXISTS " in statement for statement in builds)

    # Someone runs the first build by hand, as the error of a failed restore suggests.
    with connection.cursor() as cursor:
        cursor.execute(builds[0])

    assert demo_data.finish_restores() > 0
    assert not PendingRestore.objects.exists()
