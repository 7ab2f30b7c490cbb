"""Unit tests of identity-document checks: resident IDs, credit codes and the other documents.

Every resident ID number here is synthetic: the helpers build it from a region code, a birth
date and a sequence number, and compute its check character with the weights of GB 11643.
"""

# Full-width characters are the input under test here.

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidComponent, InvalidFormat
from stdnum.iso7064 import mod_11_2

from zhixing.cases.identity import (
    PROVINCE_CODES,
    USCC_ALPHABET,
    USCC_UNUSED_LETTERS,
    DocumentType,
    IdentityError,
    ResidentId,
    UsccResult,
    check_document,
    check_uscc,
    gb11643_check_character,
    mask_id_number,
    normalise_resident_id,
    organization_code_check_character,
)

TODAY = date(2025, 6, 1)

# GB 11643-1999: weights of the 17 digits, and the check character for each sum modulo 11.
GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK_CHARACTERS = "10X98765432"

# GB 32100-2015: weights of the first 17 characters of a unified social credit code.
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def gb11643_check(body: str) -> str:
    """Compute the GB 11643 check character of 17 digits, independently of the module."""
    total = sum(int(digit) * weight for digit, weight in zip(body, GB11643_WEIGHTS, strict=True))
    return GB11643_CHECK_CHARACTERS[total % 11]


def build_resident_id(region: str, birth: str, sequence: str) -> str:
    """Build an 18-character number with a correct check character.

    ``birth`` is the YYYYMMDD text, which need not be a real date, so that the tests can build
    numbers that are wrong only in their birth date.
    """
    body = f"{region}{birth}{sequence}"
    assert len(body) == 17
    return body + gb11643_check(body)


def build_with_check(region: str, birth: str, check: str) -> str:
    """Build a number whose check character is ``check``, trying sequence numbers in turn."""
    for sequence in range(1000):
        number = build_resident_id(region, birth, f"{sequence:03d}")
        if number.endswith(check):
            return number
    raise AssertionError(f"no sequence gives check character {check}")


def build_uscc(first_17: str) -> str:
    """Append the GB 32100 check character to 17 characters, independently of the module."""
    total = sum(
        USCC_ALPHABET.index(character) * weight
        for character, weight in zip(first_17, USCC_WEIGHTS, strict=True)
    )
    return first_17 + USCC_ALPHABET[(31 - total % 31) % 31]


def wrong_check(number: str, alphabet: str = "0123456789X") -> str:
    """Replace the last character of ``number`` with another one from ``alphabet``."""
    replacement = next(character for character in alphabet if character != number[-1])
    return number[:-1] + replacement


# Synthetic numbers: (region, birth date, sequence).
VALID_RESIDENT_IDS = [
    ("440104", "19850101", "001"),
    ("110105", "19491001", "002"),
    ("650102", "20000229", "123"),
    ("540102", "19000101", "998"),
    ("710000", "19700615", "005"),
    ("810000", "19900101", "010"),
]


provinces = st.sampled_from(sorted(PROVINCE_CODES))
region_codes = st.builds(
    lambda province, rest: f"{province}{rest:04d}", provinces, st.integers(0, 9999)
)
sequences = st.integers(0, 999).map(lambda value: f"{value:03d}")


# Resident ID numbers.


def test_gb11643_check_character_worked_example() -> None:
    # The digits 4 4 0 1 0 4 1 9 8 5 0 1 0 1 0 0 1, times the GB 11643 weights, sum to 175.
    # 175 mod 11 = 10 selects "2" from 10X98765432.
    assert gb11643_check_character("44010419850101001") == "2"


@pytest.mark.parametrize(("region", "birth", "sequence"), VALID_RESIDENT_IDS)
def test_resident_id_valid_generated(region: str, birth: str, sequence: str) -> None:
    number = build_resident_id(region, birth, sequence)
    result = normalise_resident_id(number, today=TODAY)
    assert result.number == number
    assert result.birth_date == date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    assert result.region_code == region
    assert result.converted_from_15 is False


def test_resident_id_sex_from_sequence() -> None:
    male = normalise_resident_id(build_resident_id("440104", "19850101", "001"), today=TODAY)
    female = normalise_resident_id(build_resident_id("440104", "19850101", "002"), today=TODAY)
    assert male.sex == "M"
    assert female.sex == "F"


