"""Unit tests of the deadline rules and of computing the deadlines of an enforcement case."""

# The rule sources under test quote document numbers with full-width (tortoise shell) brackets.

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhixing.cases import deadlines as deadlines_module
from zhixing.cases.deadlines import (
    RULES,
    CaseDates,
    CaseKind,
    DayCount,
    Deadline,
    DeadlineRule,
    Extension,
    LengthUnit,
    Period,
    StartEvent,
    add_days,
    add_months,
    compute_deadlines,
    select_rules,
)

# A handling period for general cases that a later rule, not in RULES, shortens to 4 months.
LATER_HANDLING_PERIOD = DeadlineRule(
    rule_id="handling_period",
    label="Handling period",
    start_event=StartEvent.FILED,
    length=4,
    unit=LengthUnit.MONTHS,
    effective_from=date(2030, 1, 1),
    case_kinds=frozenset({CaseKind.GENERAL}),
    suspendable=True,
    source="synthetic rule for tests",
)


def deadline_for(
    case: CaseDates,
    rule_id: str,
    *,
    today: date | None = None,
    done: Mapping[str, date] | None = None,
    rules: Sequence[DeadlineRule] = RULES,
    due_soon_days: int = 7,
) -> Deadline:
    """Compute the deadlines of ``case`` (by default on its filing day) and return one."""
    found = [
        deadline
        for deadline in compute_deadlines(
            case,
            today=today or case.filed_on,
            done=done or {},
            rules=rules,
            due_soon_days=due_soon_days,
        )
        if deadline.rule_id == rule_id
    ]
    assert len(found) == 1
    return found[0]


def handling_end(case: CaseDates, today: date | None = None) -> date:
    return deadline_for(case, "handling_period", today=today or case.filed_on).due_on


# Rule table.


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.rule_id)
def test_rule_in_force_from_2007(rule: DeadlineRule) -> None:
    assert rule.effective_from == date(2007, 1, 1)
    assert rule.effective_to is None
    assert "法发〔2006〕35号" in rule.source


def test_rules_cover_both_case_kinds() -> None:
    for kind in CaseKind:
        ids = [rule.rule_id for rule in select_rules(RULES, kind, date(2024, 1, 1))]
        assert ids == [
            "handling_period",
            "assign_officer",
            "enforcement_notice",
            "verify_asset_leads",
            "asset_investigation",
        ]


def test_only_handling_period_suspendable() -> None:
    assert {rule.rule_id for rule in RULES if rule.suspendable} == {"handling_period"}


def test_module_imports_no_django() -> None:
    tree = ast.parse(Path(deadlines_module.__file__).read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.split(".")[0] == "django"]


# Each rule.


def test_handling_period_six_months() -> None:
    assert handling_end(CaseDates(filed_on=date(2024, 3, 15))) == date(2024, 9, 15)


def test_handling_period_non_litigation_three_months() -> None:
    case = CaseDates(filed_on=date(2024, 3, 15), non_litigation=True)
    assert handling_end(case) == date(2024, 6, 15)


def test_assign_officer_seven_days() -> None:
    deadline = deadline_for(CaseDates(filed_on=date(2024, 3, 1)), "assign_officer")
    assert deadline.due_on == date(2024, 3, 8)
    assert deadline.label == "Assign a case officer"


def test_enforcement_notice_from_file_receipt() -> None:
    case = CaseDates(
        filed_on=date(2024, 3, 1),
        officer_assigned_on=date(2024, 3, 4),
        file_received_on=date(2024, 3, 6),
    )
    assert deadline_for(case, "enforcement_notice").due_on == date(2024, 3, 9)


def test_enforcement_notice_from_assignment() -> None:
    case = CaseDates(filed_on=date(2024, 3, 1), officer_assigned_on=date(2024, 3, 4))
    assert deadline_for(case, "enforcement_notice").due_on == date(2024, 3, 7)


def test_enforcement_notice_absent_without_officer() -> None:
    ids = [
        item.rule_id
        for item in compute_deadlines(CaseDates(filed_on=date(2024, 3, 1)), today=date(2024, 3, 1))
    ]
    assert "enforcement_notice" not in ids


