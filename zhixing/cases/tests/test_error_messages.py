"""Identity-number and case-number errors in the user's language.

Every reason of :class:`IdentityError` and :class:`CaseNumberError` needs a sample input below
and a Chinese translation in the catalogue, so a new error without either fails here. The
page and API tests send Accept-Language, as a browser does.
"""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from zhixing.cases import case_numbers, identity
from zhixing.cases.case_numbers import CaseNumberError, CaseNumberReason, parse_case_number
from zhixing.cases.error_messages import translated_message
from zhixing.cases.identity import (
    DocumentType,
    IdentityError,
    IdentityReason,
    check_document,
    gb11643_check_character,
)
from zhixing.cases.job_models import ImportJob
from zhixing.cases.models import EnforcementCase
from zhixing.cases.tests.factories import make_resident_id
from zhixing.cases.tests.test_api import _new_case
from zhixing.cases.tests.test_import import row, write_messy
from zhixing.cases.tests.test_views import _filing_data
from zhixing.courts import services as court_services

TODAY = date(2026, 3, 2)
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Three or more lowercase Latin letters in a row: English words left in a Chinese message.
ENGLISH_WORD = re.compile(r"[a-z]{3,}")

GOOD_ID = make_resident_id("440106", "19800303", 5)
# The same number with a wrong check character.
BAD_ID = GOOD_ID[:-1] + ("1" if GOOD_ID[-1] == "0" else "0")
FOREIGN_BODY = "94401041985010100"
FOREIGN_WRONG_CHECK = "0" if gb11643_check_character(FOREIGN_BODY) != "0" else "1"

# One input for each identity reason: (document type, text, confirmed, expected reason).
IDENTITY_SAMPLES = [
    (DocumentType.RESIDENT_ID, "  ", False, IdentityReason.RESIDENT_ID_EMPTY),
    (
        DocumentType.RESIDENT_ID,
        "44010485030100A",
        False,
        IdentityReason.FIRST_GENERATION_CHARACTERS,
    ),
    (DocumentType.PASSPORT, "", False, IdentityReason.DOCUMENT_EMPTY),
    (
        DocumentType.HK_MACAU_RESIDENCE_PERMIT,
        "81000019900101001",
        False,
        IdentityReason.GB11643_LENGTH,
    ),
    (DocumentType.RESIDENT_ID, "4401041985010100", False, IdentityReason.GB11643_LENGTH_15_OR_18),
    (DocumentType.RESIDENT_ID, "44010419850101A011", False, IdentityReason.GB11643_CHARACTERS),
    (
        DocumentType.RESIDENT_ID,
        make_resident_id("990104", "19850101", 1),
        False,
        IdentityReason.PROVINCE_CODE,
    ),
    (
        DocumentType.RESIDENT_ID,
        make_resident_id("440104", "19850231", 1),
        False,
        IdentityReason.BIRTH_DATE_NOT_A_DATE,
    ),
    (
        DocumentType.RESIDENT_ID,
        make_resident_id("440104", "18991231", 1),
        False,
        IdentityReason.BIRTH_DATE_TOO_EARLY,
    ),
    (
        DocumentType.RESIDENT_ID,
        make_resident_id("440104", "20991231", 1),
        False,
        IdentityReason.BIRTH_DATE_IN_FUTURE,
    ),
    (DocumentType.RESIDENT_ID, BAD_ID, False, IdentityReason.GB11643_CHECK_CHARACTER),
    (
        DocumentType.HK_MACAU_RESIDENCE_PERMIT,
        GOOD_ID,
        False,
        IdentityReason.HK_MACAU_RESIDENCE_REGION,
    ),
    (
        DocumentType.TAIWAN_RESIDENCE_PERMIT,
        make_resident_id("810000", "19850101", 1),
        False,
        IdentityReason.TAIWAN_RESIDENCE_REGION,
    ),
    (DocumentType.USCC, "", False, IdentityReason.USCC_EMPTY),
    (DocumentType.USCC, "91440101MA59C123", False, IdentityReason.USCC_LENGTH),
    (
        DocumentType.USCC,
        "110108000000016",
        False,
        IdentityReason.USCC_LENGTH_BUSINESS_REGISTRATION,
    ),
    (DocumentType.USCC, "M000100Y4", False, IdentityReason.USCC_LENGTH_ORGANIZATION_CODE),
    (DocumentType.USCC, "91440101MA59C1234V", False, IdentityReason.USCC_CHARACTER),
    (DocumentType.USCC, "91440101MA59C1234O", False, IdentityReason.USCC_CHARACTER_LOOKALIKE),
    (DocumentType.USCC, "9144AB01MA59C1234T", False, IdentityReason.USCC_REGION_CODE),
    (DocumentType.USCC, "91440101MA59ABCD1X", False, IdentityReason.USCC_CHECK_CHARACTER),
    (
        DocumentType.FOREIGN_PERMANENT_RESIDENCE,
        "AB1234567890",
        False,
        IdentityReason.FOREIGN_RESIDENCE_FORM,
    ),
    (
        DocumentType.FOREIGN_PERMANENT_RESIDENCE,
        FOREIGN_BODY + FOREIGN_WRONG_CHECK,
        False,
        IdentityReason.FOREIGN_RESIDENCE_CHECK_CHARACTER,
    ),
    (DocumentType.ORGANIZATION_CODE, "M000100Y", False, IdentityReason.ORGANIZATION_CODE_LENGTH),
    (
        DocumentType.ORGANIZATION_CODE,
        "M00010*Y4",
        False,
        IdentityReason.ORGANIZATION_CODE_CHARACTERS,
    ),
    (
        DocumentType.ORGANIZATION_CODE,
        "M000100Y5",
        False,
        IdentityReason.ORGANIZATION_CODE_CHECK_CHARACTER,
    ),
    (
        DocumentType.BUSINESS_REGISTRATION,
        "11010800000001",
        False,
        IdentityReason.BUSINESS_REGISTRATION_FORM,
    ),
    (
        DocumentType.BUSINESS_REGISTRATION,
        "91440101MA59C1234T",
        False,
        IdentityReason.BUSINESS_REGISTRATION_FORM_USCC,
    ),
    (
        DocumentType.BUSINESS_REGISTRATION,
        "110108000000017",
        False,
        IdentityReason.BUSINESS_REGISTRATION_CHECK_DIGIT,
    ),
    (DocumentType.HK_MACAU_PERMIT, "X12345678", False, IdentityReason.HK_MACAU_PERMIT_FORM),
    (DocumentType.TAIWAN_PERMIT, "1234567", False, IdentityReason.TAIWAN_PERMIT_FORM),
    (DocumentType.PASSPORT, "E1234567*", False, IdentityReason.PASSPORT_FORM),
]

