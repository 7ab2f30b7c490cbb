"""Identity documents of enforcement parties: checking and normalising their numbers.

A person is named by the number of one identity document: a resident ID card (居民身份证), a
passport, a permit of a Hong Kong, Macao or Taiwan resident, or a foreign permanent residence ID
card. An organisation is named by its unified social credit code (统一社会信用代码) or by one of
the older codes that the credit code replaced. :func:`check_document` checks a number of any of
these kinds and returns it in normal form. :func:`normalise_resident_id` and :func:`check_uscc`
also return the parts of the two main kinds.

python-stdnum computes the GB 11643 and GB 32100 check characters here, but its validators are
not used, because python-stdnum 2.2 rejects real numbers. ``cn.ric.validate`` checks the region
code against the birth date, although a number carries the region code in force when it was
issued: a person born in 1985 may carry 440604 (Chancheng district, created in 2002).
``cn.uscc.validate`` requires the first 8 characters of a credit code to be digits, although
the first character, the registering authority, may be a letter.

Error messages never contain a whole number: they show it masked, as in ``440104**********1X``.
This module imports nothing from Django. An :class:`IdentityError` carries its English message
as ``str(error)``, and :mod:`zhixing.cases.error_messages` shows it in the user's language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, assert_never
from zoneinfo import ZoneInfo

from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10


def gettext_noop(message: str) -> str:
    """Return ``message`` unchanged, marking it for translation.

    Django's ``makemessages`` extracts the argument of every call to a function of this name, so
    the messages here reach the translation catalogue although this module imports nothing from
    Django. :mod:`zhixing.cases.error_messages` translates them when it shows an error.
    """
    return message


# Birth dates are compared with the date in China, where the documents are issued.
CHINA_TIME_ZONE = ZoneInfo("Asia/Shanghai")

EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# Province-level codes, the first 2 digits of a GB 11643 number. All but 83 are the codes of
# the province-level divisions in GB/T 2260, as listed in python-stdnum 2.2's region table
# stdnum/cn/loc.dat (taken from the Chinese Wikipedia tables of GB/T 2260 codes). 83 is no
# GB/T 2260 code, but residence permits of Taiwan residents use the region code 830000 (see
# TAIWAN_RESIDENCE_REGION_CODES).
PROVINCE_CODES = frozenset(
    [
        *(str(code) for code in range(11, 16)),
        *(str(code) for code in range(21, 24)),
        *(str(code) for code in range(31, 38)),
        *(str(code) for code in range(41, 47)),
        *(str(code) for code in range(50, 55)),
        *(str(code) for code in range(61, 66)),
        *("71", "81", "82", "83"),
    ]
)

# Region codes of the residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民
# 居住证, issued since 2018 under 港澳台居民居住证申领发放办法). The permit carries an 18-digit
# citizen identity number built like a resident ID number, whose region code is 810000 for Hong
# Kong, 820000 for Macao and 830000 for Taiwan residents. Source: the explanation of the permit
# number at https://cidian.kuaisou.com/居民居住证号.
HK_MACAU_RESIDENCE_REGION_CODES = frozenset({"810000", "820000"})
TAIWAN_RESIDENCE_REGION_CODES = frozenset({"830000"})

# Characters of a unified social credit code: digits and the capital letters except I, O, Z, S
# and V, in the order of their values 0 to 30. Source: GB 32100-2015, table 1 (代码字符集), as
# reproduced with the standard's worked example 91350100M000100Y43 at
# https://www.yc00.com/web/1713075042a2177900.html.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_UNUSED_LETTERS = "IOZSV"
# The digit that a letter left out of the credit-code alphabet is most often typed for.
_USCC_LOOKALIKE_DIGITS = {"I": "1", "O": "0", "Z": "2", "S": "5"}

# GB 11714-1997 (全国组织机构代码编制规则), clause 2.1: 8 body characters, each a digit or a
# capital letter with the values 0 to 9 and A=10 to Z=35, then a check character
# C9 = 11 - MOD(sum of value x weight, 11), written X for 10 and 0 for 11. Source: the text of
# the standard at https://zh.wikisource.org/wiki/GB_11714-1997_全国组织机构代码编制规则 and a
# reproduction of its clause 2.1.2 at
# https://www.jinchutou.com/shtml/4a7cf022da0cb1da793322bd70746467.html.
# The standard's USCC example 91350100M000100Y43 contains the organisation code M000100Y4,
# which passes this check only with Y=34, so the letters count from A=10 without gaps.
ORGANIZATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORGANIZATION_CODE_CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Hyphen, dashes and minus sign that people type between the body and the check character.
_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2212"

_DIGITS_15 = re.compile(r"[0-9]{15}")
_GB11643_18 = re.compile(r"[0-9]{17}[0-9X]")

# 港澳居民来往内地通行证 (回乡证). Cards issued from 1999-01-15 carry 11 characters: H for Hong
# Kong or M for Macao residents, the holder's 8-digit lifelong number and a 2-digit count of
# renewals. The Ministry of Public Security's exit-entry administration published this rule on
# 2010-03-10, as reported at http://m.melive.cc/gn/news/2010/03-10/2162152.shtml. Cards issued
# from 2013-01-02 carry 9 characters, the letter and the 8-digit lifelong number, which are the
# first 9 characters of the holder's older card (reported at
# http://bp4871g.cn/guangxi/info/209997.html).
_HK_MACAU_PERMIT = re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?")

# 台湾居民来往大陆通行证 (台胞证). Cards issued from 1992-05 carry the holder's 8-digit lifelong
# number, a 2-digit issue count and, in brackets, an issuing-authority code that is a capital
# letter or a digit. Fujian, Jiangsu and Shanghai dropped the bracketed code from 2006-06, and
# from 2008-09-25 the number is the 8-digit lifelong number alone. Source: the China News
# Service report of 2008-09-12 at http://www.ncdzx.com/sy/rdxw/200809/t20080912_742862.htm.
# NOTE: the report does not say that the authority code is exactly one character; a longer
# code is rejected here until a source shows one.
_TAIWAN_PERMIT = re.compile(r"[0-9]{8}(?:[0-9]{2}(?:\([0-9A-Z]\))?)?")
# The older number typed with its letter code but without the brackets.
_TAIWAN_PERMIT_BARE_SUFFIX = re.compile(r"([0-9]{10})([A-Z])")

# 外国人永久居留身份证. The 2017 card carries 15 characters, 3 capital letters (the nationality)
# and 12 digits. The card issued from 2023-12-01 carries 18 characters: the digit 9, 16 further
# digits and a check character computed as for resident ID numbers (ISO 7064 MOD 11-2).
# Source: the National Immigration Administration's rules for the new card
# (新版外国人永久居留身份证机读信息规则, 2023), reproduced at
# http://www.eastcoms.com/service/pro/840.html.
# NOTE: the 2017 number has a check digit too, but no source for its algorithm was at hand, so
# only its form is checked.
_FOREIGN_RESIDENCE_2017 = re.compile(r"[A-Z]{3}[0-9]{12}")
_FOREIGN_RESIDENCE_2023 = re.compile(r"9[0-9]{16}[0-9X]")

# Passports of any state. ICAO Doc 9303 writes a document number in the machine-readable zone
# with the capital letters A to Z and the digits. The number field of a passport (TD3) contains 9
# characters, and a longer number continues, followed by its check digit, in the 14-character
# optional-data field, so a number has at most 22 characters. Source: the documentation of the
# Rust crate mrz 0.4.0 on document-number overflow (Doc 9303 part 4) at
# https://docs.rs/crate/mrz/0.4.0.
_PASSPORT = re.compile(r"[A-Z0-9]{1,22}")

# 工商注册号 (GS 15-2006, 工商行政管理市场主体注册号编制规则): a 6-digit code of the first
# registering authority, an 8-digit sequence and a check digit by ISO 7064 MOD 11,10. The
# number 110108000000016 from a public validator passes that check. Sources: the table of
# contents of GS 15-2006 at https://haowendang.cn/c0zuwn06ql33blzb1bszg_1.html and the
# validator at https://www.codeprj.com/zh/blog/73021b1.html.
_BUSINESS_REGISTRATION = re.compile(r"[0-9]{15}")


class DocumentType(StrEnum):
    """Kind of identity document that names a party."""

    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAU_PERMIT = "hk_macau_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    HK_MACAU_RESIDENCE_PERMIT = "hk_macau_residence_permit"
    TAIWAN_RESIDENCE_PERMIT = "taiwan_residence_permit"
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence"
    USCC = "uscc"
    ORGANIZATION_CODE = "organization_code"
    BUSINESS_REGISTRATION = "business_registration"

    @property
    def label(self) -> str:
        """Chinese name of the document, for the user interface."""
        return _LABELS[self]

    @property
    def description(self) -> str:
        """English name of the document, as used in error messages."""
        return _DESCRIPTIONS[self]


_LABELS = {
    DocumentType.RESIDENT_ID: "居民身份证",
    DocumentType.PASSPORT: "护照",
    DocumentType.HK_MACAU_PERMIT: "港澳居民来往内地通行证",
    DocumentType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    DocumentType.HK_MACAU_RESIDENCE_PERMIT: "港澳居民居住证",
    DocumentType.TAIWAN_RESIDENCE_PERMIT: "台湾居民居住证",
    DocumentType.FOREIGN_PERMANENT_RESIDENCE: "外国人永久居留身份证",
    DocumentType.USCC: "统一社会信用代码",
    DocumentType.ORGANIZATION_CODE: "组织机构代码",
    DocumentType.BUSINESS_REGISTRATION: "工商注册号",
}

_DESCRIPTIONS = {
    DocumentType.RESIDENT_ID: gettext_noop("resident ID number"),
    DocumentType.PASSPORT: gettext_noop("passport number"),
    DocumentType.HK_MACAU_PERMIT: gettext_noop("Hong Kong/Macao resident travel permit number"),
    DocumentType.TAIWAN_PERMIT: gettext_noop("Taiwan resident travel permit number"),
    DocumentType.HK_MACAU_RESIDENCE_PERMIT: gettext_noop("Hong Kong/Macao residence permit number"),
    DocumentType.TAIWAN_RESIDENCE_PERMIT: gettext_noop("Taiwan residence permit number"),
    DocumentType.FOREIGN_PERMANENT_RESIDENCE: gettext_noop("foreign permanent residence ID number"),
    DocumentType.USCC: gettext_noop("unified social credit code"),
    DocumentType.ORGANIZATION_CODE: gettext_noop("organization code"),
    DocumentType.BUSINESS_REGISTRATION: gettext_noop("business registration number"),
}


class IdentityReason(StrEnum):
    """Stable key of what is wrong with an identity number, one per message in ``MESSAGES``."""

    RESIDENT_ID_EMPTY = "resident_id_empty"
    FIRST_GENERATION_CHARACTERS = "first_generation_characters"
    DOCUMENT_EMPTY = "document_empty"
    GB11643_LENGTH = "gb11643_length"
    GB11643_LENGTH_15_OR_18 = "gb11643_length_15_or_18"
    GB11643_CHARACTERS = "gb11643_characters"
    PROVINCE_CODE = "province_code"
    BIRTH_DATE_NOT_A_DATE = "birth_date_not_a_date"
    BIRTH_DATE_TOO_EARLY = "birth_date_too_early"
    BIRTH_DATE_IN_FUTURE = "birth_date_in_future"
    GB11643_CHECK_CHARACTER = "gb11643_check_character"
    HK_MACAU_RESIDENCE_REGION = "hk_macau_residence_region"
    TAIWAN_RESIDENCE_REGION = "taiwan_residence_region"
    USCC_EMPTY = "uscc_empty"
    USCC_LENGTH = "uscc_length"
    USCC_LENGTH_BUSINESS_REGISTRATION = "uscc_length_business_registration"
    USCC_LENGTH_ORGANIZATION_CODE = "uscc_length_organization_code"
    USCC_CHARACTER = "uscc_character"
    USCC_CHARACTER_LOOKALIKE = "uscc_character_lookalike"
    USCC_REGION_CODE = "uscc_region_code"
    USCC_CHECK_CHARACTER = "uscc_check_character"
    FOREIGN_RESIDENCE_FORM = "foreign_residence_form"
    FOREIGN_RESIDENCE_CHECK_CHARACTER = "foreign_residence_check_character"
    ORGANIZATION_CODE_LENGTH = "organization_code_length"
    ORGANIZATION_CODE_CHARACTERS = "organization_code_characters"
    ORGANIZATION_CODE_CHECK_CHARACTER = "organization_code_check_character"
    BUSINESS_REGISTRATION_FORM = "business_registration_form"
    BUSINESS_REGISTRATION_FORM_USCC = "business_registration_form_uscc"
    BUSINESS_REGISTRATION_CHECK_DIGIT = "business_registration_check_digit"
    HK_MACAU_PERMIT_FORM = "hk_macau_permit_form"
    TAIWAN_PERMIT_FORM = "taiwan_permit_form"
    PASSPORT_FORM = "passport_form"


# English message of each reason. The placeholders are %(document)s, the document's name, and
# the parameters of the error: %(number)s is always the masked number, never the whole one.
# Every message is also a msgid of the translation catalogue.
MESSAGES: Mapping[IdentityReason, str] = {
    # Resident ID numbers and the residence permits that share their form (GB 11643).
    IdentityReason.RESIDENT_ID_EMPTY: gettext_noop(
        "resident ID number is empty: enter the 18-character number"
    ),
    IdentityReason.FIRST_GENERATION_CHARACTERS: gettext_noop(
        "15-character resident ID number %(number)s is invalid: a first-generation number "
        "contains only digits; retype it from the document"
    ),
    IdentityReason.DOCUMENT_EMPTY: gettext_noop(
        "%(document)s is empty: enter the number from the document"
    ),
    IdentityReason.GB11643_LENGTH: gettext_noop(
        "%(document)s %(number)s has %(length)s characters but 18 are expected: look for a "
        "missing or extra digit"
    ),
    IdentityReason.GB11643_LENGTH_15_OR_18: gettext_noop(
        "%(document)s %(number)s has %(length)s characters but 18 (or 15 for a first-generation "
        "number) are expected: look for a missing or extra digit"
    ),
    IdentityReason.GB11643_CHARACTERS: gettext_noop(
        "%(document)s %(number)s contains an invalid character: only digits are allowed, and X "
        "as the last character; retype the number from the document"
    ),
    IdentityReason.PROVINCE_CODE: gettext_noop(
        "%(document)s %(number)s is invalid: its first 2 digits are not the code of a province, "
        "autonomous region, municipality or special administrative region; check them against "
        "the document"
    ),
    IdentityReason.BIRTH_DATE_NOT_A_DATE: gettext_noop(
        "%(document)s %(number)s is invalid: characters 7 to 14 are not a real date in the form "
        "YYYYMMDD; check the birth-date digits against the document"
    ),
    IdentityReason.BIRTH_DATE_TOO_EARLY: gettext_noop(
        "%(document)s %(number)s is invalid: its birth date is before %(year)s; check the year "
        "digits"
    ),
    IdentityReason.BIRTH_DATE_IN_FUTURE: gettext_noop(
        "%(document)s %(number)s is invalid: its birth date is in the future; check the year digits"
    ),
    IdentityReason.GB11643_CHECK_CHARACTER: gettext_noop(
        "%(document)s %(number)s is invalid: its last character does not match the check "
        "character computed from the first 17 digits, so a digit is mistyped; compare the "
        "number with the document"
    ),
    IdentityReason.HK_MACAU_RESIDENCE_REGION: gettext_noop(
        "%(document)s %(number)s is invalid: it must start with 810000 or 820000; a number with "
        "another start is a resident ID number"
    ),
    IdentityReason.TAIWAN_RESIDENCE_REGION: gettext_noop(
        "%(document)s %(number)s is invalid: it must start with 830000; a number with another "
        "start is a resident ID number"
    ),
    # Unified social credit codes (GB 32100).
    IdentityReason.USCC_EMPTY: gettext_noop(
        "unified social credit code is empty: enter its 18 characters"
    ),
    IdentityReason.USCC_LENGTH: gettext_noop(
        "unified social credit code %(number)s has %(length)s characters but 18 are expected: "
        "look for a missing or extra character"
    ),
    IdentityReason.USCC_LENGTH_BUSINESS_REGISTRATION: gettext_noop(
        "unified social credit code %(number)s has %(length)s characters but 18 are expected: "
        "a 15-digit number is an old business registration number, so enter it as that "
        "document type"
    ),
    IdentityReason.USCC_LENGTH_ORGANIZATION_CODE: gettext_noop(
        "unified social credit code %(number)s has %(length)s characters but 18 are expected: "
        "a 9-character code is an old organization code, so enter it as that document type"
    ),
    IdentityReason.USCC_CHARACTER: gettext_noop(
        "unified social credit code %(number)s is invalid: character %(position)s "
        "(%(character)s) is not used in credit codes, which contain digits and capital letters "
        "except I, O, Z, S and V; retype the code from the business licence"
    ),
    IdentityReason.USCC_CHARACTER_LOOKALIKE: gettext_noop(
        "unified social credit code %(number)s is invalid: character %(position)s "
        "(%(character)s) is not used in credit codes, which contain digits and capital letters "
        "except I, O, Z, S and V; it is probably the digit %(digit)s"
    ),
    IdentityReason.USCC_REGION_CODE: gettext_noop(
        "unified social credit code %(number)s is invalid: characters 3 to 8 are the region "
        "code of the registering authority and must be digits"
    ),
    IdentityReason.USCC_CHECK_CHARACTER: gettext_noop(
        "unified social credit code %(number)s fails its check character. Some codes issued "
        "before the standard settled fail it, so have a person compare the code with the "
        "business licence and confirm it"
    ),
    # Foreign permanent residence ID cards.
    IdentityReason.FOREIGN_RESIDENCE_FORM: gettext_noop(
        "%(document)s %(number)s is invalid: expected 3 letters and 12 digits (card of 2017) or "
        "18 characters starting with 9 (card issued since December 2023); retype the number "
        "from the card"
    ),
    IdentityReason.FOREIGN_RESIDENCE_CHECK_CHARACTER: gettext_noop(
        "%(document)s %(number)s is invalid: its last character does not match the check "
        "character computed from the first 17 digits; compare the number with the card"
    ),
    # Organization codes (GB 11714) and business registration numbers (GS 15-2006).
    IdentityReason.ORGANIZATION_CODE_LENGTH: gettext_noop(
        "organization code %(number)s has %(length)s characters but 9 are expected "
        "(8 characters and a check character)"
    ),
    IdentityReason.ORGANIZATION_CODE_CHARACTERS: gettext_noop(
        "organization code %(number)s is invalid: its first 8 characters must be digits or "
        "capital letters"
    ),
    IdentityReason.ORGANIZATION_CODE_CHECK_CHARACTER: gettext_noop(
        "organization code %(number)s is invalid: its last character does not match the check "
        "character computed from the first 8; compare the code with the certificate"
    ),
    IdentityReason.BUSINESS_REGISTRATION_FORM: gettext_noop(
        "business registration number %(number)s is invalid: expected 15 digits"
    ),
    IdentityReason.BUSINESS_REGISTRATION_FORM_USCC: gettext_noop(
        "business registration number %(number)s is invalid: expected 15 digits; an "
        "18-character code is a unified social credit code"
    ),
    IdentityReason.BUSINESS_REGISTRATION_CHECK_DIGIT: gettext_noop(
        "business registration number %(number)s is invalid: its last digit does not match the "
        "check digit computed from the first 14; compare it with the business licence"
    ),
    # Travel permits and passports, which are checked by their form only.
    IdentityReason.HK_MACAU_PERMIT_FORM: gettext_noop(
        "%(document)s %(number)s is invalid: expected H (Hong Kong) or M (Macao) followed by 8 "
        "digits, or by 10 digits on cards issued before 2013"
    ),
    IdentityReason.TAIWAN_PERMIT_FORM: gettext_noop(
        "%(document)s %(number)s is invalid: expected 8 digits, or on cards issued before "
        "September 2008 10 digits, possibly followed by an issuing-authority letter or digit in "
        "brackets"
    ),
    IdentityReason.PASSPORT_FORM: gettext_noop(
        "%(document)s %(number)s is invalid: expected 1 to 22 capital letters and digits, as in "
        "the machine-readable zone"
    ),
}


class IdentityError(ValueError):
    """A text that is not a valid number of its identity document.

    ``document_type`` is the kind of document checked. ``part`` names what is wrong:
    ``text`` (empty), ``length``, ``characters``, ``region_code``, ``birth_date`` or
    ``check_character``. ``reason`` selects the message in ``MESSAGES``, and ``params`` contains
    the values it shows (the masked number, a length, a position). ``str(error)`` is the
    English message. ``needs_confirmation`` is true for a unified social credit code that
    is well formed but fails its check character: a person should compare it with the
    business licence and, if it matches, pass ``confirmed=True`` to :func:`check_document`.
    """

    def __init__(
        self,
        document_type: DocumentType,
        part: str,
        reason: IdentityReason,
        *,
        needs_confirmation: bool = False,
        **params: str | int,
    ) -> None:
        self.document_type = document_type
        self.part = part
        self.reason = IdentityReason(reason)
        self.params: Mapping[str, str | int] = params
        self.needs_confirmation = needs_confirmation
        super().__init__(self.format_message())

    def format_message(self, translate: Callable[[str], str] = gettext_noop) -> str:
        """Build the message, passing its template and the document's name through ``translate``.

        By default the message is English. Pass a ``gettext`` function for another language.
        """
        values = {"document": translate(self.document_type.description), **self.params}
        return translate(MESSAGES[self.reason]) % values


@dataclass(frozen=True, repr=False)
class ResidentId:
    """A resident ID number (公民身份号码, GB 11643) split into its parts.

    ``number`` is the 18-character form with an uppercase ``X``. ``sex`` is ``"M"`` for an odd
    sequence number and ``"F"`` for an even one. ``converted_from_15`` is true when the input was
    a first-generation 15-digit number. The representation masks the number, so that logging
    an instance does not write the whole number.
    """

    number: str
    birth_date: date
    sex: Literal["M", "F"]
    region_code: str
    converted_from_15: bool

    def __repr__(self) -> str:
        return (
            f"ResidentId(number={mask_id_number(self.number)!r}, "
            f"converted_from_15={self.converted_from_15})"
        )


@dataclass(frozen=True)
class UsccResult:
    """A unified social credit code (GB 32100) and the result of its check character.

    ``check_ok`` is false when the check character does not match the first 17 characters.
    Such a code may still be real, because some codes issued before the standard settled fail
    the check. ``needs_confirmation`` is then true, and the caller should have a person confirm
    the code.
    """

    code: str
    check_ok: bool
    needs_confirmation: bool
    registering_authority: str
    organization_code: str

    @property
    def entity_type(self) -> str:
        """Character 2, the kind of entity within the registering authority."""
        return self.code[1]

    @property
    def region_code(self) -> str:
        """Characters 3 to 8, the region code of the registering authority."""
        return self.code[2:8]


def normalise_resident_id(text: str, *, today: date | None = None) -> ResidentId:
    """Check a resident ID number and split it into its parts.

    Accepts full-width digits, spaces and a lowercase ``x``, and converts a 15-digit
    first-generation number to 18 characters by writing ``19`` before the 2-digit year and
    appending the check character. Checks the length and characters, that the first 2 digits
    are a province-level code, that the birth date exists, is not before 1900 and not after
    ``today`` (by default the current date in China), and the check character. The region code
    is not compared with the birth date. Raises :class:`IdentityError`.
    """
    document_type = DocumentType.RESIDENT_ID
    cleaned = _clean(text)
    if not cleaned:
        raise IdentityError(document_type, "text", IdentityReason.RESIDENT_ID_EMPTY)
    if len(cleaned) == 15:
        if not _DIGITS_15.fullmatch(cleaned):
            raise IdentityError(
                document_type,
                "characters",
                IdentityReason.FIRST_GENERATION_CHARACTERS,
                number=_mask_for_message(cleaned),
            )
        body = f"{cleaned[:6]}19{cleaned[6:]}"
        number = body + gb11643_check_character(body)
        converted = True
    else:
        _check_gb11643_form(cleaned, document_type, accepts_15=True)
        number = cleaned
        converted = False
    return _parse_gb11643(number, document_type, today, converted_from_15=converted)


def check_uscc(text: str) -> UsccResult:
    """Check the form of a unified social credit code and compute its check character.

    Accepts spaces, full-width characters and lowercase letters. Raises :class:`IdentityError`
    for a wrong length, a character outside the GB 32100 alphabet, or a region code (characters
    3 to 8) that is not all digits. A wrong check character raises nothing: the result has
    ``check_ok=False`` and ``needs_confirmation=True``.
    """
    document_type = DocumentType.USCC
    code = _clean(text)
    if not code:
        raise IdentityError(document_type, "text", IdentityReason.USCC_EMPTY)
    if len(code) != 18:
        raise _uscc_length_error(code)
    for position, character in enumerate(code, start=1):
        if character not in USCC_ALPHABET:
            raise _uscc_character_error(code, position, character)
    if not code[2:8].isdigit():
        raise IdentityError(
            document_type,
            "region_code",
            IdentityReason.USCC_REGION_CODE,
            number=_mask_for_message(code),
        )
    check_ok = uscc.calc_check_digit(code[:17]) == code[17]
    return UsccResult(
        code=code,
        check_ok=check_ok,
        needs_confirmation=not check_ok,
        registering_authority=code[0],
        organization_code=code[8:17],
    )


def check_document(
    document_type: DocumentType | str,
    text: str,
    *,
    confirmed: bool = False,
    today: date | None = None,
) -> str:
    """Check the number of an identity document and return it in normal form.

    The normal form has no spaces, only half-width characters and uppercase letters. A
    15-digit resident ID number is returned in its 18-character form. A unified social credit
    code that fails its check character raises an :class:`IdentityError` with
    ``needs_confirmation`` set, unless ``confirmed`` is true because a person has compared the code
    with the business licence. ``today`` is the date that birth dates may not pass, by default
    the current date in China. Raises :class:`IdentityError`, and ``ValueError`` for an unknown
    ``document_type``.
    """
    kind = DocumentType(document_type)
    match kind:
        case DocumentType.RESIDENT_ID:
            return normalise_resident_id(text, today=today).number
        case DocumentType.HK_MACAU_RESIDENCE_PERMIT | DocumentType.TAIWAN_RESIDENCE_PERMIT:
            return _check_residence_permit(kind, text, today)
        case DocumentType.FOREIGN_PERMANENT_RESIDENCE:
            return _check_foreign_permanent_residence(text)
        case DocumentType.HK_MACAU_PERMIT:
            return _check_pattern(kind, text, _HK_MACAU_PERMIT, IdentityReason.HK_MACAU_PERMIT_FORM)
        case DocumentType.TAIWAN_PERMIT:
            return _check_taiwan_permit(text)
        case DocumentType.PASSPORT:
            return _check_pattern(kind, text, _PASSPORT, IdentityReason.PASSPORT_FORM)
        case DocumentType.USCC:
            return _check_uscc_document(text, confirmed=confirmed)
        case DocumentType.ORGANIZATION_CODE:
            return _check_organization_code(text)
        case DocumentType.BUSINESS_REGISTRATION:
            return _check_business_registration(text)
        case _:
            assert_never(kind)


def mask_id_number(text: str) -> str:
    """Mask an identity number for display.

    A number of 15 or more characters keeps its first 6 and last 4 characters
    (``440104********001X``), a shorter one its first 2 and last 2, and one of 4 or fewer
    characters is masked whole. The text is normalised first (full-width characters, spaces,
    lowercase letters), so the mask has the length of the normal form.
    """
    cleaned = _clean(text)
    if len(cleaned) >= 15:
        return _mask(cleaned, 6, 4)
    return _mask(cleaned, 2, 2)


def gb11643_check_character(body: str) -> str:
    """Compute the check character of the 17 digits of a GB 11643 number.

    GB 11643-1999 uses ISO 7064 MOD 11-2: the digits are weighted 7 9 10 5 8 4 2 1 6 3 7 9 10
    5 8 4 2, and the sum modulo 11 selects the character from ``10X98765432``. python-stdnum
    2.2's ``cn.ric.calc_check_digit`` computes the same value.
    """
    # calc_check_digit ignores the last character of its argument, which is meant to be the
    # check character, so a placeholder takes its place.
    return ric.calc_check_digit(body + "0")


def organization_code_check_character(body: str) -> str:
    """Compute the GB 11714 check character of the 8 body characters of an organization code."""
    total = sum(
        _ORGANIZATION_CODE_CHARACTERS.index(character) * weight
        for character, weight in zip(body, ORGANIZATION_CODE_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    if value == 10:
        return "X"
    if value == 11:
        return "0"
    return str(value)


def _clean(text: str) -> str:
    """Fold full-width characters to half-width, drop all whitespace and uppercase letters."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _mask(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        if len(text) <= 4:
            return "*" * len(text)
        head, tail = 2, 2
    return text[:head] + "*" * (len(text) - head - tail) + text[-tail:]


