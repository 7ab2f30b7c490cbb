"""Importing enforcement cases from the spreadsheets court clerks keep (.xlsx and .csv).

The column layout, the labels each column accepts and the rules are documented in
``docs/import-format.md``; :data:`COLUMNS` is the single source of both the import and the
export (``exporting.py``), so an export can be imported again.

An import runs in two passes. The check pass reads every row and turns it into a
:class:`CaseRow` or a list of :class:`RowError` (row number as Excel shows it, column header,
reason). The store pass calls :func:`upsert_case` for each checked row. In all-or-nothing mode
the store pass runs in one transaction that rolls back when any row is rejected. In valid-rows
mode every chunk of rows commits on its own. :func:`upsert_case` changes only what differs
from the stored case, so importing the same file twice stores nothing the second time and
leaves no audit records.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from zhixing.cases import services
from zhixing.cases.case_numbers import CaseNumber, CaseNumberError, parse_case_number
from zhixing.cases.error_messages import translated_message
from zhixing.cases.identity import (
    DocumentType,
    IdentityError,
    check_document,
    mask_id_number,
)
from zhixing.cases.models import CaseParty, EnforcementCase, FlowNode, Party
from zhixing.cases.services import PartyInput
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User

logger = logging.getLogger(__name__)

Status = EnforcementCase.Status
ClosingMode = EnforcementCase.ClosingMode
BasisKind = EnforcementCase.BasisKind

# Roles that may import cases into their court and the courts below it.
IMPORT_ROLES = (Role.Code.CLERK, Role.Code.BUREAU_HEAD)

# How many rows of a file the web request imports itself; longer files go to a worker.
SYNCHRONOUS_ROW_LIMIT = 500
# Rows stored per transaction in valid-rows mode; progress is written after each chunk.
CHUNK_ROWS = 100
# Rows at the top of a sheet searched for the header row (title rows may come first).
HEADER_SEARCH_ROWS = 20
MAX_AMOUNT = services.MAX_AMOUNT


# Column layout


@dataclass(frozen=True)
class Column:
    """One column of the import and export layout."""

    key: str
    header: str
    required: bool
    description: Any  # a lazy translated string
    example: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column(
        "case_number",
        "案号",
        True,
        gettext_lazy(
            "Enforcement case number of a court in your scope, e.g. (2024)粤0104执123号. "
            "Full-width parentheses and digits are accepted. The number identifies the case: "
            "a row with a known number updates that case."
        ),
        "(2024)粤0104执123号",
    ),
    Column(
        "filed_on",
        "立案日期",
        True,
        gettext_lazy(
            "Filing date, in the year of the case number: 2024-01-05, 2024/1/5, 2024年1月5日 "
            "or an Excel date."
        ),
        "2024-01-05",
    ),
    Column(
        "basis_kind",
        "执行依据类型",
        True,
        gettext_lazy("Kind of enforcement basis; one of the labels listed below."),
        "判决书",
        ("依据类型", "执行依据种类"),
    ),
    Column(
        "basis_document_number",
        "执行依据文书号",
        False,
        gettext_lazy("Number of the judgment, ruling or award, e.g. (2023)粤0104民初456号."),
        "(2023)粤0104民初456号",
        ("执行依据文号", "执行依据案号", "依据文书号"),
    ),
    Column(
        "basis_court",
        "作出依据的法院或机构",
        False,
        gettext_lazy("Court, arbitration commission or other body that issued the basis."),
        "广州市越秀区人民法院",
        ("作出执行依据单位", "执行依据作出单位", "作出依据单位"),
    ),
    Column(
        "applicants",
        "申请执行人",
        True,
        gettext_lazy("Names of the applicants; several are separated by 、 or ;."),
        "广州某某贸易有限公司",
    ),
    Column(
        "applicant_document_types",
        "申请执行人证件类型",
        False,
        gettext_lazy(
            "Document type of each applicant, in the same order; empty means resident ID card "
            "for a person and unified social credit code for an organisation."
        ),
        "统一社会信用代码",
    ),
    Column(
        "applicant_document_numbers",
        "申请执行人证件号码",
        False,
        gettext_lazy(
            "Document number of each applicant, in the same order; leave a place empty "
            "(、、) for a party without one. Format the column as text in Excel."
        ),
        "91440101MA59XXXXXX",
        ("申请执行人证件号", "申请执行人身份证号码"),
    ),
    Column(
        "debtors",
        "被执行人",
        True,
        gettext_lazy("Names of the debtors; several are separated by 、 or ;."),
        "张三、李四",
    ),
    Column(
        "debtor_document_types",
        "被执行人证件类型",
        False,
        gettext_lazy("Document type of each debtor, in the same order."),
        "居民身份证、居民身份证",
    ),
    Column(
        "debtor_document_numbers",
        "被执行人证件号码",
        False,
        gettext_lazy(
            "Document number of each debtor, in the same order. 15-digit resident ID numbers "
            "are converted to 18 digits; a lowercase x is accepted."
        ),
        "",
        ("被执行人证件号", "被执行人身份证号码"),
    ),
    Column(
        "claim_amount",
        "申请执行标的(元)",
        True,
        gettext_lazy("Claim amount in yuan: 12000, 12,000.00, 12,000.00元 or 1.2万."),
        "120,000.00",
        ("申请执行标的", "申请执行标的额", "申请执行标的金额", "执行标的", "执行标的(元)"),
    ),
    Column(
        "recovered_amount",
        "执行到位金额(元)",
        False,
        gettext_lazy("Amount recovered so far, in yuan; empty keeps the stored amount."),
        "0",
        ("执行到位金额", "到位金额", "到位金额(元)", "执行到位标的"),
    ),
    Column(
        "case_officer",
        "承办人",
        False,
        gettext_lazy(
            "Full name or user name of the case officer, a staff account of the case's court."
        ),
        "",
        ("承办法官", "承办人员"),
    ),
    Column(
        "status",
        "案件状态",
        False,
        gettext_lazy(
            "Status of the case. Empty keeps the stored status; a new case is then open, "
            "or closed when a closing mode is given."
        ),
        "执行中",
        ("状态", "结案状态"),
    ),
    Column(
        "closing_mode",
        "结案方式",
        False,
        gettext_lazy("How a closed case was closed; one of the labels listed below."),
        "",
    ),
    Column(
        "closed_on",
        "结案日期",
        False,
        gettext_lazy("Closing date of a closed case, in the same formats as the filing date."),
        "",
    ),
)

COLUMN_BY_KEY = {column.key: column for column in COLUMNS}

# Synthetic example values for the template; the credit code has a correct check character.
EXAMPLE_CREDIT_CODE = "91440101MA59C1234T"


def example_value(key: str) -> Any:
    """Return the value of column ``key`` in the example row of the template."""
    if key == "filed_on":
        return datetime.date(2024, 1, 5)
    if key == "applicant_document_numbers":
        return EXAMPLE_CREDIT_CODE
    if key == "applicant_document_types":
        return DocumentType.USCC.label
    return COLUMN_BY_KEY[key].example


# Labels the import accepts, Chinese first; the first label of each value is what the export
# writes. The English values are accepted too, so that API users can send them.
BASIS_KIND_LABELS: dict[str, tuple[str, ...]] = {
    BasisKind.JUDGMENT: ("判决书", "判决", "民事判决书", "行政判决书"),
    BasisKind.RULING: ("裁定书", "裁定", "民事裁定书"),
    BasisKind.MEDIATION: ("调解书", "调解", "民事调解书"),
    BasisKind.PAYMENT_ORDER: ("支付令",),
    BasisKind.ARBITRAL_AWARD: ("仲裁裁决书", "仲裁裁决", "裁决书", "仲裁调解书"),
    BasisKind.NOTARISED_DEBT: ("公证债权文书", "具有强制执行效力的公证债权文书", "公证书"),
    BasisKind.ADMINISTRATIVE_DECISION: ("行政决定书", "行政决定", "行政处罚决定书"),
    BasisKind.CRIMINAL_JUDGMENT: ("刑事裁判涉财产部分", "刑事判决书", "刑事裁判"),
    BasisKind.OTHER: ("其他",),
}
STATUS_LABELS: dict[str, tuple[str, ...]] = {
    Status.OPEN: ("执行中", "未结", "在办", "在执", "办理中"),
    Status.SUSPENDED: ("中止执行", "中止", "暂缓执行"),
    Status.CLOSED: ("已结案", "已结", "结案", "执结"),
}
CLOSING_MODE_LABELS: dict[str, tuple[str, ...]] = {
    ClosingMode.COMPLETED: ("执行完毕", "执行完结"),
    ClosingMode.TERMINATED_WITHOUT_ASSETS: ("终结本次执行程序", "终本", "终结本次执行"),
    ClosingMode.TERMINATED: ("终结执行",),
    ClosingMode.WITHDRAWN: ("销案",),
    ClosingMode.NOT_ENFORCED: ("不予执行",),
    ClosingMode.APPLICATION_REJECTED: ("驳回申请", "驳回执行申请"),
}
DOCUMENT_TYPE_LABELS: dict[str, tuple[str, ...]] = {
    DocumentType.RESIDENT_ID: ("居民身份证", "身份证", "身份证号码"),
    DocumentType.PASSPORT: ("护照",),
    DocumentType.HK_MACAU_PERMIT: ("港澳居民来往内地通行证", "回乡证", "港澳通行证"),
    DocumentType.TAIWAN_PERMIT: ("台湾居民来往大陆通行证", "台胞证"),
    DocumentType.HK_MACAU_RESIDENCE_PERMIT: ("港澳居民居住证",),
    DocumentType.TAIWAN_RESIDENCE_PERMIT: ("台湾居民居住证",),
    DocumentType.FOREIGN_PERMANENT_RESIDENCE: ("外国人永久居留身份证", "外国人永久居留证"),
    DocumentType.USCC: ("统一社会信用代码", "营业执照", "社会信用代码"),
    DocumentType.ORGANIZATION_CODE: ("组织机构代码", "组织机构代码证"),
    DocumentType.BUSINESS_REGISTRATION: ("工商注册号", "注册号"),
}
ORGANISATION_DOCUMENTS = frozenset(
    {DocumentType.USCC, DocumentType.ORGANIZATION_CODE, DocumentType.BUSINESS_REGISTRATION}
)
# Words that mark a party's name as an organisation's when no document type is given.
ORGANISATION_NAME_WORDS = (
    "公司",
    "银行",
    "集团",
    "企业",
    "厂",
    "商行",
    "合作社",
    "委员会",
    "协会",
    "基金会",
    "事务所",
    "研究所",
    "中心",
    "学校",
    "医院",
    "支行",
    "分行",
    "政府",
    "局",
    "店",
)

PARTY_SEPARATORS = re.compile(r"[、;\n]")


def _label_index(labels: dict[str, tuple[str, ...]]) -> dict[str, str]:
    index = {}
    for value, names in labels.items():
        index[str(value)] = str(value)
        for name in names:
            index[name] = str(value)
    return index


_BASIS_KINDS = _label_index(BASIS_KIND_LABELS)
_STATUSES = _label_index(STATUS_LABELS)
_CLOSING_MODES = _label_index(CLOSING_MODE_LABELS)
_DOCUMENT_TYPES = _label_index(DOCUMENT_TYPE_LABELS)


def label_of(labels: dict[str, tuple[str, ...]], value: str) -> str:
    """Return the Chinese label the export writes for a stored value."""
    names = labels.get(value)
    return names[0] if names else value


def normalise_header(text: object) -> str:
    """Fold full-width characters, drop all spaces and unify brackets of a header cell."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(folded.split()).replace("[", "(").replace("]", ")")


