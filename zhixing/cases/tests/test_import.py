"""Importing cases from a messy real-world spreadsheet, CSV encodings and the template."""

# Full-width characters are the input under test.

from __future__ import annotations

import csv
import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from zhixing.audit.models import AuditRecord
from zhixing.cases import importing
from zhixing.cases.exporting import build_template
from zhixing.cases.identity import gb11643_check_character, normalise_resident_id
from zhixing.cases.models import CaseParty, CaseSequence, EnforcementCase, FlowNode, Party
from zhixing.cases.tests.factories import make_resident_id

# Synthetic identity numbers (never real people's).
ID_A = make_resident_id("440104", "19850101", 1)
ID_B = make_resident_id("440105", "19900215", 2)
ID_15 = "440104850301003"  # first generation: 15 digits, born 1985-03-01
CREDIT_CODE = "91440101MA59C1234T"


def id_with_x() -> str:
    """A synthetic resident ID number whose check character is X."""
    for sequence in range(1, 1000):
        body = f"44010619880808{sequence:03d}"
        if gb11643_check_character(body) == "X":
            return body + "X"
    raise AssertionError("no sequence gives X")


ID_X = id_with_x()
BAD_ID = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")  # wrong check character

HEADERS = [
    " 案 号 ",
    "立案日期",
    "执行依据类型",
    "执行依据文书号",
    "作出依据的法院或机构",
    "申请执行人",
    "申请执行人证件类型",
    "申请执行人证件号码",
    "被执行人",
    "被执行人证件类型",
    "被执行人证件号码 ",
    "申请执行标的（元）",
    "执行到位金额（元）",
    "承办人",
    "案件状态",
    "结案方式",
    "结案日期",
    "备注",
]


def row(
    number,
    filed,
    debtors="张三",
    debtor_numbers=ID_A,
    claim="120000",
    status="执行中",
    closing="",
    closed="",
    officer="",
    recovered="",
    applicants="广州某某贸易有限公司",
    applicant_numbers=CREDIT_CODE,
    debtor_types="",
):
    return [
        number,
        filed,
        "民事判决书",
        "(2023)粤0104民初456号",
        "广州市越秀区人民法院",
        applicants,
        "统一社会信用代码" if applicant_numbers else "",
        applicant_numbers,
        debtors,
        debtor_types,
        debtor_numbers,
        claim,
        recovered,
        officer,
        status,
        closing,
        closed,
        "备注文字",
    ]


def messy_rows():
    """Rows with the sheet row each lands on (title on row 1, blank row 2, header on row 3)."""
    return [
        # 4: an Excel date, a numeric amount, the officer's full name
        row("(2024)粤0104执1号", datetime.date(2024, 1, 5), claim=120000, officer="李官"),
        # 5: full-width digits and parentheses, 2024/1/5, 12,000.00元, two debtors with a
        # 15-digit number and a lowercase x
        row(
            "（２０２４）粤０１０４执２号",
            "2024/1/5",
            debtors="王五、赵六",
            debtor_numbers=f"{ID_15}、{ID_X.lower()}",
            debtor_types="身份证、居民身份证",
            claim="12,000.00元",
        ),
        None,  # 6: blank
        # 7: an invalid ID number
        row("(2024)粤0104执3号", "2024-02-01", debtor_numbers=BAD_ID),
        # 8: a case of a court outside the clerk's scope
        row("(2024)粤0303执1号", "2024-02-01"),
        # 9: a duplicate of row 4
        row("(2024)粤0104执1号", datetime.date(2024, 1, 5), claim=120000, officer="李官"),
        # 10: a closed case of a lower court, 2024年3月1日, closing date as an Excel serial number
        row(
            "(2024)粤0105执恢7号",
            "2024年3月1日",
            debtors="广州某某建材厂",
            debtor_numbers="",
            status="已结案",
            closing="终本",
            closed=45444,  # 2024-06-01
            recovered="1,000",
        ),
        # 11: an organisation debtor without a number, full-width amount
        row(
            "(2024)粤01执5号", "2024.04.02", debtors="某某餐饮店", debtor_numbers="", claim="８８８"
        ),
    ]


