"""Set-based SQL for the gateway's hot paths: lists of ids as one parameter, and COPY inserts.

A statement about a page of 1,000 items should not carry 1,000 placeholders, which psycopg
splits and PostgreSQL parses one by one. On PostgreSQL :func:`in_list` passes the list as one
array (``column = ANY(%s)``). SQLite has no arrays, so there it writes ``IN (%s, …)``.

:func:`copy_insert` writes rows with ``COPY`` on PostgreSQL, the fastest way to load rows from
one process, and still skips rows whose unique key exists, as ``INSERT … ON CONFLICT DO
NOTHING`` would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models import Field


def in_list(column: str, values: Sequence[Any], field: Field[Any, Any]) -> tuple[str, list[Any]]:
    """Return the SQL condition ``column`` is one of ``values``, with its parameters.

    ``values`` are keys, UUIDs or integers, of the type of ``field``, which converts them to
    what the database stores (a UUID is 32 hexadecimal characters on SQLite, for instance).
    On PostgreSQL the list travels as the text of one array: the text of a UUID or an
    integer needs no quoting inside it, and psycopg adapts one string much faster than a
    list of 1,000 values.
    """
    if connection.vendor == "postgresql":
        array = "{" + ",".join(str(value) for value in values) + "}"
        return f"{column} = ANY(%s::{field.db_type(connection)}[])", [array]
    if not values:
        return "1 = 0", []
    marks = ", ".join(["%s"] * len(values))
    return f"{column} IN ({marks})", [
        field.get_db_prep_value(value, connection) for value in values
    ]


def copy_insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bool:
    """Insert ``rows`` into ``table`` with COPY on PostgreSQL; return whether all were new.

    The rows go straight into the table under a savepoint. When one of them violates a unique
    constraint, the savepoint is rolled back and the rows are copied into a temporary table
    instead, from which ``INSERT … ON CONFLICT DO NOTHING`` adds the new ones. JSON values are
    passed as their text.
    """
    if not rows:
        return True
    names = ", ".join(columns)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _copy(cursor, table, names, rows)
        return True
    # COPY runs on psycopg's own cursor, whose errors Django does not wrap.
    except (IntegrityError, psycopg.IntegrityError):
        pass
    staging = f"copy_{table}"
    # The transaction keeps the staged rows until the INSERT, even for a caller without one.
    with transaction.atomic(), connection.cursor() as cursor:
        # The temporary table lives as long as the connection and is emptied at each commit.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "  # noqa: S608
            f"AS SELECT {names} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"DELETE FROM {staging}")  # noqa: S608
        _copy(cursor, staging, names, rows)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} "  # noqa: S608
            "ON CONFLICT DO NOTHING"
        )
    return False


def _copy(cursor: Any, table: str, names: str, rows: Sequence[Sequence[Any]]) -> None:
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