_HEADER_INDEX = {
    normalise_header(name): column.key
    for column in COLUMNS
    for name in (column.header, *column.aliases)
}


# Results


@dataclass(frozen=True)
class RowError:
    """A rejected row: its number as Excel shows it, the column header and the reason."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportFileError(Exception):
    """A file that cannot be imported at all: unreadable, or a required column is missing."""


@dataclass(frozen=True)
class ImportParty:
    """A party of an import row: the checked input, or a masked number from an export."""

    data: PartyInput
    masked_number: str = ""


@dataclass(frozen=True)
class CaseRow:
    """A checked row, ready for :func:`upsert_case`. ``None`` means the cell was empty."""

    row: int
    number: CaseNumber
    court: Court
    filed_on: datetime.date
    basis_kind: str
    applicants: tuple[ImportParty, ...]
    debtors: tuple[ImportParty, ...]
    claim_amount: Decimal
    basis_court: str | None = None
    basis_document_number: str | None = None
    recovered_amount: Decimal | None = None
    case_officer: User | None = None
    status: str | None = None
    closing_mode: str | None = None
    closed_on: datetime.date | None = None


@dataclass
class ImportResult:
    """Outcome of an import: counts, rejected rows and warnings about the file.

    ``skipped`` lists the rows left out without an error: copies of the template's example row.
    """

    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stored: bool = True
    skipped: list[int] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({error.row for error in self.errors})


# Reading files


@dataclass
class Table:
    """The rows of a sheet below its header row, keyed by column key."""

    columns: dict[int, str]  # position in the row -> column key
    header_row: int
    rows: list[tuple[int, dict[str, Any]]]
    warnings: list[str]

    @property
    def total_rows(self) -> int:
        return len(self.rows)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def decode_csv(data: bytes) -> str:
    """Decode a CSV file: UTF-8 with or without BOM, UTF-16 with BOM, else GB18030 (GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, which Chinese Excel writes.
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "The file is neither UTF-8 nor GB18030 (GBK) text; save it again from Excel "
                "as .xlsx or as CSV UTF-8."
            )
        ) from error


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, row in enumerate(reader, start=1):
        yield number, list(row)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        logger.info("Cannot open workbook %s: %s", path.name, error)
        raise ImportFileError(
            _("The file cannot be read as an .xlsx workbook; save it again from Excel.")
        ) from error
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def file_suffix(name: str) -> str:
    """Return ``.xlsx`` or ``.csv`` for a file name, or raise :class:`ImportFileError`."""
    suffix = Path(name).suffix.lower()
    if suffix not in {".xlsx", ".csv"}:
        raise ImportFileError(
            _("%(name)s is neither .xlsx nor .csv; save the sheet from Excel in one of them.")
            % {"name": name}
        )
    return suffix