def write_messy(path: Path, rows=None, headers=HEADERS) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["广州市中级人民法院执行案件台账（2024年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append([])
    sheet.append(headers)
    for values in messy_rows() if rows is None else rows:
        sheet.append(values or [])
    workbook.save(path)
    return path


@pytest.fixture
def clerk(make_user):
    return make_user("clerk01", "粤01", "clerk")


@pytest.fixture
def officer(make_user):
    user = make_user("liguan", "粤0104", "case_officer")
    user.full_name = "李官"
    user.save()
    return user


def _import(user, path, *, all_or_nothing=False):
    return importing.import_file(user, path, all_or_nothing=all_or_nothing)


@pytest.mark.django_db
def test_messy_sheet_valid_and_rejected_rows(tmp_path, clerk, officer):
    result = _import(clerk, write_messy(tmp_path / "messy.xlsx"))

    assert result.total_rows == 7
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    rejected = {(error.row, error.column): error.message for error in result.errors}
    assert set(rejected) == {(7, "被执行人证件号码"), (8, "案号"), (9, "案号")}
    assert "check character" in rejected[7, "被执行人证件号码"]
    assert "outside your courts" in rejected[8, "案号"]
    assert "already appears in row 4" in rejected[9, "案号"]
    assert result.warnings == ["Column 备注 is not part of the layout and was ignored."]

    first = EnforcementCase.objects.get(case_number="(2024)粤0104执1号")
    assert first.filed_on == datetime.date(2024, 1, 5)
    assert first.claim_amount == Decimal("120000.00")
    assert first.case_officer == officer
    assert first.basis_kind == "judgment"
    second = EnforcementCase.objects.get(case_number="(2024)粤0104执2号")
    assert second.claim_amount == Decimal("12000.00")
    debtors = {
        link.party.name: link.party.document_number
        for link in second.case_parties.filter(role="debtor")
    }
    assert debtors == {"王五": normalise_resident_id(ID_15).number, "赵六": ID_X}
    assert debtors["王五"].startswith("44010419850301003")
    closed = EnforcementCase.objects.get(case_number="(2024)粤0105执恢7号")
    assert closed.status == "closed"
    assert closed.closing_mode == "terminated_without_assets"
    assert closed.closed_on == datetime.date(2024, 6, 1)
    assert closed.recovered_amount == Decimal("1000.00")
    assert closed.flow.filter(kind=FlowNode.Kind.CLOSED).exists()
    shop = EnforcementCase.objects.get(case_number="(2024)粤01执5号")
    assert shop.claim_amount == Decimal("888.00")
    assert shop.case_parties.get(role="debtor").party.kind == "organisation"
    # The applicant named in every row is one party, found by its credit code.
    assert Party.objects.filter(document_number=CREDIT_CODE).count() == 1


@pytest.mark.django_db
def test_imported_numbers_reserve_the_sequence(tmp_path, clerk, officer):
    _import(clerk, write_messy(tmp_path / "messy.xlsx"))
    counter = CaseSequence.objects.get(court__code="粤0104", type_code="执", year=2024)
    assert counter.last_sequence == 2


@pytest.mark.django_db
def test_all_or_nothing_with_bad_row(tmp_path, clerk, officer):
    before = AuditRecord.objects.count()
    result = _import(clerk, write_messy(tmp_path / "messy.xlsx"), all_or_nothing=True)
    assert not result.stored
    assert result.rejected == 3
    assert EnforcementCase.objects.count() == 0
    assert Party.objects.count() == 0
    assert AuditRecord.objects.count() == before


@pytest.mark.django_db
def test_all_or_nothing_clean_file(tmp_path, clerk, officer):
    rows = [values for values in messy_rows() if values is not None]
    clean = [rows[0], rows[1], rows[5], rows[6]]
    result = _import(clerk, write_messy(tmp_path / "clean.xlsx", clean), all_or_nothing=True)
    assert result.stored and result.errors == []
    assert EnforcementCase.objects.count() == 4


@pytest.mark.django_db
def test_reimport_changes_nothing(tmp_path, clerk, officer):
    path = write_messy(tmp_path / "messy.xlsx")
    _import(clerk, path)
    counts = (
        EnforcementCase.objects.count(),
        Party.objects.count(),
        CaseParty.objects.count(),
        FlowNode.objects.count(),
    )
    audit = AuditRecord.objects.count()
    result = _import(clerk, path)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)
    assert AuditRecord.objects.count() == audit
    assert counts == (
        EnforcementCase.objects.count(),
        Party.objects.count(),
        CaseParty.objects.count(),
        FlowNode.objects.count(),
    )


