"""Synthetic enforcement cases for the demo and the benchmark, loaded in bulk.

:class:`CaseGenerator` draws cases from one seeded random stream, so the same seed, courts and
day give the same cases. The spread follows the shape of Guangdong's caseload. Most cases are at
basic courts and in the big cities (Guangzhou, Shenzhen, Dongguan, Foshan). Most are first
enforcement (执), with some resumed (执恢) and preservation (执保) cases. Claim amounts follow a
log-normal distribution, older cases are mostly closed, and 终本 is a common closing mode.
Flow nodes follow one another in time and never lie after the closing day or today, and the
deadline columns are computed by :mod:`zhixing.cases.deadlines` the way
``services.refresh_deadlines`` does.

Every identity number is synthetic: resident ID numbers get a region code of a Guangdong
court's division, a birth date that makes the person an adult when the case was filed, and a
correct check character; organisations get unified social credit codes with correct check
characters. A person is one party however many cases name them, and some debtors and
applicants come back in several cases.

:class:`BulkWriter` writes the generated rows with PostgreSQL's ``COPY`` or, on SQLite, with
``executemany`` inside the caller's transaction. It bypasses the model layer, so the rows make
no audit records; the generator is what keeps them within the rules a filed case obeys.
On PostgreSQL the rows go as COPY text that :class:`CopyFormatter` builds, one write per table
and batch. A large load splits the courts into two streams (:func:`plan_streams`) that two
worker processes draw and format while the loading process sends their text to the database.
"""

from __future__ import annotations

import datetime
import gc
import logging
import multiprocessing
import os
import random
import threading
import time
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from queue import Empty, Full
from types import SimpleNamespace
from typing import Any

from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from stdnum.cn import uscc

from zhixing.cases import deadlines, services
from zhixing.cases.apps import FINISH_RESTORES_SECONDS
from zhixing.cases.identity import (
    ORGANIZATION_CODE_WEIGHTS,
    DocumentType,
    organization_code_check_character,
)
from zhixing.cases.models import (
    CaseParty,
    CaseSequence,
    EnforcementCase,
    FlowNode,
    Party,
    PendingRestore,
)
from zhixing.courts import services as court_services
from zhixing.courts.models import Court, User
from zhixing.courts.models import Role as StaffRole

logger = logging.getLogger(__name__)


def _plain(choices: type[models.TextChoices]) -> Any:
    # Plain strings: faster to compare and hash than enum members, and COPY writes them as is.
    return SimpleNamespace(**{member.name: member.value for member in choices})


Kind = _plain(FlowNode.Kind)
Status = _plain(EnforcementCase.Status)
Mode = _plain(EnforcementCase.ClosingMode)
Basis = _plain(EnforcementCase.BasisKind)
Role = _plain(CaseParty.Role)
PartyKind = _plain(Party.Kind)

DEMO_CASES = 3000
DEMO_SEED = 2026
FIRST_YEAR = 2023
BATCH_SIZE = 5000

# Relative caseload of a court, by level, and extra weight for the four biggest cities.
LEVEL_WEIGHTS = {
    Court.Level.BASIC: 10.0,
    Court.Level.INTERMEDIATE: 1.5,
    Court.Level.SPECIALISED_INTERMEDIATE: 0.3,
    Court.Level.HIGH: 0.1,
}
CITY_WEIGHTS = {"01": 4.0, "03": 4.0, "19": 3.0, "06": 2.5}

TYPE_CODES = (("执", 0.85), ("执恢", 0.08), ("执保", 0.07))
BASIS_KINDS = (
    (Basis.JUDGMENT, 0.36),
    (Basis.MEDIATION, 0.25),
    (Basis.RULING, 0.08),
    (Basis.PAYMENT_ORDER, 0.05),
    (Basis.ARBITRAL_AWARD, 0.11),
    (Basis.NOTARISED_DEBT, 0.08),
    (Basis.ADMINISTRATIVE_DECISION, 0.03),
    (Basis.CRIMINAL_JUDGMENT, 0.03),
    (Basis.OTHER, 0.01),
)
CLOSING_MODES = (
    (Mode.COMPLETED, 0.40),
    (Mode.TERMINATED_WITHOUT_ASSETS, 0.40),
    (Mode.TERMINATED, 0.07),
    (Mode.WITHDRAWN, 0.09),
    (Mode.NOT_ENFORCED, 0.02),
    (Mode.APPLICATION_REJECTED, 0.02),
)
# Days from filing to closing, per mode (low, high); 终本 needs more than 3 months.
CLOSING_DAYS = {
    Mode.COMPLETED: (10, 175),
    Mode.TERMINATED_WITHOUT_ASSETS: (95, 240),
    Mode.TERMINATED: (30, 300),
    Mode.WITHDRAWN: (5, 120),
    Mode.NOT_ENFORCED: (10, 60),
    Mode.APPLICATION_REJECTED: (3, 30),
}

# Common surnames, roughly by frequency in Guangdong, and given-name characters.
SURNAMES = (
    "陈" * 12
    + "李" * 9
    + "黄" * 8
    + "张" * 7
    + "梁" * 6
    + "林" * 6
    + "刘" * 6
    + "吴" * 5
    + "罗" * 4
    + "杨" * 4
    + "周" * 3
    + "郑" * 3
    + "何" * 3
    + "王" * 4
    + "谢" * 3
    + "许" * 2
    + "朱" * 2
    + "邓" * 3
    + "冯" * 2
    + "曾" * 2
    + "蔡" * 2
    + "彭" * 2
    + "郭" * 2
    + "苏" * 2
    + "卢" * 2
    + "钟" * 2
    + "余" * 2
    + "潘" * 2
    + "叶" * 2
    + "莫"
    + "谭"
    + "廖" * 2
    + "赖"
    + "方"
    + "邱"
    + "胡"
    + "江"
    + "温"
    + "徐"
    + "孙"
    + "马"
    + "高"
    + "关"
    + "麦"
    + "古"
    + "严"
)
GIVEN_CHARACTERS = (
    "伟明华强军平辉杰俊文建志国海宇鹏涛斌磊健婷丽敏静芳燕玲娟霞红秀英慧琳颖欣佳雪梅晓嘉泽"
    "浩锦振荣耀锋坤雄永亮德成家勇子春桂兰凤玉珍洁思诗雅恩宏展智杨彬炜铭培锐冠豪贤达坚新"
)
BRAND_CHARACTERS = "顺达鸿发恒泰盛丰汇通宏远金源信诚兴隆嘉华粤海富利昌广新鑫森博瑞智创腾骏安怡"
INDUSTRIES = (
    "贸易",
    "建筑工程",
    "科技",
    "物流",
    "实业",
    "投资",
    "电子",
    "五金制品",
    "服装",
    "餐饮管理",
    "房地产开发",
    "装饰工程",
    "家具",
    "食品",
    "汽车销售",
    "物业管理",
)
LENDER_INDUSTRIES = ("小额贷款", "融资担保", "商业保理", "融资租赁")
# One-character city abbreviations used in the numbers of arbitral awards and notarial deeds.
CITY_ABBREVIATIONS = {
    "01": "穗",
    "02": "韶",
    "03": "深",
    "04": "珠",
    "05": "汕",
    "06": "佛",
    "07": "江",
    "08": "湛",
    "09": "茂",
    "12": "肇",
    "13": "惠",
    "14": "梅",
    "15": "汕尾",
    "16": "河",
    "17": "阳",
    "18": "清",
    "19": "莞",
    "20": "中",
    "51": "潮",
    "52": "揭",
    "53": "云",
}

_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _weighted_sum(digits: str, weights: Sequence[int]) -> int:
    return sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True))


def resident_id_check_character(body: str) -> str:
    """Return the GB 11643 check character of 17 digits (same as ``identity``'s function)."""
    return _RESIDENT_ID_CHECK[_weighted_sum(body, _RESIDENT_ID_WEIGHTS) % 11]