def test_resident_id_lowercase_x_uppercased() -> None:
    number = build_with_check("440104", "19850101", "X")
    result = normalise_resident_id(number.lower(), today=TODAY)
    assert result.number == number
    assert result.number.endswith("X")


def test_resident_id_full_width_and_spaces() -> None:
    number = build_with_check("440104", "19850101", "X")
    typed = f" {number[:6]} {number[6:14]}\u3000{number[14:]} ".translate(FULL_WIDTH).lower()
    assert normalise_resident_id(typed, today=TODAY).number == number


def test_resident_id_15_digits_converted() -> None:
    # Computed by hand: see test_gb11643_check_character_worked_example.
    result = normalise_resident_id("440104850101001", today=TODAY)
    assert result.number == "440104198501010012"
    assert result.converted_from_15 is True
    assert result.birth_date == date(1985, 1, 1)
    assert result.sex == "M"
    assert result.region_code == "440104"


def test_resident_id_15_digits_full_width() -> None:
    result = normalise_resident_id("440104 850101 001".translate(FULL_WIDTH), today=TODAY)
    assert result.number == "440104198501010012"


def test_resident_id_15_digits_with_letter_rejected() -> None:
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id("44010485010100X", today=TODAY)
    assert caught.value.part == "characters"


def test_resident_id_15_digits_invalid_date() -> None:
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id("440104850230001", today=TODAY)
    assert caught.value.part == "birth_date"


def test_resident_id_february_30_rejected() -> None:
    number = build_resident_id("440104", "19850230", "001")
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(number, today=TODAY)
    assert caught.value.part == "birth_date"
    assert "7 to 14" in str(caught.value)


def test_resident_id_leap_days() -> None:
    leap = build_resident_id("440104", "20000229", "001")
    not_leap = build_resident_id("440104", "19000229", "001")
    assert normalise_resident_id(leap, today=TODAY).birth_date == date(2000, 2, 29)
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(not_leap, today=TODAY)
    assert caught.value.part == "birth_date"


def test_resident_id_future_birth_date() -> None:
    tomorrow = TODAY + timedelta(days=1)
    number = build_resident_id("440104", tomorrow.strftime("%Y%m%d"), "001")
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(number, today=TODAY)
    assert caught.value.part == "birth_date"
    assert "future" in str(caught.value)


def test_resident_id_born_today_accepted() -> None:
    number = build_resident_id("440104", TODAY.strftime("%Y%m%d"), "001")
    assert normalise_resident_id(number, today=TODAY).birth_date == TODAY


def test_resident_id_future_by_default_clock() -> None:
    number = build_resident_id("440104", "29990101", "001")
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(number)
    assert caught.value.part == "birth_date"


def test_resident_id_before_1900_rejected() -> None:
    number = build_resident_id("440104", "18991231", "001")
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(number, today=TODAY)
    assert caught.value.part == "birth_date"
    assert "1900" in str(caught.value)


def test_resident_id_wrong_check_character() -> None:
    number = wrong_check(build_resident_id("440104", "19850101", "001"))
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(number, today=TODAY)
    assert caught.value.part == "check_character"
    assert caught.value.document_type is DocumentType.RESIDENT_ID


def test_resident_id_region_created_after_birth() -> None:
    # 440604 (Chancheng district, Foshan) was created in 2002. A person born in 1985 carries it
    # when the number was issued after 2002, and python-stdnum 2.2 rejects that number.
    number = build_resident_id("440604", "19850312", "003")
    with pytest.raises(InvalidComponent):
        ric.validate(number)
    result = normalise_resident_id(number, today=TODAY)
    assert result.number == number
    assert result.region_code == "440604"
    assert result.birth_date == date(1985, 3, 12)


@pytest.mark.parametrize("province", ["00", "10", "16", "20", "47", "66", "72", "84", "99"])
def test_resident_id_unknown_province(province: str) -> None:
    number = build_resident_id(f"{province}0101", "19850101", "001")
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(number, today=TODAY)
    assert caught.value.part == "region_code"


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("", "text"),
        ("   ", "text"),
        ("44010419850101001", "length"),
        ("4401041985010100120", "length"),
        ("4401041985010100", "length"),
        ("44010419850X010012", "characters"),
        ("44010419850101001A", "characters"),
        ("44010419850101-012", "characters"),
    ],
)
def test_resident_id_malformed(text: str, part: str) -> None:
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(text, today=TODAY)
    assert caught.value.part == part