# One input for each case-number reason.
CASE_NUMBER_SAMPLES = [
    ("  ", CaseNumberReason.EMPTY),
    ("2024粤0104执1号", CaseNumberReason.YEAR_NOT_FIRST),
    ("(2024粤0104执1号", CaseNumberReason.YEAR_CLOSING_MISSING),
    ("()粤0104执1号", CaseNumberReason.YEAR_MISSING),
    ("(24)粤0104执1号", CaseNumberReason.YEAR_DIGITS),
    ("(1800)粤0104执1号", CaseNumberReason.YEAR_RANGE),
    ("(2024)", CaseNumberReason.COURT_CODE_MISSING),
    ("(2024)粤010执1号", CaseNumberReason.COURT_CODE_INVALID),
    ("(2024)粤01号", CaseNumberReason.TYPE_CODE_MISSING),
    ("(2024)粤0104执行1号", CaseNumberReason.TYPE_CODE_UNKNOWN),
    ("(2024)粤0104执号", CaseNumberReason.SEQUENCE_MISSING_AFTER_TYPE_CODE),
    ("(2002)穗中法执字第号", CaseNumberReason.SEQUENCE_MISSING_AFTER_MARKER),
    ("(2024)粤0104执0号", CaseNumberReason.SEQUENCE_ZERO),
    ("(2024)粤0104执12", CaseNumberReason.NUMBER_SIGN_MISSING),
    ("(2024)粤0104执12x", CaseNumberReason.NUMBER_SIGN_WRONG),
    ("(2024)粤0104执12号之", CaseNumberReason.SUFFIX_INVALID),
    ("(2002)字第1号", CaseNumberReason.LEGACY_ABBREVIATION_MISSING),
    ("(2002)穗中法字第1号", CaseNumberReason.LEGACY_TYPE_MISSING),
    ("(2002)穗中字第1号", CaseNumberReason.LEGACY_SPLIT),
    ("(2002)穗a法执字第1号", CaseNumberReason.LEGACY_ABBREVIATION_CHARACTERS),
]


