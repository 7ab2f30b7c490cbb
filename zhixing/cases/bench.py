"""The case database benchmark behind ``zhixing bench cases``.

It loads synthetic cases (:mod:`zhixing.cases.demo_data`) into the configured database with the
bulk path, then times the searches people make, each through :func:`search.filter_cases` as a
real user so that the data scope is part of every measured query:

- lookup by case number, and by a party's ID number;
- fuzzy search by a party-name fragment of three or more characters (first page of 50);
- the case list page with a court filter, rendered by the view at ``/cases/?court=…``.

The user is ``bench_commander``, a commander of the high court (the widest scope), created on
the first run with an unusable password. Without ``--keep`` the cases, parties, flow nodes and
case number counters the run added are removed again (by the ids recorded before the load);
the officer and commander accounts stay for the next run.
"""

from __future__ import annotations

import datetime
import logging
import math
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse

from zhixing.cases import demo_data
from zhixing.cases.models import CaseParty, CaseSequence, EnforcementCase, FlowNode, Party
from zhixing.cases.search import CaseFilter, filter_cases
from zhixing.courts import services as court_services
from zhixing.courts.models import Court, Role, User

logger = logging.getLogger(__name__)

BENCH_USERNAME = "bench_commander"
MAX_CASES = 10_000_000
MAX_SAMPLES = 10_000
WARM_UP = 5
PAGE = 50


def percentile(values: Sequence[float], share: float) -> float:
    """Return the ``share`` (0 to 1) percentile of ``values`` by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def bench_user() -> User:
    """Return the high-court commander the benchmark searches as, creating it if needed."""
    user = User.objects.filter(username=BENCH_USERNAME).first()
    if user is not None:
        return user
    high = Court.objects.filter(level=Court.Level.HIGH).order_by("pk").first()
    if high is None:
        raise ValueError("no high court in the database; run `zhixing loadcourts` first")
    return court_services.create_user(
        actor=None,
        court=high,
        username=BENCH_USERNAME,
        full_name="基准测试",
        role_codes=[Role.Code.COMMANDER],
        password=None,
    )


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            models = [
                line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
            ]
        info["cpu_model"] = models[0] if models else ""
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            total = next(line for line in meminfo if line.startswith("MemTotal"))
        info["memory_gb"] = round(int(total.split()[1]) / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    return info


def database_info() -> dict[str, Any]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    return {"vendor": connection.vendor, "version": version}


def _timed(action: Callable[[str], None], samples: Sequence[str]) -> list[float]:
    """Run ``action`` for each sample after a short warm-up; return the times in ms."""
    for sample in samples[:WARM_UP]:
        action(sample)
    times = []
    for sample in samples:
        started = time.perf_counter()
        action(sample)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _list_url() -> str | None:
    try:
        return reverse("case-list")
    except NoReverseMatch:
        return None


class CleanupError(Exception):
    """An error of the benchmark's clean-up, which then removed nothing."""


class Cleanup:
    """Remembers where a run's rows start, and removes them and its counters afterwards."""

    def __init__(self) -> None:
        self.first_case_id, self.first_party_id = demo_data.next_ids()
        self.counters = list(
            CaseSequence.objects.values_list("pk", "court_id", "type_code", "year", "last_sequence")
        )

    @transaction.atomic
    def run(self) -> None:
        # Raw deletes: the rows were written without the model layer, and per-row signals
        # would write one audit record per row.
        statements = [
            (FlowNode, "case_id", self.first_case_id),
            (CaseParty, "case_id", self.first_case_id),
            (EnforcementCase, "id", self.first_case_id),
            (Party, "id", self.first_party_id),
        ]
        with connection.cursor() as cursor:
            keys = _drop_keys_to_cases(cursor) if connection.vendor == "postgresql" else []
            for model, column, first in statements:
                cursor.execute(
                    f"DELETE FROM {model._meta.db_table} WHERE {column} >= %s",  # noqa: S608
                    [first],
                )
            for table, name, definition in keys:
                try:
                    cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                except IntegrityError as error:
                    raise CleanupError(
                        f"removing the benchmark's cases failed: rows of {table} refer to them "
                        f"(key {name}), so nothing was removed. Delete those rows and run the "
                        "benchmark again, or keep its cases with --keep"
                    ) from error
        kept = {pk: last for pk, _court, _type, _year, last in self.counters}
        CaseSequence.objects.exclude(pk__in=kept).delete()
        for pk, last in kept.items():
            CaseSequence.objects.filter(pk=pk).update(last_sequence=last)


def _drop_keys_to_cases(cursor: Any) -> list[tuple[str, str, str]]:
    """Drop the foreign keys that refer to cases or parties; return them to add back.

    Each deleted case or party otherwise queues one check per referring table, run at the
    commit: removing a million cases kept one core busy for about 140 s that way. Adding a
    key back checks every remaining row in one scan instead.
    """
    # Checks deferred by earlier statements of this transaction would block ALTER TABLE.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND confrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
        [[EnforcementCase._meta.db_table, Party._meta.db_table]],
    )
    keys: list[tuple[str, str, str]] = cursor.fetchall()
    for table, name, _definition in keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return keys


