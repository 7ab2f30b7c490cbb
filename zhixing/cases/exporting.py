"""Writing cases to .xlsx: the export of a filtered case list and the import template.

Both use the column layout of :data:`zhixing.cases.importing.COLUMNS`, so an exported file can
be imported again. Exports mask every identity number, also for users who may see them in
full: a spreadsheet leaves the audited reveal of the case page. A masked number imports as
"keep the stored number" (see :func:`zhixing.cases.importing.upsert_case`).

The export uses openpyxl's write-only mode, which keeps one row in memory at a time and writes
to a temporary file in the data directory. The response then streams that file. An export
holds at most :data:`EXPORT_ROW_LIMIT` cases, the most Excel users can work with in one sheet
without waiting minutes, and its 说明 sheet says so when the list was longer.
"""

from __future__ import annotations

import datetime
import io
import logging
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from zhixing.audit import services as audit
from zhixing.cases import search
from zhixing.cases.identity import mask_id_number
from zhixing.cases.importing import (
    BASIS_KIND_LABELS,
    CLOSING_MODE_LABELS,
    COLUMNS,
    DOCUMENT_TYPE_LABELS,
    STATUS_LABELS,
    example_value,
    label_of,
)
from zhixing.cases.models import CaseParty, EnforcementCase
from zhixing.courts.models import User
from zhixing.query_params import InvalidQuery