@pytest.mark.django_db
def test_changed_row_updates_its_case(tmp_path, clerk, officer):
    _import(clerk, write_messy(tmp_path / "first.xlsx"))
    changed = [
        row(
            "(2024)粤0104执1号",
            datetime.date(2024, 1, 5),
            claim="150,000",
            recovered="5000",
            officer="李官",
            debtors="张三、新债务人",
            debtor_numbers=f"{ID_A}、{ID_B}",
            status="已结案",
            closing="执行完毕",
            closed="2024-05-06",
        )
    ]
    result = _import(clerk, write_messy(tmp_path / "second.xlsx", changed))
    assert (result.created, result.updated) == (0, 1)
    case = EnforcementCase.objects.get(case_number="(2024)粤0104执1号")
    assert case.claim_amount == Decimal("150000.00")
    assert case.recovered_amount == Decimal("5000.00")
    assert (case.status, case.closing_mode, case.closed_on) == (
        "closed",
        "completed",
        datetime.date(2024, 5, 6),
    )
    assert set(case.case_parties.filter(role="debtor").values_list("party__name", flat=True)) == {
        "张三",
        "新债务人",
    }
    updates = AuditRecord.objects.filter(
        action="update", object_type="cases.enforcementcase", object_id=str(case.pk)
    )
    assert any("claim_amount" in record.detail.get("changes", {}) for record in updates)
    # The same changed file again changes nothing more.
    again = _import(clerk, write_messy(tmp_path / "second.xlsx", changed))
    assert (again.updated, again.unchanged) == (0, 1)


@pytest.mark.django_db
def test_closed_case_does_not_reopen_by_import(tmp_path, clerk, officer):
    _import(clerk, write_messy(tmp_path / "first.xlsx"))
    reopened = [
        row("(2024)粤0105执恢7号", "2024-03-01", debtors="广州某某建材厂", debtor_numbers="")
    ]
    result = _import(clerk, write_messy(tmp_path / "second.xlsx", reopened))
    assert [(error.row, error.column) for error in result.errors] == [(4, "案件状态")]
    assert EnforcementCase.objects.get(case_number="(2024)粤0105执恢7号").status == "closed"


@pytest.mark.django_db
def test_missing_required_column_fails_the_file(tmp_path, clerk):
    headers = [header for header in HEADERS if header.strip() != "被执行人"]
    path = write_messy(tmp_path / "missing.xlsx", rows=[], headers=headers)
    with pytest.raises(importing.ImportFileError, match="被执行人"):
        _import(clerk, path)


@pytest.mark.django_db
def test_row_errors_name_each_bad_cell(tmp_path, clerk, officer):
    bad = [
        row(
            "(2024)粤0104民初1号",
            "2024-13-01",
            claim="十万",
            officer="不存在",
            status="已结案",
            closing="",
            debtors="甲、乙",
            debtor_numbers=ID_A,
        )
    ]
    result = _import(clerk, write_messy(tmp_path / "bad.xlsx", bad))
    columns = {error.column for error in result.errors}
    assert columns == {
        "案号",
        "立案日期",
        "申请执行标的(元)",
        "被执行人证件号码",
        "结案方式",
        "结案日期",
    }
    assert all(error.row == 4 for error in result.errors)