def make_resident_id(region: str, birth: datetime.date, sequence: int) -> str:
    """Build a synthetic 18-character resident ID number with a correct check character."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + resident_id_check_character(body)


def make_credit_code(region: str, organisation_body: str, *, authority: str = "91") -> str:
    """Build a unified social credit code whose embedded organization code and code both check."""
    organisation = organisation_body + organization_code_check_character(organisation_body)
    code = f"{authority}{region}{organisation}"
    return code + uscc.calc_check_digit(code)


class NumberMaker:
    """Builds the same numbers as :func:`make_resident_id` and :func:`make_credit_code`, faster.

    A check character comes from a weighted sum of the digits modulo 11 (ID numbers,
    organization codes) or 31 (credit codes). So the sum splits into parts. An ID number has
    three: region, birth date and sequence. A credit code has the region and the two halves of
    the organization code's eight digits. Each part's sum is computed once and looked up
    afterwards. The tests check
    every number against the plain functions above and against python-stdnum.
    """

    def __init__(self) -> None:
        id_weights, org_weights, uscc_weights = (
            _RESIDENT_ID_WEIGHTS,
            ORGANIZATION_CODE_WEIGHTS,
            _USCC_WEIGHTS,
        )
        self.regions: dict[str, tuple[int, int]] = {}
        self.births: dict[int, tuple[datetime.date, str, int]] = {}
        self.sequences = [
            (f"{n:03d}", _weighted_sum(f"{n:03d}", id_weights[14:17])) for n in range(1000)
        ]
        quarters = [f"{n:04d}" for n in range(10000)]
        self.quarters = quarters
        self.org_high = [_weighted_sum(text, org_weights[:4]) for text in quarters]
        self.org_low = [_weighted_sum(text, org_weights[4:]) for text in quarters]
        self.uscc_high = [_weighted_sum(text, uscc_weights[8:12]) for text in quarters]
        self.uscc_low = [_weighted_sum(text, uscc_weights[12:16]) for text in quarters]
        # GB 11714: the check value is 11 minus the sum modulo 11, written X for 10, 0 for 11.
        self.org_checks = ["0", "X", *(str(value) for value in range(9, 0, -1))]
        self.org_check_weight = {
            character: _USCC_ALPHABET.index(character) * uscc_weights[16]
            for character in "0123456789X"
        }

    def _region(self, region: str) -> tuple[int, int]:
        sums = self.regions.get(region)
        if sums is None:
            sums = (
                _weighted_sum(region, _RESIDENT_ID_WEIGHTS[:6]),
                _weighted_sum("91" + region, _USCC_WEIGHTS[:8]),
            )
            self.regions[region] = sums
        return sums

    def birth(self, ordinal: int) -> tuple[datetime.date, str, int]:
        """Return the date of ``ordinal``, its eight digits and their part of the ID sum."""
        found = self.births.get(ordinal)
        if found is None:
            day = datetime.date.fromordinal(ordinal)
            text = f"{day:%Y%m%d}"
            found = (day, text, _weighted_sum(text, _RESIDENT_ID_WEIGHTS[6:14]))
            self.births[ordinal] = found
        return found

    def resident_id(self, region: str, birth: tuple[datetime.date, str, int], sequence: int) -> str:
        sequence_text, sequence_sum = self.sequences[sequence]
        total = self._region(region)[0] + birth[2] + sequence_sum
        return f"{region}{birth[1]}{sequence_text}{_RESIDENT_ID_CHECK[total % 11]}"

    def credit_code(self, region: str, body: int) -> str:
        """Return the credit code (authority 91) of ``region`` and an 8-digit organization body."""
        high, low = divmod(body, 10000)
        check = self.org_checks[(self.org_high[high] + self.org_low[low]) % 11]
        total = (
            self._region(region)[1]
            + self.uscc_high[high]
            + self.uscc_low[low]
            + self.org_check_weight[check]
        )
        quarters = self.quarters
        return f"91{region}{quarters[high]}{quarters[low]}{check}{_USCC_ALPHABET[-total % 31]}"


# Courts and officers


@dataclass
class CourtProfile:
    """A court that numbers cases, with the facts the generator draws on."""

    id: int
    code: str
    name: str
    level: str
    city: str  # two digits of the city, "" for the high court
    city_name: str  # e.g. 广州市, or 广东省 for the high court
    parent_name: str
    weight: float
    officer_ids: list[int] = field(default_factory=list)


def _city_of(code: str) -> str:
    digits = code[1:]
    return digits[:2] if len(digits) >= 2 else ""


def court_profiles(courts: Sequence[Court] | None = None) -> list[CourtProfile]:
    """Return the courts that can number cases (those with a court code), with their weights."""
    every = list(courts if courts is not None else Court.objects.select_related("parent"))
    by_code = {court.code: court for court in every if court.code}
    profiles = []
    for court in every:
        if not court.code or court.active_to is not None:
            continue
        city = _city_of(court.code)
        city_court = by_code.get(f"{court.code[0]}{city}") if city else None
        if city_court is not None and city_court.level == Court.Level.INTERMEDIATE:
            city_name = city_court.name.split("中级")[0]
        else:
            city_name = court.name.split("人民法院")[0].split("中级")[0] or court.name
        if court.level == Court.Level.HIGH:
            city_name = "广东省"
        weight = LEVEL_WEIGHTS.get(Court.Level(court.level), 1.0) * CITY_WEIGHTS.get(city, 1.0)
        profiles.append(
            CourtProfile(
                id=court.pk,
                code=court.code,
                name=court.name,
                level=court.level,
                city=city,
                city_name=city_name,
                parent_name=court.parent.name if court.parent else court.name,
                weight=weight,
            )
        )
    return profiles


# Long-distance area codes (长途区号) of the cities of Guangdong, by the two city digits of a
# court code. The railway transport, maritime and intellectual-property courts (粤71, 粤72,
# 粤73) sit in Guangzhou.
# NOTE: which cities dial eight-digit local numbers is from memory, not a checked list. The
# numbers are made up either way.
AREA_CODES = {
    "01": "020",
    "02": "0751",
    "03": "0755",
    "04": "0756",
    "05": "0754",
    "06": "0757",
    "07": "0750",
    "08": "0759",
    "09": "0668",
    "12": "0758",
    "13": "0752",
    "14": "0753",
    "15": "0660",
    "16": "0762",
    "17": "0662",
    "18": "0763",
    "19": "0769",
    "20": "0760",
    "51": "0768",
    "52": "0663",
    "53": "0766",
    "71": "020",
    "72": "020",
    "73": "020",
}
_EIGHT_DIGIT_AREAS = frozenset({"020", "0755", "0757", "0769", "0754", "0760"})


def demo_phone(court_code: str, index: int) -> str:
    """Return a made-up office phone for officer ``index`` of a court, in the court's city.

    The area code is the city's, and the high court (粤) is in Guangzhou. The local number is 8,
    the court code's digits and the index, padded with zeros, so that officers of the demo get
    distinct numbers. For example, the first officer of 粤0104 gets 020-80104010.
    """
    digits = court_code[1:]
    area = AREA_CODES.get(digits[:2], "020")
    length = 8 if area in _EIGHT_DIGIT_AREAS else 7
    local = f"8{digits}{index:02d}".ljust(length, "0")[:length]
    return f"{area}-{local}"


def ensure_case_officers(
    profiles: Sequence[CourtProfile], *, per_court: int = 2, seed: int = DEMO_SEED
) -> int:
    """Fill ``officer_ids`` with each court's case officers, creating accounts where none exist.

    Created accounts are named ``officer_<court digits>_<n>``, have an office phone in the
    court's city (:func:`demo_phone`), which documents print as the contact number, and have
    unusable passwords, so they own cases but cannot log in until an administrator sets a
    password. Returns how many accounts were created.
    """
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    created = 0
    officers: dict[int, list[int]] = {}
    for user_id, court_id in (
        User.objects.filter(is_active=True, roles__code=StaffRole.Code.CASE_OFFICER)
        .order_by("pk")
        .values_list("pk", "court_id")
    ):
        officers.setdefault(court_id, []).append(user_id)
    for profile in profiles:
        profile.officer_ids = officers.get(profile.id, [])
        if profile.officer_ids:
            continue
        court = Court.objects.get(pk=profile.id)
        digits = profile.code[1:] or "00"
        for index in range(1, per_court + 1):
            username = f"officer_{digits}_{index}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = court_services.create_user(
                    actor=None,
                    court=court,
                    username=username,
                    full_name=person_name(rng),
                    role_codes=[StaffRole.Code.CASE_OFFICER],
                    password=None,
                    phone=demo_phone(profile.code, index),
                )
                created += 1
            profile.officer_ids.append(user.pk)
    return created


def person_name(rng: random.Random) -> str:
    given_length = 1 if rng.random() < 0.2 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_CHARACTERS) for _ in range(given_length))


# Generated rows


@dataclass(slots=True)
class GeneratedParty:
    id: int
    kind: str
    name: str
    document_type: str
    document_number: str
    birth_date: datetime.date | None
    sex: str


@dataclass(slots=True)
class GeneratedCase:
    id: int
    case_number: str
    court_id: int
    year: int
    type_code: str
    sequence: int
    filed_on: datetime.date
    basis_kind: str
    basis_court: str
    basis_document_number: str
    # Amounts in fen (0.01 yuan): integers are cheaper to draw and print than Decimals.
    claim_cents: int
    recovered_cents: int
    case_officer_id: int | None
    status: str
    closing_mode: str
    closed_on: datetime.date | None
    # (party id, role)
    parties: list[tuple[int, str]]
    # (kind, day, user id, extension months)
    flow: list[tuple[str, datetime.date, int | None, int | None]]
    next_due_on: datetime.date | None = None
    next_due_rule: str = ""
    handling_due_on: datetime.date | None = None

    @property
    def claim_amount(self) -> Decimal:
        return Decimal(self.claim_cents).scaleb(-2)

    @property
    def recovered_amount(self) -> Decimal:
        return Decimal(self.recovered_cents).scaleb(-2)


@dataclass
class Batch:
    cases: list[GeneratedCase]
    parties: list[GeneratedParty]


def deadline_fields(
    case: GeneratedCase, today: datetime.date
) -> tuple[datetime.date | None, datetime.date | None, str]:
    """Return ``(handling_due_on, next_due_on, next_due_rule)`` as refresh_deadlines stores them.

    The inputs are read from the generated flow nodes exactly as ``services.case_dates`` reads
    them from the database: the first node of a kind counts, each suspension ends at the first
    resumption on or after it, and the closing day completes the handling period.
    """
    first: dict[str, datetime.date] = {}
    suspended: list[datetime.date] = []
    resumed: list[datetime.date] = []
    extensions = []
    for kind, day, _user, months in case.flow:
        first.setdefault(kind, day)
        if kind == Kind.SUSPENDED:
            suspended.append(day)
        elif kind == Kind.RESUMED:
            resumed.append(day)
        elif kind == Kind.EXTENSION_APPROVED:
            extensions.append(deadlines.Extension(months=months, approved_on=day))
    periods = tuple(
        deadlines.Period(start=start, end=next((day for day in resumed if day >= start), None))
        for start in suspended
    )
    dates = deadlines.CaseDates(
        filed_on=case.filed_on,
        non_litigation=case.basis_kind in _NON_LITIGATION,
        officer_assigned_on=first.get(Kind.OFFICER_ASSIGNED),
        file_received_on=first.get(Kind.FILE_RECEIVED),
        asset_leads_received_on=first.get(Kind.ASSET_LEADS_RECEIVED),
        suspensions=periods,
        extensions=tuple(extensions),
    )
    done = {rule: first[kind] for rule, kind in _DONE_KINDS.items() if kind in first}
    computed = deadlines.compute_deadlines(dates, today=max(today, case.filed_on), done=done)
    handling = next((item.due_on for item in computed if item.rule_id == "handling_period"), None)
    if case.status == Status.CLOSED:
        return handling, None, ""
    open_items = sorted((item for item in computed if item.done_on is None), key=_due_on)
    if not open_items:
        return handling, None, ""
    return handling, open_items[0].due_on, open_items[0].rule_id


def deadline_key(case: GeneratedCase) -> tuple[Any, ...]:
    """Return everything :func:`deadline_fields` reads from ``case`` except the done dates.

    ``compute_deadlines`` derives every due date from the case dates; the dates in ``done``
    only mark a deadline as done and set its status. Which deadlines are done decides the next
    one, so the key contains whether each is done, not when. The due date of a done deadline
    is never stored, so the key leaves out the start dates that only done deadlines count from.
    A closed case stores only its handling deadline, so its key leaves out the start dates that
    no version of the handling period counts from (read from the rule table). Cases with equal
    keys get equal deadline fields, and many cases share a key: a closed case with neither
    suspension nor extension has the key of every other such case of its kind filed on the
    same day.
    """
    first: dict[str, datetime.date] = {}
    changes = []
    for kind, day, _user, months in case.flow:
        if kind not in first:
            first[kind] = day
        if kind in _SHIFTING_KINDS:
            changes.append((kind, day, months))
    non_litigation = case.basis_kind in _NON_LITIGATION
    if case.status == Status.CLOSED:
        return (
            case.filed_on,
            non_litigation,
            True,
            tuple(first.get(kind) for kind in _HANDLING_START_KINDS),
            tuple(changes),
        )
    return (
        case.filed_on,
        non_litigation,
        False,
        tuple(changes),
        # Per rule: True when done, else the first days of the kinds it may count from.
        tuple(
            done_kind in first or tuple(first.get(kind) for kind in start_kinds)
            for done_kind, start_kinds in _OPEN_RULE_KINDS
        ),
    )


def _due_on(item: deadlines.Deadline) -> datetime.date:
    return item.due_on


_NON_LITIGATION = frozenset(str(kind) for kind in EnforcementCase.NON_LITIGATION_BASES)
_DONE_KINDS = {
    "assign_officer": Kind.OFFICER_ASSIGNED,
    "enforcement_notice": Kind.NOTICE_SENT,
    "verify_asset_leads": Kind.ASSET_LEADS_VERIFIED,
    "asset_investigation": Kind.ASSET_INVESTIGATION,
    "handling_period": Kind.CLOSED,
}
_SHIFTING_KINDS = frozenset((Kind.SUSPENDED, Kind.RESUMED, Kind.EXTENSION_APPROVED))
# The flow nodes whose first day each start event of the deadline rules reads. The filing day
# is a field of the case. An officer's assignment replaces a file receipt that is not recorded.
_EVENT_KINDS = {
    deadlines.StartEvent.FILED: (),
    deadlines.StartEvent.FILE_RECEIVED: (Kind.FILE_RECEIVED, Kind.OFFICER_ASSIGNED),
    deadlines.StartEvent.ASSET_LEADS_RECEIVED: (Kind.ASSET_LEADS_RECEIVED,),
}
# Per rule identifier: the flow node kind that marks it done, and the kinds that any version of
# it may count from.
_OPEN_RULE_KINDS = tuple(
    (
        _DONE_KINDS[rule_id],
        tuple(
            dict.fromkeys(
                kind
                for rule in deadlines.RULES
                if rule.rule_id == rule_id
                for kind in _EVENT_KINDS[rule.start_event]
            )
        ),
    )
    for rule_id in dict.fromkeys(rule.rule_id for rule in deadlines.RULES)
)
_HANDLING_START_KINDS = tuple(
    dict.fromkeys(
        kind
        for rule in deadlines.RULES
        if rule.suspendable
        for kind in _EVENT_KINDS[rule.start_event]
    )
)
# Deadline results kept per generator; past this many keys the cache starts afresh.
DEADLINE_CACHE_SIZE = 400_000


class _Weighted:
    """Draws items by weight with one random number and a binary search."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _weight in pairs]
        self.cumulative = list(accumulate(weight for _item, weight in pairs))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