def test_resident_id_non_ascii_digits_rejected() -> None:
    # Arabic-Indic digits are digits to str.isdigit but not in a resident ID number.
    number = build_resident_id("440104", "19850101", "001")
    typed = number[:17].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + number[17]
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(typed, today=TODAY)
    assert caught.value.part == "characters"


def test_resident_id_error_masks_number() -> None:
    number = wrong_check(build_resident_id("440104", "19850101", "001"))
    with pytest.raises(IdentityError) as caught:
        normalise_resident_id(number, today=TODAY)
    message = str(caught.value)
    assert number not in message
    assert number[6:16] not in message
    assert f"{number[:6]}{'*' * 10}{number[-2:]}" in message


def test_resident_id_repr_masks_number() -> None:
    number = build_resident_id("440104", "19850101", "001")
    result = normalise_resident_id(number, today=TODAY)
    assert number not in repr(result)
    assert mask_id_number(number) in repr(result)


def test_resident_id_is_frozen() -> None:
    result = normalise_resident_id(build_resident_id("440104", "19850101", "001"), today=TODAY)
    with pytest.raises(AttributeError):
        result.number = "x"  # type: ignore[misc]


@given(
    region=region_codes,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sequence=sequences,
)
def test_resident_id_generated_normalises_to_itself(
    region: str, birth: date, sequence: str
) -> None:
    number = build_resident_id(region, birth.strftime("%Y%m%d"), sequence)
    result = normalise_resident_id(number, today=TODAY)
    assert result.number == number
    assert result.birth_date == birth
    assert result.sex == ("M" if int(sequence) % 2 else "F")
    assert isinstance(result, ResidentId)


@given(
    region=region_codes,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    sequence=sequences,
)
def test_resident_id_15_digit_conversion_checks(region: str, birth: date, sequence: str) -> None:
    old_number = f"{region}{birth.strftime('%y%m%d')}{sequence}"
    result = normalise_resident_id(old_number, today=TODAY)
    assert result.number == build_resident_id(region, birth.strftime("%Y%m%d"), sequence)
    assert mod_11_2.is_valid(result.number)
    assert normalise_resident_id(result.number, today=TODAY).number == result.number
    assert result.converted_from_15 is True


@given(body=st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_gb11643_check_character_matches_weights(body: str) -> None:
    assert gb11643_check_character(body) == gb11643_check(body)


# Unified social credit codes.


@pytest.mark.parametrize(
    "code",
    [
        # The worked example of GB 32100-2015, with the check character it computes.
        "91350100M000100Y43",
        # The example of python-stdnum 2.2's cn.uscc module.
        "91110000600037341L",
    ],
)
def test_uscc_published_examples(code: str) -> None:
    result = check_uscc(code)
    assert result.code == code
    assert result.check_ok is True
    assert result.needs_confirmation is False


def test_uscc_parts() -> None:
    result = check_uscc("91350100M000100Y43")
    assert result.registering_authority == "9"
    assert result.entity_type == "1"
    assert result.region_code == "350100"
    assert result.organization_code == "M000100Y4"


@pytest.mark.parametrize("authority", ["A", "N", "Y"])
def test_uscc_letter_authority_accepted(authority: str) -> None:
    code = build_uscc(f"{authority}1440104MA5ABCD12")
    with pytest.raises(InvalidFormat):
        uscc.validate(code)
    result = check_uscc(code)
    assert result.check_ok is True
    assert result.registering_authority == authority


def test_uscc_wrong_check_needs_confirmation() -> None:
    code = wrong_check("91350100M000100Y43", USCC_ALPHABET)
    result = check_uscc(code)
    assert result.code == code
    assert result.check_ok is False
    assert result.needs_confirmation is True


def test_uscc_document_wrong_check_raises() -> None:
    code = wrong_check("91350100M000100Y43", USCC_ALPHABET)
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.USCC, code)
    assert caught.value.needs_confirmation is True
    assert caught.value.part == "check_character"


