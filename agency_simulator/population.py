"""Synthetic population: the records each agency returns about a subject.

Everything is drawn from random generators seeded by the subject's document number, so the
same debtor gets the same accounts, homes and travels on every run and in every database.
Facts that several agencies share (home district, employer, companies, marriage) are seeded by
the document number alone. Facts of one agency (accounts at one bank) are also seeded by the
agency code.
About one subject in seven owns nothing at all. All names and numbers are made up.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from agency_simulator.agencies import CHINA_TZ, Agency
from agency_simulator.identifiers import (
    is_valid_resident_id,
    luhn_check,
    make_credit_code,
    make_vin,
)

PROFILE_CACHE_SIZE = 20_000
# Records are dated relative to this day, not to today, so that they never change.
BASE_DATE = date(2025, 12, 31)

# Region code: (city, district, plate letter). The codes are GB/T 2260 district codes.
DISTRICTS: dict[str, tuple[str, str, str]] = {
    "440103": ("广州市", "荔湾区", "A"),
    "440104": ("广州市", "越秀区", "A"),
    "440105": ("广州市", "海珠区", "A"),
    "440106": ("广州市", "天河区", "A"),
    "440111": ("广州市", "白云区", "A"),
    "440112": ("广州市", "黄埔区", "A"),
    "440113": ("广州市", "番禺区", "A"),
    "440303": ("深圳市", "罗湖区", "B"),
    "440304": ("深圳市", "福田区", "B"),
    "440305": ("深圳市", "南山区", "B"),
    "440306": ("深圳市", "宝安区", "B"),
    "440307": ("深圳市", "龙岗区", "B"),
    "440402": ("珠海市", "香洲区", "C"),
    "440507": ("汕头市", "龙湖区", "D"),
    "440604": ("佛山市", "禅城区", "E"),
    "440605": ("佛山市", "南海区", "Y"),
    "440606": ("佛山市", "顺德区", "X"),
    "440703": ("江门市", "蓬江区", "J"),
    "441302": ("惠州市", "惠城区", "L"),
    "441900": ("东莞市", "", "S"),
    "442000": ("中山市", "", "T"),
}
REGION_CODES = sorted(DISTRICTS)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁郑谢宋唐许邓冯韩曹曾彭肖蔡潘田董袁余叶蒋杜苏魏程"
    "吕丁沈任姚卢钟姜崔谭陆范汪廖石金韦贾夏方邹熊白孟秦邱侯江尹薛段雷黎史陶贺毛顾龚邵万覃钱戴"
)
GIVEN_NAME_CHARACTERS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰辉建国志红梅鹏飞宇浩然子涵思琪嘉怡俊杰文博"
)
ROAD_WORDS = (
    "中山", "解放", "人民", "东风", "建设", "新港", "环市", "滨江", "江南",
    "华强", "红荔", "沿江", "迎宾", "文明", "朝阳", "凤凰", "金沙", "翠竹",
)  # fmt: skip
TRADE_CHARACTERS = "华信达通盛鑫源汇隆泰创科联宏新嘉瑞恒丰永"
INDUSTRIES = ("贸易", "科技", "建材", "物流", "餐饮管理", "电子", "服装", "投资咨询", "装饰工程")
HOTEL_WORDS = ("锦江", "维也纳", "如家", "城市便捷", "汉庭", "粤海", "白天鹅", "东方")
PORTS = (
    "罗湖口岸",
    "皇岗口岸",
    "深圳湾口岸",
    "拱北口岸",
    "港珠澳大桥珠海公路口岸",
    "广州白云国际机场",
)
CAR_MODELS = (
    ("LGX", "比亚迪 秦PLUS"),
    ("LGX", "比亚迪 宋PLUS"),
    ("LVG", "广汽丰田 凯美瑞"),
    ("LHG", "广汽本田 雅阁"),
    ("LMG", "广汽传祺 GS4"),
    ("LGB", "东风日产 轩逸"),
    ("LFV", "一汽-大众 速腾"),
    ("LSV", "上汽大众 朗逸"),
)
# Courts that hold the synthetic earlier seizures, with their court codes.
SEIZING_COURTS = (
    ("粤0104", "广州市越秀区人民法院"),
    ("粤0105", "广州市海珠区人民法院"),
    ("粤0303", "深圳市罗湖区人民法院"),
    ("粤01", "广州市中级人民法院"),
)


def subject_key(subject: dict[str, Any]) -> str:
    return f"{subject['kind']}:{subject['document_type']}:{subject['document_number'].upper()}"


def seeded_random(*parts: str) -> random.Random:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    # Pseudo-random numbers are the point here: they make synthetic data, not secrets.
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311


@dataclasses.dataclass(frozen=True)
class Company:
    name: str
    credit_code: str
    region: str


@dataclasses.dataclass(frozen=True)
class Profile:
    """Facts about one subject that every agency agrees on."""

    document_number: str
    is_person: bool
    known: bool
    empty: bool
    region: str
    name: str
    employer: Company | None
    companies: tuple[Company, ...]
    spouse_name: str | None
    children: int


def build_profile(subject: dict[str, Any]) -> Profile:
    return _profile(
        str(subject["kind"]),
        str(subject["document_type"]),
        str(subject["document_number"]).upper(),
        str(subject.get("name") or ""),
    )


# Every agency and category asks about the same subject, and a profile is costly to draw, so
# the recent ones are kept. Profiles are frozen, so sharing them is safe.
@functools.lru_cache(maxsize=PROFILE_CACHE_SIZE)
def _profile(kind: str, document_type: str, number: str, name: str) -> Profile:
    is_person = kind == "person"
    rng = seeded_random(number, "profile")
    if is_person:
        known = document_type == "resident_id" and is_valid_resident_id(number)
        region = number[:6]
    else:
        known = document_type == "credit_code" and len(number) == 18
        region = number[2:8]
    if region not in DISTRICTS:
        region = rng.choice(REGION_CODES)
    empty = rng.random() < 0.15
    employer = None
    if is_person and not empty and rng.random() < 0.7:
        employer = make_company(rng)
    companies: tuple[Company, ...] = ()
    if not empty and rng.random() < 0.35:
        companies = tuple(make_company(rng) for _ in range(rng.randint(1, 2)))
    married = is_person and rng.random() < 0.65
    return Profile(
        document_number=number,
        is_person=is_person,
        known=known,
        empty=empty,
        region=region,
        name=name,
        employer=employer,
        companies=companies,
        spouse_name=make_name(rng) if married else None,
        children=rng.choice((0, 1, 1, 2, 2, 3)) if married else 0,
    )


def make_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN_NAME_CHARACTERS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def make_company(rng: random.Random) -> Company:
    region = rng.choice(REGION_CODES)
    city = DISTRICTS[region][0].removesuffix("市")
    trade = rng.choice(TRADE_CHARACTERS) + rng.choice(TRADE_CHARACTERS)
    name = f"{city}市{trade}{rng.choice(INDUSTRIES)}有限公司"
    return Company(name=name, credit_code=make_credit_code(rng, region), region=region)


def make_address(rng: random.Random, region: str) -> str:
    city, district, _ = DISTRICTS[region]
    road = rng.choice(ROAD_WORDS) + rng.choice(("路", "大道", "街", "北路", "南路"))
    return (
        f"广东省{city}{district}{road}{rng.randint(1, 999)}号"
        f"{rng.randint(1, 30)}栋{rng.randint(1, 33)}{rng.randint(1, 8):02d}房"
    )


def money(value: float) -> str:
    return str(Decimal(str(max(value, 0.0))).quantize(Decimal("0.01")))


def day(rng: random.Random, max_days_back: int, min_days_back: int = 0) -> date:
    return BASE_DATE - timedelta(days=rng.randint(min_days_back, max_days_back))


def instant(rng: random.Random, max_days_back: int) -> str:
    moment = datetime.combine(day(rng, max_days_back), datetime.min.time(), CHINA_TZ)
    moment += timedelta(minutes=rng.randint(0, 24 * 60 - 1))
    return moment.isoformat()


def existing_seizures(rng: random.Random, chance: float) -> list[dict[str, str]]:
    if rng.random() >= chance:
        return []
    court_code, court_name = rng.choice(SEIZING_COURTS)
    since = day(rng, 900, 30)
    return [
        {
            "court": court_name,
            "case_number": f"({since.year}){court_code}执{rng.randint(1, 9999)}号",
            "since": since.isoformat(),
            "until": (since + timedelta(days=3 * 365)).isoformat(),
        }
    ]


# One generator per category. Each takes (profile, agency, rng) and returns the records; an
# empty list means the agency has nothing about the subject (status not_found).
Generator = Callable[[Profile, Agency, random.Random], list[dict[str, Any]]]


def household(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if not profile.is_person:
        return []
    city, district, _ = DISTRICTS[profile.region]
    authority = f"{city}公安局{district}分局" if district else f"{city}公安局"
    return [
        {
            "type": "household",
            "address": make_address(rng, profile.region),
            "registered_at": day(rng, 9000, 365).isoformat(),
            "authority": authority,
        }
    ]


def temporary_residence(
    profile: Profile, agency: Agency, rng: random.Random
) -> list[dict[str, Any]]:
    if not profile.is_person or rng.random() < 0.4:
        return []
    records = []
    for _ in range(rng.randint(1, 2)):
        since = day(rng, 2000, 30)
        until = since + timedelta(days=365)
        records.append(
            {
                "type": "residence",
                "address": make_address(rng, rng.choice(REGION_CODES)),
                "since": since.isoformat(),
                "until": until.isoformat() if until < BASE_DATE else None,
            }
        )
    return records


def hotel_lodging(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if not profile.is_person or rng.random() < 0.3:
        return []
    records = []
    for _ in range(rng.randint(1, 5)):
        city = DISTRICTS[rng.choice(REGION_CODES)][0]
        place = f"{city}{rng.choice(HOTEL_WORDS)}酒店"
        records.append({"type": "travel", "kind": "hotel", "place": place, "at": instant(rng, 365)})
    return sorted(records, key=lambda record: record["at"])


def exit_entry(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if not profile.is_person or rng.random() < 0.5:
        return []
    records = []
    for _ in range(rng.randint(1, 3)):
        port = rng.choice(PORTS)
        out = datetime.fromisoformat(instant(rng, 700))
        back = out + timedelta(days=rng.randint(1, 14), minutes=rng.randint(0, 600))
        records.append({"type": "travel", "kind": "exit", "port": port, "at": out.isoformat()})
        if back.date() <= BASE_DATE:
            records.append(
                {"type": "travel", "kind": "entry", "port": port, "at": back.isoformat()}
            )
    return sorted(records, key=lambda record: record["at"])


def business_registration(
    profile: Profile, agency: Agency, rng: random.Random
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for company in profile.companies:
        share = rng.choice(("1", "0.6", "0.5", "0.3", "0.2"))
        capital = rng.choice((100_000, 500_000, 1_000_000, 3_000_000, 10_000_000))
        records.append(
            {
                "type": "shareholding",
                "company": company.name,
                "credit_code": company.credit_code,
                "share": share,
                "capital": money(capital * float(share)),
            }
        )
        if profile.is_person:
            role = (
                "legal_representative"
                if share in ("1", "0.6")
                else rng.choice(("director", "supervisor", "manager"))
            )
            records.append(
                {
                    "type": "business",
                    "company": company.name,
                    "credit_code": company.credit_code,
                    "role": role,
                }
            )
    return records


def bank_account(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.empty or rng.random() >= 0.3:
        return []
    prefix = agency.account_prefix or "620000"
    records = []
    for _ in range(rng.randint(1, 3)):
        digits = prefix + "".join(str(rng.randrange(10)) for _ in range(12))
        if profile.is_person:
            account_type = rng.choice(("debit", "debit", "savings", "credit"))
            balance = rng.lognormvariate(8.0, 1.6) if rng.random() > 0.2 else 0.0
        else:
            account_type = rng.choice(("corporate_basic", "corporate_general"))
            balance = rng.lognormvariate(11.0, 1.8)
        records.append(
            {
                "type": "bank_account",
                "bank": agency.name,
                "account_number": digits + luhn_check(digits),
                "balance": money(balance),
                "currency": "CNY" if rng.random() > 0.05 else "USD",
                "account_type": account_type,
                "state": rng.choice(("normal",) * 8 + ("dormant", "frozen")),
            }
        )
    return records


def _real_estate_unit(profile: Profile, rng: random.Random, use: str) -> dict[str, Any]:
    region = profile.region if rng.random() < 0.6 else rng.choice(REGION_CODES)
    city = DISTRICTS[region][0]
    year = rng.randint(2016, 2025)
    area = rng.uniform(40, 180) if use == "residential" else rng.uniform(12, 5000)
    return {
        "type": "real_estate",
        "location": make_address(rng, region),
        "certificate_number": f"粤({year}){city}不动产权第{rng.randrange(10**7):07d}号",
        "area": money(area),
        "share": rng.choice(("1", "1", "0.5")),
        "use": use,
        "existing_seizures": existing_seizures(rng, 0.1),
    }


def real_estate(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.empty or rng.random() < 0.4:
        return []
    if profile.is_person:
        uses: tuple[str, ...] = ("residential", "residential", "commercial", "parking")
    else:
        uses = ("commercial", "industrial", "office")
    return [_real_estate_unit(profile, rng, rng.choice(uses)) for _ in range(rng.randint(1, 3))]


def land(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    chance = 0.1 if profile.is_person else 0.4
    if profile.empty or rng.random() >= chance:
        return []
    use = "homestead" if profile.is_person else rng.choice(("industrial", "commercial"))
    return [_real_estate_unit(profile, rng, use)]


def tax(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.is_person and profile.employer is None and not profile.companies:
        return []
    arrears = rng.lognormvariate(9.0, 1.5) if rng.random() < 0.15 else 0.0
    return [
        {
            "type": "tax",
            "taxpayer_id": profile.document_number,
            "last_filing": day(rng, 120).isoformat(),
            "arrears": money(arrears),
        }
    ]


def social_security(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    employer = profile.employer
    if employer is None:
        return []
    return [
        {
            "type": "employment",
            "employer": employer.name,
            "credit_code": employer.credit_code,
            "monthly_contribution": money(rng.uniform(500, 4500)),
            "since": day(rng, 4000, 60).isoformat(),
        }
    ]


def family_planning(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if not profile.is_person:
        return []
    return [{"type": "family", "spouse_name": profile.spouse_name, "children": profile.children}]


def credit_code(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.is_person:
        return []
    return [
        {
            "type": "organisation",
            "name": profile.name or make_company(rng).name,
            "credit_code": profile.document_number,
            "legal_representative": make_name(rng),
            "address": make_address(rng, profile.region),
        }
    ]


def vehicle(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.empty or rng.random() < 0.55:
        return []
    records = []
    for _ in range(rng.randint(1, 2)):
        letter = DISTRICTS[profile.region][2]
        manufacturer, model = rng.choice(CAR_MODELS)
        plate_characters = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        plate = "".join(rng.choice(plate_characters) for _ in range(5))
        records.append(
            {
                "type": "vehicle",
                "plate": f"粤{letter}{plate}",
                "model": model,
                "vin": make_vin(rng, manufacturer),
                "registered_at": day(rng, 3600, 30).isoformat(),
                "state": rng.choice(("normal",) * 6 + ("mortgaged", "seized")),
            }
        )
    return records


def securities(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.empty or rng.random() >= 0.25:
        return []
    account = rng.choice(("A", "0")) + f"{rng.randrange(10**9):09d}"
    value = rng.lognormvariate(10.5, 1.5)
    return [{"type": "securities", "account": account, "holdings_value": money(value)}]


def provident_fund(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.employer is None or rng.random() >= 0.5:
        return []
    account = f"{rng.randrange(10**12):012d}"
    return [{"type": "provident_fund", "account": account, "balance": money(rng.uniform(0, 2e5))}]


def online_payment(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.empty or rng.random() >= (0.8 if profile.is_person else 0.3):
        return []
    account = rng.choice(("2088", "1000")) + f"{rng.randrange(10**12):012d}"
    balance = rng.lognormvariate(6.0, 1.5) if rng.random() > 0.3 else 0.0
    return [
        {
            "type": "payment_account",
            "platform": agency.name,
            "account": account,
            "balance": money(balance),
        }
    ]


def ship(profile: Profile, agency: Agency, rng: random.Random) -> list[dict[str, Any]]:
    if profile.empty or rng.random() >= (0.03 if profile.is_person else 0.1):
        return []
    city = DISTRICTS[profile.region][0].removesuffix("市")
    return [
        {
            "type": "ship",
            "name": f"粤{city}货{rng.randint(1000, 9999)}",
            "registration_number": f"{rng.randrange(10**12):012d}",
            "tonnage": money(rng.uniform(50, 3000)),
        }
    ]


GENERATORS: dict[str, Generator] = {
    "household": household,
    "temporary_residence": temporary_residence,
    "hotel_lodging": hotel_lodging,
    "exit_entry": exit_entry,
    "business_registration": business_registration,
    "bank_account": bank_account,
    "land": land,
    "real_estate": real_estate,
    "tax": tax,
    "social_security": social_security,
    "family_planning": family_planning,
    "credit_code": credit_code,
    "vehicle": vehicle,
    "securities": securities,
    "provident_fund": provident_fund,
    "online_payment": online_payment,
    "ship": ship,
}


def generate_records(
    agency: Agency, category: str, subject: dict[str, Any]
) -> list[dict[str, Any]]:
    """Generate what `agency` has on file about `subject` in `category`."""
    profile = build_profile(subject)
    if not profile.known:
        return []
    rng = seeded_random(profile.document_number, agency.code, category)
    return GENERATORS[category](profile, agency, rng)
