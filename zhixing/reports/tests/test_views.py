"""Report pages: the form with attachments, lists per court, acknowledgement, instructions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from zhixing.reports import services
from zhixing.reports.models import ReportDelivery, SituationReport
from zhixing.reports.tests.conftest import report_input

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_form_sends_report_with_photo(courts, staff):
    response = client_for(staff["粤0104"]).post(
        "/reports/new/",
        {
            "kind": "violent_resistance",
            "severity": "major",
            "title": "查封现场遭阻挠",
            "occurred_at": "2026-12-04T09:30",
            "place": "越秀区",
            "narrative": "经过",
            "uploads": [SimpleUploadedFile("现场.png", PNG)],
        },
    )

    report = SituationReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{report.pk}/"
    assert report.attachments.count() == 1


def test_form_shows_major_kind_rule(courts, staff):
    response = client_for(staff["粤0104"]).post(
        "/reports/new/",
        {
            "kind": "mass_incident",
            "severity": "routine",
            "title": "聚集",
            "occurred_at": "2026-12-04T09:30",
            "place": "越秀区",
            "narrative": "经过",
        },
    )

    assert response.status_code == 400
    assert "is at least major" in response.content.decode()
    assert not SituationReport.objects.exists()


def test_upper_court_lists_and_acknowledges(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())
    client = client_for(staff["粤01"])

    listing = client.get("/reports/").content.decode()
    assert f'data-testid="received-{report.pk}"' in listing
    assert 'data-testid="unacknowledged-count"' in listing

    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert 'data-testid="acknowledge"' in page
    assert ReportDelivery.objects.get(report=report, court__code="粤01").received_at is not None

    client.post(f"/reports/{report.pk}/acknowledge/")
    assert ReportDelivery.objects.get(report=report, court__code="粤01").acknowledged_at


@pytest.mark.parametrize("code", ["粤0105", "粤03"])
def test_report_hidden_from_other_courts(courts, staff, code):
    report = services.submit_report(staff["粤0104"], report_input())
    attachment_free = client_for(staff[code])

    assert attachment_free.get(f"/reports/{report.pk}/").status_code == 404
    assert attachment_free.post(f"/reports/{report.pk}/acknowledge/").status_code == 404


def test_attachment_download_in_scope_only(courts, staff):
    photo = SimpleUploadedFile("现场.png", PNG)
    report = services.submit_report(staff["粤0104"], report_input(files=[photo]))
    attachment = report.attachments.get()

    allowed = client_for(staff["粤"]).get(f"/reports/attachments/{attachment.pk}/")
    denied = client_for(staff["粤0105"]).get(f"/reports/attachments/{attachment.pk}/")

    assert allowed.status_code == 200
    assert b"".join(allowed.streaming_content) == PNG
    assert denied.status_code == 404


def test_instruction_form_and_reply(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())

    client_for(staff["粤"]).post(f"/reports/{report.pk}/instruct/", {"text": "迅速处置"})
    instruction = report.instructions.get()
    page = client_for(staff["粤0104"]).get(f"/reports/{report.pk}/").content.decode()
    client_for(staff["粤0104"]).post(
        f"/reports/instructions/{instruction.pk}/answer/", {"reply": "已处置"}
    )

    assert f'data-testid="instruction-{instruction.pk}"' in page
    receipt = instruction.receipts.get(court__code="粤0104")
    assert receipt.reply == "已处置"
    assert receipt.acknowledged_at is not None


def test_follow_up_form(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())

    client_for(staff["粤0104"]).post(
        f"/reports/{report.pk}/follow-up/",
        {
            "final": "1",
            "kind": report.kind,
            "severity": report.severity,
            "title": "终报",
            "occurred_at": "2026-12-04T09:30",
            "place": "越秀区",
            "narrative": "处置完毕",
        },
    )

    final = SituationReport.objects.get(stage="final")
    assert final.first_report == report


def test_partial_list_for_live_refresh(courts, staff):
    response = client_for(staff["粤01"]).get("/reports/", HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="report-lists"')
    assert 'hx-trigger="zhixing-live from:body"' in content


def test_analysis_counts_reports_in_scope(courts, staff):
    services.submit_report(staff["粤0104"], report_input())
    services.submit_report(staff["粤0303"], report_input(kind="routine", severity="routine"))
    services.acknowledge(staff["粤01"], SituationReport.objects.filter(court__code="粤0104").get())

    high = client_for(staff["粤"]).get("/reports/analysis/")
    intermediate = client_for(staff["粤01"]).get("/reports/analysis/")

    assert high.status_code == 200
    assert high.context["result"].total == 2
    assert intermediate.context["result"].total == 1
    assert intermediate.context["result"].by_city == {"广州市": 1}
    rows = intermediate.context["result"].acknowledgement
    assert rows[0]["count"] == 1
    assert 'id="analysis-data"' in high.content.decode()


def test_analysis_rejects_reversed_period(courts, staff):
    response = client_for(staff["粤"]).get(
        "/reports/analysis/", {"start": "2026-12-04", "end": "2026-12-01", "bucket": "day"}
    )

    assert response.status_code == 400
    assert "lies before the start date" in response.content.decode()


def test_analysis_export_is_audited(courts, staff):
    import io

    import openpyxl

    from zhixing.audit.models import AuditRecord

    services.submit_report(staff["粤0104"], report_input())

    response = client_for(staff["粤"]).get("/reports/analysis.xlsx")

    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "By kind" in book.sheetnames
    assert AuditRecord.objects.filter(action="export", object_type="reports.analysis").exists()


def test_analysis_dates_render_for_date_inputs(courts, staff):
    import datetime

    from django.utils import timezone

    # Chinese, the default language, formats dates as 2026/11/01, which date inputs reject.
    client = Client()
    client.force_login(staff["粤"])
    today = timezone.localdate()

    content = client.get("/reports/analysis/").content.decode()

    assert f'value="{today.isoformat()}"' in content
    assert f'value="{(today - datetime.timedelta(days=29)).isoformat()}"' in content