def test_uscc_document_confirmed_accepted() -> None:
    code = wrong_check("91350100M000100Y43", USCC_ALPHABET)
    assert check_document(DocumentType.USCC, code, confirmed=True) == code


def test_uscc_normalises_input() -> None:
    typed = " 9135 0100 m000 100y43 ".translate(FULL_WIDTH)
    assert check_uscc(typed).code == "91350100M000100Y43"


@pytest.mark.parametrize("letter", list(USCC_UNUSED_LETTERS))
def test_uscc_unused_letter_rejected(letter: str) -> None:
    code = f"91350100M{letter}00100Y43"
    with pytest.raises(IdentityError) as caught:
        check_uscc(code)
    assert caught.value.part == "characters"
    assert f"character 10 ({letter!r})" in str(caught.value)


def test_uscc_letter_o_suggests_zero() -> None:
    with pytest.raises(IdentityError) as caught:
        check_uscc("91350100MO00100Y43")
    assert "digit 0" in str(caught.value)


def test_uscc_letter_in_region_rejected() -> None:
    code = build_uscc("913501A0M000100Y4")
    with pytest.raises(IdentityError) as caught:
        check_uscc(code)
    assert caught.value.part == "region_code"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("91350100M000100Y4", "missing or extra"),
        ("91350100M000100Y433", "missing or extra"),
        ("110108000000016", "business registration number"),
        ("M000100Y4", "organization code"),
    ],
)
def test_uscc_wrong_length(text: str, hint: str) -> None:
    with pytest.raises(IdentityError) as caught:
        check_uscc(text)
    assert caught.value.part == "length"
    assert hint in str(caught.value)


def test_uscc_empty_rejected() -> None:
    with pytest.raises(IdentityError) as caught:
        check_uscc("")
    assert caught.value.part == "text"


@given(
    head=st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2),
    region=st.text(alphabet="0123456789", min_size=6, max_size=6),
    organization=st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)
def test_uscc_generated_codes(head: str, region: str, organization: str) -> None:
    code = build_uscc(f"{head}{region}{organization}")
    result = check_uscc(code)
    assert result.check_ok is True
    assert uscc.calc_check_digit(code[:17]) == code[17]
    assert check_uscc(wrong_check(code, USCC_ALPHABET)).needs_confirmation is True


def test_uscc_result_is_dataclass() -> None:
    result = check_uscc("91350100M000100Y43")
    assert isinstance(result, UsccResult)


# Organization codes (GB 11714).


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M000100Y4", "M000100Y4"),
        ("600037341", "600037341"),
        ("60003734-1", "600037341"),
        ("60003734—1", "600037341"),
        ("６０００３７３４－１", "600037341"),
        ("m000100y4", "M000100Y4"),
        (" M000 100Y-4 ", "M000100Y4"),
    ],
)
def test_organization_code_valid(text: str, expected: str) -> None:
    assert check_document(DocumentType.ORGANIZATION_CODE, text) == expected


def test_organization_code_check_values() -> None:
    # M=22 and Y=34: 22*3 + 1*5 + 34*2 = 139, 139 mod 11 = 7, and 11 - 7 = 4.
    assert organization_code_check_character("M000100Y") == "4"


@pytest.mark.parametrize("check", ["X", "0"])
def test_organization_code_special_checks(check: str) -> None:
    # The check character is X for the value 10 and 0 for the value 11.
    body = next(
        f"{value:08d}"
        for value in range(10_000_000, 10_010_000)
        if organization_code_check_character(f"{value:08d}") == check
    )
    assert check_document(DocumentType.ORGANIZATION_CODE, body + check) == body + check


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("M000100Y5", "check_character"),
        ("60003734X", "check_character"),
        ("M000100Y", "length"),
        ("M000100Y44", "length"),
        ("6000#7341", "characters"),
        ("", "text"),
    ],
)
def test_organization_code_invalid(text: str, part: str) -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.ORGANIZATION_CODE, text)
    assert caught.value.part == part
    assert caught.value.document_type is DocumentType.ORGANIZATION_CODE


# Business registration numbers (GS 15-2006).


def test_business_registration_valid() -> None:
    assert check_document(DocumentType.BUSINESS_REGISTRATION, "110108000000016") == (
        "110108000000016"
    )


