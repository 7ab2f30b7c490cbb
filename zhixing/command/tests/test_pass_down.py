"""Passing an order down to basic courts, and the aggregation of their replies."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from zhixing.command import services
from zhixing.command.models import Order, OrderRecipient
from zhixing.command.tests.conftest import NOW, row_of
from zhixing.events.models import Event

pytestmark = pytest.mark.django_db

State = OrderRecipient.State
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def order(issue):
    return issue("粤", ["粤01", "粤03"], deadline=NOW + 72 * HOUR)


def pass_to(commanders, courts, order, codes, **values):
    values.setdefault("deadline", NOW + 48 * HOUR)
    values.setdefault("now", NOW)
    return services.pass_down(
        commanders["粤01"],
        row_of(order, "粤01"),
        courts=[courts[code] for code in codes],
        **values,
    )


def test_pass_down_creates_linked_child_order(order, commanders, courts):
    child = pass_to(commanders, courts, order, ["粤0104", "粤0105"], note="越秀区牵头")

    assert child.court == courts["粤01"]
    assert child.parent == order
    assert child.passed_down_from == row_of(order, "粤01")
    assert child.title == order.title
    assert child.task == order.task
    assert child.note == "越秀区牵头"
    assert sorted(child.recipients.values_list("court__code", flat=True)) == ["粤0104", "粤0105"]
    parent_row = row_of(order, "粤01")
    assert parent_row.state == State.RECEIVED
    assert parent_row.received_at == NOW
    issued = Event.objects.filter(kind="command.order_issued", subject_id=str(child.pk))
    assert sorted(event.court.code for event in issued) == ["粤0104", "粤0105"]
    passed = Event.objects.filter(kind="command.order_passed_down")
    assert sorted(event.court.code for event in passed) == ["粤", "粤01"]


def test_basic_court_sees_child_but_not_parent(order, commanders, courts):
    child = pass_to(commanders, courts, order, ["粤0104"])

    assert list(services.visible_orders(commanders["粤0104"])) == [child]
    assert not services.visible_orders(commanders["粤0105"]).exists()
    assert set(services.visible_orders(commanders["粤"])) == {order, child}
    assert set(services.visible_orders(commanders["粤03"])) == {order}


def test_pass_down_deadline_not_after_parent(order, commanders, courts):
    with pytest.raises(ValidationError) as raised:
        pass_to(commanders, courts, order, ["粤0104"], deadline=NOW + 73 * HOUR)
    assert "after the order's own deadline" in raised.value.message_dict["deadline"][0]
    assert not Order.objects.filter(passed_down_from__isnull=False).exists()


def test_pass_down_to_a_court_once(order, commanders, courts):
    pass_to(commanders, courts, order, ["粤0104"])
    with pytest.raises(ValidationError) as raised:
        pass_to(commanders, courts, order, ["粤0104", "粤0105"])
    assert courts["粤0104"].name in raised.value.message_dict["recipients"][0]
    second = pass_to(commanders, courts, order, ["粤0105"])
    assert second.recipients.get().court.code == "粤0105"


def test_pass_down_only_to_own_subordinates(order, commanders, courts):
    with pytest.raises(ValidationError) as raised:
        pass_to(commanders, courts, order, ["粤0303"])
    assert courts["粤0303"].name in raised.value.message_dict["recipients"][0]
    with pytest.raises(PermissionDenied):
        services.pass_down(
            commanders["粤03"],
            row_of(order, "粤01"),
            courts=[courts["粤0104"]],
            deadline=NOW + HOUR,
            now=NOW,
        )


def test_replied_order_cannot_be_passed_down(order, commanders, courts):
    services.reply(commanders["粤01"], row_of(order, "粤01"), "已办结", now=NOW)
    with pytest.raises(ValidationError) as raised:
        pass_to(commanders, courts, order, ["粤0104"])
    assert "already replied" in raised.value.messages[0]


def test_summary_aggregates_replies_and_overdue(order, commanders, courts):
    child = pass_to(commanders, courts, order, ["粤0104", "粤0105"], deadline=NOW + 24 * HOUR)
    services.reply(commanders["粤0104"], row_of(child, "粤0104"), "已完成", now=NOW + HOUR)
    parent_row = row_of(order, "粤01")

    summary = services.pass_down_summary(parent_row)
    assert [row.court.code for row in summary.replied] == ["粤0104"]
    assert [row.court.code for row in summary.waiting] == ["粤0105"]
    assert summary.overdue == []

    services.check_overdue(NOW + 25 * HOUR)
    summary = services.pass_down_summary(parent_row)
    assert [row.court.code for row in summary.overdue] == ["粤0105"]
    assert summary.waiting == []
    # The intermediate court is not late itself: its own deadline is later.
    assert row_of(order, "粤01").state == State.RECEIVED

    services.reply(
        commanders["粤01"], parent_row, "辖区两院 越秀已完成 海珠逾期", now=NOW + 26 * HOUR
    )
    assert row_of(order, "粤01").state == State.REPLIED
    rows = services.visible_recipients(commanders["粤"]).filter(order=order)
    assert {row.court.code: row.state for row in rows} == {"粤01": "replied", "粤03": "sent"}


def test_closing_the_parent_closes_passed_down_orders(order, commanders, courts):
    child = pass_to(commanders, courts, order, ["粤0104"])
    services.close_order(commanders["粤"], order, now=NOW)
    child.refresh_from_db()
    assert child.closed_at == NOW
    assert row_of(child, "粤0104").state == State.CLOSED
