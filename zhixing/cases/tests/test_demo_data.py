"""Synthetic demo cases: valid identities, consistent flow, deadlines as the services compute."""

from __future__ import annotations

import datetime
import gc
import random
import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, Max

from zhixing.cases import demo_data, services
from zhixing.cases.case_numbers import parse_case_number
from zhixing.cases.identity import (
    DocumentType,
    check_document,
    check_uscc,
    gb11643_check_character,
)
from zhixing.cases.models import CaseParty, CaseSequence, EnforcementCase, FlowNode, Party
from zhixing.courts.models import Court, User
from zhixing.web import demo

pytestmark = pytest.mark.django_db


def test_unit_check_characters_match_the_identity_module() -> None:
    rng = random.Random(3)
    for _ in range(500):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        assert demo_data.resident_id_check_character(body) == gb11643_check_character(body)
    for _ in range(200):
        code = demo_data.make_credit_code("440104", f"{rng.randint(0, 99999999):08d}")
        assert check_uscc(code).check_ok
        assert check_document(DocumentType.USCC, code) == code


def test_unit_same_seed_gives_same_cases(courts: dict[str, Court]) -> None:
    def draw(seed: int) -> list[tuple[str, str, list[tuple[int, str]]]]:
        profiles = demo_data.court_profiles()
        generator = demo_data.CaseGenerator(profiles, seed=seed, today=datetime.date(2026, 6, 30))
        return [
            (case.case_number, str(case.claim_amount), case.parties)
            for batch in generator.batches(200, size=50)
            for case in batch.cases
        ]

    assert draw(11) == draw(11)
    assert draw(11) != draw(12)


@pytest.fixture
def demo_cases(courts: dict[str, Court]) -> demo_data.LoadResult:
    demo.create_demo_accounts()
    return demo_data.generate_demo_cases(600, seed=5)


def test_case_demo_data_is_valid_and_spread(demo_cases: demo_data.LoadResult) -> None:
    today = services.today_in_china()
    assert EnforcementCase.objects.count() == 600 == demo_cases.cases
    assert CaseParty.objects.count() == demo_cases.case_parties
    assert 2.2 <= demo_cases.case_parties / 600 <= 2.9
    for case in EnforcementCase.objects.all():
        assert parse_case_number(case.case_number).format() == case.case_number
        assert case.filed_on.year >= demo_data.FIRST_YEAR
        assert case.filed_on <= today
        case.full_clean(exclude=["parties"])
    statuses = Counter(EnforcementCase.objects.values_list("status", flat=True))
    assert set(statuses) == {"open", "suspended", "closed"}
    modes = Counter(EnforcementCase.objects.values_list("closing_mode", flat=True))
    assert modes["terminated_without_assets"] > modes["terminated"] > 0
    types = Counter(EnforcementCase.objects.values_list("type_code", flat=True))
    assert types["执"] > types["执恢"] > 0
    assert types["执保"] > 0
    amounts = sorted(EnforcementCase.objects.values_list("claim_amount", flat=True))
    assert amounts[0] < 10_000
    assert amounts[-1] > 1_000_000
    overdue = EnforcementCase.objects.exclude(status="closed").filter(next_due_on__lt=today)
    assert overdue.exists()
    # 终本 needs more than 3 months since filing.
    for case in EnforcementCase.objects.filter(closing_mode="terminated_without_assets"):
        assert case.closed_on is not None
        assert (case.closed_on - case.filed_on).days > 90


def test_case_parties_have_valid_documents_and_repeat(demo_cases: demo_data.LoadResult) -> None:
    for party in Party.objects.all():
        assert check_document(party.document_type, party.document_number) == party.document_number
        if party.kind == Party.Kind.PERSON:
            birth = datetime.date.fromisoformat(
                f"{party.document_number[6:10]}-{party.document_number[10:12]}-"
                f"{party.document_number[12:14]}"
            )
            assert party.birth_date == birth
            assert party.document_number[:2] == "44"
        else:
            assert party.name.endswith("有限公司")
    documents = Party.objects.values("document_type", "document_number")
    assert documents.annotate(n=Count("id")).filter(n__gt=1).count() == 0
    repeated = CaseParty.objects.filter(role="debtor").values("party").annotate(n=Count("case"))
    assert repeated.filter(n__gt=1).exists()
    for case in EnforcementCase.objects.prefetch_related("case_parties"):
        roles = {role.role for role in case.case_parties.all()}
        assert roles == {"applicant", "debtor"}