def identity_error(document_type: DocumentType, text: str, confirmed: bool) -> IdentityError:
    with pytest.raises(IdentityError) as caught:
        check_document(document_type, text, confirmed=confirmed, today=TODAY)
    return caught.value


def case_number_error(text: str) -> CaseNumberError:
    with pytest.raises(CaseNumberError) as caught:
        parse_case_number(text)
    return caught.value


def in_chinese(error: IdentityError | CaseNumberError) -> str:
    with translation.override("zh-hans"):
        return translated_message(error)


def assert_chinese_keeps_details(error: IdentityError | CaseNumberError) -> None:
    """Check that the Chinese message differs from the English and shows every parameter."""
    chinese = in_chinese(error)
    assert chinese != str(error)
    rest = chinese
    for name, value in error.params.items():
        assert str(value) in chinese, f"{name}={value!r} is missing from {chinese!r}"
        rest = rest.replace(str(value), "")
    assert not ENGLISH_WORD.search(rest), f"English words in {chinese!r}"


def zh_hans_gettext(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


# Every reason has a sample, a message and a translation


def test_identity_samples_cover_every_reason() -> None:
    assert {reason for *_, reason in IDENTITY_SAMPLES} == set(IdentityReason)


def test_case_number_samples_cover_every_reason() -> None:
    assert {reason for _, reason in CASE_NUMBER_SAMPLES} == set(CaseNumberReason)


def test_every_reason_has_message() -> None:
    assert set(identity.MESSAGES) == set(IdentityReason)
    assert set(case_numbers.MESSAGES) == set(CaseNumberReason)


@pytest.mark.parametrize(
    "template",
    [*identity.MESSAGES.values(), *case_numbers.MESSAGES.values()],
    ids=[*map(str, identity.MESSAGES), *map(str, case_numbers.MESSAGES)],
)
def test_message_translated_to_chinese(template: str) -> None:
    chinese = zh_hans_gettext(template)

    assert chinese != template, "no Chinese translation; add the message to django.po"
    assert sorted(PLACEHOLDER.findall(chinese)) == sorted(PLACEHOLDER.findall(template))


@pytest.mark.parametrize("document_type", list(DocumentType))
def test_document_name_translated(document_type: DocumentType) -> None:
    chinese = zh_hans_gettext(document_type.description)

    assert chinese != document_type.description
    assert not ENGLISH_WORD.search(chinese)


# Messages of real errors


@pytest.mark.parametrize(("document_type", "text", "confirmed", "reason"), IDENTITY_SAMPLES)
def test_identity_error_in_both_languages(
    document_type: DocumentType, text: str, confirmed: bool, reason: IdentityReason
) -> None:
    error = identity_error(document_type, text, confirmed)

    assert error.reason is reason
    with translation.override("en"):
        assert translated_message(error) == str(error)
    assert_chinese_keeps_details(error)
    compact = text.strip()
    if len(compact) >= 15:
        assert compact not in in_chinese(error)


@pytest.mark.parametrize(("text", "reason"), CASE_NUMBER_SAMPLES)
def test_case_number_error_in_both_languages(text: str, reason: CaseNumberReason) -> None:
    error = case_number_error(text)

    assert error.reason is reason
    with translation.override("en"):
        assert translated_message(error) == str(error)
    assert_chinese_keeps_details(error)


def test_identity_chinese_names_document_and_part() -> None:
    error = identity_error(DocumentType.RESIDENT_ID, BAD_ID, False)
    masked = f"{BAD_ID[:6]}**********{BAD_ID[-2:]}"

    assert error.part == "check_character"
    assert error.params == {"number": masked}
    assert in_chinese(error) == (
        f"公民身份号码 {masked} 无效：最后一位与按前 17 位计算出的校验码不符，"
        "说明有数字录错，请对照证件核对号码"
    )


def test_uscc_chinese_keeps_lookalike_hint() -> None:
    error = identity_error(DocumentType.USCC, "91440101MA59C1234O", False)

    assert error.params["character"] == "'O'"
    assert error.params["digit"] == "0"
    assert "第 18 位字符 'O'" in in_chinese(error)
    assert in_chinese(error).endswith("该字符很可能应为数字 0")


def test_case_number_chinese_names_part() -> None:
    error = case_number_error("(1800)粤0104执1号")

    assert error.part == "year"
    assert str(error) == "year 1800 is out of range 1949–2100"
    assert in_chinese(error) == "年份 1800 超出 1949–2100 的范围"


# Pages and API


def page_client(user, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def api_client(user, language: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


def masked(number: str) -> str:
    return f"{number[:6]}**********{number[-2:]}"


@pytest.mark.django_db
def test_filing_form_id_error_in_chinese(courts, make_user):
    client = page_client(make_user("officer", "粤0104"), "zh-hans")
    data = _filing_data(**{"debtors-0-document_number": BAD_ID})

    response = client.post("/cases/new/", data)

    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert 'id="id_debtors-0-document_number-error"' in page
    assert f"公民身份号码 {masked(BAD_ID)} 无效：最后一位与按前 17 位计算出的校验码不符" in page
    assert "check character" not in page
    assert not EnforcementCase.objects.exists()


@pytest.mark.django_db
def test_filing_form_id_error_in_english(courts, make_user):
    client = page_client(make_user("officer", "粤0104"), "en")
    data = _filing_data(**{"debtors-0-document_number": BAD_ID})

    response = client.post("/cases/new/", data)

    page = html.unescape(response.content.decode())
    assert response.status_code == 400
    assert (
        f"resident ID number {masked(BAD_ID)} is invalid: its last character does not match "
        "the check character" in page
    )
    assert "校验码" not in page


@pytest.mark.django_db
def test_api_filing_id_error_in_chinese(courts, make_user):
    client = api_client(make_user("officer", "粤0104"), "zh-hans")
    body = _new_case(debtors=[{"name": "钱七", "document_number": "9144AB01MA59C1234T"}])
    body["debtors"][0]["kind"] = "organisation"

    response = client.post("/api/v1/cases/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "debtors[0].document_number": [
            "统一社会信用代码 9144AB**********4T 无效：第 3 至 8 位是登记管理机关行政区划码，"
            "必须是数字"
        ]
    }


@pytest.mark.django_db
def test_api_filing_id_error_in_english(courts, make_user):
    client = api_client(make_user("officer", "粤0104"), "en")
    body = _new_case(debtors=[{"name": "钱七", "document_number": BAD_ID}])

    response = client.post("/api/v1/cases/", body, format="json")

    assert response.status_code == 400
    [message] = response.json()["debtors[0].document_number"]
    assert message.startswith(f"resident ID number {masked(BAD_ID)} is invalid")
    assert "check character computed from the first 17 digits" in message


def import_with_language(client: Client, tmp_path, rows) -> str:
    source = write_messy(tmp_path / "cases.xlsx", rows)
    with source.open("rb") as handle:
        response = client.post("/cases/import/", {"file": handle, "mode": "valid_rows"})
    assert response.status_code == 302
    assert ImportJob.objects.get().state == ImportJob.State.DONE
    return html.unescape(client.get(response["Location"]).content.decode())


@pytest.mark.django_db
def test_import_report_errors_in_chinese(courts, make_user, tmp_path, settings):
    settings.DATA_DIR = tmp_path / "data"
    client = page_client(make_user("clerk01", "粤01", "clerk"), "zh-hans")
    rows = [
        row("(1800)粤0104执1号", "2024-02-01"),
        row("(2024)粤0104执2号", "2024-02-01", debtor_numbers=BAD_ID),
    ]

    report = import_with_language(client, tmp_path, rows)

    assert "年份 1800 超出 1949–2100 的范围" in report
    assert f"公民身份号码 {masked(BAD_ID)} 无效：最后一位与按前 17 位计算出的校验码不符" in report
    assert "out of range" not in report


@pytest.mark.django_db
def test_import_report_errors_in_english(courts, make_user, tmp_path, settings):
    settings.DATA_DIR = tmp_path / "data"
    client = page_client(make_user("clerk01", "粤01", "clerk"), "en")
    rows = [row("(2024)粤0104执12", "2024-02-01")]

    report = import_with_language(client, tmp_path, rows)

    assert "missing 号 after the sequence" in report
    assert "序号后缺少“号”字" not in report