class CaseGenerator:
    """Draws cases, their parties and flow nodes from one seeded random stream.

    ``first_case_id`` and ``first_party_id`` are the primary keys the new rows get, in order;
    ``sequences`` contains the last sequence number already used per (court id, type, year), and
    ``used_documents`` the document numbers of parties already in the database, which new
    parties avoid.

    A load may split the courts over several generators (``streams``), each drawing the cases of
    its own courts; :func:`plan_streams` does that. Generator ``stream`` then gives its parties
    every ``streams``-th id from ``first_party_id + stream`` on, and draws only ID sequence
    numbers and organization codes that leave the remainder ``stream`` when divided by
    ``streams``, so the generators can run in separate processes without a shared party id or
    document number.
    """

    def __init__(
        self,
        courts: Sequence[CourtProfile],
        *,
        seed: int,
        today: datetime.date,
        first_case_id: int = 1,
        first_party_id: int = 1,
        sequences: dict[tuple[int, str, int], int] | None = None,
        used_documents: set[str] | None = None,
        stream: int = 0,
        streams: int = 1,
        regions: dict[str, list[str]] | None = None,
    ) -> None:
        if not courts:
            raise ValueError("no court with a court code to file cases at; run loadcourts first")
        if not 0 <= stream < streams:
            raise ValueError(f"stream is {stream}; give a number from 0 to {streams - 1}")
        # One stream alone keeps the plain seed; split streams each get their own.
        stream_seed: int | str = seed if streams == 1 else f"{seed}:{stream}/{streams}"
        self.rng = random.Random(stream_seed)  # noqa: S311 (synthetic data, not secrets)
        self.today = today
        self.first_day = datetime.date(FIRST_YEAR, 1, 1)
        self.courts = _Weighted([(court, court.weight) for court in courts])
        self.types = _Weighted(TYPE_CODES)
        self.bases = _Weighted(BASIS_KINDS)
        self.modes = _Weighted(CLOSING_MODES)
        self.stream = stream
        self.streams = streams
        self.next_case_id = first_case_id
        self.next_party_id = first_party_id + stream
        self.sequences = dict(sequences or {})
        self.used_documents = used_documents if used_documents is not None else set()
        self.regions = regions if regions is not None else _region_pools(courts)
        self.numbers = NumberMaker()
        self.recent_debtors: dict[str, list[int]] = {}
        self.lenders: dict[str, list[int]] = {}
        self.new_parties: list[GeneratedParty] = []
        self.deadline_cache: dict[tuple[Any, ...], tuple[Any, Any, str]] = {}
        # Highest sequence drawn per (court id, type, year) by this generator.
        self.touched: dict[tuple[int, str, int], int] = {}
        # Samples the benchmark searches for; filled as cases are made.
        self.name_fragments: list[str] = []
        self.person_documents: list[str] = []

    def filing_days(self, count: int) -> list[datetime.date]:
        """Draw ``count`` filing days from 1 January 2023 to today, in order."""
        span = (self.today - self.first_day).days + 1
        first = self.first_day.toordinal()
        rnd = self.rng.random
        offsets = sorted(int(rnd() * span) for _ in range(count))
        days: dict[int, datetime.date] = {}
        return [
            days.get(offset) or days.setdefault(offset, datetime.date.fromordinal(first + offset))
            for offset in offsets
        ]

    def batches(self, count: int, size: int = 5000) -> Iterator[Batch]:
        """Yield the cases in filing order, ``size`` at a time, with the parties they add."""
        days = self.filing_days(count)
        for start in range(0, count, size):
            cases = [self.case(day) for day in days[start : start + size]]
            parties, self.new_parties = self.new_parties, []
            yield Batch(cases=cases, parties=parties)

    # One case

    def case(self, filed_on: datetime.date) -> GeneratedCase:
        rng = self.rng
        rnd = rng.random
        court: CourtProfile = self.courts.draw(rng)
        type_code: str = self.types.draw(rng)
        year = filed_on.year
        key = (court.id, type_code, year)
        sequence = self.sequences.get(key, 0) + 1
        self.sequences[key] = sequence
        self.touched[key] = sequence
        age = (self.today - filed_on).days
        basis_kind = Basis.RULING if type_code == "执保" else self.bases.draw(rng)
        basis_court, basis_number = self._basis(court, basis_kind, filed_on)
        claim = _amount(min(max(rng.lognormvariate(11.0, 1.6), 1500.0), 8e7), rnd)
        status, mode, closed_on = self._outcome(filed_on, age)
        end = closed_on or self.today
        officer_id = None
        if court.officer_ids and not (age <= 3 and rnd() < 0.5):
            officer_id = court.officer_ids[int(rnd() * len(court.officer_ids))]
        flow = self._flow(filed_on, end, officer_id, status, claim, closed_on)
        if closed_on is not None:
            flow.append((Kind.CLOSED, closed_on, officer_id, None))
        case = GeneratedCase(
            id=self.next_case_id,
            case_number=f"({year}){court.code}{type_code}{sequence}号",
            court_id=court.id,
            year=year,
            type_code=type_code,
            sequence=sequence,
            filed_on=filed_on,
            basis_kind=basis_kind,
            basis_court=basis_court,
            basis_document_number=basis_number,
            claim_cents=claim,
            recovered_cents=self._recovered(claim, status, mode),
            case_officer_id=officer_id,
            status=status,
            closing_mode=mode,
            closed_on=closed_on,
            parties=self._parties(court, filed_on),
            flow=flow,
        )
        self.next_case_id += 1
        cache = self.deadline_cache
        deadline_input = deadline_key(case)
        found = cache.get(deadline_input)
        if found is None:
            if len(cache) >= DEADLINE_CACHE_SIZE:
                cache.clear()
            found = cache[deadline_input] = deadline_fields(case, self.today)
        case.handling_due_on, case.next_due_on, case.next_due_rule = found
        return case

    def _basis(self, court: CourtProfile, kind: str, filed_on: datetime.date) -> tuple[str, str]:
        rnd = self.rng.random
        year = filed_on.year - (1 if rnd() < 0.6 else 0)
        number = int(rnd() * 30000) + 1
        abbreviation = CITY_ABBREVIATIONS.get(court.city, court.city_name[:1])
        if kind == Basis.ARBITRAL_AWARD:
            return f"{court.city_name}仲裁委员会", f"({year}){abbreviation}仲案字第{number}号"
        if kind == Basis.NOTARISED_DEBT:
            return f"{court.city_name}公证处", f"({year}){abbreviation}证字第{number}号"
        if kind == Basis.ADMINISTRATIVE_DECISION:
            return (
                f"{court.city_name}人力资源和社会保障局",
                f"{abbreviation}人社罚〔{year}〕{number}号",
            )
        if kind == Basis.OTHER:
            return "", ""
        appeal = court.level == Court.Level.BASIC and rnd() < 0.25
        issuer = court.parent_name if appeal else court.name
        issuer_code = court.code[:3] if appeal and len(court.code) > 3 else court.code
        if kind == Basis.CRIMINAL_JUDGMENT:
            type_code = "刑终" if appeal else "刑初"
        elif kind == Basis.PAYMENT_ORDER:
            type_code = "民督"
        else:
            type_code = "民终" if appeal else "民初"
        return issuer, f"({year}){issuer_code}{type_code}{number}号"

    def _outcome(self, filed_on: datetime.date, age: int) -> tuple[str, str, datetime.date | None]:
        rnd = self.rng.random
        if age < 60:
            closed_share = 0.12
        elif age < 120:
            closed_share = 0.4
        elif age < 240:
            closed_share = 0.65
        elif age < 400:
            closed_share = 0.82
        else:
            closed_share = 0.93
        if rnd() >= closed_share:
            if age > 30 and rnd() < 0.08:
                return Status.SUSPENDED, "", None
            return Status.OPEN, "", None
        mode: str = self.modes.draw(self.rng)
        if mode == Mode.TERMINATED_WITHOUT_ASSETS and age < 95:
            mode = Mode.COMPLETED
        low, high = CLOSING_DAYS[mode]
        days = _between(rnd, low, high)
        if mode == Mode.COMPLETED and rnd() < 0.1:
            days = _between(rnd, 180, 400)  # closed after the handling period ran out
        return Status.CLOSED, mode, filed_on + datetime.timedelta(days=min(days, age))

    def _recovered(self, claim: int, status: str, mode: str) -> int:
        rnd = self.rng.random
        share = 0.0
        if mode == Mode.COMPLETED:
            share = 1.0 if rnd() < 0.85 else 0.9 + 0.1 * rnd()
        elif mode == Mode.TERMINATED_WITHOUT_ASSETS:
            share = 0.01 + 0.39 * rnd() if rnd() < 0.35 else 0.0
        elif mode in (Mode.TERMINATED, Mode.WITHDRAWN):
            share = 0.1 + 0.8 * rnd() if rnd() < 0.5 else 0.0
        elif status != Status.CLOSED and rnd() < 0.25:
            share = 0.01 + 0.59 * rnd()
        if share >= 1.0:
            return claim
        # The share in ten-thousandths, rounded half up to the fen.
        return (claim * round(share * 10000) + 5000) // 10000

    def _flow(
        self,
        filed_on: datetime.date,
        end: datetime.date,
        officer_id: int | None,
        status: str,
        claim: int,
        closed_on: datetime.date | None,
    ) -> list[tuple[str, datetime.date, int | None, int | None]]:
        """Draw the steps from filing to ``end`` (closing day or today), in time order."""
        rnd = self.rng.random
        day = datetime.timedelta
        steps: list[tuple[str, datetime.date, int | None, int | None]] = [
            (Kind.FILED, filed_on, None, None)
        ]

        def add(kind: str, on: datetime.date, months: int | None = None) -> bool:
            if on > end:
                return False
            steps.append((kind, on, officer_id, months))
            return True

        if officer_id is not None:
            assigned = filed_on + day(_between(rnd, 0, 5) if rnd() < 0.95 else _between(rnd, 8, 14))
            if add(Kind.OFFICER_ASSIGNED, assigned):
                late = rnd() < 0.06
                notice = assigned + day(_between(rnd, 4, 8) if late else _between(rnd, 0, 3))
                if rnd() < 0.97 and add(Kind.NOTICE_SENT, notice):
                    add(Kind.ONLINE_QUERY, notice + day(_between(rnd, 1, 7)))
            if rnd() < 0.2:
                leads = filed_on + day(_between(rnd, 5, 40))
                if add(Kind.ASSET_LEADS_RECEIVED, leads) and rnd() < 0.9:
                    late = rnd() < 0.1
                    add(
                        Kind.ASSET_LEADS_VERIFIED,
                        leads + day(_between(rnd, 6, 12) if late else _between(rnd, 1, 5)),
                    )
            investigated = filed_on + day(
                _between(rnd, 20, 30) if rnd() < 0.88 else _between(rnd, 32, 60)
            )
            if rnd() < 0.95:
                add(Kind.ASSET_INVESTIGATION, investigated)
            if closed_on is not None and claim > 30_000_000 and rnd() < 0.3:
                disposal = closed_on - day(_between(rnd, 5, 30))
                if disposal > investigated:
                    add(Kind.DISPOSAL, disposal)
        if status == Status.SUSPENDED:
            start = filed_on + day(_between(rnd, 30, max(30, (end - filed_on).days)))
            add(Kind.SUSPENDED, min(start, end))
        elif rnd() < 0.05 and (end - filed_on).days > 60:
            start = filed_on + day(_between(rnd, 20, (end - filed_on).days - 30))
            if add(Kind.SUSPENDED, start):
                add(Kind.RESUMED, start + day(_between(rnd, 10, 29)))
        if status == Status.OPEN and (end - filed_on).days > 185 and rnd() < 0.3:
            add(Kind.EXTENSION_APPROVED, filed_on + day(_between(rnd, 170, 180)), 3)
        steps.sort(key=_step_day)
        return steps

    # Parties

    def _parties(self, court: CourtProfile, filed_on: datetime.date) -> list[tuple[int, str]]:
        rnd = self.rng.random
        roles: list[tuple[int, str]] = []
        for _ in range(2 if rnd() < 0.08 else 1):
            if rnd() < 0.2:
                party_id = self._lender(court, filed_on)
            elif rnd() < 0.5:
                party_id = self._person(court, filed_on)
            else:
                party_id = self._organisation(court, filed_on)
            if (party_id, Role.APPLICANT) not in roles:
                roles.append((party_id, Role.APPLICANT))
        debtor_count = 1 if rnd() < 0.64 else (2 if rnd() < 0.78 else 3)
        recent = self.recent_debtors.setdefault(court.city, [])
        for _ in range(debtor_count):
            if recent and rnd() < 0.15:
                party_id = recent[int(rnd() * len(recent))]
            elif rnd() < 0.6:
                party_id = self._person(court, filed_on)
            else:
                party_id = self._organisation(court, filed_on)
            pair = (party_id, Role.DEBTOR)
            if pair in roles or (party_id, Role.APPLICANT) in roles:
                continue
            roles.append(pair)
            recent.append(party_id)
            if len(recent) > 3000:
                del recent[:1000]
        return roles

    def _region(self, court: CourtProfile) -> str:
        rnd = self.rng.random
        pool = self.regions.get(court.city) if rnd() < 0.75 else None
        pool = pool or self.regions[""]
        return pool[int(rnd() * len(pool))]

    def _add_party(self, party: GeneratedParty) -> int:
        self.new_parties.append(party)
        self.next_party_id += self.streams
        return party.id

    def _person(self, court: CourtProfile, filed_on: datetime.date) -> int:
        rnd = self.rng.random
        region = self._region(court)
        numbers = self.numbers
        filed = filed_on.toordinal()
        # ID sequence numbers of this stream: those leaving the remainder ``stream``.
        choices = 1000 // self.streams
        while True:
            birth = numbers.birth(filed - _between(rnd, 22 * 365, 68 * 365))
            sequence = int(rnd() * choices) * self.streams + self.stream
            number = numbers.resident_id(region, birth, sequence)
            if number not in self.used_documents:
                break
        self.used_documents.add(number)
        name = _person_name(rnd)
        if len(name) >= 3 and len(self.name_fragments) < 20000 and rnd() < 0.05:
            self.name_fragments.append(name)
        if len(self.person_documents) < 20000 and rnd() < 0.05:
            self.person_documents.append(number)
        return self._add_party(
            GeneratedParty(
                id=self.next_party_id,
                kind=PartyKind.PERSON,
                name=name,
                document_type=_RESIDENT_ID,
                document_number=number,
                birth_date=birth[0],
                sex="M" if sequence % 2 else "F",
            )
        )

    def _organisation(
        self, court: CourtProfile, filed_on: datetime.date, industries: Sequence[str] = INDUSTRIES
    ) -> int:
        rnd = self.rng.random
        region = self._region(court)
        choices = 100_000_000 // self.streams
        while True:
            body = int(rnd() * choices) * self.streams + self.stream
            code = self.numbers.credit_code(region, body)
            if code not in self.used_documents:
                break
        self.used_documents.add(code)
        brand = BRAND_CHARACTERS[int(rnd() * _BRANDS)] + BRAND_CHARACTERS[int(rnd() * _BRANDS)]
        industry = industries[int(rnd() * len(industries))]
        if len(self.name_fragments) < 20000 and rnd() < 0.05:
            self.name_fragments.append(brand + industry)
        return self._add_party(
            GeneratedParty(
                id=self.next_party_id,
                kind=PartyKind.ORGANISATION,
                name=f"{court.city_name}{brand}{industry}有限公司",
                document_type=_USCC,
                document_number=code,
                birth_date=None,
                sex="",
            )
        )

    def _lender(self, court: CourtProfile, filed_on: datetime.date) -> int:
        """Return one of the few finance companies of the city that file many cases."""
        lenders = self.lenders.setdefault(court.city, [])
        if len(lenders) < 12:
            lenders.append(self._organisation(court, filed_on, LENDER_INDUSTRIES))
            return lenders[-1]
        return lenders[int(self.rng.random() * len(lenders))]


