"""Deadlines (期限) of an enforcement case, computed from a table of dated rules.

Each :class:`DeadlineRule` sets how long a step may take, from which event it counts, for which
kinds of case and during which dates it is in force. :func:`compute_deadlines` picks, for every
rule identifier, the version in force on the day the case was filed (立案), so a later rule applies
to cases filed on or after its ``effective_from`` and older cases keep the rule of their filing day.

Counting follows the general rules on periods. The day of the starting event is not counted
(Civil Code art. 201; Civil Procedure Law art. 82 in the 2017 text), so 7 days from a filing on
1 March end on 8 March. A period of months ends on the same day of the month in the target month,
or on the last day of that month when it has no such day (Civil Code art. 202): 6 months from
31 August 2023 end on 29 February 2024.

Only the handling period (审限) is changed by suspensions and extensions: suspended days push its
end back one day each, and approved extensions are added after that shift. The internal
step deadlines run from their own events and ignore both.

This module imports nothing from Django, so that it can run wherever case dates are at hand.
"""

# The sources quote rules in Chinese, with full-width punctuation and 〔〕 brackets, so ruff's
# warnings about confusable characters do not apply to this file.
# ruff: noqa: RUF002, RUF003

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

# ``not_applicable`` marks a step still undone when its case closed. compute_deadlines never
# returns it; the case services set it, because a closed case has no pending steps.
DeadlineStatus = Literal["done", "done_late", "open", "due_soon", "overdue", "not_applicable"]

# Date from which the rules of 法发〔2006〕35号 apply: a reproduction of the rules on govwq.com
# (article 17464) states 自2007年1月1日起施行. Another reproduction (cehavas.com, law id 184250)
# dates the covering notice 二○○六年十二月二十三日.
# NOTE: both are third-party copies; the date is not checked against the Supreme People's
# Court's own publication.
RULES_2006_EFFECTIVE_FROM = date(2007, 1, 1)


class CaseKind(StrEnum):
    """Kind of enforcement case, as far as the time limits tell kinds apart."""

    # Enforcement of judgments, rulings, mediation statements, arbitral awards and other titles.
    GENERAL = "general"
    # Non-litigation enforcement (非诉执行), for example of an administrative decision.
    NON_LITIGATION = "non_litigation"


class StartEvent(StrEnum):
    """Event from which a deadline counts."""

    FILED = "filed"
    # The case officer receives the file. When the receipt date is unknown, the date the officer
    # was assigned is used instead.
    FILE_RECEIVED = "file_received"
    ASSET_LEADS_RECEIVED = "asset_leads_received"


class LengthUnit(StrEnum):
    MONTHS = "months"
    DAYS = "days"


class DayCount(StrEnum):
    """Kind of day that a period of days counts: every calendar day, or working days only."""

    CALENDAR = "calendar"
    # NOTE: working days skip Saturdays and Sundays only, because public holidays and the
    # weekend days worked in exchange (调休) are not known here. No rule in RULES counts working
    # days; give this module a holiday calendar before one does.
    WORKING = "working"