def read_rows(path: Path, name: str = "") -> Iterator[tuple[int, list[Any]]]:
    """Yield ``(row number, cells)`` of the first sheet of an .xlsx file or of a .csv file."""
    if file_suffix(name or path.name) == ".csv":
        return _csv_rows(path.read_bytes())
    return _xlsx_rows(path)


def read_table(path: Path, name: str = "") -> Table:
    """Find the header row of the file and return its data rows, skipping blank rows.

    Title rows above the header (often a merged cell) are skipped. Raises
    :class:`ImportFileError` when no header row is found or a required column is missing.
    """
    rows = read_rows(path, name)
    header: list[Any] | None = None
    header_row = 0
    for number, cells in rows:
        keys = [_HEADER_INDEX.get(normalise_header(cell)) for cell in cells]
        if "case_number" in keys and sum(key is not None for key in keys) >= 3:
            header, header_row = cells, number
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        raise ImportFileError(
            _(
                "No header row found in the first %(count)s rows; the header row names the "
                "columns, starting with 案号. Download the template to see the layout."
            )
            % {"count": HEADER_SEARCH_ROWS}
        )
    columns: dict[int, str] = {}
    warnings = []
    for position, cell in enumerate(header):
        if _is_blank(cell):
            continue
        key = _HEADER_INDEX.get(normalise_header(cell))
        if key is None:
            warnings.append(
                _("Column %(header)s is not part of the layout and was ignored.")
                % {"header": str(cell).strip()}
            )
        elif key in columns.values():
            warnings.append(
                _("Column %(header)s appears twice; only its first occurrence was read.")
                % {"header": str(cell).strip()}
            )
        else:
            columns[position] = key
    missing = [column.header for column in COLUMNS if column.required]
    missing = [header for header in missing if _key_of(header) not in columns.values()]
    if missing:
        raise ImportFileError(
            _("Required column %(columns)s is missing from the header row (row %(row)s).")
            % {"columns": "、".join(missing), "row": header_row}
        )
    data_rows = []
    for number, cells in rows:
        values = {
            key: cells[position] if position < len(cells) else None
            for position, key in columns.items()
        }
        if all(_is_blank(value) for value in values.values()):
            continue
        data_rows.append((number, values))
    return Table(columns=columns, header_row=header_row, rows=data_rows, warnings=warnings)


def _key_of(header: str) -> str:
    return _HEADER_INDEX[normalise_header(header)]


