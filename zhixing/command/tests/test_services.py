"""Order services: the direct and skip-level rule per tier, permissions, scope and events."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from zhixing.audit.models import AuditRecord
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.command import services
from zhixing.command.models import Order, OrderAttachment, OrderRecipient
from zhixing.command.tests.conftest import NOW, row_of
from zhixing.events.models import Event

pytestmark = pytest.mark.django_db

State = OrderRecipient.State
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

# (issuing court, receiving court, outcome): "direct", "skip" (needs the flag and a reason)
# or "below" (rejected: not below the issuing court).
TIERS = [
    ("粤", "粤01", "direct"),
    ("粤", "粤03", "direct"),
    ("粤", "粤0104", "skip"),
    ("粤", "粤0303", "skip"),
    ("粤01", "粤0104", "direct"),
    ("粤01", "粤0105", "direct"),
    ("粤01", "粤0303", "below"),
    ("粤01", "粤03", "below"),
    ("粤01", "粤", "below"),
    ("粤01", "粤01", "below"),
    ("粤0104", "粤0105", "below"),
    ("粤0104", "粤01", "below"),
    ("粤03", "粤0104", "below"),
]


@pytest.mark.parametrize(("issuer", "recipient", "outcome"), TIERS)
def test_order_rule_per_tier(issue, courts, issuer, recipient, outcome):
    if outcome == "direct":
        order = issue(issuer, [recipient])
        assert row_of(order, recipient).skip_level is False
        assert order.skip_level is False
        return
    with pytest.raises(ValidationError) as raised:
        issue(issuer, [recipient])
    message = " ".join(raised.value.message_dict["recipients"])
    assert courts[recipient].name in message
    if outcome == "skip":
        assert "Skip-level order" in message
        assert courts[recipient].parent.name in message
        order = issue(issuer, [recipient], skip_level=True, skip_level_reason="案情重大 直接督办")
        assert row_of(order, recipient).skip_level is True
    else:
        assert "send orders only to courts below your court" in message
        with pytest.raises(ValidationError):
            issue(issuer, [recipient], skip_level=True, skip_level_reason="理由")
    assert not Order.objects.filter(court__code=issuer, skip_level=False).exists()


def test_skip_level_flag_without_reason_is_rejected(issue):
    with pytest.raises(ValidationError) as raised:
        issue("粤", ["粤0104"], skip_level=True, skip_level_reason="  ")
    assert "give the reason" in " ".join(raised.value.message_dict["recipients"])
    assert Order.objects.count() == 0


def test_skip_level_order_is_audited_with_reason(issue):
    order = issue("粤", ["粤01", "粤0104"], skip_level=True, skip_level_reason="涉众案件 直接督办")

    assert order.skip_level is True
    assert order.skip_level_reason == "涉众案件 直接督办"
    assert row_of(order, "粤01").skip_level is False
    assert row_of(order, "粤0104").skip_level is True
    records = AuditRecord.objects.filter(object_type="command.order", object_id=str(order.pk))
    skip = [record for record in records if record.detail.get("skip_level")]
    assert len(skip) == 1
    assert skip[0].detail["reason"] == "涉众案件 直接督办"
    assert skip[0].detail["courts"] == ["粤0104"]


def test_direct_order_ignores_skip_level_reason(issue):
    order = issue("粤01", ["粤0104"], skip_level=True, skip_level_reason="不需要")
    assert order.skip_level is False
    assert order.skip_level_reason == ""


def test_only_commanders_and_duty_officers_issue(make_user, courts, commanders):
    duty = make_user("duty01", "粤01", "duty_officer")
    for role in ("case_officer", "bureau_head", "clerk", "judicial_police", "administrator"):
        user = make_user(f"{role}01", "粤01", role)
        with pytest.raises(PermissionDenied):
            services.issue_order(
                user,
                title="t",
                task="t",
                deadline=NOW + datetime.timedelta(days=1),
                recipients=[courts["粤0104"]],
                now=NOW,
            )
    order = services.issue_order(
        duty,
        title="t",
        task="t",
        deadline=NOW + datetime.timedelta(days=1),
        recipients=[courts["粤0104"]],
        now=NOW,
    )
    assert order.court == courts["粤01"]


def test_issue_rejects_empty_fields_and_past_deadline(issue):
    with pytest.raises(ValidationError) as raised:
        issue("粤01", [], title=" ", task="", deadline=NOW - datetime.timedelta(minutes=1))
    errors = raised.value.message_dict
    assert "Enter a title" in errors["title"][0]
    assert "Enter the task" in errors["task"][0]
    assert "has passed; choose a later time" in errors["deadline"][0]
    assert "Choose at least one receiving court" in errors["recipients"][0]


def test_sibling_never_sees_another_courts_order(issue, commanders):
    only_0104 = issue("粤01", ["粤0104"])
    both = issue("粤01", ["粤0104", "粤0105"])

    sibling = commanders["粤0105"]
    assert list(services.visible_orders(sibling)) == [both]
    rows = services.visible_recipients(sibling).filter(order=both)
    assert [row.court.code for row in rows] == ["粤0105"]
    assert not services.visible_recipients(sibling).filter(order=only_0104).exists()
    for outsider in ("粤03", "粤0303"):
        assert not services.visible_orders(commanders[outsider]).exists()
    for above in ("粤01", "粤"):
        assert set(services.visible_orders(commanders[above])) == {only_0104, both}
        assert services.visible_recipients(commanders[above]).filter(order=both).count() == 2


def test_recipient_does_not_see_orders_of_its_superior(issue, commanders):
    order = issue("粤", ["粤01"])
    assert services.visible_orders(commanders["粤01"]).get() == order
    assert not services.visible_orders(commanders["粤0104"]).exists()


def test_skip_level_order_is_visible_to_the_court_between(issue, commanders):
    order = issue("粤", ["粤0104"], skip_level=True, skip_level_reason="直接督办")
    assert services.visible_orders(commanders["粤01"]).get() == order
    assert services.visible_orders(commanders["粤0104"]).get() == order
    assert not services.visible_orders(commanders["粤0105"]).exists()
    assert not services.visible_orders(commanders["粤03"]).exists()


def test_issue_publishes_to_recipients(issue, courts):
    order = issue("粤01", ["粤0104", "粤0105"])
    events = Event.objects.filter(kind="command.order_issued")
    assert {event.court.code for event in events} == {"粤0104", "粤0105"}
    assert all(event.severity == "info" for event in events)
    assert events[0].data["url"] == f"/command/{order.pk}/"
    assert order.title in events[0].data["title"]


def test_skip_level_order_publishes_major_events(issue):
    issue("粤", ["粤0104"], skip_level=True, skip_level_reason="直接督办")
    events = Event.objects.filter(kind="command.order_issued")
    assert {event.court.code for event in events} == {"粤0104", "粤01"}
    assert {event.severity for event in events} == {"major"}


def test_acknowledge_records_receipt_once(issue, commanders):
    order = issue("粤01", ["粤0104"])
    row = row_of(order, "粤0104")

    acknowledged = services.acknowledge(commanders["粤0104"], row, now=NOW)
    again = services.acknowledge(commanders["粤0104"], row)

    assert acknowledged.state == State.RECEIVED
    assert again.received_at == NOW
    assert again.received_by == commanders["粤0104"]
    events = Event.objects.filter(kind="command.order_received")
    assert sorted(event.court.code for event in events) == ["粤01", "粤0104"]


def test_only_the_receiving_court_acknowledges_and_replies(issue, commanders, make_user):
    order = issue("粤01", ["粤0104"])
    row = row_of(order, "粤0104")
    clerk = make_user("clerk0104", "粤0104", "clerk")
    for user in (commanders["粤0105"], commanders["粤01"], commanders["粤"], clerk):
        with pytest.raises(PermissionDenied):
            services.acknowledge(user, row)
        with pytest.raises(PermissionDenied):
            services.reply(user, row, "已完成")
    row.refresh_from_db()
    assert row.state == State.SENT


def test_reply_stores_text_and_files_once(issue, commanders, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    order = issue("粤01", ["粤0104"])
    row = row_of(order, "粤0104")
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")

    replied = services.reply(commanders["粤0104"], row, "已清理12件。", uploads=[photo], now=NOW)

    assert replied.state == State.REPLIED
    assert replied.received_at == NOW
    assert replied.replied_late is False
    attachment = OrderAttachment.objects.get()
    assert attachment.recipient == replied
    assert attachment.original_name == "现场.png"
    assert (tmp_path / "attachments" / attachment.stored_name).read_bytes() == PNG
    with pytest.raises(ValidationError) as raised:
        services.reply(commanders["粤0104"], row, "再次回复")
    assert "already replied" in raised.value.messages[0]
    events = Event.objects.filter(kind="command.order_replied")
    assert sorted(event.court.code for event in events) == ["粤01", "粤0104"]


def test_reply_needs_text(issue, commanders):
    row = row_of(issue("粤01", ["粤0104"]), "粤0104")
    with pytest.raises(ValidationError) as raised:
        services.reply(commanders["粤0104"], row, "  ")
    assert "Enter the reply" in raised.value.message_dict["text"][0]


def test_invalid_attachment_keeps_nothing(issue, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    good = SimpleUploadedFile("现场.png", PNG)
    fake = SimpleUploadedFile("照片.jpg", b"MZ\x90\x00not a photo")
    with pytest.raises(ValidationError) as raised:
        issue("粤01", ["粤0104"], uploads=[good, fake])
    assert "照片.jpg" in raised.value.message_dict["attachments"][0]
    assert Order.objects.count() == 0
    assert list((tmp_path / "attachments").iterdir()) == []


@pytest.fixture
def case_0104(courts):
    return case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 1, 5),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=[PartyInput(name="被执行人公司", kind="organisation")],
        claim_amount="1000.00",
    )


def test_linked_cases_must_be_in_scope(issue, case_0104):
    order = issue("粤01", ["粤0104"], case_numbers=[f" {case_0104.case_number} ", ""])
    assert list(order.cases.all()) == [case_0104]

    with pytest.raises(ValidationError) as raised:
        issue("粤03", ["粤0303"], case_numbers=[case_0104.case_number, "not a number"])
    problems = raised.value.message_dict["case_numbers"]
    assert any("not a valid case number" in problem for problem in problems)
    assert any(
        case_0104.case_number in problem and "no such case in your scope" in problem
        for problem in problems
    )


def test_close_order_closes_every_row(issue, commanders):
    order = issue("粤01", ["粤0104", "粤0105"])
    services.reply(commanders["粤0104"], row_of(order, "粤0104"), "完成")
    with pytest.raises(PermissionDenied):
        services.close_order(commanders["粤0104"], order)

    closed = services.close_order(commanders["粤01"], order, now=NOW)

    assert closed.closed_at == NOW
    assert set(order.recipients.values_list("state", flat=True)) == {State.CLOSED}
    with pytest.raises(ValidationError):
        services.reply(commanders["粤0105"], row_of(order, "粤0105"), "迟到的回复")
