"""Synthetic records, identifiers and the agencies file, without a running process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agency_simulator.agencies import CATEGORIES, DEFAULT_AGENCIES_FILE, load_agencies
from agency_simulator.identifiers import (
    is_valid_credit_code,
    is_valid_resident_id,
    luhn_check,
    make_resident_id,
)
from agency_simulator.population import build_profile, generate_records
from agency_simulator.tests.conftest import ROOT, person
from agency_simulator.tests.schemas import errors

NATIONAL_BANKS = {
    "中国工商银行",
    "中国农业银行",
    "中国银行",
    "中国建设银行",
    "交通银行",
    "中国邮政储蓄银行",
    "招商银行",
}
ASSET_CATEGORIES = {
    "bank_account",
    "business_registration",
    "land",
    "real_estate",
    "vehicle",
    "securities",
    "provident_fund",
    "online_payment",
    "ship",
}
LOCAL_BANKS = {"广州银行", "广州农村商业银行", "东莞银行", "广东顺德农村商业银行", "广东华兴银行"}


def test_default_agencies_cover_every_category() -> None:
    agencies = load_agencies(DEFAULT_AGENCIES_FILE)

    served = {category for agency in agencies.values() for category in agency.categories}
    names = {agency.name for agency in agencies.values()}
    assert served == set(CATEGORIES)
    assert names >= NATIONAL_BANKS
    assert names >= LOCAL_BANKS
    assert {"支付宝", "财付通"} <= names
    assert all(code.isascii() for code in agencies)


def test_resident_id_check_character() -> None:
    number = make_resident_id("440104", "19850101", 1)

    assert is_valid_resident_id(number)
    assert not is_valid_resident_id(number[:17] + ("0" if number[17] != "0" else "1"))
    assert not is_valid_resident_id(number.lower()[:17])


def test_luhn_check_digit() -> None:
    assert luhn_check("7992739871") == "3"


def test_records_deterministic_and_valid() -> None:
    agencies = load_agencies(DEFAULT_AGENCIES_FILE)
    by_category = {
        category: next(a for a in agencies.values() if category in a.categories)
        for category in CATEGORIES
    }
    found = dict.fromkeys(CATEGORIES, 0)
    empty_subjects = 0
    for sequence in range(1, 200):
        subject = person(sequence, region="440106")
        owns_anything = False
        for category, agency in by_category.items():
            records = generate_records(agency, category, subject)
            assert records == generate_records(agency, category, dict(subject))
            for record in records:
                assert errors("records", record) == [], (category, record)
                if category == "business_registration" and record["type"] in (
                    "shareholding",
                    "business",
                ):
                    assert is_valid_credit_code(record["credit_code"])
            found[category] += bool(records)
            if category in ASSET_CATEGORIES:
                owns_anything = owns_anything or bool(records)
        empty_subjects += not owns_anything
    assert found["credit_code"] == 0
    assert all(found[category] for category in CATEGORIES if category != "credit_code")
    assert empty_subjects > 10


def test_records_shared_across_agencies() -> None:
    agencies = load_agencies(DEFAULT_AGENCIES_FILE)
    for sequence in range(1, 60):
        subject = person(sequence)
        profile = build_profile(subject)
        employment = generate_records(agencies["hrss-gd"], "social_security", subject)
        if profile.employer is None:
            assert employment == []
        else:
            assert employment[0]["credit_code"] == profile.employer.credit_code


def test_organisation_records() -> None:
    agencies = load_agencies(DEFAULT_AGENCIES_FILE)
    subject = {
        "kind": "organisation",
        "name": "广州市测试贸易有限公司",
        "document_type": "credit_code",
        "document_number": "91440101MA5CXXXX1A",
    }

    records = generate_records(agencies["uscc-center"], "credit_code", subject)

    assert records[0]["name"] == "广州市测试贸易有限公司"
    assert generate_records(agencies["police-gd"], "household", subject) == []


def test_bad_agencies_file_exits_with_2(tmp_path: Path) -> None:
    broken = tmp_path / "agencies.json"
    broken.write_text(
        json.dumps({"agencies": [{"code": "x", "name": "x", "categories": ["moon"]}]})
    )

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agency_simulator",
            "--port",
            "0",
            "--db",
            str(tmp_path / "db"),
            "--agencies",
            str(broken),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
    )

    assert result.returncode == 2
    assert "unknown category 'moon'" in result.stderr