def count_rows(path: Path, name: str = "") -> int:
    """Return the number of non-blank data rows of the file (reads it once)."""
    return read_table(path, name).total_rows


def estimate_rows(path: Path, name: str = "") -> int | None:
    """Return an upper bound of the file's rows without reading its cells, or None if unknown.

    A CSV file is counted by its line breaks, and an .xlsx file by the sheet dimension that
    Excel and openpyxl write. The web request uses the estimate to choose between importing
    at once and queueing a job.
    """
    try:
        if file_suffix(name or path.name) == ".csv":
            with path.open("rb") as handle:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))
        workbook = load_workbook(path, read_only=True)
    except Exception:  # an unreadable file is reported by the job that reads it
        logger.info("Cannot estimate the rows of %s", path.name)
        return None
    try:
        return workbook.worksheets[0].max_row
    finally:
        workbook.close()


# Parsing cells


class CellError(ValueError):
    """A cell that cannot be read. The message gives the reason and the fix."""


def clean_text(value: object) -> str:
    """Return a cell as text: full-width folded to half-width, spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(value: object) -> datetime.date:
    """Read a date cell: an Excel date, 2024-01-05, 2024/1/5, 2024.1.5, 2024年1月5日, 20240105."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    # An Excel serial day number (1954 to 2119) in a cell without a date format.
    if isinstance(value, int | float) and not isinstance(value, bool) and 20000 <= value <= 80000:
        converted = from_excel(value)
        if isinstance(converted, datetime.datetime):
            return converted.date()
        if isinstance(converted, datetime.date):
            return converted
    text = clean_text(value)
    # A date written by Excel into a CSV may carry a time of day.
    text = text.split(" ", 1)[0].split("T", 1)[0]
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return datetime.date(year, month, day)
            except ValueError as error:
                raise CellError(
                    _("%(text)s is not a date of the calendar.") % {"text": text}
                ) from error
    raise CellError(
        _("%(text)s is not a date; write it as 2024-01-05, 2024/1/5 or 2024年1月5日.")
        % {"text": text}
    )


def parse_amount(value: object) -> Decimal:
    """Read an amount in yuan: 12000, 12,000.00, 12,000.00元, ¥12000 or 1.2万(元)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = "".join(clean_text(value).split())
        text = text.replace(",", "").replace("¥", "").replace("￥", "").removeprefix("人民币")
        text = text.removesuffix("元")
        multiplier = Decimal(1)
        if text.endswith("万"):
            text, multiplier = text[:-1], Decimal(10000)
        try:
            amount = Decimal(text) * multiplier
        except InvalidOperation as error:
            raise CellError(
                _("%(text)s is not an amount in yuan; write digits such as 12000.50.")
                % {"text": clean_text(value)}
            ) from error
    if not amount.is_finite() or amount < 0:
        raise CellError(_("The amount cannot be negative."))
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(_("Amounts have at most two decimal places (fen)."))
    if amount >= MAX_AMOUNT:
        raise CellError(_("The amount %(value)s is too large.") % {"value": amount})
    return amount.quantize(Decimal("0.01"))


def _parse_label(value: object, index: dict[str, str], labels: dict[str, tuple[str, ...]]) -> str:
    text = "".join(clean_text(value).split())
    found = index.get(text) or index.get(text.lower())
    if found is None:
        raise CellError(
            _("%(text)s is not an accepted label; use one of %(labels)s.")
            % {"text": text, "labels": "、".join(names[0] for names in labels.values())}
        )
    return found


def split_cell(value: object) -> list[str]:
    """Split a cell that lists several parties, keeping empty places (、、)."""
    text = clean_text(value)
    if not text:
        return []
    return [part.strip() for part in PARTY_SEPARATORS.split(text)]


def _document_number_text(value: object) -> str:
    """Return a document-number cell as text; refuse numbers Excel has rounded."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
            return str(int(value))
        raise CellError(
            _(
                "The number was stored as a number and Excel dropped its last digits; format "
                "the column as text and type the numbers again."
            )
        )
    return clean_text(value)


def looks_like_organisation(name: str) -> bool:
    return len(name) > 4 and any(word in name for word in ORGANISATION_NAME_WORDS)


