"""Further numbers (之N) shared by the rulings of measures and the decisions of applications."""

from __future__ import annotations

import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection, transaction

from zhixing.approvals import paperwork, services
from zhixing.approvals.models import Application, Kind, State
from zhixing.approvals.tests.conftest import NOW, TODAY, exit_input, run_to
from zhixing.measures.models import FurtherNumberSequence
from zhixing.measures.numbering import allocate_further_number

record_printed_numbers = importlib.import_module(
    "zhixing.approvals.migrations.0004_decision_number"
).record_printed_numbers


def test_measure_then_exit_restriction_distinct(case, staff, make_measure):
    measure = make_measure(case, "freeze")

    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    assert measure.ruling_number == "（2026）粤0104执1号之一"
    assert application.decision_number == "（2026）粤0104执1号之二"
    assert application.decision_sequence == 2


def test_exit_restriction_then_measure_distinct(case, staff, make_measure):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    measure = make_measure(case, "seize_real_estate")

    assert application.decision_number == "（2026）粤0104执1号之一"
    assert measure.ruling_number == "（2026）粤0104执1号之二"


def test_border_control_request_prints_decision(case, staff, make_measure, police):
    make_measure(case, "freeze")
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    context = paperwork.document_context(application, agency_name="广东省公安厅", today=TODAY)

    assert context["measure"]["decision_number"] == "（2026）粤0104执1号之二"
    assert context["ruling_number"] == "（2026）粤0104执1号之二"


def test_migration_reserves_legacy_decision(case, staff, make_measure):
    """An exit restriction drafted before numbers were stored printed 之二 and keeps it."""
    legacy = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    Application.objects.filter(pk=legacy.pk).update(
        state=State.REJECTED, decision_sequence=None, decision_number=""
    )
    FurtherNumberSequence.objects.filter(case=case).delete()

    record_printed_numbers(apps, None)
    measure = make_measure(case, "freeze")

    legacy.refresh_from_db()
    assert legacy.decision_sequence == 2
    assert legacy.decision_number == "（2026）粤0104执1号之二"
    assert measure.ruling_number == "（2026）粤0104执1号之三"


def test_number_after_measures_without_counter(case, staff, make_measure):
    make_measure(case, "freeze")
    make_measure(case, "seize_real_estate")
    FurtherNumberSequence.objects.filter(case=case).delete()

    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    assert application.decision_sequence == 3


def test_rejected_draft_keeps_number_unused(case, staff):
    first = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    run_to(first, staff, "submitted")
    services.reject(staff["head01"], first, comment="证据不足", now=NOW)

    second = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    assert first.decision_sequence == 1
    assert second.decision_sequence == 2
    assert second.kind == Kind.EXIT_RESTRICTION


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_allocations_distinct(case):
    barrier = threading.Barrier(6)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def allocate() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                numbers.append(allocate_further_number(case))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocate) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
    assert FurtherNumberSequence.objects.get(case=case).last_number == 6
