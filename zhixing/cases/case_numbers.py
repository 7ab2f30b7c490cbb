"""Case numbers (案号) of the people's courts: parsing, checking and canonical formatting.

Since 2016-01-01 a case number reads ``(`` year ``)`` court code, an optional one-character
specialised-trial code (added in 2018), the case-type code, the sequence number and ``号``,
for example ``(2016)粤01执恢44号``. A further ruling under the same number appends ``之一``,
``之二`` and so on: ``(2016)粤01执恢44号之一``. Numbers issued before 2016 use the court's own
abbreviation and the word ``字第``: ``(2002)穗中法执字第1416号``; they parse as legacy numbers.

This module imports nothing from Django, so that it can run wherever case numbers are read.
Only :func:`court_name` touches the database, and it imports the ``Court`` model when called.
A :class:`CaseNumberError` carries its English message as ``str(error)``, and
:mod:`zhixing.cases.error_messages` shows it in the user's language.
"""

# Full-width parentheses, 〔〕 brackets and the en dash are part of the case-number format and of
# the messages, so ruff's warnings about confusable characters do not apply to this file.
# ruff: noqa: RUF002, RUF003

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


def gettext_noop(message: str) -> str:
    """Return ``message`` unchanged, marking it for translation.

    Django's ``makemessages`` extracts the argument of every call to a function of this name, so
    the messages here reach the translation catalogue although this module imports nothing from
    Django.
    """
    return message


YEAR_MIN = 1949
YEAR_MAX = 2100

SUPREME_COURT_CODE = "最高法"

# Court codes of the high courts, which the intermediate and basic courts extend with 2 or 4
# digits. Rule 法〔2015〕137号, article 4: a high court's code is the abbreviation of its
# province-level division, except Inner Mongolia (内, not 蒙), the PLA Military Court (军) and
# the Xinjiang Production and Construction Corps branch of the Xinjiang high court (兵).
# Guizhou's code is 黔, as in the published numbers (2016)黔01刑初20号 and (2024)黔01民终12518号.
PROVINCE_COURT_CODES = frozenset(
    "京津冀晋内辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔云藏陕甘青宁新军兵"
)

COURT_CODE_DIGIT_COUNTS = (0, 2, 4)

# Specialised-trial codes (专门审判代字), one character each, added by the 2018 amendment
# 法〔2018〕335号. 知 marks intellectual-property cases, as in the published numbers
# (2021)最高法知民终892号 and (2020)浙01知民初277号.
# NOTE: 知 is the only specialised-trial code with a source here; add others as the Supreme
# People's Court publishes them.
SPECIALISED_TRIAL_CODES: Mapping[str, str] = MappingProxyType(
    {"知": "专利等知识产权案件"},
)