def _mask_for_message(text: str) -> str:
    """Mask a value for an error message: the first 6 and last 2 characters of a long value."""
    if len(text) >= 15:
        return _mask(text, 6, 2)
    return _mask(text, 2, 2)


def _require_text(kind: DocumentType, number: str) -> None:
    if not number:
        raise IdentityError(kind, "text", IdentityReason.DOCUMENT_EMPTY)


def _check_gb11643_form(number: str, document_type: DocumentType, *, accepts_15: bool) -> None:
    """Raise unless ``number`` has 18 characters: 17 digits and a digit or X."""
    masked = _mask_for_message(number)
    if len(number) != 18:
        reason = (
            IdentityReason.GB11643_LENGTH_15_OR_18 if accepts_15 else IdentityReason.GB11643_LENGTH
        )
        raise IdentityError(document_type, "length", reason, number=masked, length=len(number))
    if not _GB11643_18.fullmatch(number):
        raise IdentityError(
            document_type, "characters", IdentityReason.GB11643_CHARACTERS, number=masked
        )


def _parse_gb11643(
    number: str,
    document_type: DocumentType,
    today: date | None,
    *,
    converted_from_15: bool,
) -> ResidentId:
    """Check the region, birth date and check character of an 18-character GB 11643 number."""
    masked = _mask_for_message(number)

    if number[:2] not in PROVINCE_CODES:
        raise IdentityError(
            document_type, "region_code", IdentityReason.PROVINCE_CODE, number=masked
        )

    # The message does not repeat the date, because together with the masked number it would
    # show most of the number.
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentityError(
            document_type, "birth_date", IdentityReason.BIRTH_DATE_NOT_A_DATE, number=masked
        ) from None
    if birth_date < EARLIEST_BIRTH_DATE:
        raise IdentityError(
            document_type,
            "birth_date",
            IdentityReason.BIRTH_DATE_TOO_EARLY,
            number=masked,
            year=EARLIEST_BIRTH_DATE.year,
        )
    if birth_date > (today or _today_in_china()):
        raise IdentityError(
            document_type, "birth_date", IdentityReason.BIRTH_DATE_IN_FUTURE, number=masked
        )

    if gb11643_check_character(number[:17]) != number[17]:
        raise IdentityError(
            document_type, "check_character", IdentityReason.GB11643_CHECK_CHARACTER, number=masked
        )

    sequence = int(number[14:17])
    return ResidentId(
        number=number,
        birth_date=birth_date,
        sex="M" if sequence % 2 else "F",
        region_code=number[:6],
        converted_from_15=converted_from_15,
    )


