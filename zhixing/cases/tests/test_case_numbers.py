"""Unit tests of case-number parsing and formatting, and of the parse-case-number command."""

# Full-width characters are the input under test here.

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from hypothesis import given
from hypothesis import strategies as st

from zhixing.cases.case_numbers import (
    CASE_TYPES,
    ENFORCEMENT_TYPE_CODES,
    PROVINCE_COURT_CODES,
    SPECIALISED_TRIAL_CODES,
    YEAR_MAX,
    YEAR_MIN,
    CaseNumber,
    CaseNumberError,
    chinese_number,
    court_name,
    parse_case_number,
)

# The command's module name contains hyphens, so it can only be imported by name.
command_module = importlib.import_module("zhixing.cases.management.commands.parse-case-number")

# Numbers from published rulings, with the parts they must parse into:
# (text, year, court_code, type_code, sequence, suffix).
PUBLISHED_NUMBERS = [
    ("(2020)粤执监88号", 2020, "粤", "执监", 88, ""),
    ("(2019)粤01执复617号", 2019, "粤01", "执复", 617, ""),
    ("(2017)粤执复56号", 2017, "粤", "执复", 56, ""),
    ("(2016)粤01执异296号", 2016, "粤01", "执异", 296, ""),
    ("(2016)粤01执恢44号之一", 2016, "粤01", "执恢", 44, "之一"),
    ("(2020)湘执复244号", 2020, "湘", "执复", 244, ""),
    ("(2018)湘01执12号", 2018, "湘01", "执", 12, ""),
    ("(2021)最高法执监344号", 2021, "最高法", "执监", 344, ""),
]

# (text, abbreviation, type word, sequence, suffix, canonical text)
LEGACY_NUMBERS = [
    ("(2002)穗中法执字第1416号", "穗中法", "执", 1416, "", "(2002)穗中法执字第1416号"),
    ("(2012)曲中法执字第66号", "曲中法", "执", 66, "", "(2012)曲中法执字第66号"),
    ("(2015)深福法执字第123号", "深福法", "执", 123, "", "(2015)深福法执字第123号"),
    ("(2015)厦执字第281号", "厦", "执", 281, "", "(2015)厦执字第281号"),
    ("(2015)瑶执字第02181号", "瑶", "执", 2181, "", "(2015)瑶执字第2181号"),
    ("(2009)绍诸民执字第03265号", "绍诸", "民执", 3265, "", "(2009)绍诸民执字第3265号"),
    ("(2003)皖1202执字第00174号", "皖1202", "执", 174, "", "(2003)皖1202执字第174号"),
    ("(2010)穗中法民一初字第5号之二", "穗中法", "民一初", 5, "之二", None),
]


@pytest.mark.parametrize(
    ("text", "year", "court_code", "type_code", "sequence", "suffix"), PUBLISHED_NUMBERS
)
def test_parse_published_numbers(
    text: str, year: int, court_code: str, type_code: str, sequence: int, suffix: str
) -> None:
    number = parse_case_number(text)
    assert number.year == year
    assert number.court_code == court_code
    assert number.specialised_code == ""
    assert number.type_code == type_code
    assert number.sequence == sequence
    assert number.suffix == suffix
    assert number.legacy is False
    assert number.is_enforcement is True
    assert number.format() == text


def test_implementing_flag_follows_type_code() -> None:
    assert parse_case_number("(2018)湘01执12号").is_implementing is True
    assert parse_case_number("(2016)粤01执恢44号之一").is_implementing is True
    assert parse_case_number("(2021)粤0104执保7号").is_implementing is True
    assert parse_case_number("(2016)粤01执异296号").is_implementing is False
    assert parse_case_number("(2020)粤执监88号").is_implementing is False
    assert parse_case_number("(2019)粤01民终1号").is_implementing is False