# Case-type codes (类型代字) and the name of the case type they stand for, from the standard
# 《人民法院案件类型及其代字标准》 that comes with rule 法〔2015〕137号 (in force 2016-01-01).
# The codes and names follow a reproduction of that standard in court software in a public
# repository (search-index file id 43132127354), not the standard's own text. The reproduction
# numbers the standard's 10 classes 0100 to 1114 and also carries a few codes added after 2015
# (刑教…, 民保令, 民保更). Where one code covers several subclasses (民特, 刑核, 破), the name
# is that of the class.
CASE_TYPES: Mapping[str, str] = MappingProxyType(
    {
        # Jurisdiction (管辖案件).
        "刑辖": "刑事管辖案件",
        "民辖": "民事管辖案件",
        "民辖终": "民事管辖上诉案件",
        "民辖监": "民事管辖监督案件",
        "行辖": "行政管辖案件",
        "行辖终": "行政管辖上诉案件",
        "赔辖": "行政赔偿管辖案件",
        "赔辖终": "行政赔偿管辖上诉案件",
        # Criminal (刑事案件).
        "刑初": "刑事一审案件",
        "刑终": "刑事二审案件",
        "刑监": "刑事依职权再审审查案件",
        "刑申": "刑事申诉再审审查案件",
        "刑抗": "刑事抗诉再审审查案件",
        "刑再": "刑事再审案件",
        "刑没": "申请没收违法所得案件",
        "刑核": "刑事复核案件",
        "刑医": "申请强制医疗审查案件",
        "刑医解": "解除强制医疗审查案件",
        "刑医复": "强制医疗复议案件",
        "刑医监": "强制医疗监督案件",
        "刑止": "停止执行死刑案件",
        "刑止调": "停止执行死刑调查案件",
        "刑止核": "停止执行死刑调查审核案件",
        "刑更": "刑罚与执行变更审查案件",
        "刑更监": "刑罚与执行变更监督案件",
        "刑更备": "刑罚与执行变更备案案件",
        "刑他": "其他刑事案件",
        "刑教": "申请安置教育审查案件",
        "刑教解": "解除安置教育审查案件",
        "刑教复": "安置教育复议案件",
        "刑教监": "安置教育监督案件",
        # Civil (民事案件).
        "民初": "民事一审案件",
        "民终": "民事二审案件",
        "民监": "民事依职权再审审查案件",
        "民申": "民事申请再审审查案件",
        "民抗": "民事抗诉再审审查案件",
        "民再": "民事再审案件",
        "民撤": "第三人撤销之诉案件",
        "民特": "特别程序案件",
        "民特监": "民事特别程序监督案件",
        "民催": "催告案件",
        "民督": "申请支付令审查案件",
        "民督监": "支付令监督案件",
        "民他": "其他民事案件",
        "民保令": "人身安全保护令申请审查案件",
        "民保更": "人身安全保护令变更案件",
        # Administrative (行政案件).
        "行初": "行政一审案件",
        "行终": "行政二审案件",
        "行监": "行政依职权再审审查案件",
        "行申": "行政申请再审审查案件",
        "行抗": "行政抗诉再审审查案件",
        "行再": "行政再审案件",
        "行审": "非诉行政行为申请执行审查案件",
        "行审复": "非诉行政行为申请执行审查复议案件",
        "行他": "其他行政案件",
        # State compensation and judicial aid (国家赔偿与司法救助案件).
        "行赔初": "行政赔偿一审案件",
        "行赔终": "行政赔偿二审案件",
        "行赔监": "行政赔偿依职权再审审查案件",
        "行赔申": "行政赔偿申请再审审查案件",
        "行赔抗": "行政赔偿抗诉再审审查案件",
        "行赔再": "行政赔偿再审案件",
        "行赔他": "其他行政赔偿案件",
        "法赔": "法院作为赔偿义务机关自赔案件",
        "委赔": "赔偿委员会审理赔偿案件",
        "委赔监": "司法赔偿监督审查案件",
        "赔确监": "赔偿确认申诉审查案件",
        "委赔提": "司法赔偿监督上级法院赔偿委员会重审案件",
        "委赔再": "司法赔偿监督本院赔偿委员会重审案件",
        "赔他": "其他赔偿案件",
        "司救刑": "刑事司法救助案件",
        "司救民": "民事司法救助案件",
        "司救行": "行政司法救助案件",
        "司救赔": "国家赔偿司法救助案件",
        "司救执": "执行司法救助案件",
        "司救访": "涉诉信访司法救助案件",
        "司救他": "其他司法救助案件",
        # Judicial assistance with Taiwan, Hong Kong and Macao (区际司法协助案件).
        "认台": "认可与执行台湾地区裁判或仲裁裁决审查案件",
        "认港": "认可与执行香港特别行政区裁判或仲裁裁决审查案件",
        "认澳": "认可与执行澳门特别行政区裁判或仲裁裁决审查案件",
        "认复": "认可与执行审查复议案件",
        "认他": "认可与执行审查其他案件",
        "请台送": "请求台湾地区送达文书审查案件",
        "请港送": "请求香港特别行政区法院送达文书审查案件",
        "请澳送": "请求澳门特别行政区法院送达文书审查案件",
        "台请送": "台湾地区请求送达文书案件",
        "港请送": "香港特别行政区法院请求送达文书案件",
        "澳请送": "澳门特别行政区法院请求送达文书案件",
        "请台调": "请求台湾地区调查取证审查案件",
        "请港调": "请求香港特别行政区调查取证审查案件",
        "请澳调": "请求澳门特别行政区法院调查取证审查案件",
        "台请调": "台湾地区请求调查取证案件",
        "港请调": "香港特别行政区请求调查取证案件",
        "澳请调": "澳门特别行政区法院请求调查取证案件",
        "请移管": "接收在台湾地区被判刑人案件",
        "助移管": "向台湾地区移管被判刑人案件",
        "请移赃": "接收台湾地区移交罪赃案件",
        "助移赃": "向台湾地区移交罪赃案件",
        # International judicial assistance (国际司法协助案件).
        "协外认": "承认与执行外国法院裁判或国外仲裁裁决审查案件",
        "协他": "承认与执行审查其他案件",
        "协外送": "外国法院请求送达文书案件",
        "请外送": "请求外国法院送达文书审查案件",
        "协外调": "外国法院请求调查取证案件",
        "请外调": "请求外国法院调查取证审查案件",
        "请外移": "接收在外国被判刑人案件",
        "协外移": "向外国移管被判刑人案件",
        "请外引": "请求外国引渡案件",
        "协外引": "协助外国引渡案件",
        # Judicial sanctions (司法制裁案件).
        "司惩": "司法制裁审查案件",
        "司惩复": "司法制裁复议案件",
        # Preservation outside litigation (非诉保全审查案件).
        "财保": "非诉财产保全审查案件",
        "行保": "非诉行为保全审查案件",
        "行保复": "非诉行为保全复议案件",
        "证保": "非诉证据保全审查案件",
        # Enforcement (执行类案件): the first three are implementing cases (执行实施类), the
        # rest are review cases (执行审查类).
        "执": "首次执行案件",
        "执恢": "恢复执行案件",
        "执保": "财产保全执行案件",
        "执异": "执行异议案件",
        "执复": "执行复议案件",
        "执监": "执行监督案件",
        "执协": "执行协调案件",
        "执他": "其他执行案件",
        # Compulsory liquidation and bankruptcy (强制清算与破产案件).
        "清申": "强制清算申请审查案件",
        "破申": "破产申请审查案件",
        "清终": "强制清算上诉案件",
        "破终": "破产上诉案件",
        "清监": "强制清算监督案件",
        "破监": "破产监督案件",
        "强清": "强制清算案件",
        "破": "破产案件",
        # Pre-litigation mediation: not in the 2015 standard, but used in published numbers
        # such as (2021)川0104民诉前调801号 and (2024)浙02民诉前调595号.
        "民诉前调": "民事诉前调解案件",
    }
)

