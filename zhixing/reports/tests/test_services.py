"""Reports: permissions, scope, acknowledgement, forwarding, escalation, instructions."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhixing.audit.models import AuditRecord
from zhixing.events.models import Event
from zhixing.reports import services
from zhixing.reports.models import ReportAttachment, ReportDelivery
from zhixing.reports.tests.conftest import report_input

NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def minutes(count: float) -> datetime.datetime:
    return NOW + datetime.timedelta(minutes=count)


def codes(events) -> list[str]:
    return sorted(event.court.code for event in events if event.court is not None)


def test_new_report_alerts_receiving_courts(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)

    received = Event.objects.filter(kind="report.received")
    assert codes(received) == ["粤", "粤01"]
    assert {event.severity for event in received} == {"major"}
    assert {event.data["url"] for event in received} == {f"/reports/{report.pk}/"}


def test_clerk_may_not_report(courts, staff):
    with pytest.raises(PermissionDenied):
        services.submit_report(staff["clerk"], report_input())


def test_judicial_police_may_report(courts, staff):
    report = services.submit_report(staff["police"], report_input())

    assert report.court.code == "粤0104"


def test_missing_narrative_rejected(courts, staff):
    with pytest.raises(ValidationError) as raised:
        services.submit_report(staff["粤0104"], report_input(narrative="  "))

    assert "narrative" in raised.value.message_dict


def test_future_event_time_rejected(courts, staff):
    later = timezone.now() + datetime.timedelta(days=365)

    with pytest.raises(ValidationError) as raised:
        services.submit_report(staff["粤0104"], report_input(occurred_at=later))

    message = raised.value.message_dict["occurred_at"][0]
    assert timezone.localtime(later).strftime("%Y-%m-%d %H:%M") in message
    assert not services.visible_reports(staff["粤"]).exists()


def test_unknown_linked_case_named(courts, staff):
    with pytest.raises(ValidationError) as raised:
        services.submit_report(staff["粤0104"], report_input(case_numbers=["(2026)粤0104执9号"]))

    assert "(2026)粤0104执9号" in raised.value.message_dict["case_numbers"][0]


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [("粤", True), ("粤01", True), ("粤0104", True), ("粤0105", False), ("粤03", False)],
)
def test_report_scope(courts, staff, viewer, sees):
    report = services.submit_report(staff["粤0104"], report_input())

    assert services.visible_reports(staff[viewer]).filter(pk=report.pk).exists() is sees


def test_routine_report_visible_to_forwarded_court(courts, staff):
    report = services.submit_report(
        staff["粤0303"], report_input(kind="routine", severity="routine")
    )
    assert not services.visible_reports(staff["粤03"]).exclude(court__code="粤0303").exists()

    services.forward(staff["粤03"], report)

    assert services.visible_reports(staff["粤"]).filter(pk=report.pk).exists()
    delivery = ReportDelivery.objects.get(report=report, court__code="粤")
    assert delivery.route == "forwarded"


def test_forward_twice_rejected(courts, staff):
    report = services.submit_report(
        staff["粤0104"], report_input(kind="routine", severity="routine")
    )
    services.forward(staff["粤01"], report)

    with pytest.raises(ValidationError):
        services.forward(staff["粤01"], report)


def test_acknowledge_records_time_and_tells_reporter(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)

    services.acknowledge(staff["粤01"], report, now=minutes(2))

    delivery = ReportDelivery.objects.get(report=report, court__code="粤01")
    assert delivery.acknowledged_at == minutes(2)
    assert delivery.acknowledged_by == staff["粤01"]
    assert delivery.received_at == minutes(2)
    acknowledged = Event.objects.filter(kind="report.acknowledged")
    assert codes(acknowledged) == ["粤", "粤0104"]
    assert AuditRecord.objects.filter(detail__event="report_acknowledged").exists()


@pytest.mark.parametrize("who", ["clerk", "粤0105", "粤03"])
def test_others_may_not_acknowledge(courts, staff, who):
    report = services.submit_report(staff["粤0104"], report_input())

    with pytest.raises(PermissionDenied):
        services.acknowledge(staff[who], report)


def test_unacknowledged_major_report_realerts_then_escalates(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    services.acknowledge(staff["粤"], report, now=minutes(1))

    assert services.escalate_unacknowledged(minutes(9)) == 0
    assert services.escalate_unacknowledged(minutes(10)) == 1
    assert codes(Event.objects.filter(kind="report.realert")) == ["粤01"]
    assert services.escalate_unacknowledged(minutes(11)) == 0
    assert services.escalate_unacknowledged(minutes(30)) == 1
    escalated = Event.objects.filter(kind="report.escalated")
    assert codes(escalated) == ["粤"]
    assert "广州市中级人民法院" in escalated.get().data["title"]
    assert services.escalate_unacknowledged(minutes(60)) == 0


def test_escalation_delivers_to_court_without_report(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    # The intermediate court lost its copy: the escalation must reach the high court.
    ReportDelivery.objects.filter(report=report, court__code="粤").delete()

    services.escalate_unacknowledged(minutes(31))

    delivery = ReportDelivery.objects.get(report=report, court__code="粤")
    assert delivery.route == "escalated"


def test_high_court_overdue_alerts_its_staff(courts, staff, make_user):
    duty = make_user("duty_gd", "粤", "duty_officer")
    make_user("clerk_gd", "粤", "clerk")
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    services.acknowledge(staff["粤01"], report, now=minutes(1))
    services.escalate_unacknowledged(minutes(10))

    assert services.escalate_unacknowledged(minutes(29)) == 0
    assert services.escalate_unacknowledged(minutes(30)) == 1

    delivery = ReportDelivery.objects.get(report=report, court__code="粤")
    assert delivery.escalated_at is None
    assert delivery.overdue_alerted_at == minutes(30)
    assert not Event.objects.filter(kind="report.escalated").exists()
    overdue = Event.objects.filter(kind="report.overdue")
    assert {event.user_id for event in overdue} == {staff["粤"].pk, duty.pk}
    assert {event.severity for event in overdue} == {"major"}
    assert {event.data["url"] for event in overdue} == {f"/reports/{report.pk}/"}
    kinds = [entry.kind for entry in services.timeline(report)]
    assert "overdue_alert" in kinds
    assert "escalated" not in kinds


def test_high_court_overdue_alert_sent_once(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    services.acknowledge(staff["粤01"], report, now=minutes(1))

    steps = [services.escalate_unacknowledged(minutes(count)) for count in (10, 30, 30.5, 31, 90)]

    assert steps == [1, 1, 0, 0, 0]
    assert Event.objects.filter(kind="report.overdue").count() == 1
    entries = [entry for entry in services.timeline(report) if entry.kind == "overdue_alert"]
    assert len(entries) == 1


def test_high_court_without_command_staff_alerted_court_wide(courts, staff):
    staff["粤"].is_active = False
    staff["粤"].save()
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    services.acknowledge(staff["粤01"], report, now=minutes(1))

    services.escalate_unacknowledged(minutes(30))

    overdue = Event.objects.filter(kind="report.overdue")
    assert codes(overdue) == ["粤"]
    assert overdue.get().user_id is None


def test_overdue_intermediate_and_high_courts_together(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)

    assert services.escalate_unacknowledged(minutes(30)) == 4

    intermediate = ReportDelivery.objects.get(report=report, court__code="粤01")
    high = ReportDelivery.objects.get(report=report, court__code="粤")
    assert intermediate.escalated_at == minutes(30)
    assert intermediate.overdue_alerted_at is None
    assert high.escalated_at is None
    assert high.overdue_alerted_at == minutes(30)
    assert codes(Event.objects.filter(kind="report.escalated")) == ["粤"]
    assert Event.objects.filter(kind="report.overdue").count() == 1


def test_migration_clears_high_court_escalations(courts, staff):
    from django.apps import apps

    migration = importlib.import_module("zhixing.reports.migrations.0002_delivery_overdue_alert")
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    ReportDelivery.objects.filter(report=report).update(escalated_at=minutes(30))

    migration.clear_escalations_of_top_courts(apps, None)

    assert ReportDelivery.objects.get(report=report, court__code="粤").escalated_at is None
    intermediate = ReportDelivery.objects.get(report=report, court__code="粤01")
    assert intermediate.escalated_at == minutes(30)


def test_routine_report_never_escalates(courts, staff):
    services.submit_report(
        staff["粤0104"], report_input(kind="routine", severity="routine"), now=NOW
    )

    assert services.escalate_unacknowledged(minutes(120)) == 0


def test_follow_up_and_final_reach_same_courts(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)

    follow_up = services.submit_report(
        staff["粤0104"], report_input(title="续报"), follows=report, now=minutes(20)
    )
    final = services.submit_report(
        staff["粤0104"], report_input(title="终报"), follows=follow_up, final=True, now=minutes(90)
    )

    assert follow_up.first_report == report
    assert final.first_report == report
    assert final.stage == "final"
    for later in (follow_up, final):
        assert sorted(d.court.code for d in later.deliveries.all()) == ["粤", "粤01"]
    with pytest.raises(ValidationError):
        services.submit_report(staff["粤0104"], report_input(), follows=report)


def test_other_court_may_not_follow_up(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input())

    with pytest.raises(PermissionDenied):
        services.submit_report(staff["粤0105"], report_input(), follows=report)


def test_instruction_reaches_courts_between(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)

    instruction = services.instruct(staff["粤"], report, "立即组织力量处置。", now=minutes(5))

    assert sorted(r.court.code for r in instruction.receipts.all()) == ["粤01", "粤0104"]
    assert codes(Event.objects.filter(kind="report.instruction")) == ["粤01", "粤0104"]


def test_instruction_acknowledged_and_replied(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    instruction = services.instruct(staff["粤01"], report, "请续报处置情况。", now=minutes(5))

    services.answer_instruction(staff["粤0104"], instruction, now=minutes(6))
    receipt = services.answer_instruction(
        staff["粤0104"], instruction, reply="已按要求处置。", now=minutes(8)
    )

    assert receipt.acknowledged_at == minutes(6)
    assert receipt.replied_at == minutes(8)
    assert codes(Event.objects.filter(kind="report.instruction_reply")) == ["粤01"]
    kinds = [entry.kind for entry in services.timeline(report)]
    assert kinds == ["report_first", "instruction", "instruction_acknowledged", "instruction_reply"]


@pytest.mark.parametrize("who", ["粤0104", "粤0105", "粤03"])
def test_only_courts_above_instruct(courts, staff, who):
    report = services.submit_report(staff["粤0104"], report_input())

    with pytest.raises(PermissionDenied):
        services.instruct(staff[who], report, "处置")


def test_timeline_orders_whole_thread(courts, staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    services.acknowledge(staff["粤01"], report, now=minutes(1))
    services.instruct(staff["粤"], report, "批示", now=minutes(3))
    services.submit_report(staff["粤0104"], report_input(), follows=report, now=minutes(4))
    services.submit_report(
        staff["粤0104"], report_input(), follows=report, final=True, now=minutes(9)
    )

    kinds = [entry.kind for entry in services.timeline(report)]

    assert kinds == [
        "report_first",
        "acknowledged",
        "instruction",
        "report_follow_up",
        "report_final",
    ]


def test_photo_attachment_stored(courts, staff):
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")

    report = services.submit_report(staff["粤0104"], report_input(files=[photo]))

    attachment = ReportAttachment.objects.get(report=report)
    assert attachment.kind == "photo"
    assert attachment.size == len(PNG)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", "is not an accepted file"),
        ("photo.jpg", b"GIF89a", "is not a valid .jpg file"),
        ("empty.pdf", b"", "is not a valid .pdf file"),
    ],
)
def test_bad_attachment_rejected(courts, staff, name, content, message):
    upload = SimpleUploadedFile(name, content)

    with pytest.raises(ValidationError, match=message):
        services.submit_report(staff["粤0104"], report_input(files=[upload]))

    assert not ReportDelivery.objects.exists()


def test_oversized_attachment_rejected(courts, staff):
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.7" + b"0" * 100)
    upload.size = 51 * 1024 * 1024

    with pytest.raises(ValidationError, match="over the 50 MB"):
        services.submit_report(staff["粤0104"], report_input(files=[upload]))
