"""The benchmark command on a small N: its JSON line, and that the data it loads is sound."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from zhixing.cases import bench
from zhixing.cases.models import CaseParty, CaseSequence, EnforcementCase, FlowNode, Party
from zhixing.courts.models import Court

pytestmark = pytest.mark.django_db

KEYS = {
    "cases",
    "load_cases_per_s",
    "case_number_p50_ms",
    "case_number_p95_ms",
    "id_number_p50_ms",
    "id_number_p95_ms",
    "name_search_p50_ms",
    "name_search_p95_ms",
    "case_list_p50_ms",
    "case_list_p95_ms",
    "database",
    "machine",
}


def run_bench(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("bench", "cases", *args, stdout=out, stderr=StringIO())
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_unit_percentile_is_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]
    assert bench.percentile(values, 0.5) == 50.0
    assert bench.percentile(values, 0.95) == 95.0
    assert bench.percentile([7.0], 0.95) == 7.0


def test_case_bench_keeps_consistent_data(courts: dict[str, Court]) -> None:
    result = run_bench("--cases", "300", "--samples", "20", "--seed", "4", "--keep")
    assert set(result) >= KEYS
    assert result["cases"] == 300
    assert result["case_list_measures"] == "page"
    assert EnforcementCase.objects.count() == 300
    assert FlowNode.objects.count() == result["flow_nodes"]
    assert CaseParty.objects.count() == result["case_parties"]
    assert 2.2 <= CaseParty.objects.count() / 300 <= 2.9
    numbers = EnforcementCase.objects.values_list("case_number", flat=True)
    assert len(set(numbers)) == 300
    duplicates = (
        Party.objects.values("document_type", "document_number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert not Party.objects.filter(document_number="").exists()
    assert not Party.objects.filter(case_roles__isnull=True).exists()
    tops = EnforcementCase.objects.values("court", "type_code", "year").annotate(
        top=Max("sequence")
    )
    assert {(row["court"], row["type_code"], row["year"], row["top"]) for row in tops} == set(
        CaseSequence.objects.values_list("court", "type_code", "year", "last_sequence")
    )
    for case in EnforcementCase.objects.prefetch_related("case_parties")[:100]:
        assert {role.role for role in case.case_parties.all()} == {"applicant", "debtor"}


def foreign_keys() -> set[tuple[str, str, str, bool]]:
    """Return the foreign keys of the database, with whether each is validated (PostgreSQL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated "
            "FROM pg_constraint WHERE contype = 'f'"
        )
        return set(cursor.fetchall())


def test_case_bench_without_keep_removes_what_it_added(courts: dict[str, Court]) -> None:
    run_bench("--cases", "120", "--samples", "10", "--seed", "2", "--keep")
    counters = set(CaseSequence.objects.values_list("court", "type_code", "year", "last_sequence"))
    before = (EnforcementCase.objects.count(), Party.objects.count(), FlowNode.objects.count())
    keys = foreign_keys()
    result = run_bench("--cases", "200", "--samples", "10", "--seed", "3")
    assert result["cases"] == 200 and result["kept"] is False
    after = (EnforcementCase.objects.count(), Party.objects.count(), FlowNode.objects.count())
    assert after == before
    # The clean-up sets aside the keys that refer to cases and parties, and adds them back.
    assert foreign_keys() == keys
    assert counters == set(
        CaseSequence.objects.values_list("court", "type_code", "year", "last_sequence")
    )


def test_unit_bench_rejects_unbounded_input(courts: dict[str, Court]) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cases is 0"):
        run_bench("--cases", "0")
    with pytest.raises(CommandError, match="samples"):
        run_bench("--cases", "10", "--samples", "100000")


def test_case_parallel_load_is_consistent(courts: dict[str, Court]) -> None:
    from django.db import connection

    from zhixing.cases import demo_data, services

    if connection.vendor != "postgresql":
        pytest.skip("worker processes write COPY text, which only PostgreSQL reads")
    load = demo_data.load_cases(800, seed=7, parallel=True)
    assert load.workers == 2
    assert load.cases == 800
    assert EnforcementCase.objects.count() == 800
    assert FlowNode.objects.count() == load.flow_nodes
    assert Party.objects.count() == load.parties
    assert len(set(EnforcementCase.objects.values_list("case_number", flat=True))) == 800
    tops = EnforcementCase.objects.values("court", "type_code", "year").annotate(
        top=Max("sequence")
    )
    assert {(row["court"], row["type_code"], row["year"], row["top"]) for row in tops} == set(
        CaseSequence.objects.values_list("court", "type_code", "year", "last_sequence")
    )
    for case in EnforcementCase.objects.order_by("?")[:80]:
        stored = (case.handling_due_on, case.next_due_on, case.next_due_rule, case.claim_amount)
        services.refresh_deadlines(case)
        case.refresh_from_db()
        assert (
            case.handling_due_on,
            case.next_due_on,
            case.next_due_rule,
            case.claim_amount,
        ) == stored


def test_cleanup_raises_while_cases_referenced(courts: dict[str, Court], monkeypatch) -> None:
    from django.core.management.base import CommandError
    from django.db import connection

    from zhixing.measures.models import FurtherNumberSequence

    if connection.vendor != "postgresql":
        pytest.skip("the clean-up sets keys aside only on PostgreSQL")
    original = bench._measure

    def measure_and_refer(*args, **options):
        # Another table starts referring to one of the benchmark's cases during the run.
        case = EnforcementCase.objects.order_by("id").first()
        FurtherNumberSequence.objects.create(case=case)
        return original(*args, **options)

    monkeypatch.setattr(bench, "_measure", measure_and_refer)
    with pytest.raises(
        CommandError, match="measures_furthernumbersequence refer to them"
    ) as raised:
        run_bench("--cases", "60", "--samples", "5", "--seed", "5")
    assert "--keep" in str(raised.value)
    assert EnforcementCase.objects.count() == 60