def test_verify_asset_leads_five_days() -> None:
    case = CaseDates(filed_on=date(2024, 3, 1), asset_leads_received_on=date(2024, 3, 27))
    assert deadline_for(case, "verify_asset_leads").due_on == date(2024, 4, 1)


def test_verify_asset_leads_absent_without_leads() -> None:
    ids = [
        item.rule_id
        for item in compute_deadlines(CaseDates(filed_on=date(2024, 3, 1)), today=date(2024, 3, 1))
    ]
    assert "verify_asset_leads" not in ids


def test_asset_investigation_one_month() -> None:
    case = CaseDates(filed_on=date(2024, 4, 10))
    assert deadline_for(case, "asset_investigation").due_on == date(2024, 5, 10)


def test_case_filed_before_2007_has_no_deadlines() -> None:
    assert compute_deadlines(CaseDates(filed_on=date(2006, 12, 31)), today=date(2007, 1, 5)) == []


# Month-end arithmetic and leap years.


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 1, 30), 1, date(2024, 2, 29)),
        (date(2024, 3, 31), 6, date(2024, 9, 30)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 10, 15), 3, date(2025, 1, 15)),
        (date(1900, 1, 31), 1, date(1900, 2, 28)),
        (date(2000, 1, 31), 1, date(2000, 2, 29)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_handling_period_ends_on_month_end() -> None:
    assert handling_end(CaseDates(filed_on=date(2023, 8, 31))) == date(2024, 2, 29)


def test_asset_investigation_ends_on_leap_day() -> None:
    case = CaseDates(filed_on=date(2024, 1, 31))
    assert deadline_for(case, "asset_investigation").due_on == date(2024, 2, 29)


def test_add_days_skips_start_day() -> None:
    assert add_days(date(2024, 2, 28), 1) == date(2024, 2, 29)


def test_add_working_days_skips_weekend() -> None:
    # 1 March 2024 is a Friday.
    assert add_days(date(2024, 3, 1), 1, DayCount.WORKING) == date(2024, 3, 4)
    assert add_days(date(2024, 3, 1), 5, DayCount.WORKING) == date(2024, 3, 8)


def test_working_day_rule_in_custom_table() -> None:
    rule = DeadlineRule(
        rule_id="register_petition",
        label="Register the petition",
        start_event=StartEvent.FILED,
        length=5,
        unit=LengthUnit.DAYS,
        day_count=DayCount.WORKING,
        effective_from=date(2020, 1, 1),
        case_kinds=frozenset(CaseKind),
        source="synthetic rule for tests",
    )
    (deadline,) = compute_deadlines(
        CaseDates(filed_on=date(2024, 3, 1)), today=date(2024, 3, 1), rules=[rule]
    )
    assert deadline.due_on == date(2024, 3, 8)


# Suspensions.


def test_closed_suspension_pushes_end() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        suspensions=(Period(date(2024, 2, 1), date(2024, 2, 10)),),
    )
    assert handling_end(case) == date(2024, 7, 20)


def test_open_suspension_counts_up_to_today() -> None:
    case = CaseDates(filed_on=date(2024, 1, 10), suspensions=(Period(date(2024, 2, 1), None),))
    assert handling_end(case, today=date(2024, 2, 5)) == date(2024, 7, 15)


def test_open_suspension_starting_after_today() -> None:
    case = CaseDates(filed_on=date(2024, 1, 10), suspensions=(Period(date(2024, 3, 1), None),))
    assert handling_end(case, today=date(2024, 2, 5)) == date(2024, 7, 10)


def test_overlapping_suspensions_count_once() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        suspensions=(
            Period(date(2024, 2, 5), date(2024, 2, 14)),
            Period(date(2024, 2, 1), date(2024, 2, 10)),
        ),
    )
    assert handling_end(case) == date(2024, 7, 24)


def test_nested_suspension_counts_once() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        suspensions=(
            Period(date(2024, 2, 1), date(2024, 2, 10)),
            Period(date(2024, 2, 3), date(2024, 2, 4)),
        ),
    )
    assert handling_end(case) == date(2024, 7, 20)