_RESIDENT_ID = DocumentType.RESIDENT_ID.value
_USCC = DocumentType.USCC.value
_BRANDS = len(BRAND_CHARACTERS)
_SURNAMES = len(SURNAMES)
_GIVEN = len(GIVEN_CHARACTERS)


def _between(rnd: Callable[[], float], low: int, high: int) -> int:
    """Return a whole number from ``low`` to ``high``, both included (like ``randint``)."""
    return low + int(rnd() * (high - low + 1))


def _person_name(rnd: Callable[[], float]) -> str:
    surname = SURNAMES[int(rnd() * _SURNAMES)]
    if rnd() < 0.2:
        return surname + GIVEN_CHARACTERS[int(rnd() * _GIVEN)]
    return surname + GIVEN_CHARACTERS[int(rnd() * _GIVEN)] + GIVEN_CHARACTERS[int(rnd() * _GIVEN)]


def _step_day(step: tuple[str, datetime.date, int | None, int | None]) -> datetime.date:
    return step[1]


def _amount(value: float, rnd: Callable[[], float]) -> int:
    """Return ``value`` yuan in fen: whole yuan seven times in ten, else to the fen."""
    if rnd() < 0.7:
        return round(value) * 100
    return round(value * 100)


def _region_pools(courts: Sequence[CourtProfile]) -> dict[str, list[str]]:
    """Return resident-ID region codes per city ("" for the whole province).

    Region codes come from the division codes of basic courts; Dongguan and Zhongshan, which
    have no districts, use their city code. Courts loaded without division codes fall back to
    the digits of their court code.
    """
    divisions = dict(
        Court.objects.filter(pk__in=[court.id for court in courts]).values_list(
            "pk", "division_code"
        )
    )
    pools: dict[str, list[str]] = {}
    for court in courts:
        division = divisions.get(court.id) or ""
        if not (len(division) == 6 and division.isdigit()):
            division = f"44{court.code[1:]}" if len(court.code) == 5 else ""
        if not division or (division.endswith("00") and division[2:4] not in ("19", "20")):
            continue
        if division not in pools.setdefault(court.city, []):
            pools[court.city].append(division)
            pools.setdefault("", []).append(division)
    if not pools.get(""):
        pools[""] = ["440104"]
    return pools