@pytest.mark.django_db
def test_unknown_officer_is_reported(tmp_path, clerk, officer):
    result = _import(
        clerk,
        write_messy(tmp_path / "o.xlsx", [row("(2024)粤0104执9号", "2024-1-9", officer="王某")]),
    )
    assert [(error.column, error.row) for error in result.errors] == [("承办人", 4)]


@pytest.mark.django_db
def test_only_clerks_and_bureau_heads_import(tmp_path, officer):
    with pytest.raises(importing.PermissionDenied):
        _import(officer, write_messy(tmp_path / "messy.xlsx"))


def _csv_text(rows):
    lines = [",".join(header.strip() for header in HEADERS[:-1])]
    for values in rows:
        lines.append(",".join(f'"{value}"' for value in values[:-1]))
    return "\r\n".join(lines) + "\r\n"


CSV_ROWS = [
    row("(2024)粤0104执11号", "2024/2/3", claim="1,234.50", debtors="陈七", debtor_numbers=ID_B),
    row("(2024)粤0104执12号", "2024年2月4日", debtors="周八", debtor_numbers=ID_15),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("encoding", "prefix"), [("gb18030", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")]
)
def test_csv_encodings(tmp_path, clerk, encoding, prefix):
    path = tmp_path / "cases.csv"
    path.write_bytes(prefix + _csv_text(CSV_ROWS).encode(encoding))
    result = _import(clerk, path)
    assert result.errors == []
    assert result.created == 2
    case = EnforcementCase.objects.get(case_number="(2024)粤0104执11号")
    assert case.claim_amount == Decimal("1234.50")
    assert case.case_parties.get(role="debtor").party.name == "陈七"


def test_decode_csv_detects_gbk():
    text = "案号,被执行人\r\n(2024)粤0104执1号,张三\r\n"
    assert importing.decode_csv(text.encode("gbk")) == text
    assert importing.decode_csv(b"\xef\xbb\xbf" + text.encode()) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-05", datetime.date(2024, 1, 5)),
        ("2024/1/5", datetime.date(2024, 1, 5)),
        ("2024年1月5日", datetime.date(2024, 1, 5)),
        ("２０２４年１月５日", datetime.date(2024, 1, 5)),
        ("2024.1.5", datetime.date(2024, 1, 5)),
        ("20240105", datetime.date(2024, 1, 5)),
        ("2024/1/5 0:00", datetime.date(2024, 1, 5)),
        (45296, datetime.date(2024, 1, 5)),
        (datetime.datetime(2024, 1, 5, 0, 0), datetime.date(2024, 1, 5)),  # noqa: DTZ001
    ],
)
def test_parse_date(value, expected):
    assert importing.parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12,000.00元", Decimal("12000.00")),
        ("１２，０００", Decimal("12000.00")),
        ("￥3,000", Decimal("3000.00")),
        ("1.25万", Decimal("12500.00")),
        (1234.5, Decimal("1234.50")),
        (0, Decimal("0.00")),
    ],
)
def test_parse_amount(value, expected):
    assert importing.parse_amount(value) == expected


@pytest.mark.parametrize("value", ["-5", "1.234", "abc", "1e20"])
def test_parse_amount_rejects(value):
    with pytest.raises(importing.CellError):
        importing.parse_amount(value)


def test_headers_match_after_normalisation():
    assert importing.normalise_header(" 申请执行标的（元） ") == "申请执行标的(元)"
    assert importing.normalise_header("案　号") == "案号"


@pytest.mark.django_db
def test_template_round_trip(tmp_path, make_user):
    path = tmp_path / "template.xlsx"
    path.write_bytes(build_template())
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["案件", "说明"]
    headers = [cell.value for cell in workbook["案件"][1]]
    assert headers == [column.header for column in importing.COLUMNS]
    notes = "\n".join(str(cell.value) for row in workbook["说明"].iter_rows() for cell in row)
    assert "终结本次执行程序" in notes
    assert "仲裁裁决书" in notes
    clerk = make_user("clerk0104", "粤0104", "clerk")
    result = _import(clerk, path)
    assert result.errors == []
    assert result.skipped == [2]
    assert result.created == 0
    assert not EnforcementCase.objects.exists()


