"""Exporting a filtered case list to .xlsx: layout, masking, audit, cap and re-import."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from zhixing.audit.models import AuditRecord
from zhixing.cases import exporting, importing
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.cases.tests.test_import import ID_A, ID_X, write_messy
from zhixing.cases.tests.test_jobs import URLS

pytestmark = [pytest.mark.django_db, pytest.mark.urls(URLS)]


@pytest.fixture
def imported(tmp_path, make_user):
    clerk = make_user("clerk01", "粤01", "clerk")
    officer = make_user("liguan", "粤0104", "case_officer")
    officer.full_name = "李官"
    officer.save()
    importing.import_file(clerk, write_messy(tmp_path / "messy.xlsx"), all_or_nothing=False)
    return clerk


def _export(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/cases/export.xlsx{query}")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    return response, load_workbook(io.BytesIO(content))


def _rows(workbook):
    return [list(row) for row in workbook["案件"].iter_rows(values_only=True)]


def test_export_has_import_layout(client, imported, make_user):
    head = make_user("head01", "粤01", "bureau_head")
    response, workbook = _export(client, head)
    assert response["Content-Type"] == exporting.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(workbook)
    assert rows[0] == [column.header for column in importing.COLUMNS]
    assert len(rows) == 5
    numbers = {row[0] for row in rows[1:]}
    assert numbers == set(EnforcementCase.objects.values_list("case_number", flat=True))
    text = "\n".join(str(value) for row in rows for value in row)
    # Exports mask identity numbers even for a bureau head, who sees them on the case page.
    assert ID_A not in text
    assert ID_X not in text
    assert "*" in text


def test_export_follows_the_list_filter(client, imported, make_user):
    head = make_user("head01", "粤01", "bureau_head")
    _, workbook = _export(client, head, "?court=粤0104&lower=0")
    numbers = [row[0] for row in _rows(workbook)[1:]]
    assert sorted(numbers) == ["(2024)粤0104执1号", "(2024)粤0104执2号"]


def test_export_masks_hidden_numbers(client, imported):
    # Clerks see full numbers only in their own court's cases; these are at courts below.
    _, workbook = _export(client, imported, "?court=粤0104")
    text = "\n".join(str(value) for row in _rows(workbook) for value in row)
    assert ID_A not in text
    assert "440104********" in text
    notes = "\n".join(str(row[0]) for row in workbook["说明"].iter_rows(values_only=True))
    # The export follows the page language, Chinese by default.
    assert "遮蔽" in notes


def test_export_is_audited(client, imported, make_user):
    head = make_user("head01", "粤01", "bureau_head")
    _export(client, head, f"?q={ID_A}&status=open")
    record = AuditRecord.objects.filter(action="export").get()
    assert record.username == "head01"
    assert record.detail["rows"] == 1
    assert record.detail["filter"]["status"] == "open"
    # The identity number searched for is masked in the trail.
    assert record.detail["filter"]["q"] != ID_A
    assert record.detail["filter"]["q"].startswith("440104")


def test_export_reimport_changes_nothing(client, tmp_path, imported, make_user):
    head = make_user("head01", "粤01", "bureau_head")
    client.force_login(head)
    content = b"".join(client.get("/cases/export.xlsx").streaming_content)
    path = tmp_path / "export.xlsx"
    path.write_bytes(content)
    counts = (Party.objects.count(), CaseParty.objects.count())
    audit = AuditRecord.objects.count()
    result = importing.import_file(imported, path, all_or_nothing=True)
    assert result.errors == []
    assert result.unchanged == 4
    assert AuditRecord.objects.count() == audit
    assert (Party.objects.count(), CaseParty.objects.count()) == counts


def test_masked_export_reimports_unchanged(client, tmp_path, imported):
    client.force_login(imported)
    content = b"".join(client.get("/cases/export.xlsx").streaming_content)
    path = tmp_path / "masked.xlsx"
    path.write_bytes(content)
    result = importing.import_file(imported, path, all_or_nothing=True)
    assert result.errors == []
    assert result.unchanged == 4


def test_export_is_capped(client, imported, make_user, monkeypatch):
    monkeypatch.setattr(exporting, "EXPORT_ROW_LIMIT", 2)
    head = make_user("head01", "粤01", "bureau_head")
    response, workbook = _export(client, head)
    assert response["X-Export-Truncated"] == "2"
    assert len(_rows(workbook)) == 3
    assert AuditRecord.objects.get(action="export").detail["truncated"] is True


def test_export_needs_login(client):
    response = client.get("/cases/export.xlsx")
    assert response.status_code == 302