@pytest.mark.parametrize(
    ("text", "abbreviation", "legacy_type", "sequence", "suffix", "canonical"), LEGACY_NUMBERS
)
def test_parse_legacy_numbers(
    text: str,
    abbreviation: str,
    legacy_type: str,
    sequence: int,
    suffix: str,
    canonical: str | None,
) -> None:
    number = parse_case_number(text)
    assert number.legacy is True
    assert number.court_code == ""
    assert number.type_code == ""
    assert number.legacy_court_abbreviation == abbreviation
    assert number.legacy_type == legacy_type
    assert number.sequence == sequence
    assert number.suffix == suffix
    assert number.format() == (canonical or text)


def test_legacy_enforcement_flags() -> None:
    assert parse_case_number("(2002)穗中法执字第1416号").is_enforcement is True
    assert parse_case_number("(2009)绍诸民执字第03265号").is_enforcement is True
    assert parse_case_number("(2010)穗中法民一初字第5号").is_enforcement is False
    # 刑执 is the execution of a criminal sentence, not an enforcement case.
    assert parse_case_number("(2012)郑刑执字第2107号").is_enforcement is False


def test_legacy_abbreviation_with_digits_after_fa() -> None:
    # The text after the first 法 is not a type word, so the split falls back to 执.
    number = parse_case_number("(2016)阳法晋0122执字第00104号")
    assert number.legacy_court_abbreviation == "阳法晋0122"
    assert number.legacy_type == "执"


def test_non_enforcement_numbers() -> None:
    for text, type_code in [
        ("(2016)粤03民辖终3827号", "民辖终"),
        ("(2018)沪01民特582号", "民特"),
        ("(2018)沪01行初100号", "行初"),
        ("(2024)粤01破123号", "破"),
        ("(2024)京03破申45号", "破申"),
        ("(2021)川0104民诉前调801号", "民诉前调"),
        ("(2017)沪01认台3号之一", "认台"),
        ("(2018)沪01协外认16号", "协外认"),
    ]:
        number = parse_case_number(text)
        assert number.type_code == type_code, text
        assert number.is_enforcement is False, text
        assert number.is_implementing is False, text
        assert number.format() == text


def test_type_code_table_entries() -> None:
    expected = {"执", "执恢", "执保", "执异", "执复", "执监", "执协", "执他"}
    assert expected == ENFORCEMENT_TYPE_CODES
    assert "执请" not in CASE_TYPES
    for code, name in CASE_TYPES.items():
        assert 1 <= len(code) <= 4, code
        assert name, code


def test_full_width_forms() -> None:
    expected = parse_case_number("(2016)粤01执恢44号之一")
    for text in [
        "（2016）粤01执恢44号之一",
        "（２０１６）粤０１执恢４４号之一",
        "〔2016〕粤01执恢44号之一",
        "  (2016)粤01执恢44号之一\n",
        "\u3000（2016）粤01执恢44号之一\u3000",
    ]:
        assert parse_case_number(text) == expected, text
    legacy = parse_case_number("（２００２）穗中法执字第１４１６号")
    assert legacy.format() == "(2002)穗中法执字第1416号"


def test_padding_zeros_in_sequence_are_dropped() -> None:
    assert parse_case_number("(2016)粤01执恢044号").format() == "(2016)粤01执恢44号"


def test_longest_type_code_wins() -> None:
    number = parse_case_number("(2016)粤01执恢44号")
    assert number.type_code == "执恢"
    assert number.specialised_code == ""
    assert parse_case_number("(2016)粤03民辖终3827号").type_code == "民辖终"
    assert parse_case_number("(2016)粤03民辖3827号").type_code == "民辖"
    assert parse_case_number("(2020)粤0104刑医解2号").type_code == "刑医解"


def test_specialised_trial_code() -> None:
    number = parse_case_number("(2021)最高法知民终892号")
    assert number.court_code == "最高法"
    assert number.specialised_code == "知"
    assert number.type_code == "民终"
    assert number.is_enforcement is False
    assert number.format() == "(2021)最高法知民终892号"
    number = parse_case_number("(2020)浙01知民初277号")
    assert (number.court_code, number.specialised_code, number.type_code) == ("浙01", "知", "民初")