def run(
    *,
    cases: int,
    seed: int = 1,
    samples: int = 200,
    keep: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Load ``cases`` synthetic cases, time the searches, and return the result line's fields."""
    if not 1 <= cases <= MAX_CASES:
        raise ValueError(f"cases is {cases}; give a number from 1 to {MAX_CASES}")
    if not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples is {samples}; give a number from 1 to {MAX_SAMPLES}")
    say = progress or (lambda _text: None)
    profiles = demo_data.court_profiles()
    created = demo_data.ensure_case_officers(profiles, per_court=3, seed=seed)
    user = bench_user()
    cleanup = Cleanup()
    say(f"Loading {cases} cases ({created} officer accounts created) ...")
    step = max(cases // 10, 1)
    reported = [0]

    def loaded(done: int) -> None:
        if done // step > reported[0] or done == cases:
            reported[0] = done // step
            say(f"  {done} cases loaded")

    load = demo_data.load_cases(cases, seed=seed, courts=profiles, progress=loaded)
    vacuum_seconds = _vacuum_analyze()
    try:
        result = _measure(user, load, cleanup, profiles, seed=seed, samples=samples, say=say)
    finally:
        if not keep:
            say("Removing the benchmark's cases ...")
            cleanup.run()
    return {
        "cases": load.cases,
        "parties": load.parties,
        "case_parties": load.case_parties,
        "flow_nodes": load.flow_nodes,
        "load_seconds": round(load.seconds, 2),
        "load_cases_per_s": round(load.cases / load.seconds) if load.seconds else None,
        "load_workers": load.workers,
        "load_write_seconds": round(load.write_seconds, 2),
        "load_index_seconds": round(load.index_seconds, 2),
        "vacuum_seconds": vacuum_seconds,
        **result,
        "samples": samples,
        "seed": seed,
        "kept": keep,
        "date": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "database": database_info(),
        "machine": machine_info(),
    }


def _vacuum_analyze() -> float:
    """Vacuum and analyze the loaded tables on PostgreSQL; return the seconds it took.

    Autovacuum would do the same soon after a load. Doing it now gives the planner statistics
    and lets count queries read indexes alone, as they would on a settled database. Inside a
    transaction (the tests) VACUUM is not allowed, so only ANALYZE runs.
    """
    if connection.vendor != "postgresql":
        return 0.0
    started = time.perf_counter()
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in (Party, EnforcementCase, CaseParty, FlowNode):
            cursor.execute(f"{command} {model._meta.db_table}")
    return round(time.perf_counter() - started, 2)


def _measure(
    user: User,
    load: demo_data.LoadResult,
    cleanup: Cleanup,
    profiles: Sequence[demo_data.CourtProfile],
    *,
    seed: int,
    samples: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    rng = random.Random(seed + 1)  # noqa: S311 (choice of samples, not secrets)
    last_id = cleanup.first_case_id + load.cases - 1
    picked = [rng.randint(cleanup.first_case_id, last_id) for _ in range(samples)]
    numbers_by_id = dict(
        EnforcementCase.objects.filter(pk__in=picked).values_list("pk", "case_number")
    )
    numbers = [numbers_by_id[pk] for pk in picked]
    documents = [rng.choice(load.person_documents) for _ in range(samples)]
    fragments = [rng.choice(load.name_fragments) for _ in range(samples)]
    weighted = [(profile.code, profile.weight) for profile in profiles]
    court_codes = rng.choices(
        [code for code, _w in weighted], weights=[w for _c, w in weighted], k=samples
    )

    def first_page(text: str) -> list[EnforcementCase]:
        return list(filter_cases(user, CaseFilter(text=text))[:PAGE])

    def by_number(number: str) -> None:
        found = first_page(number)
        if len(found) != 1:
            raise AssertionError(f"case number {number} found {len(found)} times")

    def by_document(document: str) -> None:
        if not first_page(document):
            raise AssertionError("a loaded ID number found no case")

    def by_name(fragment: str) -> None:
        if not first_page(fragment):
            raise AssertionError(f"the name fragment {fragment} found no case")

    url = _list_url()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)

    def case_list(code: str) -> None:
        if url is not None:
            response = client.get(url, {"court": code})
            if response.status_code != 200:
                raise AssertionError(f"{url}?court={code} answered {response.status_code}")
        else:
            cases = filter_cases(user, CaseFilter(court_code=code))
            list(cases[:PAGE])
            cases.count()

    result: dict[str, Any] = {}
    timings: list[tuple[str, Callable[[str], None], list[str]]] = [
        ("case_number", by_number, numbers),
        ("id_number", by_document, documents),
        ("name_search", by_name, fragments),
        ("case_list", case_list, court_codes),
    ]
    for key, action, values in timings:
        say(f"Timing {key} ({samples} samples) ...")
        times = _timed(action, values)
        result[f"{key}_p50_ms"] = round(percentile(times, 0.5), 2)
        result[f"{key}_p95_ms"] = round(percentile(times, 0.95), 2)
    result["case_list_measures"] = "page" if url is not None else "query"
    return result