def test_suspension_on_filing_day_skips_that_day() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        suspensions=(Period(date(2024, 1, 10), date(2024, 1, 12)),),
    )
    assert handling_end(case) == date(2024, 7, 12)


def test_suspension_after_period_ran_out_ignored() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        suspensions=(Period(date(2024, 8, 1), date(2024, 8, 10)),),
    )
    assert handling_end(case) == date(2024, 7, 10)


def test_suspension_on_last_day_counts() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        suspensions=(Period(date(2024, 7, 10), date(2024, 7, 12)),),
    )
    assert handling_end(case) == date(2024, 7, 13)


def test_suspension_before_filing_rejected() -> None:
    with pytest.raises(ValueError, match=r"suspensions\[0\]\.start 2024-01-09 is before filed_on"):
        CaseDates(
            filed_on=date(2024, 1, 10),
            suspensions=(Period(date(2024, 1, 9), date(2024, 1, 20)),),
        )


def test_suspension_ending_before_start_rejected() -> None:
    with pytest.raises(ValueError, match=r"end 2024-02-01 of the period is before its start"):
        Period(date(2024, 2, 5), date(2024, 2, 1))


def test_suspension_leaves_other_deadlines() -> None:
    plain = CaseDates(filed_on=date(2024, 1, 10), officer_assigned_on=date(2024, 1, 12))
    suspended = dataclasses.replace(
        plain,
        suspensions=(Period(date(2024, 1, 11), date(2024, 3, 1)),),
        extensions=(Extension(months=1, approved_on=date(2024, 6, 1)),),
    )
    for rule_id in ("assign_officer", "enforcement_notice", "asset_investigation"):
        assert deadline_for(suspended, rule_id).due_on == deadline_for(plain, rule_id).due_on


# Extensions.


def test_extension_in_months() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        extensions=(Extension(months=3, approved_on=date(2024, 7, 5)),),
    )
    assert handling_end(case) == date(2024, 10, 10)


def test_extension_in_days() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        extensions=(Extension(days=30, approved_on=date(2024, 7, 5)),),
    )
    assert handling_end(case) == date(2024, 8, 9)


def test_extension_months_then_days() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        extensions=(Extension(months=1, days=5, approved_on=date(2024, 7, 5)),),
    )
    assert handling_end(case) == date(2024, 8, 15)


def test_two_extensions_add_up() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        extensions=(
            Extension(months=1, approved_on=date(2024, 8, 5)),
            Extension(months=2, approved_on=date(2024, 7, 5)),
        ),
    )
    assert handling_end(case) == date(2024, 10, 10)


def test_extension_added_after_suspension_shift() -> None:
    # 6 months from 31 March end on 30 September, and the suspended day moves that to 1 October.
    # The month of extension then ends on 1 November, not on 31 October.
    case = CaseDates(
        filed_on=date(2024, 3, 31),
        suspensions=(Period(date(2024, 4, 2), date(2024, 4, 2)),),
        extensions=(Extension(months=1, approved_on=date(2024, 9, 20)),),
    )
    assert handling_end(case) == date(2024, 11, 1)


def test_suspension_during_extension_counts() -> None:
    case = CaseDates(
        filed_on=date(2024, 1, 10),
        suspensions=(Period(date(2024, 7, 20), date(2024, 7, 29)),),
        extensions=(Extension(months=1, approved_on=date(2024, 7, 1)),),
    )
    assert handling_end(case) == date(2024, 8, 20)


def test_extension_without_length_rejected() -> None:
    with pytest.raises(ValueError, match="has neither days nor months"):
        Extension(approved_on=date(2024, 7, 5))


@pytest.mark.parametrize("field", ["days", "months"])
def test_extension_of_zero_rejected(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} of an extension is 0"):
        Extension(approved_on=date(2024, 7, 5), **{field: 0})  # type: ignore[arg-type]


def test_extension_before_filing_rejected() -> None:
    with pytest.raises(ValueError, match=r"extensions\[0\]\.approved_on"):
        CaseDates(
            filed_on=date(2024, 1, 10),
            extensions=(Extension(months=1, approved_on=date(2024, 1, 9)),),
        )