def test_court_code_forms() -> None:
    assert parse_case_number("(2019)粤71执1号").court_code == "粤71"
    assert parse_case_number("(2019)粤7101执1号").court_code == "粤7101"
    assert parse_case_number("(2018)内0102刑初88号").court_code == "内0102"
    assert parse_case_number("(2024)黔01民终12518号").court_code == "黔01"
    assert parse_case_number("(2019)兵01执3号").court_code == "兵01"
    assert len(PROVINCE_COURT_CODES) == 33


def test_suffix_numbers() -> None:
    assert parse_case_number("(2016)粤01执恢44号").suffix_number == 0
    assert parse_case_number("(2016)粤01执恢44号之一").suffix_number == 1
    assert parse_case_number("(2016)粤01执恢44号之十二").suffix_number == 12
    assert parse_case_number("(2016)粤01执恢44号之二十").suffix_number == 20
    assert [chinese_number(n) for n in (1, 10, 11, 20, 99)] == [
        "一",
        "十",
        "十一",
        "二十",
        "九十九",
    ]
    with pytest.raises(ValueError, match="outside 1–99"):
        chinese_number(100)


# (text, part, message fragment)
ERRORS = [
    ("", "text", "case number is empty"),
    ("   ", "text", "case number is empty"),
    ("2016粤01执1号", "year", "must start with the year in parentheses"),
    ("(2016粤01执1号", "year", "missing ) after the year"),
    ("()粤01执1号", "year", "year missing inside the parentheses"),
    ("(16)粤01执1号", "year", "year '16' must be 4 digits"),
    ("(二〇一六)粤01执1号", "year", "must be 4 digits"),
    ("(1899)粤01执1号", "year", "year 1899 is out of range 1949–2100"),
    ("(2101)粤01执1号", "year", "year 2101 is out of range 1949–2100"),
    ("(2016)", "court_code", "court code missing after the year"),
    (
        "(2016)X01执1号",
        "court_code",
        "court code 'X01' is not a valid court code: expected 最高法, a province character such "
        "as 粤, or a province character followed by 2 or 4 digits",
    ),
    ("(2016)粤1执1号", "court_code", "court code '粤1' is not a valid court code"),
    ("(2016)粤010执1号", "court_code", "court code '粤010' is not a valid court code"),
    ("(2016)蒙01执1号", "court_code", "court code '蒙01' is not a valid court code"),
    ("(2016)粤0144号", "type_code", "type code missing after court code 粤0144"),
    ("(2016)粤01", "type_code", "type code missing after court code 粤01"),
    ("(2016)粤01号", "type_code", "type code missing after court code 粤01"),
    ("(2016)粤01执请5号", "type_code", "type code '执请' after court code 粤01 is not a known"),
    ("(2016)粤01金民初5号", "type_code", "type code '金民初'"),
    ("(2016)粤01执号", "sequence", "sequence missing after type code 执"),
    ("(2016)粤01执0号", "sequence", "sequence '0' must be a positive whole number"),
    ("(2016)粤01执000号", "sequence", "sequence '000' must be a positive whole number"),
    ("(2016)粤01执44", "sequence", "missing 号 after the sequence"),
    ("(2016)粤03民辖终3827、3828号", "sequence", "missing 号 after the sequence 3827"),
    ("(2016)粤01执44號", "sequence", "found '號'"),
    ("(2016)粤01执恢44号之", "suffix", "text '之' after 号 is not a valid suffix"),
    ("(2016)粤01执恢44号之零", "suffix", "is not a valid suffix"),
    ("(2016)粤01执恢44号之一十", "suffix", "is not a valid suffix"),
    ("(2016)粤01执恢44号 之一", "suffix", "is not a valid suffix"),
    ("(2016)粤01执恢44号x", "suffix", "expected nothing, or 之 followed by a Chinese number"),
    ("(2002)穗中法字第1416号", "type_code", "type word missing after court abbreviation 穗中法"),
    ("(2002)字第1416号", "court_code", "court abbreviation missing before 字第"),
    ("(2002)申诉字第1号", "court_code", "cannot be told apart"),
    ("(2002)穗-执字第1号", "court_code", "may contain only Chinese characters and digits"),
    ("(2002)穗中法执字第号", "sequence", "sequence missing after 字第"),
    ("(2002)穗中法执字第0号", "sequence", "must be a positive whole number"),
    ("(2002)穗中法执字第1416", "sequence", "missing 号 after the sequence"),
    ("(2002)穗中法执字第1416号之", "suffix", "is not a valid suffix"),
]