@dataclass(frozen=True)
class DeadlineRule:
    """One version of a time limit, in force for cases filed from ``effective_from`` on.

    ``effective_to`` is the last filing date the version applies to, or None while it is in
    force. Versions that share a ``rule_id`` replace one another: for a given filing date and case
    kind the version with the latest ``effective_from`` in force wins. ``suspendable`` marks the
    handling period, the only rule whose end moves with suspensions and extensions.
    """

    rule_id: str
    label: str
    start_event: StartEvent
    length: int
    unit: LengthUnit
    effective_from: date
    case_kinds: frozenset[CaseKind]
    source: str
    day_count: DayCount = DayCount.CALENDAR
    effective_to: date | None = None
    suspendable: bool = False

    def __post_init__(self) -> None:
        if not self.rule_id:
            raise ValueError("rule_id of a deadline rule must not be empty")
        if self.length < 1:
            raise ValueError(f"length of rule {self.rule_id} is {self.length}, expected 1 or more")
        if self.unit is LengthUnit.MONTHS and self.day_count is DayCount.WORKING:
            raise ValueError(
                f"day_count of rule {self.rule_id} is working days, which only a length in days "
                "can count"
            )
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} of rule {self.rule_id} is before its "
                f"effective_from {self.effective_from}"
            )
        if not self.case_kinds:
            raise ValueError(f"case_kinds of rule {self.rule_id} must name at least one kind")

    def in_force_on(self, day: date) -> bool:
        """Whether this version applies to cases filed on ``day``."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


_BOTH_KINDS = frozenset(CaseKind)

_SOURCE_2006 = "《最高人民法院关于人民法院办理执行案件若干期限的规定》(法发〔2006〕35号附件2)"

RULES: tuple[DeadlineRule, ...] = (
    DeadlineRule(
        rule_id="handling_period",
        label="Handling period",
        start_event=StartEvent.FILED,
        length=6,
        unit=LengthUnit.MONTHS,
        effective_from=RULES_2006_EFFECTIVE_FROM,
        case_kinds=frozenset({CaseKind.GENERAL}),
        suspendable=True,
        source=(
            f"{_SOURCE_2006}第一条：被执行人有财产可供执行的案件，一般应当在立案之日起6个月内执结；"
            "延长须报请本院院长或副院长批准，并在期限届满前5日内提出。"
            "《最高人民法院关于严格执行案件审理期限制度的若干规定》(法释〔2000〕29号)第五条同为六个月，"
            "第九条：中止执行至恢复执行的期间、暂缓执行的期间不计入执行期限。"
        ),
    ),
    DeadlineRule(
        rule_id="handling_period",
        label="Handling period",
        start_event=StartEvent.FILED,
        length=3,
        unit=LengthUnit.MONTHS,
        effective_from=RULES_2006_EFFECTIVE_FROM,
        case_kinds=frozenset({CaseKind.NON_LITIGATION}),
        suspendable=True,
        source=(
            f"{_SOURCE_2006}第一条：非诉执行案件一般应当在立案之日起3个月内执结；"
            "延长与不计入期限的期间同上。"
        ),
    ),
    DeadlineRule(
        rule_id="assign_officer",
        label="Assign a case officer",
        start_event=StartEvent.FILED,
        length=7,
        unit=LengthUnit.DAYS,
        effective_from=RULES_2006_EFFECTIVE_FROM,
        case_kinds=_BOTH_KINDS,
        source=f"{_SOURCE_2006}第二条：人民法院应当在立案后7日内确定承办人。",
    ),
    DeadlineRule(
        rule_id="enforcement_notice",
        label="Send the enforcement notice",
        start_event=StartEvent.FILE_RECEIVED,
        length=3,
        unit=LengthUnit.DAYS,
        effective_from=RULES_2006_EFFECTIVE_FROM,
        case_kinds=_BOTH_KINDS,
        source=f"{_SOURCE_2006}第四条：承办人应当在收到案件材料后3日内向被执行人发出执行通知书。",
    ),
    DeadlineRule(
        rule_id="verify_asset_leads",
        label="Verify the applicant's asset leads",
        start_event=StartEvent.ASSET_LEADS_RECEIVED,
        length=5,
        unit=LengthUnit.DAYS,
        effective_from=RULES_2006_EFFECTIVE_FROM,
        case_kinds=_BOTH_KINDS,
        source=(
            f"{_SOURCE_2006}第六条：申请执行人提供了明确、具体的财产状况或财产线索的，"
            "承办人应当在申请执行人提供后5日内进行查证、核实。"
        ),
    ),
    # NOTE: the rule asks the officer to finish the asset investigation within
    # 1 month without naming the event it counts from; this table counts from filing. The
    # article number was not visible in the reproductions read, so the source omits it.
    DeadlineRule(
        rule_id="asset_investigation",
        label="Finish the asset investigation",
        start_event=StartEvent.FILED,
        length=1,
        unit=LengthUnit.MONTHS,
        effective_from=RULES_2006_EFFECTIVE_FROM,
        case_kinds=_BOTH_KINDS,
        source=(
            f"{_SOURCE_2006}：承办人一般应当在1个月内完成对被执行人收入、银行存款、不动产、车辆"
            "等资产状况的调查。"
        ),
    ),
)


@dataclass(frozen=True)
class Period:
    """Run of days, both ends included. ``end`` is None while the period is still running."""

    start: date
    end: date | None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} of the period is before its start {self.start}")


# Maximum extension of the handling period that one approval grants: 法释〔2000〕29号 art. 5
# allows the court president to extend it by 3 months.
MAX_EXTENSION_MONTHS = 3


@dataclass(frozen=True, kw_only=True)
class Extension:
    """An approved extension of the handling period (延长执行期限).

    The 2006 rules let the court's president or a vice-president approve it, and 法释〔2000〕29号
    art. 5 allows up to :data:`MAX_EXTENSION_MONTHS` months. This class checks neither the
    approver nor that limit; ``services.record_step`` rejects longer extensions. When both are
    given, the months are added before the days.
    """

    days: int | None = None
    months: int | None = None
    approved_on: date

    def __post_init__(self) -> None:
        if self.days is None and self.months is None:
            raise ValueError(
                f"extension approved on {self.approved_on} has neither days nor months"
            )
        for name, value in (("days", self.days), ("months", self.months)):
            if value is not None and value < 1:
                raise ValueError(f"{name} of an extension is {value}, expected 1 or more")


@dataclass(frozen=True)
class CaseDates:
    """The dates of an enforcement case that its deadlines count from.

    ``suspensions`` are the periods of suspension (中止执行) and deferral (暂缓执行) of the case.
    Every date must be on or after ``filed_on``.
    """

    filed_on: date
    non_litigation: bool = False
    officer_assigned_on: date | None = None
    file_received_on: date | None = None
    asset_leads_received_on: date | None = None
    suspensions: tuple[Period, ...] = ()
    extensions: tuple[Extension, ...] = ()

    def __post_init__(self) -> None:
        named_dates: list[tuple[str, date | None]] = [
            ("officer_assigned_on", self.officer_assigned_on),
            ("file_received_on", self.file_received_on),
            ("asset_leads_received_on", self.asset_leads_received_on),
        ]
        named_dates += [
            (f"suspensions[{index}].start", period.start)
            for index, period in enumerate(self.suspensions)
        ]
        named_dates += [
            (f"extensions[{index}].approved_on", extension.approved_on)
            for index, extension in enumerate(self.extensions)
        ]
        for name, value in named_dates:
            if value is not None and value < self.filed_on:
                raise ValueError(f"{name} {value} is before filed_on {self.filed_on}")

    @property
    def kind(self) -> CaseKind:
        return CaseKind.NON_LITIGATION if self.non_litigation else CaseKind.GENERAL


@dataclass(frozen=True)
class Deadline:
    """Due date of one step of a case, with the step's status on the day computed."""

    rule_id: str
    label: str
    due_on: date
    done_on: date | None
    status: DeadlineStatus