ENFORCEMENT_TYPE_CODES = frozenset(code for code in CASE_TYPES if code.startswith("执"))
IMPLEMENTING_TYPE_CODES = frozenset({"执", "执恢", "执保"})

# Legacy type words that mark an enforcement case. 民执 appears in pre-2016 enforcement numbers
# such as (2009)绍诸民执字第03265号. 刑执 is left out because it marks the execution of a
# criminal sentence (commutation, parole), not an enforcement case.
LEGACY_ENFORCEMENT_PREFIXES = ("执", "民执")
LEGACY_IMPLEMENTING_TYPES = frozenset({"执", "执恢", "执保", "民执"})

# Characters that begin a legacy type word. They split a legacy court abbreviation that does not
# end in 法 from its type word, as in (2015)厦执字第281号 and (2009)绍诸民执字第03265号.
LEGACY_TYPE_INITIALS = frozenset("执民刑行赔")

_DIGITS = frozenset("0123456789")
_CHINESE_DIGITS = "一二三四五六七八九"
# Brackets that NFKC normalisation leaves alone but that people type around the year.
_BRACKETS = str.maketrans({"〔": "(", "〕": ")"})
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_LEGACY_ABBREVIATION = re.compile(r"[\u4e00-\u9fff0-9]+")


class CaseNumberReason(StrEnum):
    """Stable key of what is wrong with a case number, one per message in ``MESSAGES``."""

    EMPTY = "empty"
    YEAR_NOT_FIRST = "year_not_first"
    YEAR_CLOSING_MISSING = "year_closing_missing"
    YEAR_MISSING = "year_missing"
    YEAR_DIGITS = "year_digits"
    YEAR_RANGE = "year_range"
    COURT_CODE_MISSING = "court_code_missing"
    COURT_CODE_INVALID = "court_code_invalid"
    TYPE_CODE_MISSING = "type_code_missing"
    TYPE_CODE_UNKNOWN = "type_code_unknown"
    SEQUENCE_MISSING_AFTER_TYPE_CODE = "sequence_missing_after_type_code"
    SEQUENCE_MISSING_AFTER_MARKER = "sequence_missing_after_marker"
    SEQUENCE_ZERO = "sequence_zero"
    NUMBER_SIGN_MISSING = "number_sign_missing"
    NUMBER_SIGN_WRONG = "number_sign_wrong"
    SUFFIX_INVALID = "suffix_invalid"
    LEGACY_ABBREVIATION_MISSING = "legacy_abbreviation_missing"
    LEGACY_TYPE_MISSING = "legacy_type_missing"
    LEGACY_SPLIT = "legacy_split"
    LEGACY_ABBREVIATION_CHARACTERS = "legacy_abbreviation_characters"


