"""REST API of reports and instructions: lifecycle, routing, scope, permissions, input errors."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from zhixing.audit.models import AuditRecord
from zhixing.cases import services as case_services
from zhixing.courts import services as court_services
from zhixing.events.models import Event
from zhixing.reports import services
from zhixing.reports.models import (
    Instruction,
    ReportAttachment,
    ReportDelivery,
    SituationReport,
)
from zhixing.reports.tests.conftest import report_input

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
REPORT_PATHS = ("/api/v1/reports",)


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def api_client(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


def report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "violent_resistance",
        "severity": "major",
        "title": "执行现场遭暴力抗拒",
        "occurred_at": "2026-12-04T09:30:00+08:00",
        "place": "广州市越秀区某小区",
        "narrative": "被执行人持械阻挠查封。",
        "people_involved": "被执行人王某及其亲属三人",
        "measures_taken": "已报警。",
    }
    body.update(overrides)
    return body


def stored_files(tmp_path) -> list[str]:
    folder = tmp_path / "attachments"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def delivered_codes(thread: dict[str, Any], index: int = 0) -> list[tuple[str, str]]:
    return [
        (delivery["court"]["code"], delivery["route"])
        for delivery in thread["reports"][index]["deliveries"]
    ]


def listed_ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


# The whole lifecycle, through the API only


def test_report_lifecycle_through_api(courts, staff):
    basic, intermediate, high = staff["粤0104"], staff["粤01"], staff["粤"]

    filed = api_client(basic).post("/api/v1/reports/", report_body(), format="json")
    assert filed.status_code == 201, filed.content
    thread = filed.json()
    report_id = thread["id"]
    expected = [
        (court.code, route)
        for court, route in services.route(courts["粤0104"], "violent_resistance", "major")
    ]
    assert delivered_codes(thread) == expected
    assert delivered_codes(thread) == [("粤01", "direct"), ("粤", "simultaneous")]
    received_events = Event.objects.filter(kind="report.received", subject_id=str(report_id))
    assert sorted(event.court.code for event in received_events) == ["粤", "粤01"]

    for user in (intermediate, high):
        listing = api_client(user).get("/api/v1/reports/", {"direction": "received"})
        assert listing.status_code == 200
        assert listed_ids(listing) == [report_id]
        assert listing.json()["results"][0]["deliveries"][0]["acknowledged_at"] is None

    for user in (intermediate, high):
        read = api_client(user).get(f"/api/v1/reports/{report_id}/")
        assert read.status_code == 200
        own = next(
            row
            for row in read.json()["reports"][0]["deliveries"]
            if row["court"]["id"] == user.court_id
        )
        assert own["received_at"] is not None
        acknowledged = api_client(user).post(f"/api/v1/reports/{report_id}/acknowledge/")
        assert acknowledged.status_code == 200, acknowledged.content
    deliveries = ReportDelivery.objects.filter(report_id=report_id)
    assert all(delivery.acknowledged_at for delivery in deliveries)
    assert all(delivery.received_at for delivery in deliveries)

    instructed = api_client(high).post(
        f"/api/v1/reports/{report_id}/instructions/", {"text": "迅速处置，确保安全"}, format="json"
    )
    assert instructed.status_code == 201, instructed.content
    instruction = instructed.json()
    assert [receipt["court"]["code"] for receipt in instruction["receipts"]] == ["粤01", "粤0104"]

    replied = api_client(basic).post(
        f"/api/v1/reports/instructions/{instruction['id']}/reply/",
        {"reply": "已按批示处置"},
        format="json",
    )
    assert replied.status_code == 200, replied.content
    noted = api_client(intermediate).post(
        f"/api/v1/reports/instructions/{instruction['id']}/acknowledge/"
    )
    assert noted.status_code == 200, noted.content
    receipts = {row["court"]["code"]: row for row in noted.json()["receipts"]}
    assert receipts["粤0104"]["reply"] == "已按批示处置"
    assert receipts["粤0104"]["acknowledged_at"] is not None
    assert receipts["粤01"]["acknowledged_at"] is not None
    assert receipts["粤01"]["reply"] == ""

    follow_up = api_client(basic).post(
        f"/api/v1/reports/{report_id}/follow-up/",
        report_body(title="续报：现场已控制", narrative="现场已控制。"),
        format="json",
    )
    assert follow_up.status_code == 201, follow_up.content
    final = api_client(basic).post(
        f"/api/v1/reports/{report_id}/final-report/",
        report_body(title="终报：处置完毕", narrative="处置完毕，无人员伤亡。"),
        format="json",
    )
    assert final.status_code == 201, final.content

    thread = api_client(high).get(f"/api/v1/reports/{report_id}/").json()
    assert [report["stage"] for report in thread["reports"]] == ["first", "follow_up", "final"]
    assert {report["first_report"] for report in thread["reports"][1:]} == {report_id}
    assert all(report["has_final_report"] for report in thread["reports"])
    for index in (1, 2):
        assert delivered_codes(thread, index) == expected
    kinds = [entry["kind"] for entry in thread["timeline"]]
    assert kinds[0] == "report_first"
    assert kinds.count("acknowledged") == 2
    assert kinds.index("instruction") < kinds.index("instruction_reply")
    assert kinds[-2:] == ["report_follow_up", "report_final"]
    moments = [entry["at"] for entry in thread["timeline"]]
    assert moments == sorted(moments)
    assert SituationReport.objects.filter(first_report_id=report_id).count() == 2

    closed = api_client(high).get("/api/v1/reports/", {"state": "closed"})
    assert listed_ids(closed) == [report_id]
    assert listed_ids(api_client(high).get("/api/v1/reports/", {"state": "open"})) == []


def test_routing_matches_service_for_every_level(courts, staff):
    for code in ("粤0104", "粤01", "粤"):
        for kind, severity in (("routine", "routine"), ("mass_incident", "especially_major")):
            response = api_client(staff[code]).post(
                "/api/v1/reports/", report_body(kind=kind, severity=severity), format="json"
            )
            assert response.status_code == 201, response.content
            expected = [
                (court.code, route) for court, route in services.route(courts[code], kind, severity)
            ]
            assert delivered_codes(response.json()) == expected, (code, kind)


# Reading


def test_reading_marks_received_for_own_court_only(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())

    response = api_client(staff["粤01"]).get(f"/api/v1/reports/{report.pk}/")

    assert response.status_code == 200
    intermediate = ReportDelivery.objects.get(report=report, court__code="粤01")
    high = ReportDelivery.objects.get(report=report, court__code="粤")
    assert intermediate.received_at is not None
    assert high.received_at is None


def test_follow_up_id_returns_whole_thread(courts, staff):
    first = services.submit_report(staff["粤0104"], report_input())
    later = services.submit_report(staff["粤0104"], report_input(title="续报"), follows=first)

    thread = api_client(staff["粤01"]).get(f"/api/v1/reports/{later.pk}/").json()

    assert thread["id"] == first.pk
    assert [report["id"] for report in thread["reports"]] == [first.pk, later.pk]
    later_delivery = ReportDelivery.objects.get(report=later, court__code="粤01")
    assert later_delivery.received_at is not None


@pytest.mark.parametrize("code", ["粤0105", "粤03", "粤0303"])
def test_report_hidden_from_other_courts(courts, staff, code):
    report = services.submit_report(staff["粤0104"], report_input())
    client = api_client(staff[code])

    assert client.get(f"/api/v1/reports/{report.pk}/").status_code == 404
    assert client.post(f"/api/v1/reports/{report.pk}/acknowledge/").status_code == 404
    assert client.post(f"/api/v1/reports/{report.pk}/forward/").status_code == 404
    assert listed_ids(client.get("/api/v1/reports/")) == []


def test_anonymous_caller_is_rejected(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())
    client = api_client()

    assert client.get("/api/v1/reports/").status_code == 401
    assert client.get(f"/api/v1/reports/{report.pk}/").status_code == 401
    assert client.post("/api/v1/reports/", report_body(), format="json").status_code == 401
    assert client.get("/api/v1/reports/instructions/").status_code == 401
    assert not SituationReport.objects.exclude(pk=report.pk).exists()


def test_list_separates_sent_and_received(courts, staff):
    own = services.submit_report(staff["粤01"], report_input(kind="routine", severity="routine"))
    below = services.submit_report(staff["粤0104"], report_input())
    services.submit_report(staff["粤0104"], report_input(title="续报"), follows=below)
    client = api_client(staff["粤01"])

    assert listed_ids(client.get("/api/v1/reports/")) == [below.pk, own.pk]
    assert listed_ids(client.get("/api/v1/reports/", {"direction": "sent"})) == [own.pk]
    assert listed_ids(client.get("/api/v1/reports/", {"direction": "received"})) == [below.pk]


def test_list_filters(courts, staff):
    major = services.submit_report(staff["粤0104"], report_input())
    routine = services.submit_report(
        staff["粤0104"], report_input(kind="work_progress", severity="routine", title="进展")
    )
    client = api_client(staff["粤01"])

    assert listed_ids(client.get("/api/v1/reports/", {"kind": "work_progress"})) == [routine.pk]
    assert listed_ids(client.get("/api/v1/reports/", {"severity": "major"})) == [major.pk]

    client.post(f"/api/v1/reports/{major.pk}/acknowledge/")
    assert listed_ids(client.get("/api/v1/reports/", {"acknowledged": "1"})) == [major.pk]
    assert listed_ids(client.get("/api/v1/reports/", {"acknowledged": "0"})) == [routine.pk]
    # A follow-up reopens the acknowledgement of its thread.
    services.submit_report(staff["粤0104"], report_input(title="续报"), follows=major)
    assert listed_ids(client.get("/api/v1/reports/", {"acknowledged": "1"})) == []

    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    in_period = client.get("/api/v1/reports/", {"reported_from": str(today)})
    assert sorted(listed_ids(in_period)) == sorted([major.pk, routine.pk])
    after = client.get("/api/v1/reports/", {"reported_from": str(tomorrow)})
    assert listed_ids(after) == []
    before = client.get("/api/v1/reports/", {"reported_to": str(today - datetime.timedelta(1))})
    assert listed_ids(before) == []


@pytest.mark.parametrize(
    ("parameters", "field", "words"),
    [
        ({"kind": "riot"}, "kind", ["riot", "violent_resistance"]),
        ({"severity": "huge"}, "severity", ["huge", "especially_major"]),
        ({"direction": "up"}, "direction", ["up", "sent, received"]),
        ({"state": "done"}, "state", ["done", "open, closed"]),
        ({"acknowledged": "maybe"}, "acknowledged", ["maybe", "0 or 1"]),
        ({"reported_from": "2026-13-01"}, "reported_from", ["YYYY-MM-DD"]),
        (
            {"reported_from": "2026-12-05", "reported_to": "2026-12-01"},
            "reported_to",
            ["2026-12-01", "swap"],
        ),
    ],
)
def test_list_rejects_bad_filter(courts, staff, parameters, field, words):
    response = api_client(staff["粤01"]).get("/api/v1/reports/", parameters)

    assert response.status_code == 400
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message


# Filing


def test_report_links_case_by_full_width_number(courts, staff, make_user):
    officer = make_user("officer_0104", "粤0104", "case_officer")
    case = case_services.file_case(
        actor=officer,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 12, 1),
        basis_kind="judgment",
        applicants=[case_services.PartyInput(name="广州某某公司", kind="organisation")],
        debtors=[case_services.PartyInput(name="王某")],
        claim_amount="1000.00",
    )
    typed = case.case_number.replace("(", "（").replace(")", "）")

    response = api_client(officer).post(
        "/api/v1/reports/", report_body(case_numbers=[typed]), format="multipart"
    )

    assert response.status_code == 201, response.content
    report = response.json()["reports"][0]
    assert [item["case_number"] for item in report["cases"]] == [case.case_number]


def test_file_report_with_attachment_and_case(courts, staff, make_user, tmp_path):
    officer = make_user("officer_0104", "粤0104", "case_officer")
    case = case_services.file_case(
        actor=officer,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 12, 1),
        basis_kind="judgment",
        applicants=[case_services.PartyInput(name="广州某某公司", kind="organisation")],
        debtors=[case_services.PartyInput(name="王某")],
        claim_amount="1000.00",
    )
    body = report_body(
        case_numbers=[case.case_number],
        uploads=[
            SimpleUploadedFile("现场.png", PNG, content_type="image/png"),
            SimpleUploadedFile("记录.pdf", b"%PDF-1.7 test", content_type="application/pdf"),
        ],
    )

    response = api_client(officer).post("/api/v1/reports/", body, format="multipart")

    assert response.status_code == 201, response.content
    report = response.json()["reports"][0]
    assert [item["case_number"] for item in report["cases"]] == [case.case_number]
    assert [item["name"] for item in report["attachments"]] == ["现场.png", "记录.pdf"]
    assert [item["kind"] for item in report["attachments"]] == ["photo", "document"]
    assert len(stored_files(tmp_path)) == 2

    download = api_client(staff["粤"]).get(report["attachments"][0]["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    hidden = api_client(staff["粤0105"]).get(report["attachments"][0]["download"])
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"severity": "routine"}, "severity", ["at least major", "major or especially major"]),
        ({"kind": "riot"}, "kind", ["riot", "violent_resistance"]),
        ({"severity": "small"}, "severity", ["small", "especially_major"]),
        ({"title": ""}, "title", ["blank"]),
        ({"narrative": "   "}, "narrative", ["blank"]),
        ({"occurred_at": "yesterday"}, "occurred_at", ["format"]),
        ({"case_numbers": ["(2026)粤0104执999号"]}, "case_numbers", ["执999号", "no such case"]),
    ],
)
def test_file_report_rejects_bad_input(courts, staff, overrides, field, words):
    response = api_client(staff["粤0104"]).post(
        "/api/v1/reports/", report_body(**overrides), format="json"
    )

    assert response.status_code == 400
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message
    assert not SituationReport.objects.exists()
    assert not Event.objects.exists()


def test_bad_attachment_stores_nothing(courts, staff, tmp_path):
    body = report_body(
        uploads=[
            SimpleUploadedFile("现场.png", PNG),
            SimpleUploadedFile("tool.exe", b"MZ\x90\x00"),
        ]
    )

    response = api_client(staff["粤0104"]).post("/api/v1/reports/", body, format="multipart")

    assert response.status_code == 400
    message = " ".join(response.json()["uploads"])
    assert "tool.exe is not an accepted file" in message
    assert ".pdf" in message
    assert not SituationReport.objects.exists()
    assert not ReportAttachment.objects.exists()
    assert stored_files(tmp_path) == []


def test_clerk_may_not_file(courts, staff):
    response = api_client(staff["clerk"]).post("/api/v1/reports/", report_body(), format="json")

    assert response.status_code == 403
    assert "Only command center" in response.json()["detail"]
    assert not SituationReport.objects.exists()


def test_only_reporting_court_follows_up(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())

    response = api_client(staff["粤01"]).post(
        f"/api/v1/reports/{report.pk}/follow-up/", report_body(title="续报"), format="json"
    )

    assert response.status_code == 403
    assert not SituationReport.objects.filter(first_report=report).exists()


def test_nothing_follows_final_report(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())
    services.submit_report(staff["粤0104"], report_input(), follows=report, final=True)

    response = api_client(staff["粤0104"]).post(
        f"/api/v1/reports/{report.pk}/follow-up/", report_body(title="续报"), format="json"
    )

    assert response.status_code == 400
    assert "start a new report" in " ".join(response.json()["stage"])
    assert SituationReport.objects.filter(first_report=report).count() == 1


# Acknowledging and forwarding


@pytest.mark.parametrize("who", ["clerk", "粤0104"])
def test_only_receiving_command_center_acknowledges(courts, staff, who):
    report = services.submit_report(staff["粤0104"], report_input())

    response = api_client(staff[who]).post(f"/api/v1/reports/{report.pk}/acknowledge/")

    assert response.status_code == 403
    assert not ReportDelivery.objects.filter(acknowledged_at__isnull=False).exists()


def test_forward_routine_report_upward(courts, staff):
    report = services.submit_report(
        staff["粤0104"], report_input(kind="routine", severity="routine")
    )
    client = api_client(staff["粤01"])

    forwarded = client.post(f"/api/v1/reports/{report.pk}/forward/")
    again = client.post(f"/api/v1/reports/{report.pk}/forward/")

    assert forwarded.status_code == 200, forwarded.content
    assert delivered_codes(forwarded.json()) == [("粤01", "direct"), ("粤", "forwarded")]
    assert again.status_code == 400
    assert "has this report already" in " ".join(again.json()["court"])
    assert ReportDelivery.objects.filter(report=report).count() == 2
    high_list = api_client(staff["粤"]).get("/api/v1/reports/", {"direction": "received"})
    assert listed_ids(high_list) == [report.pk]


def test_major_report_is_not_forwarded(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())

    response = api_client(staff["粤01"]).post(f"/api/v1/reports/{report.pk}/forward/")

    assert response.status_code == 400
    assert ReportDelivery.objects.filter(report=report).count() == 2


# Instructions


@pytest.mark.parametrize("who", ["粤0104", "police"])
def test_only_courts_above_instruct(courts, staff, who):
    report = services.submit_report(staff["粤0104"], report_input())

    response = api_client(staff[who]).post(
        f"/api/v1/reports/{report.pk}/instructions/", {"text": "处置"}, format="json"
    )

    assert response.status_code == 403
    assert not Instruction.objects.exists()


def test_blank_instruction_rejected(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())

    response = api_client(staff["粤"]).post(
        f"/api/v1/reports/{report.pk}/instructions/", {"text": "  "}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["text"] == ["Write the instruction."]
    assert not Instruction.objects.exists()


def test_instruction_answers(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())
    instruction = services.instruct(staff["粤"], report, "迅速处置")
    basic = api_client(staff["粤0104"])
    path = f"/api/v1/reports/instructions/{instruction.pk}"

    received = basic.get("/api/v1/reports/instructions/", {"direction": "received"})
    sent = api_client(staff["粤"]).get("/api/v1/reports/instructions/", {"direction": "sent"})
    blank = basic.post(f"{path}/reply/", {"reply": ""}, format="json")
    first = basic.post(f"{path}/acknowledge/")
    repeated = basic.post(f"{path}/acknowledge/")
    sibling = api_client(staff["粤0105"]).post(f"{path}/acknowledge/")
    bad_direction = basic.get("/api/v1/reports/instructions/", {"direction": "down"})

    assert listed_ids(received) == [instruction.pk]
    assert listed_ids(sent) == [instruction.pk]
    assert blank.status_code == 400
    assert "acknowledge endpoint" in " ".join(blank.json()["reply"])
    assert first.status_code == 200
    assert repeated.status_code == 400
    assert "write a reply" in " ".join(repeated.json()["reply"])
    assert sibling.status_code == 404
    assert bad_direction.status_code == 400
    receipt = instruction.receipts.get(court__code="粤0104")
    assert receipt.acknowledged_at is not None
    assert receipt.reply == ""


def test_clerk_may_not_answer_instruction(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())
    instruction = services.instruct(staff["粤01"], report, "迅速处置")

    response = api_client(staff["clerk"]).post(
        f"/api/v1/reports/instructions/{instruction.pk}/reply/", {"reply": "收到"}, format="json"
    )

    assert response.status_code == 403
    assert instruction.receipts.get().acknowledged_at is None


# Personal data


def test_people_involved_shown_and_audited_as_on_page(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())
    page_client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page_client.force_login(staff["粤01"])

    reads = AuditRecord.objects.filter(action="read_personal")
    page = page_client.get(f"/reports/{report.pk}/").content.decode()
    page_reads = reads.count()
    thread = api_client(staff["粤01"]).get(f"/api/v1/reports/{report.pk}/").json()
    api_reads = reads.count() - page_reads

    assert report.people_involved in page
    assert thread["reports"][0]["people_involved"] == report.people_involved
    assert api_reads == page_reads


# The OpenAPI document


def _operations(document: dict[str, Any], prefixes: tuple[str, ...]) -> list[tuple[str, dict]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        if path.startswith(prefixes)
        for method, operation in methods.items()
    ]


def _components(document: dict[str, Any], operations: list[tuple[str, dict]]) -> set[str]:
    """Return the names of the schema components that the operations use, directly or nested."""
    schemas = document["components"]["schemas"]
    pending = [json.dumps(operation) for _name, operation in operations]
    seen: set[str] = set()
    while pending:
        text = pending.pop()
        for name in schemas:
            if f'"#/components/schemas/{name}"' in text and name not in seen:
                seen.add(name)
                pending.append(json.dumps(schemas[name]))
    return seen


def assert_documented(document: dict[str, Any], prefixes: tuple[str, ...]) -> None:
    """Check that every operation has a summary and every field of its schemas a description."""
    operations = _operations(document, prefixes)
    assert operations
    for name, operation in operations:
        assert operation.get("summary"), name
    for component in _components(document, operations):
        if component.startswith("Paginated"):
            # The pagination wrapper comes from DRF; its ``results`` are the documented items.
            continue
        for field, schema in (
            document["components"]["schemas"][component].get("properties", {}).items()
        ):
            assert schema.get("description"), f"{component}.{field}"


def test_openapi_documents_report_endpoints(courts, staff):
    response = api_client(staff["粤01"]).get("/api/openapi.json")
    document = json.loads(response.content)

    for path in (
        "/api/v1/reports/",
        "/api/v1/reports/{id}/",
        "/api/v1/reports/{id}/follow-up/",
        "/api/v1/reports/{id}/final-report/",
        "/api/v1/reports/{id}/acknowledge/",
        "/api/v1/reports/{id}/forward/",
        "/api/v1/reports/{id}/instructions/",
        "/api/v1/reports/instructions/",
        "/api/v1/reports/instructions/{id}/acknowledge/",
        "/api/v1/reports/instructions/{id}/reply/",
        "/api/v1/reports/attachments/{id}/",
    ):
        assert path in document["paths"], path
    assert_documented(document, REPORT_PATHS)


def test_list_queries_do_not_grow_with_reports(courts, staff):
    client = api_client(staff["粤01"])
    # The first request also reads the court tree, which later ones reuse.
    assert client.get("/api/v1/reports/").status_code == 200
    counts = []
    for _round in range(2):
        for _number in range(3):
            report = services.submit_report(staff["粤0104"], report_input())
            services.submit_report(staff["粤0104"], report_input(title="续报"), follows=report)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/reports/").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_thread_shows_high_court_overdue_alert(courts, staff):
    sent = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)
    report = services.submit_report(staff["粤0104"], report_input(), now=sent)
    services.acknowledge(staff["粤01"], report, now=sent + datetime.timedelta(minutes=1))
    services.escalate_unacknowledged(sent + datetime.timedelta(minutes=30))

    response = api_client(staff["粤"]).get(f"/api/v1/reports/{report.pk}/")

    assert response.status_code == 200, response.content
    thread = response.json()
    deliveries = {row["court"]["code"]: row for row in thread["reports"][0]["deliveries"]}
    assert deliveries["粤"]["overdue_alerted_at"] is not None
    assert deliveries["粤"]["escalated_at"] is None
    kinds = [entry["kind"] for entry in thread["timeline"]]
    assert "overdue_alert" in kinds
    assert "escalated" not in kinds