def _today_in_china() -> date:
    return datetime.now(tz=CHINA_TIME_ZONE).date()


def _check_residence_permit(kind: DocumentType, text: str, today: date | None) -> str:
    number = _clean(text)
    _require_text(kind, number)
    _check_gb11643_form(number, kind, accepts_15=False)
    if kind is DocumentType.TAIWAN_RESIDENCE_PERMIT:
        region_codes, reason = TAIWAN_RESIDENCE_REGION_CODES, IdentityReason.TAIWAN_RESIDENCE_REGION
    else:
        region_codes = HK_MACAU_RESIDENCE_REGION_CODES
        reason = IdentityReason.HK_MACAU_RESIDENCE_REGION
    if number[:6] not in region_codes:
        raise IdentityError(kind, "region_code", reason, number=_mask_for_message(number))
    return _parse_gb11643(number, kind, today, converted_from_15=False).number


def _check_uscc_document(text: str, *, confirmed: bool) -> str:
    result = check_uscc(text)
    if result.needs_confirmation and not confirmed:
        raise IdentityError(
            DocumentType.USCC,
            "check_character",
            IdentityReason.USCC_CHECK_CHARACTER,
            needs_confirmation=True,
            number=_mask_for_message(result.code),
        )
    return result.code


def _uscc_length_error(code: str) -> IdentityError:
    if len(code) == 15 and code.isdigit():
        reason = IdentityReason.USCC_LENGTH_BUSINESS_REGISTRATION
    elif len(code) == 9:
        reason = IdentityReason.USCC_LENGTH_ORGANIZATION_CODE
    else:
        reason = IdentityReason.USCC_LENGTH
    return IdentityError(
        DocumentType.USCC, "length", reason, number=_mask_for_message(code), length=len(code)
    )