# English message of each reason, with the parameters of the error as placeholders. Typed text
# in a parameter is quoted by repr(). Every message is also a msgid of the translation catalogue.
MESSAGES: Mapping[CaseNumberReason, str] = {
    CaseNumberReason.EMPTY: gettext_noop("case number is empty"),
    CaseNumberReason.YEAR_NOT_FIRST: gettext_noop(
        "case number %(text)s must start with the year in parentheses, e.g. (2016)"
    ),
    CaseNumberReason.YEAR_CLOSING_MISSING: gettext_noop("missing ) after the year"),
    CaseNumberReason.YEAR_MISSING: gettext_noop("year missing inside the parentheses"),
    CaseNumberReason.YEAR_DIGITS: gettext_noop("year %(year)s must be 4 digits"),
    CaseNumberReason.YEAR_RANGE: gettext_noop("year %(year)s is out of range %(min)s–%(max)s"),
    CaseNumberReason.COURT_CODE_MISSING: gettext_noop("court code missing after the year"),
    CaseNumberReason.COURT_CODE_INVALID: gettext_noop(
        "court code %(code)s is not a valid court code: expected %(supreme)s, a province "
        "character such as 粤, or a province character followed by 2 or 4 digits"
    ),
    CaseNumberReason.TYPE_CODE_MISSING: gettext_noop(
        "type code missing after court code %(court_code)s"
    ),
    CaseNumberReason.TYPE_CODE_UNKNOWN: gettext_noop(
        "type code %(type_code)s after court code %(court_code)s is not a known case-type code "
        "(such as 执, 执恢 or 民初), nor a specialised-trial code followed by one"
    ),
    CaseNumberReason.SEQUENCE_MISSING_AFTER_TYPE_CODE: gettext_noop(
        "sequence missing after type code %(type_code)s"
    ),
    CaseNumberReason.SEQUENCE_MISSING_AFTER_MARKER: gettext_noop("sequence missing after 字第"),
    CaseNumberReason.SEQUENCE_ZERO: gettext_noop(
        "sequence %(sequence)s must be a positive whole number"
    ),
    CaseNumberReason.NUMBER_SIGN_MISSING: gettext_noop("missing 号 after the sequence"),
    CaseNumberReason.NUMBER_SIGN_WRONG: gettext_noop(
        "missing 号 after the sequence %(sequence)s: found %(found)s"
    ),
    CaseNumberReason.SUFFIX_INVALID: gettext_noop(
        "text %(text)s after 号 is not a valid suffix: expected nothing, or 之 followed by a "
        "Chinese number such as 之一 or 之十二"
    ),
    CaseNumberReason.LEGACY_ABBREVIATION_MISSING: gettext_noop(
        "court abbreviation missing before 字第"
    ),
    CaseNumberReason.LEGACY_TYPE_MISSING: gettext_noop(
        "type word missing after court abbreviation %(abbreviation)s"
    ),
    CaseNumberReason.LEGACY_SPLIT: gettext_noop(
        "legacy court abbreviation and type word cannot be told apart in %(text)s: expected an "
        "abbreviation ending in 法 followed by a type word such as 执, e.g. 穗中法执"
    ),
    CaseNumberReason.LEGACY_ABBREVIATION_CHARACTERS: gettext_noop(
        "legacy court abbreviation %(abbreviation)s may contain only Chinese characters and digits"
    ),
}


