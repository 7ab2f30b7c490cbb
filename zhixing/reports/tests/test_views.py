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


def test_high_court_timeline_shows_overdue_alert(courts, staff):
    import datetime

    now = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)
    report = services.submit_report(staff["粤0104"], report_input(), now=now)
    services.acknowledge(staff["粤01"], report, now=now + datetime.timedelta(minutes=1))
    services.escalate_unacknowledged(now + datetime.timedelta(minutes=30))

    page = client_for(staff["粤"]).get(f"/reports/{report.pk}/").content.decode()

    assert 'data-testid="entry-overdue_alert"' in page
    assert "its command center staff were alerted again" in page
    assert 'data-testid="entry-escalated"' not in page
    assert "acknowledge in time; escalated" not in page


def test_analysis_trend_fills_days_without_reports(courts, staff):
    import datetime

    today = datetime.date(2026, 11, 30)
    noon_in_beijing = datetime.time(4, 0, tzinfo=datetime.UTC)
    for day in (3, 20, 20):
        services.submit_report(
            staff["粤0104"],
            report_input(),
            now=datetime.datetime.combine(datetime.date(2026, 11, day), noon_in_beijing),
        )

    response = client_for(staff["粤"]).get(
        "/reports/analysis/", {"start": "2026-11-01", "end": today.isoformat(), "bucket": "day"}
    )

    trend = response.context["result"].trend
    assert len(trend) == 30
    assert trend[0] == ("2026-11-01", 0)
    assert trend[2] == ("2026-11-03", 1)
    assert trend[19] == ("2026-11-20", 2)
    assert trend[-1] == ("2026-11-30", 0)
    assert sum(count for _day, count in trend) == 3


@pytest.mark.parametrize(
    ("bucket", "start", "end", "steps"),
    [
        (
            "day",
            "2026-11-29",
            "2026-12-02",
            ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"],
        ),
        # 2026-11-01 is a Sunday: its week starts on Monday 2026-10-26.
        (
            "week",
            "2026-11-01",
            "2026-11-16",
            ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"],
        ),
        (
            "month",
            "2026-10-15",
            "2027-01-10",
            ["2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"],
        ),
        ("month", "2026-01-31", "2026-03-01", ["2026-01-01", "2026-02-01", "2026-03-01"]),
    ],
)
def test_analysis_trend_covers_every_step(courts, staff, bucket, start, end, steps):
    response = client_for(staff["粤"]).get(
        "/reports/analysis/", {"start": start, "end": end, "bucket": bucket}
    )

    assert response.context["result"].trend == [(step, 0) for step in steps]


def test_analysis_trend_counts_week_and_month(courts, staff):
    import datetime

    noon_in_beijing = datetime.time(4, 0, tzinfo=datetime.UTC)
    for day in (datetime.date(2026, 11, 4), datetime.date(2026, 11, 18)):
        services.submit_report(
            staff["粤0104"], report_input(), now=datetime.datetime.combine(day, noon_in_beijing)
        )
    period = {"start": "2026-11-01", "end": "2026-11-30"}
    client = client_for(staff["粤"])

    weeks = client.get("/reports/analysis/", {**period, "bucket": "week"}).context["result"].trend
    months = client.get("/reports/analysis/", {**period, "bucket": "month"}).context["result"].trend

    assert weeks == [
        ("2026-10-26", 0),
        ("2026-11-02", 1),
        ("2026-11-09", 0),
        ("2026-11-16", 1),
        ("2026-11-23", 0),
        ("2026-11-30", 0),
    ]
    assert months == [("2026-11-01", 2)]


def test_analysis_with_only_kind_uses_default_period(courts, staff):
    import datetime

    from django.utils import timezone

    services.submit_report(staff["粤0104"], report_input(kind="mass_incident"))
    services.submit_report(staff["粤0104"], report_input())
    today = timezone.localdate()

    response = client_for(staff["粤"]).get("/reports/analysis/", {"kind": "mass_incident"})

    assert response.status_code == 200
    assert not response.context["form"].errors
    result = response.context["result"]
    assert result.period.start == today - datetime.timedelta(days=29)
    assert result.period.end == today
    assert result.period.bucket == "day"
    assert result.period.kind == "mass_incident"
    assert result.total == 1
    assert len(result.trend) == 30
    assert "This field is required" not in response.content.decode()


def test_analysis_end_alone_sets_start(courts, staff):
    response = client_for(staff["粤"]).get("/reports/analysis/", {"end": "2026-06-30"})

    period = response.context["result"].period
    assert response.status_code == 200
    assert period.start.isoformat() == "2026-06-01"
    assert period.end.isoformat() == "2026-06-30"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"end": "yesterday", "kind": "mass_incident"}, "end"),
        ({"bucket": "year"}, "bucket"),
    ],
)
def test_analysis_rejects_invalid_given_value(courts, staff, query, field):
    response = client_for(staff["粤"]).get("/reports/analysis/", query)

    errors = response.context["form"].errors
    assert response.status_code == 400
    assert list(errors) == [field]
    assert "This field is required" not in response.content.decode()


def test_analysis_export_with_only_kind(courts, staff):
    services.submit_report(staff["粤0104"], report_input(kind="mass_incident"))

    response = client_for(staff["粤"]).get("/reports/analysis.xlsx", {"kind": "mass_incident"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_report_sent_twice_is_stored_once(courts, staff):
    import re

    client = client_for(staff["粤0104"])
    page = client.get("/reports/new/").content.decode()
    token = re.search(r'name="once" value="([0-9a-f]{32})"', page).group(1)
    data = {
        "kind": "violent_resistance",
        "severity": "major",
        "title": "查封现场遭阻挠",
        "occurred_at": "2026-12-04T09:30",
        "place": "越秀区",
        "narrative": "经过",
        "once": token,
    }

    first = client.post("/reports/new/", data)
    second = client.post("/reports/new/", data)

    report = SituationReport.objects.get()
    assert second["Location"] == first["Location"] == f"/reports/{report.pk}/"