@pytest.mark.parametrize(("text", "part", "message"), ERRORS)
def test_parse_errors_name_the_part(text: str, part: str, message: str) -> None:
    with pytest.raises(CaseNumberError) as caught:
        parse_case_number(text)
    assert caught.value.part == part
    assert message in str(caught.value)


def test_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_case_number("(1800)粤执1号")


# Strategies for canonical texts and for valid CaseNumber values.
years = st.integers(min_value=YEAR_MIN, max_value=YEAR_MAX)
provinces = st.sampled_from(sorted(PROVINCE_COURT_CODES))
court_codes = st.one_of(
    st.just("最高法"),
    provinces,
    st.builds(lambda p, n: f"{p}{n:02d}", provinces, st.integers(0, 99)),
    st.builds(lambda p, n: f"{p}{n:04d}", provinces, st.integers(0, 9999)),
)
specialised_codes = st.sampled_from(["", *sorted(SPECIALISED_TRIAL_CODES)])
type_codes = st.sampled_from(sorted(CASE_TYPES))
sequences = st.integers(min_value=1, max_value=10**8)
suffixes = st.one_of(st.just(""), st.integers(1, 99).map(lambda n: "之" + chinese_number(n)))
# Legacy abbreviations end in their only 法, and type words are Chinese characters without 法.
abbreviation_stems = st.text(alphabet="穗中深福曲厦广佛海珠一二三", min_size=1, max_size=4)
legacy_types = st.text(alphabet="执恢异复民刑行初终监一二三四", min_size=1, max_size=4)


@given(years, court_codes, specialised_codes, type_codes, sequences, suffixes)
def test_canonical_text_round_trip(
    year: int, court_code: str, specialised: str, type_code: str, sequence: int, suffix: str
) -> None:
    text = f"({year}){court_code}{specialised}{type_code}{sequence}号{suffix}"
    assert parse_case_number(text).format() == text


@given(years, abbreviation_stems, legacy_types, sequences, suffixes)
def test_canonical_legacy_text_round_trip(
    year: int, stem: str, legacy_type: str, sequence: int, suffix: str
) -> None:
    text = f"({year}){stem}法{legacy_type}字第{sequence}号{suffix}"
    number = parse_case_number(text)
    assert number.legacy_court_abbreviation == stem + "法"
    assert number.legacy_type == legacy_type
    assert number.format() == text


case_numbers = st.one_of(
    st.builds(
        CaseNumber,
        year=years,
        court_code=court_codes,
        specialised_code=specialised_codes,
        type_code=type_codes,
        sequence=sequences,
        suffix=suffixes,
    ),
    st.builds(
        CaseNumber,
        year=years,
        court_code=st.just(""),
        specialised_code=st.just(""),
        type_code=st.just(""),
        sequence=sequences,
        suffix=suffixes,
        legacy=st.just(True),
        legacy_court_abbreviation=abbreviation_stems.map(lambda stem: stem + "法"),
        legacy_type=legacy_types,
    ),
)


@given(case_numbers)
def test_case_number_round_trip(number: CaseNumber) -> None:
    assert parse_case_number(number.format()) == number