class CaseNumberError(ValueError):
    """A text that is not a valid case number.

    ``part`` names the part that is wrong: ``year``, ``court_code``, ``type_code``,
    ``sequence``, ``suffix`` or ``text`` (the text as a whole, for example when it is empty).
    ``reason`` selects the message in ``MESSAGES``, and ``params`` contains the values it shows.
    ``str(error)`` is the English message.
    """

    def __init__(self, part: str, reason: CaseNumberReason, **params: str | int) -> None:
        self.part = part
        self.reason = CaseNumberReason(reason)
        self.params: Mapping[str, str | int] = params
        super().__init__(self.format_message())

    def format_message(self, translate: Callable[[str], str] = gettext_noop) -> str:
        """Build the message, passing its template through ``translate``.

        By default the message is English. Pass a ``gettext`` function for another language.
        """
        return translate(MESSAGES[self.reason]) % self.params


@dataclass(frozen=True)
class CaseNumber:
    """A case number split into its parts.

    For a legacy (pre-2016) number ``court_code``, ``specialised_code`` and ``type_code`` are
    empty, and ``legacy_court_abbreviation`` and ``legacy_type`` contain the court's own
    abbreviation (穗中法) and the type word (执). ``suffix`` is ``""`` or ``之一``, ``之二``, ….
    Build instances with :func:`parse_case_number`: the constructor does not check the parts.
    """

    year: int
    court_code: str
    specialised_code: str
    type_code: str
    sequence: int
    suffix: str = ""
    legacy: bool = False
    legacy_court_abbreviation: str = ""
    legacy_type: str = ""

    @property
    def is_enforcement(self) -> bool:
        """Whether the number belongs to an enforcement case (a type code starting with 执)."""
        if self.legacy:
            return self.legacy_type.startswith(LEGACY_ENFORCEMENT_PREFIXES)
        return self.type_code.startswith("执")

    @property
    def is_implementing(self) -> bool:
        """Whether the case is an implementing enforcement case (执, 执恢 or 执保)."""
        if self.legacy:
            return self.legacy_type in LEGACY_IMPLEMENTING_TYPES
        return self.type_code in IMPLEMENTING_TYPE_CODES

    @property
    def type_name(self) -> str | None:
        """Name of the case type in the 2015 standard, or None for legacy numbers."""
        if self.legacy:
            return None
        return CASE_TYPES.get(self.type_code)

    @property
    def suffix_number(self) -> int:
        """Number of the further ruling that the suffix marks (之二 is 2), or 0 without one."""
        if not self.suffix:
            return 0
        return _parse_chinese_number(self.suffix[1:]) or 0

    def format(self) -> str:
        """Return the canonical text, with half-width parentheses and no padding zeros."""
        if self.legacy:
            return (
                f"({self.year}){self.legacy_court_abbreviation}{self.legacy_type}"
                f"字第{self.sequence}号{self.suffix}"
            )
        return (
            f"({self.year}){self.court_code}{self.specialised_code}{self.type_code}"
            f"{self.sequence}号{self.suffix}"
        )

    def __str__(self) -> str:
        return self.format()


def normalise_typed(text: str) -> str:
    """Return typed text as the parser reads it: half-width characters, 〔〕 as (), stripped."""
    return unicodedata.normalize("NFKC", text).translate(_BRACKETS).strip()


def parse_case_number(text: str) -> CaseNumber:
    """Parse a case number, current (since 2016) or legacy, into its parts.

    Full-width digits and parentheses, 〔〕 brackets and surrounding whitespace are accepted, and
    so are padding zeros in the sequence. Raises :class:`CaseNumberError` naming the wrong part.
    """
    normalized = normalise_typed(text)
    if not normalized:
        raise CaseNumberError("text", CaseNumberReason.EMPTY)
    year, rest = _parse_year(normalized)
    if "字第" in rest:
        return _parse_legacy(year, rest)
    return _parse_current(year, rest)


