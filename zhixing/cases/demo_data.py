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
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from types import SimpleNamespace
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from stdnum.cn import uscc

from zhixing.cases import deadlines, services
from zhixing.cases.identity import DocumentType, organization_code_check_character
from zhixing.cases.models import CaseParty, CaseSequence, EnforcementCase, FlowNode, Party
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
CENT = Decimal("0.01")

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


def resident_id_check_character(body: str) -> str:
    """Return the GB 11643 check character of 17 digits (same as ``identity``'s function)."""
    total = sum(
        int(digit) * weight for digit, weight in zip(body, _RESIDENT_ID_WEIGHTS, strict=True)
    )
    return _RESIDENT_ID_CHECK[total % 11]


def make_resident_id(region: str, birth: datetime.date, sequence: int) -> str:
    """Build a synthetic 18-character resident ID number with a correct check character."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + resident_id_check_character(body)


def make_credit_code(region: str, organisation_body: str, *, authority: str = "91") -> str:
    """Build a unified social credit code whose embedded organization code and code both check."""
    organisation = organisation_body + organization_code_check_character(organisation_body)
    code = f"{authority}{region}{organisation}"
    return code + uscc.calc_check_digit(code)


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


def ensure_case_officers(
    profiles: Sequence[CourtProfile], *, per_court: int = 2, seed: int = DEMO_SEED
) -> int:
    """Fill ``officer_ids`` with each court's case officers, creating accounts where none exist.

    Created accounts are named ``officer_<court digits>_<n>`` and have unusable passwords, so
    they own cases but cannot log in until an administrator sets a password. Returns how many
    accounts were created.
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
    claim_amount: Decimal
    recovered_amount: Decimal
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
    ) -> None:
        if not courts:
            raise ValueError("no court with a court code to file cases at; run loadcourts first")
        self.rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
        self.today = today
        self.first_day = datetime.date(FIRST_YEAR, 1, 1)
        self.courts = _Weighted([(court, court.weight) for court in courts])
        self.types = _Weighted(TYPE_CODES)
        self.bases = _Weighted(BASIS_KINDS)
        self.modes = _Weighted(CLOSING_MODES)
        self.next_case_id = first_case_id
        self.next_party_id = first_party_id
        self.sequences = dict(sequences or {})
        self.used_documents = used_documents if used_documents is not None else set()
        self.regions = _region_pools(courts)
        self.recent_debtors: dict[str, list[int]] = {}
        self.lenders: dict[str, list[int]] = {}
        self.new_parties: list[GeneratedParty] = []
        # Samples the benchmark searches for; filled as cases are made.
        self.name_fragments: list[str] = []
        self.person_documents: list[str] = []

    def filing_days(self, count: int) -> list[datetime.date]:
        """Draw ``count`` filing days from 1 January 2023 to today, in order."""
        span = (self.today - self.first_day).days
        offsets = sorted(self.rng.randint(0, span) for _ in range(count))
        return [self.first_day + datetime.timedelta(days=offset) for offset in offsets]

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
        court: CourtProfile = self.courts.draw(rng)
        type_code: str = self.types.draw(rng)
        year = filed_on.year
        key = (court.id, type_code, year)
        sequence = self.sequences.get(key, 0) + 1
        self.sequences[key] = sequence
        age = (self.today - filed_on).days
        basis_kind = Basis.RULING if type_code == "执保" else self.bases.draw(rng)
        basis_court, basis_number = self._basis(court, basis_kind, filed_on)
        claim = _amount(min(max(rng.lognormvariate(11.0, 1.6), 1500.0), 8e7), rng)
        status, mode, closed_on = self._outcome(filed_on, age)
        end = closed_on or self.today
        officer_id = None
        if court.officer_ids and not (age <= 3 and rng.random() < 0.5):
            officer_id = rng.choice(court.officer_ids)
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
            claim_amount=claim,
            recovered_amount=self._recovered(claim, status, mode),
            case_officer_id=officer_id,
            status=status,
            closing_mode=mode,
            closed_on=closed_on,
            parties=self._parties(court, filed_on),
            flow=flow,
        )
        self.next_case_id += 1
        case.handling_due_on, case.next_due_on, case.next_due_rule = deadline_fields(
            case, self.today
        )
        return case

    def _basis(self, court: CourtProfile, kind: str, filed_on: datetime.date) -> tuple[str, str]:
        rng = self.rng
        year = filed_on.year - (1 if rng.random() < 0.6 else 0)
        number = rng.randint(1, 30000)
        abbreviation = CITY_ABBREVIATIONS.get(court.city, court.city_name[:1])
        if kind == Basis.ARBITRAL_AWARD:
            return f"{court.city_name}仲裁委员会", f"({year}){abbreviation}仲案字第{number}号"
        if kind == Basis.NOTARISED_DEBT:
            return f"{court.city_name}公证处", f"({year}){abbreviation}证字第{number}号"
        if kind == Basis.ADMINISTRATIVE_DECISION:
            return (
                f"{court.city_name}人力资源和社会保障局",
                f"{abbreviation}人社罚〔{year}〕{number}号",  # noqa: RUF001
            )
        if kind == Basis.OTHER:
            return "", ""
        appeal = court.level == Court.Level.BASIC and rng.random() < 0.25
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
        rng = self.rng
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
        if rng.random() >= closed_share:
            if age > 30 and rng.random() < 0.08:
                return Status.SUSPENDED, "", None
            return Status.OPEN, "", None
        mode: str = self.modes.draw(rng)
        if mode == Mode.TERMINATED_WITHOUT_ASSETS and age < 95:
            mode = Mode.COMPLETED
        low, high = CLOSING_DAYS[mode]
        days = rng.randint(low, high)
        if mode == Mode.COMPLETED and rng.random() < 0.1:
            days = rng.randint(180, 400)  # closed after the handling period ran out
        return Status.CLOSED, mode, filed_on + datetime.timedelta(days=min(days, age))

    def _recovered(self, claim: Decimal, status: str, mode: str) -> Decimal:
        rng = self.rng
        share = 0.0
        if mode == Mode.COMPLETED:
            share = 1.0 if rng.random() < 0.85 else rng.uniform(0.9, 1.0)
        elif mode == Mode.TERMINATED_WITHOUT_ASSETS:
            share = rng.uniform(0.01, 0.4) if rng.random() < 0.35 else 0.0
        elif mode in (Mode.TERMINATED, Mode.WITHDRAWN):
            share = rng.uniform(0.1, 0.9) if rng.random() < 0.5 else 0.0
        elif status != Status.CLOSED and rng.random() < 0.25:
            share = rng.uniform(0.01, 0.6)
        if share >= 1.0:
            return claim
        return (claim * Decimal(str(round(share, 4)))).quantize(CENT)

    def _flow(
        self,
        filed_on: datetime.date,
        end: datetime.date,
        officer_id: int | None,
        status: str,
        claim: Decimal,
        closed_on: datetime.date | None,
    ) -> list[tuple[str, datetime.date, int | None, int | None]]:
        """Draw the steps from filing to ``end`` (closing day or today), in time order."""
        rng = self.rng
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
            assigned = filed_on + day(
                rng.randint(0, 5) if rng.random() < 0.95 else rng.randint(8, 14)
            )
            if add(Kind.OFFICER_ASSIGNED, assigned):
                late = rng.random() < 0.06
                notice = assigned + day(rng.randint(4, 8) if late else rng.randint(0, 3))
                if rng.random() < 0.97 and add(Kind.NOTICE_SENT, notice):
                    add(Kind.ONLINE_QUERY, notice + day(rng.randint(1, 7)))
            if rng.random() < 0.2:
                leads = filed_on + day(rng.randint(5, 40))
                if add(Kind.ASSET_LEADS_RECEIVED, leads) and rng.random() < 0.9:
                    late = rng.random() < 0.1
                    add(
                        Kind.ASSET_LEADS_VERIFIED,
                        leads + day(rng.randint(6, 12) if late else rng.randint(1, 5)),
                    )
            investigated = filed_on + day(
                rng.randint(20, 30) if rng.random() < 0.88 else rng.randint(32, 60)
            )
            if rng.random() < 0.95:
                add(Kind.ASSET_INVESTIGATION, investigated)
            if closed_on is not None and claim > 300000 and rng.random() < 0.3:
                disposal = closed_on - day(rng.randint(5, 30))
                if disposal > investigated:
                    add(Kind.DISPOSAL, disposal)
        if status == Status.SUSPENDED:
            start = filed_on + day(rng.randint(30, max(30, (end - filed_on).days)))
            add(Kind.SUSPENDED, min(start, end))
        elif rng.random() < 0.05 and (end - filed_on).days > 60:
            start = filed_on + day(rng.randint(20, (end - filed_on).days - 30))
            if add(Kind.SUSPENDED, start):
                add(Kind.RESUMED, start + day(rng.randint(10, 29)))
        if status == Status.OPEN and (end - filed_on).days > 185 and rng.random() < 0.3:
            add(Kind.EXTENSION_APPROVED, filed_on + day(rng.randint(170, 180)), 3)
        steps.sort(key=_step_day)
        return steps

    # Parties

    def _parties(self, court: CourtProfile, filed_on: datetime.date) -> list[tuple[int, str]]:
        rng = self.rng
        roles: list[tuple[int, str]] = []
        for _ in range(2 if rng.random() < 0.08 else 1):
            if rng.random() < 0.2:
                party_id = self._lender(court, filed_on)
            elif rng.random() < 0.5:
                party_id = self._person(court, filed_on)
            else:
                party_id = self._organisation(court, filed_on)
            if (party_id, Role.APPLICANT) not in roles:
                roles.append((party_id, Role.APPLICANT))
        debtor_count = 1 if rng.random() < 0.64 else (2 if rng.random() < 0.78 else 3)
        recent = self.recent_debtors.setdefault(court.city, [])
        for _ in range(debtor_count):
            if recent and rng.random() < 0.15:
                party_id = rng.choice(recent)
            elif rng.random() < 0.6:
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
        pool = self.regions.get(court.city) if self.rng.random() < 0.75 else None
        return self.rng.choice(pool or self.regions[""])

    def _add_party(self, party: GeneratedParty) -> int:
        self.new_parties.append(party)
        self.next_party_id += 1
        return party.id

    def _person(self, court: CourtProfile, filed_on: datetime.date) -> int:
        rng = self.rng
        region = self._region(court)
        while True:
            birth = filed_on - datetime.timedelta(days=rng.randint(22 * 365, 68 * 365))
            number = make_resident_id(region, birth, rng.randint(0, 999))
            if number not in self.used_documents:
                break
        self.used_documents.add(number)
        name = person_name(rng)
        if len(name) >= 3 and len(self.name_fragments) < 20000 and rng.random() < 0.05:
            self.name_fragments.append(name)
        if len(self.person_documents) < 20000 and rng.random() < 0.05:
            self.person_documents.append(number)
        return self._add_party(
            GeneratedParty(
                id=self.next_party_id,
                kind=PartyKind.PERSON,
                name=name,
                document_type=DocumentType.RESIDENT_ID.value,
                document_number=number,
                birth_date=birth,
                sex="M" if int(number[16]) % 2 else "F",
            )
        )

    def _organisation(
        self, court: CourtProfile, filed_on: datetime.date, industries: Sequence[str] = INDUSTRIES
    ) -> int:
        rng = self.rng
        region = self._region(court)
        while True:
            code = make_credit_code(region, f"{rng.randint(0, 99999999):08d}")
            if code not in self.used_documents:
                break
        self.used_documents.add(code)
        brand = rng.choice(BRAND_CHARACTERS) + rng.choice(BRAND_CHARACTERS)
        industry = rng.choice(industries)
        if len(self.name_fragments) < 20000 and rng.random() < 0.05:
            self.name_fragments.append(brand + industry)
        return self._add_party(
            GeneratedParty(
                id=self.next_party_id,
                kind=PartyKind.ORGANISATION,
                name=f"{court.city_name}{brand}{industry}有限公司",
                document_type=DocumentType.USCC.value,
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
        return self.rng.choice(lenders)


def _step_day(step: tuple[str, datetime.date, int | None, int | None]) -> datetime.date:
    return step[1]


def _amount(value: float, rng: random.Random) -> Decimal:
    if rng.random() < 0.7:
        return Decimal(round(value))
    return Decimal(str(round(value, 2))).quantize(CENT)


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
    "address",
    "phone",
    "created_at",
)
CASE_PARTY_FIELDS = ("case_id", "party_id", "role")
FLOW_FIELDS = ("case_id", "kind", "on", "at", "user_id", "note", "extension_months")


def _concrete(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name.removesuffix("_id"))
    assert isinstance(field, models.Field)
    return field


class BulkWriter:
    """Writes generated batches with COPY on PostgreSQL and executemany elsewhere."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.postgres = connection.vendor == "postgresql"
        self.tables = [
            (Party, PARTY_FIELDS, self._party_rows),
            (EnforcementCase, CASE_FIELDS, self._case_rows),
            (CaseParty, CASE_PARTY_FIELDS, self._case_party_rows),
            (FlowNode, FLOW_FIELDS, self._flow_rows),
        ]

    def write(self, batch: Batch) -> None:
        with connection.cursor() as cursor:
            for model, names, rows in self.tables:
                fields = [_concrete(model, name) for name in names]
                columns = [str(field.column) for field in fields]
                if self.postgres:
                    self._copy(cursor, model._meta.db_table, columns, rows(batch))
                else:
                    self._insert(cursor, model._meta.db_table, fields, columns, rows(batch))

    def _copy(self, cursor: Any, table: str, columns: list[str], rows: Iterator[tuple]) -> None:
        quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
        with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _insert(
        self,
        cursor: Any,
        table: str,
        fields: Sequence[models.Field],
        columns: list[str],
        rows: Iterator[tuple],
    ) -> None:
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
                "",
                "",
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
    generator: CaseGenerator


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


LOAD_TABLES = (Party, EnforcementCase, CaseParty, FlowNode)


def _postgres_set_aside_indexes(existing_rows: int, loading_rows: int) -> list[str]:
    """Drop the foreign keys and secondary indexes of the case tables; return how to restore them.

    Like a database restore, a large load is faster when the indexes are built once at the end
    than when every row updates them. This pays only when the load is at least as large as what
    the tables already hold, so smaller loads keep their indexes and this returns nothing. The
    trigram (GIN) index stays, because its pending list takes rows faster than a rebuild. The
    unique indexes and foreign keys are recreated in the same transaction, so the loaded rows
    are checked against every constraint before anything commits.
    """
    if loading_rows < existing_rows:
        return []
    tables = [model._meta.db_table for model in LOAD_TABLES]
    restore_indexes: list[str] = []
    restore_keys: list[str] = []
    with connection.cursor() as cursor:
        # Checks deferred by earlier statements of this transaction would block ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
            "FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) "
            "AND c.contype IN ('f', 'u') "
            "ORDER BY c.contype, c.conname",
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), am.amname "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
            "ORDER BY 1",
            [tables],
        )
        indexes = [row for row in cursor.fetchall() if row[2] == "btree"]
        for table, name, definition, kind in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            target = restore_keys if kind == "f" else restore_indexes
            target.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for name, definition, _method in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
            restore_indexes.append(definition)
    return restore_indexes + restore_keys


def _table_rows() -> int:
    if connection.vendor != "postgresql":
        return EnforcementCase.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
            [EnforcementCase._meta.db_table],
        )
        return int(cursor.fetchone()[0])


def load_cases(
    count: int,
    *,
    seed: int,
    courts: Sequence[CourtProfile] | None = None,
    today: datetime.date | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Generate ``count`` cases and write them in one transaction; return counts and timing.

    The case number counters (CaseSequence) are raised to the highest number loaded per court,
    type and year, so cases filed afterwards continue the numbering without a gap or clash.
    """
    started = time.perf_counter()
    profiles = list(courts) if courts is not None else court_profiles()
    first_case_id, first_party_id = next_ids()
    generator = CaseGenerator(
        profiles,
        seed=seed,
        today=today or services.today_in_china(),
        first_case_id=first_case_id,
        first_party_id=first_party_id,
        sequences=current_sequences(),
        used_documents=used_document_numbers(),
    )
    writer = BulkWriter()
    totals = {"cases": 0, "parties": 0, "case_parties": 0, "flow_nodes": 0}
    touched: dict[tuple[int, str, int], int] = {}
    with transaction.atomic():
        restore: list[str] = []
        if writer.postgres:
            restore = _postgres_set_aside_indexes(_table_rows(), count)
        for batch in generator.batches(count, batch_size):
            writer.write(batch)
            totals["cases"] += len(batch.cases)
            totals["parties"] += len(batch.parties)
            totals["case_parties"] += sum(len(case.parties) for case in batch.cases)
            totals["flow_nodes"] += sum(len(case.flow) for case in batch.cases)
            for case in batch.cases:
                touched[(case.court_id, case.type_code, case.year)] = case.sequence
            if progress is not None:
                progress(totals["cases"])
        with connection.cursor() as cursor:
            if restore:
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for statement in restore:
                cursor.execute(statement)
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [EnforcementCase, Party]
            ):
                cursor.execute(statement)
        courts_by_id = {court.pk: court for court in Court.objects.all()}
        for (court_id, type_code, year), sequence in touched.items():
            services.reserve_sequence(courts_by_id[court_id], type_code, year, sequence)
    seconds = time.perf_counter() - started
    logger.info("Loaded %s synthetic cases in %.1f s", totals["cases"], seconds)
    return LoadResult(seconds=seconds, generator=generator, **totals)


def generate_demo_cases(count: int = DEMO_CASES, *, seed: int = DEMO_SEED) -> LoadResult:
    """Create the demo's case officers and cases across every court that numbers cases."""
    profiles = court_profiles()
    ensure_case_officers(profiles, seed=seed)
    return load_cases(count, seed=seed, courts=profiles)
