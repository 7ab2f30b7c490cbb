"""The one sanctioned way past the audit trail's append-only triggers: emptying the table.

Test runs empty every table between browser tests, and archiving old years will delete whole
years of records once they are copied elsewhere. Both run inside :func:`purge_allowed`. The
triggers still reject every UPDATE, and every DELETE outside this block. On SQLite the
triggers ask the function registered here; another program opening the file lacks the function,
so its deletes fail too. On PostgreSQL they read the session setting ``zhixing.audit_purge``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections

SQLITE_FUNCTION = "zhixing_audit_purge_allowed"
POSTGRES_SETTING = "zhixing.audit_purge"

_state = threading.local()


def _allowed() -> int:
    return int(getattr(_state, "allowed", False))


def register_sqlite_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Give each new SQLite connection the function that the triggers call."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 0, _allowed)


@contextmanager
def purge_allowed(using: str = "default") -> Iterator[None]:
    """Let DELETE and TRUNCATE on the audit table through for the duration of the block."""
    connection = connections[using]
    _state.allowed = True
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET {POSTGRES_SETTING} = 'on'")
    try:
        yield
    finally:
        _state.allowed = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"RESET {POSTGRES_SETTING}")