@dataclass
class _RowParser:
    """Checks the cells of one row and collects every error, not only the first."""

    row: int
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)

    def error(self, key: str, message: str) -> None:
        self.errors.append(RowError(self.row, COLUMN_BY_KEY[key].header, message))

    def given(self, key: str) -> bool:
        return key in self.values and not _is_blank(self.values[key])

    def cell(self, key: str, parse: Callable[[object], Any]) -> Any:
        if not self.given(key):
            if COLUMN_BY_KEY[key].required:
                self.error(key, _("The cell is empty; this column is required."))
            return None
        try:
            return parse(self.values[key])
        except CellError as error:
            self.error(key, str(error))
            return None

    def parties(self, role: str) -> tuple[ImportParty, ...]:
        names_key = f"{role}s"
        types_key = f"{role}_document_types"
        numbers_key = f"{role}_document_numbers"
        names = [name for name in split_cell(self.values.get(names_key)) if name]
        if not names:
            self.error(names_key, _("The cell is empty; this column is required."))
            return ()
        types = split_cell(self.values.get(types_key))
        numbers_cell = self.values.get(numbers_key)
        try:
            numbers = split_cell(_document_number_text(numbers_cell))
        except CellError as error:
            self.error(numbers_key, str(error))
            return ()
        if len(types) > 1 and len(types) != len(names):
            self.error(
                types_key,
                _(
                    "%(names)s names but %(types)s document types; give one type per party in "
                    "the same order, or one type for all."
                )
                % {"names": len(names), "types": len(types)},
            )
            return ()
        if numbers and len(numbers) != len(names):
            self.error(
                numbers_key,
                _(
                    "%(names)s names but %(numbers)s numbers; give one number per party in the "
                    "same order and leave an empty place (、、) for a party without one."
                )
                % {"names": len(names), "numbers": len(numbers)},
            )
            return ()
        parties = []
        for position, name in enumerate(names):
            # One type given for several parties applies to all of them.
            type_text = ""
            if len(types) > 1:
                type_text = types[position]
            elif types:
                type_text = types[0]
            number = numbers[position] if numbers else ""
            party = self._party(name, type_text, number, types_key, numbers_key, len(names))
            if party is not None:
                parties.append(party)
        return tuple(parties)

    def _party(
        self, name: str, type_text: str, number: str, types_key: str, numbers_key: str, count: int
    ) -> ImportParty | None:
        where = "" if count == 1 else _("%(name)s: ") % {"name": name}
        document_type = ""
        if type_text:
            document_type = _DOCUMENT_TYPES.get("".join(type_text.split()), "")
            if not document_type:
                labels = "、".join(names[0] for names in DOCUMENT_TYPE_LABELS.values())
                self.error(
                    types_key,
                    where
                    + _("%(text)s is not a document type; use one of %(labels)s.")
                    % {"text": type_text, "labels": labels},
                )
                return None
        if document_type:
            kind = (
                Party.Kind.ORGANISATION
                if document_type in ORGANISATION_DOCUMENTS
                else Party.Kind.PERSON
            )
        else:
            kind = Party.Kind.ORGANISATION if looks_like_organisation(name) else Party.Kind.PERSON
        if number and "*" in number:
            # A masked number from an export: the stored party of the case with this name keeps
            # its number (see upsert_case).
            return ImportParty(PartyInput(name=name, kind=kind), masked_number=number.upper())
        if number:
            checked_type = document_type or (
                DocumentType.RESIDENT_ID if kind == Party.Kind.PERSON else DocumentType.USCC
            )
            try:
                number = check_document(checked_type, number)
            except IdentityError as error:
                self.error(numbers_key, where + translated_message(error))
                return None
            document_type = str(checked_type)
        return ImportParty(
            PartyInput(name=name, kind=kind, document_type=document_type, document_number=number)
        )


class RowChecker:
    """Turns raw rows into :class:`CaseRow` for one importing user, caching look-ups."""

    def __init__(self, user: User, *, today: datetime.date | None = None) -> None:
        self.user = user
        self.today = today or services.today_in_china()
        self._courts: dict[str, Court | None] = {}
        self._officers: dict[tuple[int, str], list[User]] = {}
        self._seen: dict[str, int] = {}

    def court(self, code: str) -> Court | None:
        if code not in self._courts:
            self._courts[code] = Court.objects.filter(code=code).first()
        return self._courts[code]

    def officers(self, court: Court, text: str) -> list[User]:
        key = (court.pk, text)
        if key not in self._officers:
            self._officers[key] = list(
                User.objects.filter(court=court, is_active=True, full_name=text)
            ) or list(User.objects.filter(court=court, is_active=True, username=text))
        return self._officers[key]

    def check(self, row: int, values: dict[str, Any]) -> CaseRow | list[RowError]:
        parser = _RowParser(row, values)
        number, court = self._case_number(parser)
        filed_on = parser.cell("filed_on", parse_date)
        basis_kind = parser.cell(
            "basis_kind", lambda value: _parse_label(value, _BASIS_KINDS, BASIS_KIND_LABELS)
        )
        applicants = parser.parties("applicant")
        debtors = parser.parties("debtor")
        claim_amount = parser.cell("claim_amount", parse_amount)
        recovered_amount = parser.cell("recovered_amount", parse_amount)
        status = parser.cell("status", lambda value: _parse_label(value, _STATUSES, STATUS_LABELS))
        closing_mode = parser.cell(
            "closing_mode", lambda value: _parse_label(value, _CLOSING_MODES, CLOSING_MODE_LABELS)
        )
        closed_on = parser.cell("closed_on", parse_date)
        officer = self._officer(parser, court)
        if filed_on is not None:
            if filed_on > self.today:
                parser.error(
                    "filed_on", _("The filing date %(date)s is in the future.") % {"date": filed_on}
                )
            elif number is not None and filed_on.year != number.year:
                parser.error(
                    "filed_on",
                    _("The filing date %(date)s is not in %(year)s, the year of the case number.")
                    % {"date": filed_on, "year": number.year},
                )
        self._check_closing(parser, status, closing_mode, closed_on, filed_on)
        if parser.errors:
            return parser.errors
        assert number is not None and court is not None
        if status is None and closing_mode is not None:
            status = Status.CLOSED
        return CaseRow(
            row=row,
            number=number,
            court=court,
            filed_on=filed_on,
            basis_kind=basis_kind,
            applicants=applicants,
            debtors=debtors,
            claim_amount=claim_amount,
            basis_court=clean_text(values.get("basis_court")) or None,
            basis_document_number=clean_text(values.get("basis_document_number")) or None,
            recovered_amount=recovered_amount,
            case_officer=officer,
            status=status,
            closing_mode=closing_mode,
            closed_on=closed_on,
        )

    def _case_number(self, parser: _RowParser) -> tuple[CaseNumber | None, Court | None]:
        text = clean_text(parser.values.get("case_number"))
        if not text:
            parser.error("case_number", _("The cell is empty; this column is required."))
            return None, None
        try:
            number = parse_case_number(text)
        except CaseNumberError as error:
            parser.error("case_number", translated_message(error))
            return None, None
        if number.legacy or not number.is_enforcement:
            parser.error(
                "case_number",
                _(
                    "%(number)s is not an enforcement case number of the 2016 format; enter a "
                    "number such as (2024)粤0104执123号."
                )
                % {"number": text},
            )
            return None, None
        court = self.court(number.court_code)
        if court is None:
            parser.error(
                "case_number",
                _("No court has the code %(code)s; check the court part of %(number)s.")
                % {"code": number.court_code, "number": number.format()},
            )
            return None, None
        if not scope.court_in_scope(self.user, court):
            parser.error(
                "case_number",
                _(
                    "%(number)s is a case of %(court)s, which is outside your courts; only "
                    "cases of your court and the courts below it can be imported."
                )
                % {"number": number.format(), "court": court.name},
            )
            return None, None
        formatted = number.format()
        if formatted in self._seen:
            parser.error(
                "case_number",
                _("%(number)s already appears in row %(row)s; each case appears once per file.")
                % {"number": formatted, "row": self._seen[formatted]},
            )
            return None, None
        self._seen[formatted] = parser.row
        return number, court

    def _officer(self, parser: _RowParser, court: Court | None) -> User | None:
        text = clean_text(parser.values.get("case_officer"))
        if not text or court is None:
            return None
        found = self.officers(court, text)
        if not found:
            parser.error(
                "case_officer",
                _("%(name)s is not a staff account of %(court)s; enter the officer's full name.")
                % {"name": text, "court": court.name},
            )
            return None
        if len(found) > 1:
            parser.error(
                "case_officer",
                _("%(court)s has several accounts named %(name)s; enter the user name instead.")
                % {"name": text, "court": court.name},
            )
            return None
        if not found[0].has_role(Role.Code.CASE_OFFICER):
            parser.error(
                "case_officer",
                _("%(name)s is not a case officer of %(court)s.")
                % {"name": text, "court": court.name},
            )
            return None
        return found[0]

    def _check_closing(
        self,
        parser: _RowParser,
        status: str | None,
        closing_mode: str | None,
        closed_on: datetime.date | None,
        filed_on: datetime.date | None,
    ) -> None:
        closed = status == Status.CLOSED or (status is None and closing_mode is not None)
        if status is not None and status != Status.CLOSED:
            for key, value in (("closing_mode", closing_mode), ("closed_on", closed_on)):
                if value is not None:
                    parser.error(
                        key,
                        _(
                            "A case that is not closed has no closing;"
                            " empty the cell or set %(col)s."
                        )
                        % {"col": COLUMN_BY_KEY["status"].header},
                    )
            return
        if not closed:
            if closed_on is not None:
                parser.error("closing_mode", _("A closing date needs a closing mode."))
            return
        if closing_mode is None and not parser.given("closing_mode"):
            parser.error("closing_mode", _("A closed case needs its closing mode."))
        if closed_on is None and not parser.given("closed_on"):
            parser.error("closed_on", _("A closed case needs its closing date."))
        if closed_on is not None:
            if closed_on > self.today:
                parser.error(
                    "closed_on",
                    _("The closing date %(date)s is in the future.") % {"date": closed_on},
                )
            elif filed_on is not None and closed_on < filed_on:
                parser.error(
                    "closed_on",
                    _("The closing date %(date)s is before the filing date.") % {"date": closed_on},
                )