def _uscc_character_error(code: str, position: int, character: str) -> IdentityError:
    masked = _mask_for_message(code)
    # repr() quotes the character and shows an invisible one, such as U+200B, as an escape.
    quoted_character = repr(character)
    lookalike = _USCC_LOOKALIKE_DIGITS.get(character)
    if lookalike:
        return IdentityError(
            DocumentType.USCC,
            "characters",
            IdentityReason.USCC_CHARACTER_LOOKALIKE,
            number=masked,
            position=position,
            character=quoted_character,
            digit=lookalike,
        )
    return IdentityError(
        DocumentType.USCC,
        "characters",
        IdentityReason.USCC_CHARACTER,
        number=masked,
        position=position,
        character=quoted_character,
    )


def _check_foreign_permanent_residence(text: str) -> str:
    kind = DocumentType.FOREIGN_PERMANENT_RESIDENCE
    number = _clean(text)
    _require_text(kind, number)
    if _FOREIGN_RESIDENCE_2017.fullmatch(number):
        return number
    if not _FOREIGN_RESIDENCE_2023.fullmatch(number):
        raise IdentityError(
            kind,
            "characters",
            IdentityReason.FOREIGN_RESIDENCE_FORM,
            number=_mask_for_message(number),
        )
    if gb11643_check_character(number[:17]) != number[17]:
        raise IdentityError(
            kind,
            "check_character",
            IdentityReason.FOREIGN_RESIDENCE_CHECK_CHARACTER,
            number=_mask_for_message(number),
        )
    return number