def plan_streams(
    courts: Sequence[CourtProfile],
    count: int,
    *,
    seed: int,
    today: datetime.date,
    first_case_id: int,
    first_party_id: int,
    sequences: dict[tuple[int, str, int], int],
    used_documents: set[str],
    streams: int,
) -> list[tuple[CaseGenerator, int]]:
    """Split the courts by city into ``streams`` groups of about equal caseload.

    Returns one generator per group that has courts, with the number of cases it draws: the
    group's share of ``count`` by court weight. Each city's courts stay in one group, so the
    repeat debtors and finance companies of a city (kept per city) are drawn as in one stream,
    and each court's case numbers run in filing order. Group ``i`` numbers its cases from
    ``first_case_id`` plus the cases of the groups before it. The data depend on ``streams``
    and ``seed``, not on how many processes run the streams.
    """
    by_city: dict[str, list[CourtProfile]] = {}
    for court in courts:
        by_city.setdefault(court.city, []).append(court)
    groups: list[list[CourtProfile]] = [[] for _ in range(max(streams, 1))]
    weights = [0.0] * len(groups)
    cities = sorted(by_city.items(), key=lambda item: (-sum(c.weight for c in item[1]), item[0]))
    for _city, members in cities:
        lightest = weights.index(min(weights))
        groups[lightest].extend(members)
        weights[lightest] += sum(court.weight for court in members)
    pairs = [(group, weight) for group, weight in zip(groups, weights, strict=True) if group]
    total = sum(weight for _group, weight in pairs)
    shares = [count * weight / total for _group, weight in pairs]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for index in by_remainder[: count - sum(counts)]:
        counts[index] += 1
    regions = _region_pools(courts)
    planned = []
    next_case_id = first_case_id
    for index, ((group, _weight), group_count) in enumerate(zip(pairs, counts, strict=True)):
        generator = CaseGenerator(
            group,
            seed=seed,
            today=today,
            first_case_id=next_case_id,
            first_party_id=first_party_id,
            sequences=sequences,
            used_documents=used_documents,
            stream=index,
            streams=len(pairs),
            regions=regions,
        )
        planned.append((generator, group_count))
        next_case_id += group_count
    return planned