# Storing


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def may_import(user: User) -> bool:
    """Return whether ``user`` may import cases (into their court and the courts below)."""
    return user.is_active and user.court_id is not None and user.has_role(*IMPORT_ROLES)


def _resolve_party(
    case: EnforcementCase | None, role: str, party: ImportParty, actor: User
) -> Party:
    """Return the stored party for an import party, creating it when it is new.

    A party with a document number is found by it and its name
    (:func:`services.find_or_create_party`, as ``actor`` sees the parties). A party without
    one, or with a masked number, is the case's party of the same role and name when there is
    one, so that importing a row again creates no second party.
    """
    data = party.data
    if data.document_number:
        return services.find_or_create_party(data, actor)
    if case is not None:
        for link in case.case_parties.all():
            if link.role != role or link.party.name != data.name:
                continue
            stored = link.party.document_number
            if party.masked_number:
                if stored and mask_id_number(stored) == party.masked_number:
                    return link.party
            elif not stored:
                return link.party
    if party.masked_number:
        raise ValidationError(
            _(
                "%(name)s has the masked number %(number)s, which matches no party of the case; "
                "enter the full number."
            )
            % {"name": data.name, "number": party.masked_number}
        )
    return services.find_or_create_party(data, actor)


def _attach_parties(case: EnforcementCase, data: CaseRow, existing: bool, actor: User) -> bool:
    """Link the row's parties to the case; return whether a link was added."""
    added = False
    known = {(link.party_id, link.role) for link in case.case_parties.all()} if existing else set()
    for role, parties, key in (
        (CaseParty.Role.APPLICANT, data.applicants, "applicant_document_numbers"),
        (CaseParty.Role.DEBTOR, data.debtors, "debtor_document_numbers"),
    ):
        for party in parties:
            try:
                stored = _resolve_party(case if existing else None, role, party, actor)
            except ValidationError as error:
                raise _row_error(data.row, key, error) from error
            if (stored.pk, role) not in known:
                CaseParty.objects.create(case=case, party=stored, role=role)
                known.add((stored.pk, role))
                added = True
    return added