def court_name(case_number: CaseNumber) -> str | None:
    """Look up the full name of the court that issued the number in the ``Court`` table.

    Returns None for legacy numbers, whose abbreviations are not stored, and for court codes
    that the table does not contain.
    """
    if case_number.legacy or not case_number.court_code:
        return None
    from zhixing.courts.models import Court

    return Court.objects.filter(code=case_number.court_code).values_list("name", flat=True).first()


def chinese_number(value: int) -> str:
    """Write 1 to 99 in Chinese numerals as used in suffixes: 一, 十, 十二, 二十, 九十九."""
    if not 1 <= value <= 99:
        raise ValueError(f"{value} is outside 1–99, the range of suffix numbers")
    tens, units = divmod(value, 10)
    unit_text = _CHINESE_DIGITS[units - 1] if units else ""
    if tens == 0:
        return unit_text
    tens_text = "十" if tens == 1 else _CHINESE_DIGITS[tens - 1] + "十"
    return tens_text + unit_text


def _parse_chinese_number(text: str) -> int | None:
    for value in range(1, 100):
        if chinese_number(value) == text:
            return value
    return None


def _parse_year(text: str) -> tuple[int, str]:
    if not text.startswith("("):
        raise CaseNumberError("year", CaseNumberReason.YEAR_NOT_FIRST, text=repr(text))
    closing = text.find(")")
    if closing < 0:
        raise CaseNumberError("year", CaseNumberReason.YEAR_CLOSING_MISSING)
    year_text = text[1:closing]
    if not year_text:
        raise CaseNumberError("year", CaseNumberReason.YEAR_MISSING)
    if len(year_text) != 4 or not set(year_text) <= _DIGITS:
        raise CaseNumberError("year", CaseNumberReason.YEAR_DIGITS, year=repr(year_text))
    year = int(year_text)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise CaseNumberError(
            "year", CaseNumberReason.YEAR_RANGE, year=year, min=YEAR_MIN, max=YEAR_MAX
        )
    return year, text[closing + 1 :]


def _take_digits(text: str, start: int) -> str:
    end = start
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    return text[start:end]


def _parse_court_code(rest: str) -> str:
    if not rest:
        raise CaseNumberError("court_code", CaseNumberReason.COURT_CODE_MISSING)
    if rest.startswith(SUPREME_COURT_CODE):
        return SUPREME_COURT_CODE
    digits = _take_digits(rest, 1)
    code = rest[0] + digits
    if rest[0] not in PROVINCE_COURT_CODES or len(digits) not in COURT_CODE_DIGIT_COUNTS:
        raise CaseNumberError(
            "court_code",
            CaseNumberReason.COURT_CODE_INVALID,
            code=repr(code),
            supreme=SUPREME_COURT_CODE,
        )
    return code


def _split_type_code(letters: str, court_code: str) -> tuple[str, str]:
    """Split the letters between court code and sequence into specialised and type codes.

    The letters must form one known type code as a whole, optionally after one specialised-trial
    character, so 执恢 is always read as 执恢 and never as 执 followed by something else.
    """
    if letters in CASE_TYPES:
        return "", letters
    if letters[:1] in SPECIALISED_TRIAL_CODES and letters[1:] in CASE_TYPES:
        return letters[:1], letters[1:]
    raise CaseNumberError(
        "type_code",
        CaseNumberReason.TYPE_CODE_UNKNOWN,
        type_code=repr(letters),
        court_code=court_code,
    )


def _parse_sequence(rest: str, start: int, type_code: str) -> tuple[int, int]:
    """Read the sequence at ``start`` and the 号 after it, returning both and where 号 ends.

    ``type_code`` is the type code before the sequence, or "" after the 字第 of a legacy number.
    """
    digits = _take_digits(rest, start)
    if not digits:
        if type_code:
            raise CaseNumberError(
                "sequence", CaseNumberReason.SEQUENCE_MISSING_AFTER_TYPE_CODE, type_code=type_code
            )
        raise CaseNumberError("sequence", CaseNumberReason.SEQUENCE_MISSING_AFTER_MARKER)
    sequence = int(digits)
    if sequence == 0:
        raise CaseNumberError("sequence", CaseNumberReason.SEQUENCE_ZERO, sequence=repr(digits))
    end = start + len(digits)
    if end >= len(rest):
        raise CaseNumberError("sequence", CaseNumberReason.NUMBER_SIGN_MISSING)
    if rest[end] != "号":
        raise CaseNumberError(
            "sequence",
            CaseNumberReason.NUMBER_SIGN_WRONG,
            sequence=digits,
            found=repr(rest[end:]),
        )
    return sequence, end + 1