# Writing


CASE_FIELDS = (
    "id",
    "case_number",
    "court_id",
    "year",
    "type_code",
    "sequence",
    "suffix",
    "filed_on",
    "basis_kind",
    "basis_court",
    "basis_document_number",
    "claim_amount",
    "recovered_amount",
    "case_officer_id",
    "status",
    "closing_mode",
    "closed_on",
    "next_due_on",
    "next_due_rule",
    "handling_due_on",
    "created_at",
    "updated_at",
)
PARTY_FIELDS = (
    "id",
    "kind",
    "name",
    "document_type",
    "document_number",
    "needs_confirmation",
    "birth_date",
    "sex",
    "created_at",
)
CASE_PARTY_FIELDS = ("case_id", "party_id", "role")
FLOW_FIELDS = ("case_id", "kind", "on", "at", "user_id", "note", "extension_months")
LOAD_TABLES = (Party, EnforcementCase, CaseParty, FlowNode)
TABLE_FIELDS = (PARTY_FIELDS, CASE_FIELDS, CASE_PARTY_FIELDS, FLOW_FIELDS)

_NULL = "\\N"  # NULL in COPY's text format
_COPY_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escape(text: str) -> str:
    """Escape ``text`` for a field of PostgreSQL's COPY text format."""
    return text.translate(_COPY_SPECIAL)


def _needs_escaping(courts: Sequence[CourtProfile]) -> bool:
    """Return whether any court text that ends up in a row contains a character COPY escapes.

    The generator's own pieces (names, numbers, fixed labels) contain none. Court names and
    codes come from the database, so the unescaped formatting is used only when they are clean.
    """
    texts = (text for court in courts for text in (court.code, court.name, court.city_name))
    return any(text != copy_escape(text) for text in (*texts, *(c.parent_name for c in courts)))


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


class _TextOf(dict[Any, str]):
    """COPY text per value, made on first use: None is NULL, anything else ``make(value)``."""

    def __init__(self, make: Callable[[Any], str]) -> None:
        super().__init__({None: _NULL})
        self.make = make

    def __missing__(self, value: Any) -> str:
        text = self[value] = self.make(value)
        return text


def _flow_day(day: datetime.date) -> str:
    # The day of the step, and the time it was recorded: 10:00 in China (02:00 UTC) that day.
    text = day.isoformat()
    return f"{text}\t{text} 02:00:00+00"


class CopyFormatter:
    """Turns a batch into the COPY text of each table, one string per table.

    Formatting the text here, one line per row, and sending it with one write per table and
    batch, costs a fraction of psycopg's per-row ``write_row`` and its type adaptation. Dates,
    user ids and other values that repeat across rows are formatted once each.
    """

    def __init__(self, now: datetime.datetime, *, escape: bool) -> None:
        self.now = now.isoformat()
        self.escape = escape
        self.days = _TextOf(datetime.date.isoformat)
        self.flow_days = _TextOf(_flow_day)
        self.numbers = _TextOf(str)

    def day(self, value: datetime.date | None) -> str:
        return self.days[value]

    def chunk(self, batch: Batch) -> tuple[bytes, bytes, bytes, bytes]:
        """Return the COPY text of the batch's parties, cases, case parties and flow nodes."""
        days = self.days
        flow_days = self.flow_days
        numbers = self.numbers
        now = self.now
        text = copy_escape if self.escape else str
        parties = [
            f"{p.id}\t{p.kind}\t{text(p.name)}\t{p.document_type}\t{text(p.document_number)}\t"
            f"f\t{days[p.birth_date]}\t{p.sex}\t{now}\n"
            for p in batch.parties
        ]
        cases = []
        case_parties = []
        flow = []
        for c in batch.cases:
            cases.append(
                f"{c.id}\t{text(c.case_number)}\t{c.court_id}\t{c.year}\t{c.type_code}\t"
                f"{c.sequence}\t\t{days[c.filed_on]}\t{c.basis_kind}\t{text(c.basis_court)}\t"
                f"{text(c.basis_document_number)}\t{_cents(c.claim_cents)}\t"
                f"{_cents(c.recovered_cents)}\t{numbers[c.case_officer_id]}\t{c.status}\t"
                f"{c.closing_mode}\t{days[c.closed_on]}\t{days[c.next_due_on]}\t"
                f"{c.next_due_rule}\t{days[c.handling_due_on]}\t{now}\t{now}\n"
            )
            case_id = c.id
            for party_id, role in c.parties:
                case_parties.append(f"{case_id}\t{party_id}\t{role}\n")
            for kind, on, user_id, months in c.flow:
                flow.append(
                    f"{case_id}\t{kind}\t{flow_days[on]}\t{numbers[user_id]}\t\t{numbers[months]}\n"
                )
        return (
            "".join(parties).encode(),
            "".join(cases).encode(),
            "".join(case_parties).encode(),
            "".join(flow).encode(),
        )


@dataclass
class Chunk:
    """Rows of one batch: their counts, and either their COPY text or the rows themselves."""

    cases: int
    parties: int
    case_parties: int
    flow_nodes: int
    copy: tuple[bytes, bytes, bytes, bytes] | None = None
    batch: Batch | None = None

    @classmethod
    def of(cls, batch: Batch, formatter: CopyFormatter | None) -> Chunk:
        return cls(
            cases=len(batch.cases),
            parties=len(batch.parties),
            case_parties=sum(len(case.parties) for case in batch.cases),
            flow_nodes=sum(len(case.flow) for case in batch.cases),
            copy=formatter.chunk(batch) if formatter is not None else None,
            batch=None if formatter is not None else batch,
        )


def _concrete(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name.removesuffix("_id"))
    assert isinstance(field, models.Field)
    return field