@pytest.mark.parametrize(
    "field", ["officer_assigned_on", "file_received_on", "asset_leads_received_on"]
)
def test_date_before_filing_rejected(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} 2024-01-09 is before filed_on 2024-01-10"):
        CaseDates(filed_on=date(2024, 1, 10), **{field: date(2024, 1, 9)})  # type: ignore[arg-type]


# Statuses.

FILED = date(2024, 3, 1)
ASSIGN_DUE = date(2024, 3, 8)


def assign_status(today: date, done_on: date | None = None, due_soon_days: int = 7) -> str:
    done = {} if done_on is None else {"assign_officer": done_on}
    deadline = deadline_for(
        CaseDates(filed_on=FILED),
        "assign_officer",
        today=today,
        done=done,
        due_soon_days=due_soon_days,
    )
    return deadline.status


def test_status_done_on_due_date() -> None:
    assert assign_status(date(2024, 3, 20), done_on=ASSIGN_DUE) == "done"


def test_status_done_late() -> None:
    assert assign_status(date(2024, 3, 20), done_on=date(2024, 3, 9)) == "done_late"


def test_done_date_reported() -> None:
    deadline = deadline_for(
        CaseDates(filed_on=FILED),
        "assign_officer",
        today=date(2024, 3, 20),
        done={"assign_officer": date(2024, 3, 4)},
    )
    assert deadline.done_on == date(2024, 3, 4)


def test_status_open_before_due_soon_window() -> None:
    assert assign_status(FILED, due_soon_days=6) == "open"


def test_status_due_soon_boundary() -> None:
    assert assign_status(ASSIGN_DUE - timedelta(days=7)) == "due_soon"
    assert assign_status(ASSIGN_DUE - timedelta(days=3), due_soon_days=2) == "open"
    assert assign_status(ASSIGN_DUE - timedelta(days=2), due_soon_days=2) == "due_soon"


def test_status_due_soon_on_due_date() -> None:
    assert assign_status(ASSIGN_DUE, due_soon_days=0) == "due_soon"


def test_status_overdue_day_after() -> None:
    assert assign_status(ASSIGN_DUE + timedelta(days=1)) == "overdue"


def test_handling_period_done_when_closed() -> None:
    deadline = deadline_for(
        CaseDates(filed_on=date(2024, 1, 10)),
        "handling_period",
        today=date(2024, 12, 1),
        done={"handling_period": date(2024, 6, 30)},
    )
    assert deadline.status == "done"


def test_unknown_done_rule_rejected() -> None:
    with pytest.raises(ValueError, match="done names rule 'assign_oficer'"):
        compute_deadlines(CaseDates(filed_on=FILED), today=FILED, done={"assign_oficer": FILED})


def test_done_before_filing_rejected() -> None:
    with pytest.raises(ValueError, match=r"done\['assign_officer'\] 2024-02-29"):
        compute_deadlines(
            CaseDates(filed_on=FILED), today=FILED, done={"assign_officer": date(2024, 2, 29)}
        )


def test_today_before_filing_rejected() -> None:
    with pytest.raises(ValueError, match="today 2024-02-29 is before filed_on"):
        compute_deadlines(CaseDates(filed_on=FILED), today=date(2024, 2, 29))


def test_negative_due_soon_days_rejected() -> None:
    with pytest.raises(ValueError, match="due_soon_days is -1"):
        compute_deadlines(CaseDates(filed_on=FILED), today=FILED, due_soon_days=-1)


# Rule selection by effective date.


def test_later_rule_applies_from_its_effective_date() -> None:
    rules = (*RULES, LATER_HANDLING_PERIOD)
    case = CaseDates(filed_on=date(2030, 1, 1))
    assert deadline_for(case, "handling_period", rules=rules).due_on == date(2030, 5, 1)


def test_earlier_case_keeps_its_rule() -> None:
    rules = (*RULES, LATER_HANDLING_PERIOD)
    case = CaseDates(filed_on=date(2029, 12, 31))
    assert deadline_for(case, "handling_period", rules=rules).due_on == date(2030, 6, 30)


def test_later_rule_leaves_other_kinds() -> None:
    rules = (LATER_HANDLING_PERIOD, *RULES)
    case = CaseDates(filed_on=date(2030, 3, 1), non_litigation=True)
    assert deadline_for(case, "handling_period", rules=rules).due_on == date(2030, 6, 1)