_NOTHING_DONE: Mapping[str, date] = MappingProxyType({})


def add_months(day: date, months: int) -> date:
    """Add calendar months, ending on the last day of the target month when it is shorter.

    31 January plus 1 month is 28 February, or 29 February in a leap year (Civil Code art. 202).
    """
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def add_days(day: date, days: int, day_count: DayCount = DayCount.CALENDAR) -> date:
    """Add days after ``day``, which itself is not counted; working days skip weekends."""
    if day_count is DayCount.CALENDAR:
        return day + timedelta(days=days)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            counted += 1
    return day


def select_rules(
    rules: Iterable[DeadlineRule], kind: CaseKind, filed_on: date
) -> list[DeadlineRule]:
    """Pick, per rule identifier, the version that applies to a case of ``kind`` filed that day.

    The result keeps the order in which identifiers first appear in ``rules``. An identifier
    with no version in force on ``filed_on`` is left out. Raises ``ValueError`` when two
    versions of one identifier for the same kind share an ``effective_from``, because neither
    would then replace the other.
    """
    chosen: dict[str, DeadlineRule | None] = {}
    for rule in rules:
        chosen.setdefault(rule.rule_id, None)
        if kind not in rule.case_kinds or not rule.in_force_on(filed_on):
            continue
        current = chosen[rule.rule_id]
        if current is not None and current.effective_from == rule.effective_from:
            raise ValueError(
                f"rules contain two versions of {rule.rule_id} for {kind} cases in force from "
                f"{rule.effective_from}"
            )
        if current is None or rule.effective_from > current.effective_from:
            chosen[rule.rule_id] = rule
    return [rule for rule in chosen.values() if rule is not None]