def test_business_registration_full_width() -> None:
    typed = "１１０１０８ ０００００００１６"
    assert check_document(DocumentType.BUSINESS_REGISTRATION, typed) == "110108000000016"


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("110108000000017", "check_character"),
        ("11010800000001", "characters"),
        ("11010800000001A", "characters"),
        ("91350100M000100Y43", "characters"),
        ("", "text"),
    ],
)
def test_business_registration_invalid(text: str, part: str) -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.BUSINESS_REGISTRATION, text)
    assert caught.value.part == part


def test_business_registration_hints_credit_code() -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.BUSINESS_REGISTRATION, "91350100M000100Y43")
    assert "unified social credit code" in str(caught.value)


# Travel permits of Hong Kong, Macao and Taiwan residents.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("H12345678", "H12345678"),
        ("M87654321", "M87654321"),
        ("H1234567800", "H1234567800"),
        ("h12345678", "H12345678"),
        ("Ｈ１２３４５６７８", "H12345678"),
    ],
)
def test_hk_macau_permit_valid(text: str, expected: str) -> None:
    assert check_document(DocumentType.HK_MACAU_PERMIT, text) == expected


@pytest.mark.parametrize(
    "text", ["K12345678", "H1234567", "H123456789", "H123456789012", "12345678", ""]
)
def test_hk_macau_permit_invalid(text: str) -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.HK_MACAU_PERMIT, text)
    assert caught.value.document_type is DocumentType.HK_MACAU_PERMIT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12345678", "12345678"),
        ("1234567801", "1234567801"),
        ("1234567801(B)", "1234567801(B)"),
        ("1234567801（Ｂ）", "1234567801(B)"),
        ("1234567801b", "1234567801(B)"),
        ("1234567801(7)", "1234567801(7)"),
    ],
)
def test_taiwan_permit_valid(text: str, expected: str) -> None:
    assert check_document(DocumentType.TAIWAN_PERMIT, text) == expected


@pytest.mark.parametrize(
    "text", ["1234567", "123456789", "12345678(B)", "1234567801(BC)", "A1234567", ""]
)
def test_taiwan_permit_invalid(text: str) -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.TAIWAN_PERMIT, text)
    assert caught.value.document_type is DocumentType.TAIWAN_PERMIT


# Residence permits of Hong Kong, Macao and Taiwan residents.


@pytest.mark.parametrize("region", ["810000", "820000"])
def test_hk_macau_residence_permit_valid(region: str) -> None:
    number = build_with_check(region, "19900101", "X")
    typed = number.lower()
    assert check_document(DocumentType.HK_MACAU_RESIDENCE_PERMIT, typed, today=TODAY) == number


def test_taiwan_residence_permit_valid() -> None:
    number = build_resident_id("830000", "19900101", "002")
    assert check_document(DocumentType.TAIWAN_RESIDENCE_PERMIT, number, today=TODAY) == number


@pytest.mark.parametrize(
    ("document_type", "region"),
    [
        (DocumentType.HK_MACAU_RESIDENCE_PERMIT, "830000"),
        (DocumentType.HK_MACAU_RESIDENCE_PERMIT, "440104"),
        (DocumentType.HK_MACAU_RESIDENCE_PERMIT, "810100"),
        (DocumentType.TAIWAN_RESIDENCE_PERMIT, "810000"),
        (DocumentType.TAIWAN_RESIDENCE_PERMIT, "710000"),
    ],
)
def test_residence_permit_wrong_region(document_type: DocumentType, region: str) -> None:
    number = build_resident_id(region, "19900101", "001")
    with pytest.raises(IdentityError) as caught:
        check_document(document_type, number, today=TODAY)
    assert caught.value.part == "region_code"


def test_residence_permit_wrong_check_character() -> None:
    number = wrong_check(build_resident_id("810000", "19900101", "001"))
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.HK_MACAU_RESIDENCE_PERMIT, number, today=TODAY)
    assert caught.value.part == "check_character"


def test_residence_permit_15_digits_rejected() -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.HK_MACAU_RESIDENCE_PERMIT, "810000900101001", today=TODAY)
    assert caught.value.part == "length"


def test_residence_permit_invalid_birth_date() -> None:
    number = build_resident_id("830000", "19900231", "001")
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.TAIWAN_RESIDENCE_PERMIT, number, today=TODAY)
    assert caught.value.part == "birth_date"