class BulkWriter:
    """Writes generated chunks with COPY on PostgreSQL and executemany elsewhere."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.postgres = connection.vendor == "postgresql"
        self.tables = [
            (model, [_concrete(model, name) for name in names])
            for model, names in zip(LOAD_TABLES, TABLE_FIELDS, strict=True)
        ]

    def write(self, chunk: Chunk) -> None:
        with connection.cursor() as cursor:
            if chunk.copy is not None:
                for (model, fields), data in zip(self.tables, chunk.copy, strict=True):
                    if data:
                        self._copy(cursor, model._meta.db_table, fields, data)
            elif chunk.batch is not None:
                batch = chunk.batch
                rows = (
                    self._party_rows(batch),
                    self._case_rows(batch),
                    self._case_party_rows(batch),
                    self._flow_rows(batch),
                )
                for (model, fields), table_rows in zip(self.tables, rows, strict=True):
                    self._insert(cursor, model._meta.db_table, fields, table_rows)

    def _copy(self, cursor: Any, table: str, fields: Sequence[models.Field], data: bytes) -> None:
        quoted = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
        with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            copy.write(data)

    def _insert(
        self, cursor: Any, table: str, fields: Sequence[models.Field], rows: Iterator[tuple]
    ) -> None:
        columns = [str(field.column) for field in fields]
        quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608
        cursor.executemany(
            sql,
            [
                tuple(
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(fields, row, strict=True)
                )
                for row in rows
            ],
        )

    def _party_rows(self, batch: Batch) -> Iterator[tuple]:
        now = self.now
        for party in batch.parties:
            yield (
                party.id,
                party.kind,
                party.name,
                party.document_type,
                party.document_number,
                False,
                party.birth_date,
                party.sex,
                now,
            )

    def _case_rows(self, batch: Batch) -> Iterator[tuple]:
        now = self.now
        for case in batch.cases:
            yield (
                case.id,
                case.case_number,
                case.court_id,
                case.year,
                case.type_code,
                case.sequence,
                "",
                case.filed_on,
                case.basis_kind,
                case.basis_court,
                case.basis_document_number,
                case.claim_amount,
                case.recovered_amount,
                case.case_officer_id,
                case.status,
                case.closing_mode,
                case.closed_on,
                case.next_due_on,
                case.next_due_rule,
                case.handling_due_on,
                now,
                now,
            )

    def _case_party_rows(self, batch: Batch) -> Iterator[tuple]:
        for case in batch.cases:
            for party_id, role in case.parties:
                yield (case.id, party_id, role)

    def _flow_rows(self, batch: Batch) -> Iterator[tuple]:
        for case in batch.cases:
            for kind, on, user_id, months in case.flow:
                # Recorded at 10:00 in China (02:00 UTC) on the day of the step.
                at = datetime.datetime.combine(on, datetime.time(2), tzinfo=datetime.UTC)
                yield (case.id, kind, on, at, user_id, "", months)


@dataclass
class LoadResult:
    cases: int
    parties: int
    case_parties: int
    flow_nodes: int
    seconds: float
    # Samples the benchmark searches for, drawn while the cases were made.
    name_fragments: list[str] = field(default_factory=list)
    person_documents: list[str] = field(default_factory=list)
    workers: int = 0
    # Generating and writing the rows; then recreating indexes and keys, raising the counters.
    write_seconds: float = 0.0
    index_seconds: float = 0.0


def next_ids() -> tuple[int, int]:
    """Return the first free primary keys of cases and parties."""
    case_max = EnforcementCase.objects.aggregate(top=Max("pk"))["top"] or 0
    party_max = Party.objects.aggregate(top=Max("pk"))["top"] or 0
    return case_max + 1, party_max + 1


def current_sequences() -> dict[tuple[int, str, int], int]:
    """Return the highest sequence per (court, type, year), from the counters and the cases."""
    sequences: dict[tuple[int, str, int], int] = {}
    for court_id, type_code, year, last in CaseSequence.objects.values_list(
        "court_id", "type_code", "year", "last_sequence"
    ):
        sequences[(court_id, type_code, year)] = last
    rows = (
        EnforcementCase.objects.values_list("court_id", "type_code", "year")
        .annotate(top=Max("sequence"))
        .order_by()
    )
    for court_id, type_code, year, top in rows:
        key = (court_id, type_code, year)
        sequences[key] = max(sequences.get(key, 0), top)
    return sequences


def used_document_numbers() -> set[str]:
    return set(Party.objects.exclude(document_number="").values_list("document_number", flat=True))


@dataclass
class Restore:
    """Statements that put back the indexes and keys a large load set aside.

    ``now`` runs in the load's transaction: the primary keys, the unique indexes and
    constraints, and the foreign keys. The foreign keys skip the check of the loaded rows when
    ``later`` validates them. ``later`` runs after the commit, on :data:`STREAMS` connections
    at once: the other indexes and the key checks. Nothing in ``later`` can change what is
    stored or let a duplicate in.
    """

    now: list[str] = field(default_factory=list)
    later: list[str] = field(default_factory=list)


def _postgres_set_aside_indexes(
    existing_rows: int, loading_rows: int, *, after_commit: bool
) -> Restore:
    """Drop the keys and secondary indexes of the case tables; return how to restore them.

    Like a database restore, a large load is faster when the indexes are built once at the end
    than when every row updates them. This pays only when the load is at least as large as what
    the tables already hold, so smaller loads keep their indexes and this returns nothing. The
    trigram (GIN) index of party names is rebuilt only when the tables hold less than a third
    of the load. Its pending list takes a row for about 1.4 times what a rebuild spends per row
    (one measurement, on 626,000 parties), and a rebuild covers the rows already there too.

    The primary keys go too where no foreign key refers to them (the flow nodes' and the case
    parties'): with its key in place, COPY of the flow nodes of a million cases took 12.7 s,
    without it 6.6 s, and building the key afterwards 1.4 s (one measurement). The primary
    keys and the unique indexes and constraints are recreated in the load's transaction, so no
    duplicate commits. With ``after_commit``, the other indexes are built and the foreign keys
    checked after the commit, as ``pg_restore --jobs`` does: a GIN build and a key check each
    keep one core busy, and only separate connections run them side by side. The foreign keys
    are added ``NOT VALID`` before the commit, so that rows written meanwhile are checked, and
    validated afterwards. Without ``after_commit`` everything is restored before the commit.
    """
    restore = Restore()
    if loading_rows < existing_rows:
        return restore
    tables = [model._meta.db_table for model in LOAD_TABLES]
    with connection.cursor() as cursor:
        # Checks deferred by earlier statements of this transaction would block ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
            "FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) "
            "AND (c.contype IN ('f', 'u') OR c.contype = 'p' AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.confrelid = c.conrelid)) "
            "ORDER BY c.contype, c.conname",
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), am.amname, "
            "i.indisunique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
            "ORDER BY 1",
            [tables],
        )
        methods = {"btree", "gin"} if existing_rows * 3 <= loading_rows else {"btree"}
        indexes = [row for row in cursor.fetchall() if row[2] in methods]
        keys: list[str] = []
        for table, name, definition, kind in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            if kind in ("p", "u"):
                restore.now.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            elif after_commit:
                keys.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
                restore.later.append(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"')
            else:
                keys.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        later_indexes: list[tuple[str, str]] = []
        for name, definition, method, unique in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
            if unique or not after_commit:
                restore.now.append(definition)
            else:
                later_indexes.append((method, definition))
    restore.now += keys
    # The GIN builds take longest, so they start first and the rest fill the other connection.
    later_indexes.sort(key=lambda pair: pair[0] != "gin")
    # A build run by hand meanwhile (the error of a failed restore lists the statements) must
    # not make the recorded one fail for good.
    restore.later = [
        definition.replace(" INDEX ", " INDEX IF NOT EXISTS ", 1)
        for _method, definition in later_indexes
    ] + restore.later
    return restore


def _restore_after_commit(
    statements: Sequence[tuple[int, str]], connections: int, *, lock_timeout_ms: int = 0
) -> int:
    """Run the recorded ``(PendingRestore id, statement)`` pairs on ``connections`` connections
    at once, in their order; return how many ran, and raise naming those that failed.

    Each statement runs in a transaction that locks its record, skipping it when another
    process holds or has deleted it, and deletes it on success. So every statement runs once
    even with several runners, and a failed one stays recorded for :func:`finish_restores`.
    A failure does not stop the other statements. With ``lock_timeout_ms``, a statement that
    waits longer for a table lock stays recorded for a later run, without an error.
    A statement waits for the table locks of the others where they conflict (an index build
    and a key check of the same table), so the order decides only how well they overlap.
    """
    pending = list(statements)
    lock = threading.Lock()
    # (statement, error); the statement is None when the connection itself failed.
    failed: list[tuple[str | None, Exception]] = []
    ran: list[int] = []
    table = PendingRestore._meta.db_table

    def run(cursor: Any, pk: int, statement: str) -> None:
        try:
            with transaction.atomic():
                cursor.execute(
                    f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE SKIP LOCKED",  # noqa: S608
                    [pk],
                )
                if cursor.fetchone() is None:
                    return
                cursor.execute(statement)
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608
        except DatabaseError as error:
            if lock_timeout_ms and getattr(error.__cause__, "sqlstate", None) == LOCK_TIMED_OUT:
                logger.info("Restore statement %s waits for a table lock; it runs later", pk)
                return
            with lock:
                failed.append((statement, error))
            return
        with lock:
            ran.append(pk)

    def work() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '1GB'")
                if lock_timeout_ms:
                    cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
                while True:
                    with lock:
                        if not pending:
                            return
                        pk, statement = pending.pop(0)
                    run(cursor, pk, statement)
        except Exception as error:
            with lock:
                failed.append((None, error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, name=f"zhixing-restore-{number}")
        for number in range(max(connections, 1))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        statement, error = failed[0]
        left = [statement for statement, _error in failed if statement is not None]
        left += [statement for _pk, statement in pending]
        raise RuntimeError(
            "the cases are stored, but restoring an index or key failed: "
            f"{statement or 'connecting to the database'}: {error}. "
            "The periodic check cases.finish_restores runs what failed again every "
            f"{FINISH_RESTORES_SECONDS} s; once the cause is fixed, it can also be run in psql: "
            + "; ".join(left)
        ) from error
    return len(ran)


# SQLSTATE lock_not_available: a statement waited longer than lock_timeout.
LOCK_TIMED_OUT = "55P03"
# How long the periodic check waits for a table lock before it leaves a statement for its
# next run, so that a load or a long transaction does not hold up the other periodic checks.
FINISH_LOCK_TIMEOUT_MS = 2000
# Key of the PostgreSQL advisory lock held while a process runs the recorded statements, so
# that the periodic check leaves a running load's statements to the load.
RESTORE_LOCK_KEY = 0x7A78_6C6F  # "zxlo"


def _record_restores(statements: Sequence[str]) -> list[tuple[int, str]]:
    """Store ``statements`` as PendingRestore records; return their ids with them."""
    records = PendingRestore.objects.bulk_create(
        PendingRestore(statement=statement) for statement in statements
    )
    return [(record.pk, record.statement) for record in records]


@contextmanager
def _restore_lock(*, wait: bool) -> Iterator[bool]:
    """Hold the restore lock on this connection while inside; yield whether it was taken.

    With ``wait`` it waits for the lock, else it yields False at once when another session
    holds it.
    """
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [RESTORE_LOCK_KEY])
            taken = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RESTORE_LOCK_KEY])
            taken = bool(cursor.fetchone()[0])
        try:
            yield taken
        finally:
            if taken:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RESTORE_LOCK_KEY])


def finish_restores() -> int:
    """Run the statements that interrupted loads left recorded; return how many ran.

    Does nothing on SQLite, inside a transaction, or while another process (a load, or this
    check elsewhere) holds the restore lock. A statement that waits more than
    :data:`FINISH_LOCK_TIMEOUT_MS` for a table lock is left for the next run. One that fails
    stays recorded and is raised as by :func:`_restore_after_commit`.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 0
    with _restore_lock(wait=False) as taken:
        if not taken:
            return 0
        pending = list(PendingRestore.objects.order_by("id").values_list("id", "statement"))
        if not pending:
            return 0
        logger.info("Running %s statements left by an interrupted case load", len(pending))
        return _restore_after_commit(pending, STREAMS, lock_timeout_ms=FINISH_LOCK_TIMEOUT_MS)


def _table_rows() -> int:
    if connection.vendor != "postgresql":
        return EnforcementCase.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
            [EnforcementCase._meta.db_table],
        )
        return int(cursor.fetchone()[0])