@given(case_numbers)
def test_full_width_text_parses_the_same(number: CaseNumber) -> None:
    table: dict[str, str | int | None] = {"(": "（", ")": "）"}
    table.update({str(digit): chr(0xFF10 + digit) for digit in range(10)})
    full_width = number.format().translate(str.maketrans(table))
    assert parse_case_number(full_width) == number


@pytest.mark.django_db
def test_court_name_lookup(courts: dict[str, object]) -> None:
    assert court_name(parse_case_number("(2019)粤01执复617号")) == "广州市中级人民法院"
    assert court_name(parse_case_number("(2020)粤执监88号")) == "广东省高级人民法院"
    assert court_name(parse_case_number("(2020)湘执复244号")) is None
    assert court_name(parse_case_number("(2002)穗中法执字第1416号")) is None


def run_command(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("parse-case-number", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.mark.django_db
def test_command_json_with_court_name(courts: dict[str, object]) -> None:
    stdout, _ = run_command("（2016）粤01执恢44号之一", "--json")
    payload = json.loads(stdout)
    assert payload == {
        "year": 2016,
        "court_code": "粤01",
        "specialised_code": "",
        "type_code": "执恢",
        "sequence": 44,
        "suffix": "之一",
        "legacy": False,
        "legacy_court_abbreviation": "",
        "legacy_type": "",
        "is_enforcement": True,
        "is_implementing": True,
        "type_name": "恢复执行案件",
        "formatted": "(2016)粤01执恢44号之一",
        "court_name": "广州市中级人民法院",
    }


@pytest.mark.django_db
def test_command_json_unknown_court(courts: dict[str, object]) -> None:
    payload = json.loads(run_command("(2020)湘执复244号", "--json")[0])
    assert payload["court_name"] is None
    assert payload["is_implementing"] is False


@pytest.mark.django_db
def test_command_json_legacy(courts: dict[str, object]) -> None:
    payload = json.loads(run_command("(2002)穗中法执字第1416号", "--json")[0])
    assert payload["legacy"] is True
    assert payload["court_code"] == ""
    assert payload["legacy_court_abbreviation"] == "穗中法"
    assert payload["legacy_type"] == "执"
    assert payload["court_name"] is None
    assert payload["formatted"] == "(2002)穗中法执字第1416号"


@pytest.mark.django_db
def test_command_summary(courts: dict[str, object]) -> None:
    stdout, _ = run_command("(2019)粤01执复617号")
    assert "Case number:      (2019)粤01执复617号" in stdout
    assert "Court code:       粤01 (广州市中级人民法院)" in stdout
    assert "Type code:        执复 (执行复议案件)" in stdout
    assert "Enforcement:      yes" in stdout
    assert "Implementing:     no" in stdout


def test_command_survives_missing_courts_table(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(number: object) -> None:
        raise DatabaseError("no such table: courts_court")

    monkeypatch.setattr(command_module, "court_name", fail)
    payload = json.loads(run_command("(2019)粤01执复617号", "--json")[0])
    assert payload["court_name"] is None
    assert payload["formatted"] == "(2019)粤01执复617号"


def test_command_error_raises_command_error() -> None:
    with pytest.raises(CommandError, match="year 1899 is out of range") as caught:
        run_command("(1899)粤01执1号")
    assert caught.value.returncode == 1


def test_command_error_json_on_stdout() -> None:
    stdout = StringIO()
    with pytest.raises(CommandError):
        call_command("parse-case-number", "(2016)粤01执0号", "--json", stdout=stdout)
    assert json.loads(stdout.getvalue()) == {
        "error": "sequence '0' must be a positive whole number",
        "part": "sequence",
    }


def test_command_line_exit_status(tmp_path: Path) -> None:
    # Runs the console entry point in a subprocess to check the exit status and stderr directly.
    env = {**os.environ, "ZHIXING_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "zhixing", "parse-case-number", "(2016)X01执1号", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["part"] == "court_code"
    assert "CommandError: invalid case number: court code 'X01'" in result.stderr