def test_numeric_document_number_rejected():
    with pytest.raises(importing.CellError, match="format"):
        importing._document_number_text(4.40104198501011e17)
    assert importing._document_number_text(440104850301003.0) == "440104850301003"


def test_read_rows_numbers_sheet_rows(tmp_path):
    path = write_messy(tmp_path / "m.xlsx")
    rows = list(importing.read_rows(path))
    assert rows[2][0] == 3
    assert rows[2][1][0] == " 案 号 "


@pytest.mark.django_db
def test_import_cases_command_prints_report(tmp_path, clerk, officer, capsys):
    path = write_messy(tmp_path / "messy.xlsx")
    call_command("import-cases", str(path), "--as", "clerk01", "--valid-rows", "--json")
    report = json.loads(capsys.readouterr().out)
    assert (report["created"], report["rejected"]) == (4, 3)
    with pytest.raises(CommandError, match="nothing stored"):
        call_command("import-cases", str(path), "--as", "clerk01")


def _template_with_rows(path: Path, *rows: list) -> Path:
    """Write the template with ``rows`` added below its example row, as clerks do."""
    path.write_bytes(build_template())
    workbook = load_workbook(path)
    sheet = workbook["案件"]
    for values in rows:
        sheet.append(values)
    workbook.save(path)
    return path


def _template_row(number: str, **values: object) -> list:
    """Return a row in the template's column order: the example's values with changes."""
    cells = {column.key: importing.example_value(column.key) for column in importing.COLUMNS}
    cells.update(case_number=number, **values)
    return [cells[column.key] for column in importing.COLUMNS]


@pytest.mark.django_db
@pytest.mark.parametrize("all_or_nothing", [True, False])
def test_template_example_row_skipped(tmp_path, make_user, all_or_nothing):
    clerk = make_user("clerk0104", "粤0104", "clerk")
    path = _template_with_rows(
        tmp_path / "filled.xlsx",
        _template_row("(2024)粤0104执7号", debtors="王五", debtor_document_types=""),
        _template_row("(2024)粤0104执8号", claim_amount="5000"),
    )
    result = _import(clerk, path, all_or_nothing=all_or_nothing)
    assert result.errors == []
    assert result.stored
    assert result.skipped == [2]
    assert result.created == 2
    assert "Row 2 is the example row of the template and was skipped." in result.warnings
    numbers = set(EnforcementCase.objects.values_list("case_number", flat=True))
    assert numbers == {"(2024)粤0104执7号", "(2024)粤0104执8号"}


@pytest.mark.django_db
def test_row_differing_from_example_imported(tmp_path, make_user):
    """The example's number with any other cell changed is a real case, not the example."""
    clerk = make_user("clerk0104", "粤0104", "clerk")
    path = _template_with_rows(
        tmp_path / "filled.xlsx", _template_row("(2024)粤0104执123号", claim_amount="99")
    )
    result = _import(clerk, path)
    assert result.skipped == [2]
    assert result.created == 1
    assert EnforcementCase.objects.get().claim_amount == Decimal("99.00")


@pytest.mark.django_db
def test_example_row_from_csv_skipped(tmp_path, make_user):
    """Saved as CSV, the example's date and amount are text and still match."""
    clerk = make_user("clerk0104", "粤0104", "clerk")
    headers = [column.header for column in importing.COLUMNS]
    example = [str(importing.example_value(column.key)) for column in importing.COLUMNS]
    path = tmp_path / "filled.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([headers, example])
    result = _import(clerk, path)
    assert result.skipped == [2]
    assert result.errors == []
    assert result.total_rows == 1
    assert not EnforcementCase.objects.exists()