class RowRejected(Exception):
    """A checked row that the database refuses; carries the row's errors."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors


def _row_error(row: int, key: str, error: ValidationError) -> RowRejected:
    messages = error.messages if hasattr(error, "messages") else [str(error)]
    return RowRejected([RowError(row, COLUMN_BY_KEY[key].header, message) for message in messages])


@transaction.atomic
def upsert_case(actor: User, data: CaseRow) -> str:
    """Create the case of a checked import row, or update the stored case where it differs.

    Stored values that the row leaves empty are kept, parties are added and never removed, and
    nothing is written when nothing differs, so an import run twice stores nothing the second
    time. Raises :class:`RowRejected` for a row the stored case contradicts (a closed case
    cannot reopen by import: a resumed case has its own 执恢 number) and ``PermissionDenied``
    when the case's court is outside the actor's scope. Returns an :class:`Outcome` value.
    """
    if not scope.court_in_scope(actor, data.court):
        raise PermissionDenied(_("%(court)s is outside your courts.") % {"court": data.court.name})
    number = data.number.format()
    case = (
        EnforcementCase.objects.select_for_update()
        .filter(case_number=number)
        .prefetch_related("case_parties__party")
        .first()
    )
    if case is None:
        _create_case(actor, data)
        return Outcome.CREATED
    return Outcome.UPDATED if _update_case(actor, case, data) else Outcome.UNCHANGED


def _create_case(actor: User, data: CaseRow) -> EnforcementCase:
    number = data.number
    services.reserve_sequence(data.court, number.type_code, number.year, number.sequence)
    status = data.status or Status.OPEN
    case = EnforcementCase.objects.create(
        case_number=number.format(),
        court=data.court,
        year=number.year,
        type_code=number.type_code,
        sequence=number.sequence,
        suffix=number.suffix,
        filed_on=data.filed_on,
        basis_kind=data.basis_kind,
        basis_court=data.basis_court or "",
        basis_document_number=data.basis_document_number or "",
        claim_amount=data.claim_amount,
        recovered_amount=data.recovered_amount or Decimal("0.00"),
        case_officer=data.case_officer,
        status=status,
        closing_mode=data.closing_mode or "" if status == Status.CLOSED else "",
        closed_on=data.closed_on if status == Status.CLOSED else None,
    )
    _attach_parties(case, data, existing=False, actor=actor)
    note = _("imported")
    FlowNode.objects.create(case=case, kind=FlowNode.Kind.FILED, on=data.filed_on, user=actor)
    if data.case_officer is not None:
        FlowNode.objects.create(
            case=case, kind=FlowNode.Kind.OFFICER_ASSIGNED, on=data.filed_on, user=actor, note=note
        )
    if status == Status.SUSPENDED:
        FlowNode.objects.create(
            case=case, kind=FlowNode.Kind.SUSPENDED, on=_today(case), user=actor, note=note
        )
    if status == Status.CLOSED and data.closed_on is not None:
        FlowNode.objects.create(
            case=case, kind=FlowNode.Kind.CLOSED, on=data.closed_on, user=actor, note=note
        )
    services.refresh_deadlines(case)
    logger.info("Imported new case %s (id %s)", case.case_number, case.pk)
    return case


def _today(case: EnforcementCase) -> datetime.date:
    return max(services.today_in_china(), case.filed_on)


def _check_closing_allowed(case: EnforcementCase, data: CaseRow, changed: list[str]) -> None:
    """Reject the row when it closes ``case``, or changes its closing mode, in a mode that
    needs the debtor's restrictions ended while some are still in force.

    The page and the API refuse the same closing (:func:`services.close_case`), and an import
    must not be a way around them.
    """
    if case.status != Status.CLOSED or not {"status", "closing_mode"} & set(changed):
        return
    if case.closing_mode in services.MODES_KEEPING_MEASURES:
        return
    try:
        services.check_nothing_in_force(case, services.today_in_china())
    except ValidationError as error:
        column = COLUMN_BY_KEY["closing_mode"].header
        raise RowRejected(
            [RowError(data.row, column, message) for message in error.messages]
        ) from error


def _update_case(actor: User, case: EnforcementCase, data: CaseRow) -> bool:
    wanted: dict[str, Any] = {
        "filed_on": data.filed_on,
        "basis_kind": data.basis_kind,
        "claim_amount": data.claim_amount,
    }
    optional = {
        "basis_court": data.basis_court,
        "basis_document_number": data.basis_document_number,
        "recovered_amount": data.recovered_amount,
        "case_officer": data.case_officer,
    }
    wanted.update({name: value for name, value in optional.items() if value is not None})
    flow: list[tuple[str, datetime.date]] = []
    if data.status is not None and data.status != case.status:
        if case.status == Status.CLOSED:
            raise RowRejected(
                [
                    RowError(
                        data.row,
                        COLUMN_BY_KEY["status"].header,
                        _(
                            "Case %(number)s is closed; a closed case does not reopen by "
                            "import, a resumed case gets its own 执恢 number."
                        )
                        % {"number": case.case_number},
                    )
                ]
            )
        wanted["status"] = data.status
        if data.status == Status.CLOSED:
            flow.append((FlowNode.Kind.CLOSED, data.closed_on or _today(case)))
        elif data.status == Status.SUSPENDED:
            flow.append((FlowNode.Kind.SUSPENDED, _today(case)))
        else:
            flow.append((FlowNode.Kind.RESUMED, _today(case)))
    if data.status == Status.CLOSED or (data.status is None and case.status == Status.CLOSED):
        if data.closing_mode is not None:
            wanted["closing_mode"] = data.closing_mode
        if data.closed_on is not None:
            wanted["closed_on"] = data.closed_on
    if data.case_officer is not None and case.case_officer_id is None:
        flow.append((FlowNode.Kind.OFFICER_ASSIGNED, _today(case)))
    changed = [name for name, value in wanted.items() if getattr(case, name) != value]
    for name in changed:
        setattr(case, name, wanted[name])
    if changed:
        _check_closing_allowed(case, data, changed)
        try:
            case.full_clean(exclude=["parties"], validate_unique=False)
        except ValidationError as error:
            raise RowRejected(
                [RowError(data.row, "", message) for message in error.messages]
            ) from error
        case.save(update_fields=[*changed, "updated_at"])
    if "closed_on" in changed and case.closed_on is not None and not flow:
        # A corrected closing date moves the closing step with it.
        for node in case.flow.filter(kind=FlowNode.Kind.CLOSED).exclude(on=case.closed_on):
            node.on = case.closed_on
            node.save(update_fields=["on"])
    if "filed_on" in changed:
        case.flow.filter(kind=FlowNode.Kind.FILED).update(on=case.filed_on)
    for kind, on in flow:
        FlowNode.objects.create(case=case, kind=kind, on=on, user=actor, note=_("imported"))
    parties_added = _attach_parties(case, data, existing=True, actor=actor)
    if changed or flow:
        services.refresh_deadlines(case)
        logger.info("Import updated case %s (id %s): %s", case.case_number, case.pk, changed)
    return bool(changed or flow or parties_added)


# Running an import


def _comparable_cell(key: str, value: object) -> object:
    """Return a cell in a form that compares equal however Excel or a CSV file stored it."""
    if _is_blank(value):
        return ""
    try:
        if key in ("filed_on", "closed_on"):
            return parse_date(value)
        if key in ("claim_amount", "recovered_amount"):
            return parse_amount(value)
    except CellError:
        pass
    return "".join(clean_text(value).split())


def is_example_row(values: dict[str, Any]) -> bool:
    """Return whether a row repeats the template's example row in every column it has.

    Clerks often keep the example row when they add their rows below it. Its case number,
    (2024)粤0104执123号, could be a real case, so only a row that equals the example in every
    column of the file is taken for it.
    """
    return all(
        _comparable_cell(key, value) == _comparable_cell(key, example_value(key))
        for key, value in values.items()
    )


Progress = Callable[[int, ImportResult], None]


def check_table(
    user: User, table: Table, progress: Progress | None = None
) -> tuple[list[CaseRow], ImportResult]:
    """Check every row (the check pass), turning it into a :class:`CaseRow` or errors."""
    result = ImportResult(total_rows=table.total_rows, warnings=list(table.warnings))
    checker = RowChecker(user)
    checked: list[CaseRow] = []
    for index, (row, values) in enumerate(table.rows, start=1):
        if is_example_row(values):
            result.skipped.append(row)
            result.warnings.append(
                _("Row %(row)s is the example row of the template and was skipped.") % {"row": row}
            )
            continue
        outcome = checker.check(row, values)
        if isinstance(outcome, CaseRow):
            checked.append(outcome)
        else:
            result.errors.extend(outcome)
        if progress is not None and index % CHUNK_ROWS == 0:
            progress(index, result)
    if progress is not None:
        progress(table.total_rows, result)
    return checked, result


def _store_row(user: User, row: CaseRow, result: ImportResult) -> None:
    try:
        with transaction.atomic():
            outcome = upsert_case(user, row)
    except RowRejected as error:
        result.errors.extend(error.errors)
        return
    except ValidationError as error:
        result.errors.extend(RowError(row.row, "", message) for message in error.messages)
        return
    if outcome == Outcome.CREATED:
        result.created += 1
    elif outcome == Outcome.UPDATED:
        result.updated += 1
    else:
        result.unchanged += 1


def store_rows(
    user: User,
    rows: Sequence[CaseRow],
    result: ImportResult,
    *,
    all_or_nothing: bool,
    progress: Progress | None = None,
) -> ImportResult:
    """Store the checked rows (the store pass).

    In all-or-nothing mode any rejected row, from this pass or the check pass, rolls everything
    back and ``result.stored`` is false.
    """
    total = result.total_rows
    if all_or_nothing:
        if result.errors:
            result.stored = False
            return result
        with transaction.atomic():
            for row in rows:
                _store_row(user, row, result)
            if result.errors:
                transaction.set_rollback(True)
        if result.errors:
            result.stored = False
            result.created = result.updated = result.unchanged = 0
        if progress is not None:
            progress(2 * total, result)
        return result
    for start in range(0, len(rows), CHUNK_ROWS):
        with transaction.atomic():
            for row in rows[start : start + CHUNK_ROWS]:
                _store_row(user, row, result)
        if progress is not None:
            progress(total + min(start + CHUNK_ROWS, len(rows)), result)
    if progress is not None:
        progress(2 * total, result)
    result.stored = bool(result.created or result.updated or result.unchanged)
    return result


def import_file(
    user: User,
    path: Path,
    *,
    name: str = "",
    all_or_nothing: bool,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the cases of an .xlsx or .csv file for ``user``; see the module docstring.

    Raises :class:`ImportFileError` for a file that cannot be read or lacks a required column,
    and ``PermissionDenied`` when the user may not import.
    """
    if not may_import(user):
        raise PermissionDenied(_("Only clerks and bureau heads import cases."))
    table = read_table(path, name)
    rows, result = check_table(user, table, progress)
    store_rows(user, rows, result, all_or_nothing=all_or_nothing, progress=progress)
    result.errors.sort(key=lambda error: error.row)
    logger.info(
        "Imported %s: %s rows, %s created, %s updated, %s unchanged, %s rejected, %s skipped",
        path.name,
        result.total_rows,
        result.created,
        result.updated,
        result.unchanged,
        result.rejected,
        len(result.skipped),
    )
    return result


def rows_for_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort stored error dictionaries by row, for the report page."""
    return sorted(errors, key=lambda error: (error.get("row") or 0, error.get("column", "")))