def _parse_suffix(tail: str) -> str:
    if not tail:
        return ""
    if tail.startswith("之") and _parse_chinese_number(tail[1:]) is not None:
        return tail
    raise CaseNumberError("suffix", CaseNumberReason.SUFFIX_INVALID, text=repr(tail))


def _parse_current(year: int, rest: str) -> CaseNumber:
    court_code = _parse_court_code(rest)
    start = len(court_code)
    end = start
    while end < len(rest) and rest[end] not in _DIGITS and rest[end] != "号":
        end += 1
    letters = rest[start:end]
    if not letters:
        raise CaseNumberError(
            "type_code", CaseNumberReason.TYPE_CODE_MISSING, court_code=court_code
        )
    specialised_code, type_code = _split_type_code(letters, court_code)
    sequence, suffix_start = _parse_sequence(rest, end, letters)
    return CaseNumber(
        year=year,
        court_code=court_code,
        specialised_code=specialised_code,
        type_code=type_code,
        sequence=sequence,
        suffix=_parse_suffix(rest[suffix_start:]),
    )


def _split_legacy_body(body: str) -> tuple[str, str]:
    """Split the text before 字第 into the court's abbreviation and the type word.

    The abbreviation ends at its first 法 (穗中法|执). Without a 法, the type word starts at the
    first of 执民刑行赔 after the first character (厦|执, 绍诸|民执).
    """
    if not body:
        raise CaseNumberError("court_code", CaseNumberReason.LEGACY_ABBREVIATION_MISSING)
    split = body.find("法") + 1
    if split == 0 or split == len(body) or not _CJK_RUN.fullmatch(body[split:]):
        # NOTE: the split without 法 is a heuristic drawn from published numbers such as
        # (2015)厦执字第281号; an abbreviation containing one of 执民刑行赔 would split wrongly.
        split = next(
            (
                index
                for index in range(1, len(body))
                if body[index] in LEGACY_TYPE_INITIALS and _CJK_RUN.fullmatch(body[index:])
            ),
            0,
        )
    if split == 0:
        if body.endswith("法"):
            raise CaseNumberError(
                "type_code", CaseNumberReason.LEGACY_TYPE_MISSING, abbreviation=body
            )
        raise CaseNumberError("court_code", CaseNumberReason.LEGACY_SPLIT, text=repr(body))
    abbreviation, legacy_type = body[:split], body[split:]
    if not _LEGACY_ABBREVIATION.fullmatch(abbreviation):
        raise CaseNumberError(
            "court_code",
            CaseNumberReason.LEGACY_ABBREVIATION_CHARACTERS,
            abbreviation=repr(abbreviation),
        )
    return abbreviation, legacy_type


def _parse_legacy(year: int, rest: str) -> CaseNumber:
    marker = rest.index("字第")
    abbreviation, legacy_type = _split_legacy_body(rest[:marker])
    sequence, suffix_start = _parse_sequence(rest, marker + 2, "")
    return CaseNumber(
        year=year,
        court_code="",
        specialised_code="",
        type_code="",
        sequence=sequence,
        suffix=_parse_suffix(rest[suffix_start:]),
        legacy=True,
        legacy_court_abbreviation=abbreviation,
        legacy_type=legacy_type,
    )


def stored_form(text: str) -> str:
    """Return a typed case number as the case table stores it, for looking the case up.

    Full-width parentheses and digits, 〔〕 brackets and padding zeros become the stored
    form. Text that is not a case number is returned stripped, so the look-up finds nothing
    and the caller reports the text as typed.
    """
    try:
        return parse_case_number(text).format()
    except CaseNumberError:
        return text.strip()