def test_case_officers_and_flow_are_consistent(demo_cases: demo_data.LoadResult) -> None:
    today = services.today_in_china()
    yx_officer = User.objects.get(username="yx_officer")
    assert EnforcementCase.objects.filter(case_officer=yx_officer).exists()
    generated = User.objects.filter(username__startswith="officer_")
    assert generated.exists()
    assert not any(user.has_usable_password() for user in generated)
    for case in EnforcementCase.objects.select_related("case_officer").prefetch_related("flow"):
        if case.case_officer is not None:
            assert case.case_officer.court_id == case.court_id
        nodes = list(case.flow.all())
        assert nodes[0].kind == FlowNode.Kind.FILED
        assert nodes[0].on == case.filed_on
        end = case.closed_on or today
        assert all(case.filed_on <= node.on <= end for node in nodes)
        closing = [node for node in nodes if node.kind == FlowNode.Kind.CLOSED]
        assert [node.on for node in closing] == ([case.closed_on] if case.closed_on else [])
        suspended = [node for node in nodes if node.kind == FlowNode.Kind.SUSPENDED]
        resumed = [node for node in nodes if node.kind == FlowNode.Kind.RESUMED]
        assert (case.status == "suspended") == (len(suspended) > len(resumed))


def test_case_bulk_deadlines_equal_refresh_deadlines(demo_cases: demo_data.LoadResult) -> None:
    sample = list(EnforcementCase.objects.order_by("?")[:120])
    sample += list(EnforcementCase.objects.exclude(status="closed")[:60])
    for case in sample:
        stored = (case.handling_due_on, case.next_due_on, case.next_due_rule)
        services.refresh_deadlines(case)
        case.refresh_from_db()
        assert (case.handling_due_on, case.next_due_on, case.next_due_rule) == stored, case


def test_case_sequences_continue_after_the_load(
    demo_cases: demo_data.LoadResult, courts: dict[str, Court]
) -> None:
    tops = EnforcementCase.objects.values("court", "type_code", "year").annotate(
        top=Max("sequence")
    )
    for row in tops:
        counter = CaseSequence.objects.get(
            court=row["court"], type_code=row["type_code"], year=row["year"]
        )
        assert counter.last_sequence == row["top"]
    court = courts["粤0104"]
    today = services.today_in_china()
    top = max(
        (
            row["top"]
            for row in tops
            if row["court"] == court.pk and row["type_code"] == "执" and row["year"] == today.year
        ),
        default=0,
    )
    case = services.file_case(
        actor=None,
        court=court,
        filed_on=today,
        basis_kind="judgment",
        applicants=[services.PartyInput(name="甲", kind="organisation")],
        debtors=[services.PartyInput(name="乙")],
        claim_amount="1000",
    )
    assert case.sequence == top + 1


def test_case_demo_command_generates_cases_once(courts: dict[str, Court]) -> None:
    from io import StringIO

    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    assert f"{demo_data.DEMO_CASES} demo cases generated" in out.getvalue()
    again = StringIO()
    call_command("demo", "--no-serve", stdout=again)
    assert "none generated" in again.getvalue()
    assert EnforcementCase.objects.count() == demo_data.DEMO_CASES


def test_unit_number_maker_matches_plain_functions() -> None:
    numbers = demo_data.NumberMaker()
    rng = random.Random(8)
    for _ in range(2000):
        region = rng.choice(["440104", "441900", "445302", "440304"])
        ordinal = rng.randint(
            datetime.date(1950, 1, 1).toordinal(), datetime.date(2004, 1, 1).toordinal()
        )
        birth = numbers.birth(ordinal)
        sequence = rng.randint(0, 999)
        number = numbers.resident_id(region, birth, sequence)
        assert number == demo_data.make_resident_id(region, birth[0], sequence)
        assert check_document(DocumentType.RESIDENT_ID, number) == number
        body = rng.randint(0, 99_999_999)
        code = numbers.credit_code(region, body)
        assert code == demo_data.make_credit_code(region, f"{body:08d}")
        assert check_uscc(code).check_ok


def test_unit_copy_escape_and_null() -> None:
    assert demo_data.copy_escape("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert demo_data.copy_escape("广州市顺达贸易有限公司") == "广州市顺达贸易有限公司"
    formatter = demo_data.CopyFormatter(
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), escape=True
    )
    assert formatter.day(None) == "\\N"
    assert formatter.day(datetime.date(2026, 1, 2)) == "2026-01-02"


def test_unit_cached_deadlines_equal_computed(courts: dict[str, Court]) -> None:
    today = datetime.date(2026, 6, 30)
    generator = demo_data.CaseGenerator(demo_data.court_profiles(), seed=6, today=today)
    cases = [case for batch in generator.batches(4000, size=1000) for case in batch.cases]
    assert len(generator.deadline_cache) < len(cases)  # the cache was used
    for case in cases:
        stored = (case.handling_due_on, case.next_due_on, case.next_due_rule)
        assert demo_data.deadline_fields(case, today) == stored, case.case_number


def _plan(count: int, seed: int = 9) -> list[tuple[demo_data.CaseGenerator, int]]:
    return demo_data.plan_streams(
        demo_data.court_profiles(),
        count,
        seed=seed,
        today=datetime.date(2026, 6, 30),
        first_case_id=101,
        first_party_id=501,
        sequences={},
        used_documents=set(),
        streams=2,
    )


