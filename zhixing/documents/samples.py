"""Made-up data for previews and checks of document templates: no real person, account or car.

:func:`sample_context` returns the context of one enforcement case with a measure of the
requested document kind; templates are checked against it when saved, and the preview renders
with it. The debtor's resident ID number has a valid check character and a made-up sequence
number; account numbers, the vehicle identification number and the certificate number are
strings of zeros and sequence digits that no registry issues.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from zhixing.cases.identity import gb11643_check_character
from zhixing.courts.models import Court
from zhixing.documents.kinds import DocumentKind as Kind
from zhixing.documents.numbers import document_number

SAMPLE_TEMPLATE = Kind.ASSISTANCE_NOTICE_FREEZE.value

# Used when no court is given, for example when a template is checked outside a request.
DEFAULT_COURT_NAME = "广州市越秀区人民法院"
DEFAULT_COURT_CODE = "粤0104"

SAMPLE_DATE = datetime.date(2026, 3, 5)


def _resident_id(region: str, birth: str, sequence: int) -> str:
    body = f"{region}{birth}{sequence:03d}"
    return body + gb11643_check_character(body)


def _period_end(start: datetime.date, years: int) -> datetime.date:
    """Return the last day of ``years`` whole years from ``start``: 2026-03-05 gives 2027-03-04."""
    try:
        same_day = start.replace(year=start.year + years)
    except ValueError:  # 29 February in a year without one
        same_day = start.replace(year=start.year + years, day=28) + datetime.timedelta(days=1)
    return same_day - datetime.timedelta(days=1)


def _person() -> dict[str, Any]:
    return {
        "name": "黄志强",
        "kind": "person",
        "document_label": "公民身份号码",
        "document_kind": "居民身份证",
        # Sequence 123 is odd, as it is for men.
        "document_number": _resident_id("440104", "19850612", 123),
        "sex": "男",
        "birth_date": datetime.date(1985, 6, 12),
        "nationality": "中国",
        "address": "广东省广州市越秀区某某路 1 号",
    }


def _previous(case_number: str, start: datetime.date, years: int) -> dict[str, Any]:
    return {
        "document_number": case_number,
        "start": start,
        "end": _period_end(start, years),
    }


def _measure(code: str, case_number: str, court_name: str) -> tuple[dict[str, str], dict[str, Any]]:
    """Return the addressee and the measure of a document of kind ``code``."""
    bank = {"name": "中国工商银行股份有限公司广州某某支行"}
    deposit = {
        "bank": bank["name"],
        "account": "3602000000000000001",
        "amount": Decimal("356800.00"),
    }
    one_year = {"period": "一年", "start": SAMPLE_DATE, "end": _period_end(SAMPLE_DATE, 1)}
    earlier = SAMPLE_DATE.replace(year=SAMPLE_DATE.year - 1)
    real_estate = {
        "location": "广州市越秀区某某路 88 号 1203 房",
        "certificate": "粤（2020）广州市不动产权第 0000001 号",
    }
    registry = {"name": "广州市不动产登记中心"}
    vehicle = {
        "plate": "粤A00001",
        "vehicle_type": "小型普通客车",
        "model": "某某牌 SV0000",
        "vin": "LSV00000000000001",
    }
    vehicle_office = {"name": "广州市公安局交通警察支队车辆管理所"}
    three_years = {"period": "三年", "start": SAMPLE_DATE, "end": _period_end(SAMPLE_DATE, 3)}
    two_years = {"period": "二年", "start": SAMPLE_DATE, "end": _period_end(SAMPLE_DATE, 2)}
    person = {**_person(), "role": "被执行人"}
    six_months = {
        "period": "六个月",
        "start": SAMPLE_DATE,
        "end": datetime.date(2026, 9, 4),
    }
    measures: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
        Kind.RULING_FREEZE: (bank, {**deposit, **one_year}),
        Kind.RULING_DEDUCT: (bank, deposit),
        Kind.RULING_SEIZE: (registry, {**real_estate, **three_years}),
        Kind.ASSISTANCE_NOTICE_QUERY: (
            bank,
            {"scope": "在你单位开立的全部账户、账户余额、交易明细及理财产品"},
        ),
        Kind.ASSISTANCE_NOTICE_FREEZE: (bank, {**deposit, **one_year}),
        Kind.ASSISTANCE_NOTICE_RENEW_FREEZE: (
            bank,
            {**deposit, **one_year, "previous": _previous(case_number, earlier, 1)},
        ),
        Kind.ASSISTANCE_NOTICE_RELEASE_FREEZE: (
            bank,
            {**deposit, "previous": _previous(case_number, earlier, 1)},
        ),
        Kind.ASSISTANCE_NOTICE_DEDUCT: (
            bank,
            {
                **deposit,
                "payee": {
                    "name": f"{court_name}执行款专户",
                    "account": "3602000000000000009",
                    "bank": "中国工商银行股份有限公司广州某某支行",
                },
            },
        ),
        Kind.ASSISTANCE_NOTICE_SEIZE_REAL_ESTATE: (registry, {**real_estate, **three_years}),
        Kind.ASSISTANCE_NOTICE_RELEASE_REAL_ESTATE: (
            registry,
            {**real_estate, "previous": _previous(case_number, earlier, 3)},
        ),
        Kind.ASSISTANCE_NOTICE_SEIZE_VEHICLE: (vehicle_office, {**vehicle, **two_years}),
        Kind.ASSISTANCE_NOTICE_RELEASE_VEHICLE: (
            vehicle_office,
            {**vehicle, "previous": _previous(case_number, earlier, 2)},
        ),
        Kind.EXIT_RESTRICTION_DECISION: (
            {"name": ""},
            {**six_months, "person": person, "on_application": True},
        ),
        Kind.BORDER_CONTROL_REQUEST: (
            {"name": "广东省公安厅"},
            {
                **six_months,
                "person": person,
                "ports": "全国各口岸",
                "action": "阻止出境",
                "decision_number": document_number(case_number, 2),
            },
        ),
        Kind.BORDER_CONTROL_LIFTING: (
            {"name": "广东省公安厅"},
            {
                **six_months,
                "person": person,
                "ports": "全国各口岸",
                "decision_number": document_number(case_number, 2),
                "decision_court": court_name,
                "lifted_on": datetime.date(2026, 6, 1),
            },
        ),
        Kind.SEIZURE_RENEWAL_FORM: (
            registry,
            {
                **three_years,
                "property": f"{real_estate['location']}的不动产（不动产权证书号："
                f"{real_estate['certificate']}）",
                "previous": _previous(case_number, SAMPLE_DATE.replace(year=2023, day=6), 3),
                "reason": "被执行人未履行义务，该不动产尚未处置，查封期限即将届满。",
                "officer_opinion": "拟同意续封三年。",
            },
        ),
    }
    if code not in measures:
        raise LookupError(f"{code!r} is not a document kind; use one of {', '.join(Kind.values)}.")
    return measures[code]


def sample_context(court: Court | None = None, code: str = SAMPLE_TEMPLATE) -> dict[str, Any]:
    """Return a made-up context for a document of kind ``code`` issued by ``court``.

    By default it is the context of an assistance notice of a freeze of a bank deposit. Without
    a court, the sample's court is 广州市越秀区人民法院 (粤0104).
    """
    court_name = court.name if court is not None else DEFAULT_COURT_NAME
    court_code = (court.code if court is not None else DEFAULT_COURT_CODE) or DEFAULT_COURT_CODE
    case_number = f"(2026){court_code}执1234号"
    printed_number = document_number(case_number)
    ruling_number = document_number(case_number, 1)
    agency, measure = _measure(code, printed_number, court_name)
    is_ruling = code.startswith("ruling_")
    return {
        "court": {"name": court_name, "code": court_code},
        "case_number": printed_number,
        "document_number": ruling_number if is_ruling else printed_number,
        "ruling_number": ruling_number,
        "case_cause": "民间借贷纠纷",
        "date": SAMPLE_DATE,
        "applicant": {
            "name": "林晓峰",
            "kind": "person",
            "document_label": "公民身份号码",
            "document_number": _resident_id("440106", "19790304", 135),
        },
        "debtor": _person(),
        "basis": {
            "court": court_name,
            "document_number": f"（2025）{court_code}民初5678号",
            "document_kind": "民事判决书",
        },
        "claim_amount": Decimal("356800.00"),
        "signatories": [
            {"role": "审 判 长", "name": "陈建国"},
            {"role": "审 判 员", "name": "李慧敏"},
            {"role": "审 判 员", "name": "王振华"},
        ],
        "clerk": {"name": "赵丽"},
        "officer": {"name": "陈建国", "phone": "020-00000000"},
        "agency": agency,
        "measure": measure,
    }