logger = logging.getLogger(__name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_ROW_LIMIT = 100_000
CASES_SHEET = "案件"
NOTES_SHEET = "说明"
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
COLUMN_WIDTHS = {"案号": 24, "申请执行人": 28, "被执行人": 28, "作出依据的法院或机构": 26}


def _joined(values: list[str]) -> str:
    return "、".join(values) if any(values) else ""


def case_cells(case: EnforcementCase, *, full_numbers: bool) -> dict[str, Any]:
    """Return the values of one case by column key, in the import layout."""
    cells: dict[str, Any] = {
        "case_number": case.case_number,
        "filed_on": case.filed_on,
        "basis_kind": label_of(BASIS_KIND_LABELS, case.basis_kind),
        "basis_document_number": case.basis_document_number,
        "basis_court": case.basis_court,
        "claim_amount": case.claim_amount,
        "recovered_amount": case.recovered_amount,
        "case_officer": (case.case_officer.full_name or case.case_officer.username)
        if case.case_officer
        else "",
        "status": label_of(STATUS_LABELS, case.status),
        "closing_mode": label_of(CLOSING_MODE_LABELS, case.closing_mode)
        if case.closing_mode
        else "",
        "closed_on": case.closed_on,
    }
    links = sorted(case.case_parties.all(), key=lambda link: link.pk)
    for role in (CaseParty.Role.APPLICANT, CaseParty.Role.DEBTOR):
        parties = [link.party for link in links if link.role == role]
        numbers = [
            party.document_number if full_numbers else mask_id_number(party.document_number)
            for party in parties
        ]
        types = [
            label_of(DOCUMENT_TYPE_LABELS, party.document_type) if party.document_type else ""
            for party in parties
        ]
        cells[f"{role}s"] = "、".join(party.name for party in parties)
        cells[f"{role}_document_types"] = _joined(types)
        cells[f"{role}_document_numbers"] = _joined(numbers)
    return cells


def _cell(sheet: Worksheet, value: Any) -> Any:
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = AMOUNT_FORMAT
        return cell
    if value is None:
        return None
    return value


def _header(sheet: Worksheet) -> list[Any]:
    cells = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _set_widths(sheet: Worksheet) -> None:
    for index, column in enumerate(COLUMNS, start=1):
        width = COLUMN_WIDTHS.get(column.header, max(12, 2 * len(column.header) + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width


def write_cases(
    target: Any, user: User, cases: Iterable[EnforcementCase], *, limit: int = EXPORT_ROW_LIMIT
) -> tuple[int, bool, bool]:
    """Write ``cases`` to an .xlsx file object; return (rows, truncated, any number masked)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(CASES_SHEET)
    _set_widths(sheet)
    sheet.freeze_panes = "A2"
    sheet.append(_header(sheet))
    rows = 0
    truncated = False
    masked = False
    for case in cases:
        if rows >= limit:
            truncated = True
            break
        # Exports never carry full identity numbers: a spreadsheet leaves the audited reveal
        # on the case page, and a masked number imports again as the stored one.
        masked = True
        cells = case_cells(case, full_numbers=False)
        sheet.append([_cell(sheet, cells[column.key]) for column in COLUMNS])
        rows += 1
    notes = workbook.create_sheet(NOTES_SHEET)
    notes.append(
        [_("Exported at %(time)s") % {"time": timezone.localtime().strftime("%Y-%m-%d %H:%M")}]
    )
    notes.append([ngettext("%(count)s case.", "%(count)s cases.", rows) % {"count": rows}])
    if truncated:
        notes.append(
            [
                _(
                    "The list had more than %(limit)s cases; this file holds the first %(limit)s. "
                    "Narrow the filter to export the rest."
                )
                % {"limit": limit}
            ]
        )
    if masked:
        notes.append(
            [
                _(
                    "Identity numbers are masked with *; the case page shows them in full to "
                    "those who may see them. Importing this file again keeps the stored numbers."
                )
            ]
        )
    workbook.save(target)
    return rows, truncated, masked


def export_queryset(cases: QuerySet[EnforcementCase]) -> QuerySet[EnforcementCase]:
    """Load the parties of each case with the case, in chunks, for the export."""
    links = CaseParty.objects.select_related("party").order_by("id")
    return cases.select_related("court", "case_officer").prefetch_related(
        Prefetch("case_parties", queryset=links)
    )


def _audited_filter(params: dict[str, str]) -> dict[str, str]:
    """Return the filter for the audit trail, with an identity number in the search text masked."""
    shown = dict(params)
    text = shown.get("q", "")
    if search._identity_number(text) is not None:
        shown["q"] = mask_id_number(text)
    return shown


@login_required
@require_GET
def export_cases(request: HttpRequest) -> HttpResponse | FileResponse:
    """Stream the case list that the query parameters select as an .xlsx file.

    Parameters with values that the case list cannot use get status 400 with their messages.
    """
    user: User = request.user  # type: ignore[assignment]
    try:
        case_filter = search.CaseFilter.from_params(request.GET, user)
    except InvalidQuery as error:
        text = "\n".join(problem.message for problem in error.problems)
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
    cases = export_queryset(search.filter_cases(user, case_filter))
    folder = Path(settings.DATA_DIR) / "exports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Deleted when the response closes it. It lies in the data directory because it contains
    # personal data.
    target = tempfile.TemporaryFile(dir=folder, suffix=".xlsx")  # noqa: SIM115
    rows, truncated, masked = write_cases(
        target, user, cases.iterator(chunk_size=1000), limit=EXPORT_ROW_LIMIT
    )
    target.seek(0)
    params = {key: str(value) for key, value in request.GET.items() if value}
    audit.record(
        audit.Action.EXPORT,
        object_type="cases.enforcementcase",
        object_repr=f"{rows} cases",
        detail={
            "filter": _audited_filter(params),
            "rows": rows,
            "truncated": truncated,
            "masked": masked,
        },
    )
    logger.info("User %s exported %s cases (truncated: %s)", user.pk, rows, truncated)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(
        target, as_attachment=True, filename=f"cases-{stamp}.xlsx", content_type=XLSX_CONTENT_TYPE
    )
    if truncated:
        response["X-Export-Truncated"] = str(EXPORT_ROW_LIMIT)
    return response


def build_template() -> bytes:
    """Return the import template: the header row, one example row and a 说明 sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = CASES_SHEET
    bold = Font(bold=True)
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        example = example_value(column.key)
        example_cell = sheet.cell(row=2, column=index, value=example)
        if column.key.endswith("document_numbers") or column.key == "case_number":
            example_cell.number_format = "@"  # text, so Excel keeps every digit
    _set_widths(sheet)
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(NOTES_SHEET)
    wrap = Alignment(wrap_text=True, vertical="top")
    notes.append([_("Column"), _("Required"), _("Meaning and accepted values"), _("Example")])
    for cell in notes[1]:
        cell.font = bold
    for column in COLUMNS:
        notes.append(
            [
                column.header,
                _("required") if column.required else _("optional"),
                str(column.description),
                example_value(column.key),
            ]
        )
    notes.append([])
    for title, labels in (
        ("执行依据类型", BASIS_KIND_LABELS),
        ("案件状态", STATUS_LABELS),
        ("结案方式", CLOSING_MODE_LABELS),
        ("证件类型", DOCUMENT_TYPE_LABELS),
    ):
        notes.append([title, "", _("Accepted labels: %(labels)s") % {"labels": _all(labels)}])
    notes.append([])
    for text in _general_notes():
        notes.append(["", "", text])
    for row in notes.iter_rows():
        for cell in row:
            cell.alignment = wrap
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 80
    notes.column_dimensions["D"].width = 26
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _all(labels: dict[str, tuple[str, ...]]) -> str:
    return "; ".join("、".join(names) for names in labels.values())


def _general_notes() -> list[str]:
    return [
        _("Rows are found below the header row; title rows above it and blank rows are skipped."),
        _(
            "Headers match after spaces are removed and full-width characters are folded, so "
            "（元） and (元) are the same. Columns not listed here are reported and ignored."
        ),
        _(
            "Several parties in one cell are separated by 、 or ;. Their document types and "
            "numbers are given in the same order in the type and number columns."
        ),
        _(
            "A row whose case number is already stored updates that case: amounts, status, "
            "closing, officer and basis change, and new parties are added. Empty cells keep "
            "the stored values. Importing the same file twice changes nothing."
        ),
        _(
            "Format the identity number columns as text before typing, or Excel rounds long "
            "numbers."
        ),
    ]