def test_unit_streams_split_courts_and_ids(courts: dict[str, Court]) -> None:
    plan = _plan(900)
    assert len(plan) == 2
    assert sum(count for _generator, count in plan) == 900
    cities = [{court.city for court in generator.courts.items} for generator, _count in plan]
    assert not cities[0] & cities[1]
    cases, parties = [], []
    for generator, count in plan:
        for batch in generator.batches(count, size=200):
            cases += batch.cases
            parties += batch.parties
    assert sorted(case.id for case in cases) == list(range(101, 1001))
    assert len({party.id for party in parties}) == len(parties)
    assert len({party.document_number for party in parties}) == len(parties)
    assert len({case.case_number for case in cases}) == len(cases)
    # Each court's numbers follow its filing days.
    by_court: dict[tuple[int, str, int], list[demo_data.GeneratedCase]] = {}
    for case in cases:
        by_court.setdefault((case.court_id, case.type_code, case.year), []).append(case)
    for numbered in by_court.values():
        numbered.sort(key=lambda case: case.sequence)
        assert [case.sequence for case in numbered] == list(range(1, len(numbered) + 1))
        assert [case.filed_on for case in numbered] == sorted(case.filed_on for case in numbered)


def test_unit_workers_make_same_copy_text(courts: dict[str, Court]) -> None:
    now = datetime.datetime(2026, 6, 30, 2, tzinfo=datetime.UTC)

    def lines(parallel: bool) -> list[list[bytes]]:
        formatter = demo_data.CopyFormatter(now, escape=False)
        samples = demo_data._Samples()
        make = demo_data._parallel_chunks if parallel else demo_data._serial_chunks
        tables: list[list[bytes]] = [[], [], [], []]
        for chunk in make(_plan(700), 150, formatter, samples):
            assert chunk.copy is not None
            for table, data in zip(tables, chunk.copy, strict=True):
                table += data.splitlines()
        assert samples.touched
        return [sorted(table) for table in tables]

    serial = lines(parallel=False)
    assert lines(parallel=True) == serial
    parties, cases, case_parties, flow = serial
    assert len(cases) == 700
    assert all(len(line.split(b"\t")) == len(demo_data.CASE_FIELDS) for line in cases)
    assert all(len(line.split(b"\t")) == len(demo_data.PARTY_FIELDS) for line in parties)
    assert all(len(line.split(b"\t")) == len(demo_data.FLOW_FIELDS) for line in flow)
    assert 2.2 <= len(case_parties) / 700 <= 2.9


def test_unit_collector_paused_then_restored() -> None:
    inside = []
    with demo_data._cyclic_gc_paused():
        inside.append(gc.isenabled())
    assert inside == [False]
    assert gc.isenabled()
    with pytest.raises(RuntimeError), demo_data._cyclic_gc_paused():
        raise RuntimeError("stops the load")
    assert gc.isenabled()
    gc.disable()
    try:
        with demo_data._cyclic_gc_paused():
            pass
        assert not gc.isenabled(), "a caller that paused the collector keeps it paused"
    finally:
        gc.enable()


def test_case_load_writes_with_collector_paused(
    courts: dict[str, Court], monkeypatch: pytest.MonkeyPatch
) -> None:
    states: list[bool] = []
    write = demo_data.BulkWriter.write

    def recording_write(self: demo_data.BulkWriter, chunk: demo_data.Chunk) -> None:
        states.append(gc.isenabled())
        write(self, chunk)

    monkeypatch.setattr(demo_data.BulkWriter, "write", recording_write)
    result = demo_data.load_cases(120, seed=9, batch_size=50)
    assert result.cases == EnforcementCase.objects.count() == 120
    assert states == [False, False, False]
    assert gc.isenabled()


def test_unit_worker_stops_when_loader_gone(courts: dict[str, Court], monkeypatch) -> None:
    import multiprocessing
    import os

    generator, count = _plan(400)[0]
    formatter = demo_data.CopyFormatter(
        datetime.datetime(2026, 6, 30, tzinfo=datetime.UTC), escape=False
    )
    queue = multiprocessing.get_context("fork").Queue(maxsize=1)
    queue.put(("chunk", None))  # full, with no reader
    parents = iter([os.getppid(), 1])
    monkeypatch.setattr(os, "getppid", lambda: next(parents, 1))
    monkeypatch.setattr(demo_data, "WORKER_WAIT_SECONDS", 0.05)

    # Returns instead of waiting for a reader that will never come.
    worker = threading.Thread(
        target=demo_data._produce, args=(generator, count, 100, formatter, queue), daemon=True
    )
    worker.start()
    worker.join(timeout=10)

    assert not worker.is_alive()
    assert queue.get(timeout=1) == ("chunk", None)
    queue.close()
