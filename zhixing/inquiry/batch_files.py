"""Lists of case numbers uploaded for a batch query: plain text, CSV or an Excel workbook.

The first column of each row (or each line of a text file) contains one case number. Empty
rows and a header cell such as 案号 are skipped. The caller looks every number up and reports
those it cannot find.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from pathlib import Path

import openpyxl
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
MAX_CASES = 1000
SUFFIXES = (".txt", ".csv", ".xlsx")
HEADER_CELLS = {"案号", "case number", "case_number"}


class CaseListError(Exception):
    """Raised when an uploaded list of case numbers cannot be read."""


def _text(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CaseListError(
        _("%(name)s is neither UTF-8 nor GB18030 text; save it as UTF-8 and upload it again.")
        % {"name": name}
    )


def _first_cells(name: str, data: bytes) -> list[str]:
    suffix = Path(name).suffix.lower()
    if suffix == ".txt":
        return _text(data, name).splitlines()
    if suffix == ".csv":
        return [row[0] if row else "" for row in csv.reader(io.StringIO(_text(data, name)))]
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        logger.info("Rejected an uploaded case list %s: %s", name, error)
        raise CaseListError(
            _("%(name)s is not a readable .xlsx workbook; save it again from Excel or WPS.")
            % {"name": name}
        ) from error
    try:
        sheet = workbook.worksheets[0]
        return [
            "" if row[0] is None else str(row[0])
            for row in sheet.iter_rows(max_col=1, values_only=True)
            if row
        ]
    finally:
        workbook.close()


def case_numbers(name: str, data: bytes) -> list[str]:
    """Return the case numbers in an uploaded file, in file order and without repeats.

    Raises :class:`CaseListError`, naming the file and the fix, for an unsupported file type,
    a file over 1 MB, an unreadable file or one without any case number.
    """
    if Path(name).suffix.lower() not in SUFFIXES:
        raise CaseListError(
            _("%(name)s is not a .txt, .csv or .xlsx file; save the list in one of these formats.")
            % {"name": name}
        )
    if len(data) > MAX_BYTES:
        raise CaseListError(
            _("%(name)s is larger than 1 MB; split the list into smaller files.") % {"name": name}
        )
    cells = (cell.strip() for cell in _first_cells(name, data))
    numbers = [cell for cell in cells if cell and cell.lower() not in HEADER_CELLS]
    if not numbers:
        raise CaseListError(
            _("%(name)s contains no case numbers; put one in the first column of each row.")
            % {"name": name}
        )
    return list(dict.fromkeys(numbers))
