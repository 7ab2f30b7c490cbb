"""Fixtures shared by every app's tests: a small court tree and staff accounts on it.

The tree mirrors the real shape of the network: the high court, two intermediate courts and
basic courts under each, so that scope tests can compare every tier with every other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from django.utils import translation

from zhixing.audit.context import Actor, acting_as
from zhixing.courts import scope, services
from zhixing.courts.models import Court, Role, User

TEST_PASSWORD = "Test-Passw0rd-2026"

TREE_ROWS = [
    {"code": "粤", "name": "广东省高级人民法院", "level": "high"},
    {"code": "粤01", "name": "广州市中级人民法院", "level": "intermediate", "parent_code": "粤"},
    {"code": "粤03", "name": "深圳市中级人民法院", "level": "intermediate", "parent_code": "粤"},
    {"code": "粤0104", "name": "广州市越秀区人民法院", "level": "basic", "parent_code": "粤01"},
    {"code": "粤0105", "name": "广州市海珠区人民法院", "level": "basic", "parent_code": "粤01"},
    {"code": "粤0303", "name": "深圳市罗湖区人民法院", "level": "basic", "parent_code": "粤03"},
]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: object) -> None:
    # PBKDF2 at its production cost takes a quarter second per password; tests make hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _english_messages() -> object:
    # Tests match English messages; pages still pick their language per request.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _system_actor() -> object:
    with acting_as(Actor(user=None, client_address="", channel="system")) as actor:
        yield actor


@pytest.fixture(autouse=True)
def _fresh_court_tree() -> None:
    # A rolled-back or flushed test leaves court ids behind in the per-process copy.
    scope.clear_court_tree()


@pytest.fixture(autouse=True)
def _no_unsettled_batches() -> None:
    # Batches that an earlier test's worker pass left to settle belong to its rolled-back data.
    from zhixing.linkage import worker

    worker.forget_unsettled()


@pytest.fixture(autouse=True)
def _no_event_listener() -> Iterator[None]:
    # A page's event stream starts a listener with its own connection, which would otherwise
    # stay open and keep the test database from being dropped at the end.
    yield
    from zhixing.events import stream

    stream.stop_listener()


@pytest.fixture
def courts(db: None) -> dict[str, Court]:
    # A flush after a transactional test also empties the roles that a migration added.
    for code in Role.Code.values:
        Role.objects.get_or_create(code=code)
    services.load_courts(TREE_ROWS)
    return {court.code: court for court in Court.objects.all() if court.code}


@pytest.fixture
def make_user(courts: dict[str, Court]) -> Callable[..., User]:
    def make(username: str, court_code: str, *roles: str, phone: str = "") -> User:
        return services.create_user(
            actor=None,
            court=courts[court_code],
            username=username,
            full_name=username,
            role_codes=roles or ("case_officer",),
            password=TEST_PASSWORD,
            phone=phone,
        )

    return make


@pytest.fixture(autouse=True, scope="session")
def _flush_may_empty_audit_trail() -> object:
    """Let Django's flush between transactional tests empty the append-only audit table."""
    from django.core.management.commands import flush

    from zhixing.audit.purge import purge_allowed

    original = flush.Command.handle

    def handle(self: flush.Command, **options: object) -> None:
        with purge_allowed(str(options.get("database", "default"))):
            original(self, **options)

    flush.Command.handle = handle  # type: ignore[method-assign]
    yield
    flush.Command.handle = original  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip PostgreSQL-only tests on SQLite, unless PostgreSQL is required (as in CI)."""
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    required = os.environ.get("ZHIXING_REQUIRE_POSTGRES") == "1"
    if on_postgres:
        return
    for item in items:
        if "postgres" in item.keywords:
            if required:
                # The run on SQLite still skips them; the PostgreSQL run is the one that counts.
                item.add_marker(pytest.mark.skip(reason="runs in the PostgreSQL pass"))
            else:
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