def compute_deadlines(
    case: CaseDates,
    *,
    today: date,
    done: Mapping[str, date] = _NOTHING_DONE,
    rules: Sequence[DeadlineRule] = RULES,
    due_soon_days: int = 7,
) -> list[Deadline]:
    """Compute the deadlines of ``case`` under the rules in force on its filing date.

    ``done`` maps rule identifiers to the day the step was completed; the handling period is done
    on the day the case was closed. A step that is not done is ``overdue`` after its due date,
    ``due_soon`` from ``due_soon_days`` days before it up to the due date, and ``open`` before
    that. A deadline whose starting event has no date yet (no file received or officer assigned,
    no asset leads) is left out. So is every rule with no version in force on the filing date:
    under RULES, a case filed before 2007 gets no deadlines.
    Raises ``ValueError`` naming the argument for a date before filing, an identifier in
    ``done`` that ``rules`` does not contain, or a negative ``due_soon_days``.
    """
    if today < case.filed_on:
        raise ValueError(f"today {today} is before filed_on {case.filed_on}")
    if due_soon_days < 0:
        raise ValueError(f"due_soon_days is {due_soon_days}, expected 0 or more")
    known_ids = {rule.rule_id for rule in rules}
    for rule_id, completed_on in done.items():
        if rule_id not in known_ids:
            raise ValueError(f"done names rule {rule_id!r}, which the rules do not contain")
        if completed_on < case.filed_on:
            raise ValueError(f"done[{rule_id!r}] {completed_on} is before filed_on {case.filed_on}")

    deadlines = []
    for rule in select_rules(rules, case.kind, case.filed_on):
        start = _start_date(case, rule.start_event)
        if start is None:
            continue
        due_on = _add_length(start, rule)
        if rule.suspendable:
            due_on = _shift_handling_end(case, due_on, today)
        done_on = done.get(rule.rule_id)
        deadlines.append(
            Deadline(
                rule_id=rule.rule_id,
                label=rule.label,
                due_on=due_on,
                done_on=done_on,
                status=_status(due_on, done_on, today, due_soon_days),
            )
        )
    return deadlines


def _start_date(case: CaseDates, event: StartEvent) -> date | None:
    if event is StartEvent.FILED:
        return case.filed_on
    if event is StartEvent.FILE_RECEIVED:
        return case.file_received_on or case.officer_assigned_on
    return case.asset_leads_received_on


def _add_length(start: date, rule: DeadlineRule) -> date:
    if rule.unit is LengthUnit.MONTHS:
        return add_months(start, rule.length)
    return add_days(start, rule.length, rule.day_count)


def _suspended_runs(case: CaseDates, today: date) -> list[tuple[date, date]]:
    """Merge the suspensions into disjoint runs of days, open ones ending today.

    The filing day is not part of the handling period, so runs start the day after it at the
    earliest. Overlapping and adjoining suspensions merge, so every day counts once.
    """
    first_counted = case.filed_on + timedelta(days=1)
    runs: list[tuple[date, date]] = []
    spans = sorted(
        (max(period.start, first_counted), today if period.end is None else period.end)
        for period in case.suspensions
    )
    for start, end in spans:
        if end < start:
            continue
        if runs and start <= runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], max(runs[-1][1], end))
        else:
            runs.append((start, end))
    return runs


def _extend(day: date, extensions: Sequence[Extension]) -> date:
    for extension in sorted(extensions, key=lambda extension: extension.approved_on):
        if extension.months is not None:
            day = add_months(day, extension.months)
        if extension.days is not None:
            day += timedelta(days=extension.days)
    return day


def _shift_handling_end(case: CaseDates, unshifted_end: date, today: date) -> date:
    """Move the end of the handling period back by the suspended days, then add extensions.

    A suspended day counts when it falls on or before the end it pushes back, so a suspension
    that starts after the period ran out does not revive it, while one during an extension does
    count. The end is therefore found as the fixed point of "shift by the suspended days up to
    the end, then extend"; each round only adds days, and there are finitely many suspended days.
    """
    runs = _suspended_runs(case, today)
    end = _extend(unshifted_end, case.extensions)
    while True:
        suspended_days = sum(
            (min(run_end, end) - run_start).days + 1
            for run_start, run_end in runs
            if run_start <= end
        )
        shifted_end = _extend(unshifted_end + timedelta(days=suspended_days), case.extensions)
        if shifted_end == end:
            return end
        end = shifted_end


def _status(due_on: date, done_on: date | None, today: date, due_soon_days: int) -> DeadlineStatus:
    if done_on is not None:
        return "done" if done_on <= due_on else "done_late"
    if today > due_on:
        return "overdue"
    if (due_on - today).days <= due_soon_days:
        return "due_soon"
    return "open"