# Streams split a load in two (see plan_streams). From this many cases on, worker processes
# run the streams while this process sends their COPY text to PostgreSQL.
STREAMS = 2
PARALLEL_MIN_CASES = 20_000
# Batches a worker may have made and not yet handed over; bounds the memory they hold.
QUEUED_BATCHES = 4
WORKER_WAIT_SECONDS = 5.0


class _Samples:
    def __init__(self) -> None:
        self.name_fragments: list[str] = []
        self.person_documents: list[str] = []
        self.touched: dict[tuple[int, str, int], int] = {}

    def add(
        self,
        fragments: list[str],
        documents: list[str],
        touched: dict[tuple[int, str, int], int],
    ) -> None:
        self.name_fragments += fragments
        self.person_documents += documents
        for key, sequence in touched.items():
            self.touched[key] = max(sequence, self.touched.get(key, 0))


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while cases are generated and written.

    Reference counting frees each batch, and the collector, which runs every few hundred
    allocations, scans more live objects each time. One stream of 300,000 cases took 50 µs per
    case with the collector and 36 µs without, with the same peak memory, so the rows form no
    cycles that it would have to free. Worker processes forked meanwhile inherit the pause.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _serial_chunks(
    plan: Sequence[tuple[CaseGenerator, int]],
    batch_size: int,
    formatter: CopyFormatter | None,
    samples: _Samples,
) -> Iterator[Chunk]:
    for generator, count in plan:
        for batch in generator.batches(count, batch_size):
            yield Chunk.of(batch, formatter)
        samples.add(generator.name_fragments, generator.person_documents, generator.touched)


def _produce(
    generator: CaseGenerator,
    count: int,
    batch_size: int,
    formatter: CopyFormatter,
    queue: Any,
) -> None:
    """Run in a worker process: draw one stream's batches and queue their COPY text.

    Returns early when the loading process is gone. A worker inherits the loading process's
    database connection, so a worker left waiting on a full queue would keep the load's
    transaction, and its table locks, open.
    """
    parent = os.getppid()

    def send(message: tuple[str, Any]) -> bool:
        while True:
            try:
                queue.put(message, timeout=WORKER_WAIT_SECONDS)
                return True
            except Full:
                if os.getppid() != parent:
                    # The queue has no reader any more, so exit without flushing it.
                    queue.cancel_join_thread()
                    return False

    try:
        for batch in generator.batches(count, batch_size):
            if not send(("chunk", Chunk.of(batch, formatter))):
                return
        send(("done", (generator.name_fragments, generator.person_documents, generator.touched)))
    except BaseException as error:  # reported to the loading process, which raises it
        send(("error", f"{type(error).__name__}: {error}"))
        raise


def _parallel_chunks(
    plan: Sequence[tuple[CaseGenerator, int]],
    batch_size: int,
    formatter: CopyFormatter,
    samples: _Samples,
) -> Iterator[Chunk]:
    """Yield the chunks that one worker process per stream makes, as they arrive.

    The workers are forked, so they start with the generators as planned here; they touch no
    database connection and only queue bytes. They are ended when the load stops early.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=QUEUED_BATCHES * len(plan))
    workers = [
        context.Process(
            target=_produce,
            args=(generator, count, batch_size, formatter, queue),
            name=f"zhixing-load-{index}",
            daemon=True,
        )
        for index, (generator, count) in enumerate(plan)
    ]
    for worker in workers:
        worker.start()
    try:
        finished = 0
        while finished < len(workers):
            try:
                kind, payload = queue.get(timeout=WORKER_WAIT_SECONDS)
            except Empty:
                failed = [w.name for w in workers if w.exitcode not in (None, 0)]
                if failed:
                    raise RuntimeError(
                        f"worker {failed[0]} exited before it finished its cases; "
                        "see its traceback above"
                    ) from None
                continue
            if kind == "chunk":
                yield payload
            elif kind == "done":
                samples.add(*payload)
                finished += 1
            else:
                raise RuntimeError(f"a worker generating cases failed: {payload}")
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()


def load_cases(
    count: int,
    *,
    seed: int,
    courts: Sequence[CourtProfile] | None = None,
    today: datetime.date | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    parallel: bool | None = None,
) -> LoadResult:
    """Generate ``count`` cases and write them in one transaction; return counts and timing.

    A large load on PostgreSQL sets the case tables' indexes and keys aside while it writes
    (see :func:`_postgres_set_aside_indexes`). Called outside a transaction, it builds the
    indexes that enforce nothing after the commit, on two connections at once.

    The cases come from :data:`STREAMS` generators (see :func:`plan_streams`). On PostgreSQL,
    with more than one core, a load of :data:`PARALLEL_MIN_CASES` or more runs each generator
    in a worker process. ``parallel`` overrides that choice, and the data are the same either
    way.
    The case number counters (CaseSequence) are raised to the highest number loaded per court,
    type and year, so cases filed afterwards continue the numbering without a gap or clash.
    """
    started = time.perf_counter()
    profiles = list(courts) if courts is not None else court_profiles()
    if not profiles:
        raise ValueError("no court with a court code to file cases at; run loadcourts first")
    first_case_id, first_party_id = next_ids()
    plan = plan_streams(
        profiles,
        count,
        seed=seed,
        today=today or services.today_in_china(),
        first_case_id=first_case_id,
        first_party_id=first_party_id,
        sequences=current_sequences(),
        used_documents=used_document_numbers(),
        streams=STREAMS,
    )
    writer = BulkWriter()
    formatter = (
        CopyFormatter(writer.now, escape=_needs_escaping(profiles)) if writer.postgres else None
    )
    if parallel is None:
        parallel = count >= PARALLEL_MIN_CASES and (os.cpu_count() or 1) > 1
    parallel = bool(
        parallel
        and formatter is not None
        and len(plan) > 1
        and "fork" in multiprocessing.get_all_start_methods()
    )
    samples = _Samples()
    totals = {"cases": 0, "parties": 0, "case_parties": 0, "flow_nodes": 0}
    # Inside a caller's transaction nothing may commit, so everything is restored in it.
    after_commit = not connection.in_atomic_block
    restore = Restore()
    with transaction.atomic(), _cyclic_gc_paused():
        if writer.postgres:
            restore = _postgres_set_aside_indexes(_table_rows(), count, after_commit=after_commit)
        if parallel and formatter is not None:
            chunks = _parallel_chunks(plan, batch_size, formatter, samples)
        else:
            chunks = _serial_chunks(plan, batch_size, formatter, samples)
        for chunk in chunks:
            writer.write(chunk)
            totals["cases"] += chunk.cases
            totals["parties"] += chunk.parties
            totals["case_parties"] += chunk.case_parties
            totals["flow_nodes"] += chunk.flow_nodes
            if progress is not None:
                progress(totals["cases"])
        written = time.perf_counter()
        with connection.cursor() as cursor:
            if restore.now:
                cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for statement in restore.now:
                cursor.execute(statement)
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [EnforcementCase, Party]
            ):
                cursor.execute(statement)
        services.reserve_sequences(
            (court_id, type_code, year, sequence)
            for (court_id, type_code, year), sequence in samples.touched.items()
        )
        # Recorded in the load's transaction, so that a crash after the commit leaves them.
        recorded = _record_restores(restore.later) if restore.later else []
    if recorded:
        with _restore_lock(wait=True):
            _restore_after_commit(recorded, STREAMS)
    indexed = time.perf_counter()
    seconds = time.perf_counter() - started
    logger.info("Loaded %s synthetic cases in %.1f s", totals["cases"], seconds)
    return LoadResult(
        seconds=seconds,
        name_fragments=samples.name_fragments,
        person_documents=samples.person_documents,
        workers=len(plan) if parallel else 0,
        write_seconds=written - started,
        index_seconds=indexed - written,
        **totals,
    )


def generate_demo_cases(count: int = DEMO_CASES, *, seed: int = DEMO_SEED) -> LoadResult:
    """Create the demo's case officers and cases across every court that numbers cases."""
    profiles = court_profiles()
    ensure_case_officers(profiles, seed=seed)
    return load_cases(count, seed=seed, courts=profiles)