# Foreign permanent residence ID cards.


def test_foreign_residence_2017_form() -> None:
    typed = "usa 440185 010100"
    assert check_document(DocumentType.FOREIGN_PERMANENT_RESIDENCE, typed) == "USA440185010100"


def test_foreign_residence_2023_form() -> None:
    number = build_with_check("944084", "19850101", "X")
    typed = number.lower().translate(FULL_WIDTH)
    assert check_document(DocumentType.FOREIGN_PERMANENT_RESIDENCE, typed) == number


def test_foreign_residence_2023_wrong_check() -> None:
    number = wrong_check(build_resident_id("944084", "19850101", "001"))
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.FOREIGN_PERMANENT_RESIDENCE, number)
    assert caught.value.part == "check_character"


@pytest.mark.parametrize(
    "text",
    [
        "US4401850101001",
        "USA44018501010",
        "USA4401850101001",
        build_resident_id("440104", "19850101", "001"),
        "",
    ],
)
def test_foreign_residence_invalid(text: str) -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.FOREIGN_PERMANENT_RESIDENCE, text)
    assert caught.value.document_type is DocumentType.FOREIGN_PERMANENT_RESIDENCE


# Passports.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E12345678", "E12345678"),
        ("G12345678", "G12345678"),
        # The specimen passport number of ICAO Doc 9303.
        ("L898902C3", "L898902C3"),
        ("e 1234 5678", "E12345678"),
        ("A" * 22, "A" * 22),
    ],
)
def test_passport_valid(text: str, expected: str) -> None:
    assert check_document(DocumentType.PASSPORT, text) == expected


@pytest.mark.parametrize("text", ["E1234567-8", "A" * 23, "护照12345", ""])
def test_passport_invalid(text: str) -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(DocumentType.PASSPORT, text)
    assert caught.value.document_type is DocumentType.PASSPORT


# Dispatch, masking and the document types.


def test_check_document_accepts_type_value() -> None:
    number = build_resident_id("440104", "19850101", "001")
    assert check_document("resident_id", number, today=TODAY) == number


def test_check_document_converts_15_digits() -> None:
    assert check_document(DocumentType.RESIDENT_ID, "440104850101001") == "440104198501010012"


def test_check_document_unknown_type() -> None:
    with pytest.raises(ValueError, match="DocumentType"):
        check_document("driving_licence", "123456")


ERROR_CASES = [
    (DocumentType.RESIDENT_ID, wrong_check(build_resident_id("440104", "19850101", "001"))),
    (DocumentType.RESIDENT_ID, build_resident_id("440104", "19850230", "001")),
    (DocumentType.RESIDENT_ID, "4401041985010100123"),
    (DocumentType.HK_MACAU_RESIDENCE_PERMIT, build_resident_id("440104", "19850101", "001")),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE, "9440841985010100100"),
    (DocumentType.USCC, wrong_check("91350100M000100Y43", USCC_ALPHABET)),
    (DocumentType.USCC, "91350100MO00100Y43"),
    (DocumentType.PASSPORT, "E1234567-8"),
    (DocumentType.HK_MACAU_PERMIT, "K12345678"),
]


@pytest.mark.parametrize(("document_type", "text"), ERROR_CASES)
def test_error_message_masks_number(document_type: DocumentType, text: str) -> None:
    with pytest.raises(IdentityError) as caught:
        check_document(document_type, text, today=TODAY)
    assert text not in str(caught.value)
    assert "*" in str(caught.value)


def test_identity_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="resident ID number"):
        check_document(DocumentType.RESIDENT_ID, "123")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("440104198501010012", "440104********0012"),
        ("44010419850101001x", "440104********001X"),
        ("４４０１０４１９８５０１０１００１Ｘ", "440104********001X"),
        ("440104850101001", "440104*****1001"),
        ("91350100M000100Y43", "913501********0Y43"),
        ("H12345678", "H1*****78"),
        ("12345", "12*45"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_id_number(text: str, expected: str) -> None:
    assert mask_id_number(text) == expected


@pytest.mark.parametrize("document_type", list(DocumentType))
def test_document_type_names(document_type: DocumentType) -> None:
    assert document_type.label
    assert document_type.description
    assert DocumentType(document_type.value) is document_type