def test_rule_not_in_force_after_effective_to() -> None:
    ended = dataclasses.replace(RULES[2], effective_to=date(2029, 12, 31))
    rules = [ended]
    assert (
        compute_deadlines(CaseDates(filed_on=date(2030, 1, 1)), today=date(2030, 1, 1), rules=rules)
        == []
    )
    assert (
        len(
            compute_deadlines(
                CaseDates(filed_on=date(2029, 12, 31)), today=date(2029, 12, 31), rules=rules
            )
        )
        == 1
    )


def test_same_effective_date_twice_rejected() -> None:
    twin = dataclasses.replace(RULES[0], length=5)
    with pytest.raises(ValueError, match="two versions of handling_period"):
        compute_deadlines(CaseDates(filed_on=FILED), today=FILED, rules=(*RULES, twin))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rule_id": ""}, "rule_id of a deadline rule must not be empty"),
        ({"length": 0}, "length of rule assign_officer is 0"),
        ({"case_kinds": frozenset()}, "case_kinds of rule assign_officer"),
        ({"effective_to": date(2006, 12, 31)}, "effective_to 2006-12-31 of rule assign_officer"),
        (
            {"unit": LengthUnit.MONTHS, "day_count": DayCount.WORKING},
            "day_count of rule assign_officer is working days",
        ),
    ],
)
def test_invalid_rule_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(RULES[2], **changes)  # type: ignore[arg-type]


# Properties.

filing_dates = st.dates(min_value=date(2007, 1, 1), max_value=date(2040, 12, 31))
offsets = st.integers(min_value=0, max_value=400)


@st.composite
def suspensions(draw: st.DrawFn, filed_on: date) -> Period:
    start = filed_on + timedelta(days=draw(offsets))
    length = draw(st.none() | st.integers(min_value=0, max_value=200))
    return Period(start, None if length is None else start + timedelta(days=length))


@st.composite
def cases(draw: st.DrawFn) -> CaseDates:
    filed_on = draw(filing_dates)

    def optional_date() -> date | None:
        offset = draw(st.none() | offsets)
        return None if offset is None else filed_on + timedelta(days=offset)

    return CaseDates(
        filed_on=filed_on,
        non_litigation=draw(st.booleans()),
        officer_assigned_on=optional_date(),
        file_received_on=optional_date(),
        asset_leads_received_on=optional_date(),
        suspensions=tuple(draw(st.lists(suspensions(filed_on), max_size=4))),
        extensions=tuple(
            Extension(
                days=draw(st.none() | st.integers(min_value=1, max_value=90)),
                months=draw(st.integers(min_value=1, max_value=3)),
                approved_on=filed_on + timedelta(days=draw(offsets)),
            )
            for _ in range(draw(st.integers(min_value=0, max_value=2)))
        ),
    )


def start_of(case: CaseDates, rule_id: str) -> date | None:
    if rule_id == "enforcement_notice":
        return case.file_received_on or case.officer_assigned_on
    if rule_id == "verify_asset_leads":
        return case.asset_leads_received_on
    return case.filed_on


@given(cases(), offsets)
def test_due_date_after_start(case: CaseDates, days_since_filing: int) -> None:
    today = case.filed_on + timedelta(days=days_since_filing)
    for deadline in compute_deadlines(case, today=today):
        start = start_of(case, deadline.rule_id)
        assert start is not None
        assert deadline.due_on > start


@given(cases(), offsets, st.data())
def test_added_suspension_never_moves_end_earlier(
    case: CaseDates, days_since_filing: int, data: st.DataObject
) -> None:
    today = case.filed_on + timedelta(days=days_since_filing)
    extra = data.draw(suspensions(case.filed_on))
    longer = dataclasses.replace(case, suspensions=(*case.suspensions, extra))
    assert handling_end(longer, today) >= handling_end(case, today)


@given(filing_dates, st.integers(min_value=1, max_value=120))
def test_add_months_lands_in_target_month(start: date, months: int) -> None:
    result = add_months(start, months)
    assert result.year * 12 + result.month == start.year * 12 + start.month + months
    assert result.day <= start.day