def _check_organization_code(text: str) -> str:
    kind = DocumentType.ORGANIZATION_CODE
    cleaned = _clean(text)
    _require_text(kind, cleaned)
    # GB 11714 writes a hyphen between the body and the check character for people to read.
    if len(cleaned) == 10 and cleaned[8] in _HYPHENS:
        cleaned = cleaned[:8] + cleaned[9]
    masked = _mask_for_message(cleaned)
    if len(cleaned) != 9:
        raise IdentityError(
            kind,
            "length",
            IdentityReason.ORGANIZATION_CODE_LENGTH,
            number=masked,
            length=len(cleaned),
        )
    if any(character not in _ORGANIZATION_CODE_CHARACTERS for character in cleaned[:8]):
        raise IdentityError(
            kind, "characters", IdentityReason.ORGANIZATION_CODE_CHARACTERS, number=masked
        )
    expected = organization_code_check_character(cleaned[:8])
    if cleaned[8] != expected:
        raise IdentityError(
            kind, "check_character", IdentityReason.ORGANIZATION_CODE_CHECK_CHARACTER, number=masked
        )
    return cleaned


def _check_business_registration(text: str) -> str:
    kind = DocumentType.BUSINESS_REGISTRATION
    number = _clean(text)
    _require_text(kind, number)
    masked = _mask_for_message(number)
    if not _BUSINESS_REGISTRATION.fullmatch(number):
        reason = IdentityReason.BUSINESS_REGISTRATION_FORM
        if len(number) == 18:
            reason = IdentityReason.BUSINESS_REGISTRATION_FORM_USCC
        raise IdentityError(kind, "characters", reason, number=masked)
    if not mod_11_10.is_valid(number):
        raise IdentityError(
            kind, "check_character", IdentityReason.BUSINESS_REGISTRATION_CHECK_DIGIT, number=masked
        )
    return number


def _check_taiwan_permit(text: str) -> str:
    kind = DocumentType.TAIWAN_PERMIT
    number = _clean(text)
    bare_suffix = _TAIWAN_PERMIT_BARE_SUFFIX.fullmatch(number)
    if bare_suffix:
        number = f"{bare_suffix.group(1)}({bare_suffix.group(2)})"
    return _check_pattern(kind, number, _TAIWAN_PERMIT, IdentityReason.TAIWAN_PERMIT_FORM)


def _check_pattern(
    kind: DocumentType, text: str, pattern: re.Pattern[str], reason: IdentityReason
) -> str:
    number = _clean(text)
    _require_text(kind, number)
    if not pattern.fullmatch(number):
        raise IdentityError(kind, "characters", reason, number=_mask_for_message(number))
    return number
