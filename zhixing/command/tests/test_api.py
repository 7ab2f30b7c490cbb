"""REST API of orders, supervision and duty sign-in: lifecycle, scope, roles, input errors."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from zhixing.audit.models import AuditRecord
from zhixing.command import services
from zhixing.command.models import DutySignIn, Order, OrderAttachment, OrderRecipient
from zhixing.command.tests.conftest import NOW, row_of
from zhixing.courts import services as court_services
from zhixing.events.models import Event
from zhixing.reports.tests.test_api import assert_documented

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HOUR = datetime.timedelta(hours=1)
COMMAND_PATHS = ("/api/v1/orders", "/api/v1/duty")


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def api_client(user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


def in_hours(hours: float) -> str:
    return (timezone.now() + datetime.timedelta(hours=hours)).isoformat()


def order_body(courts: dict[str, Any], to: list[str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "春节前集中执行",
        "task": "组织集中执行行动并报告结果。",
        "deadline": in_hours(72),
        "recipients": [courts[code].pk for code in to],
    }
    body.update(overrides)
    return body


def rows_by_code(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["court"]["code"]: row for row in order["recipients"]}


def listed_ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def order(issue):
    return issue("粤01", ["粤0104"], deadline=timezone.now() + 48 * HOUR, now=timezone.now())


# The whole lifecycle, through the API only


def test_order_lifecycle_through_api(courts, commanders):
    high, intermediate = api_client(commanders["粤"]), api_client(commanders["粤01"])

    rejected = high.post("/api/v1/orders/", order_body(courts, ["粤01", "粤0303"]), format="json")
    assert rejected.status_code == 400
    message = " ".join(rejected.json()["recipients"])
    assert f"{courts['粤0303'].name} is not a direct subordinate" in message
    assert "Skip-level order" in message
    assert not Order.objects.exists()

    issued = high.post("/api/v1/orders/", order_body(courts, ["粤01"]), format="json")
    assert issued.status_code == 201, issued.content
    order_id = issued.json()["id"]
    assert list(rows_by_code(issued.json())) == ["粤01"]
    assert rows_by_code(issued.json())["粤01"]["state"] == "sent"

    received = intermediate.get("/api/v1/orders/", {"direction": "received"})
    assert listed_ids(received) == [order_id]
    assert received.json()["results"][0]["own"]["state"] == "sent"
    acknowledged = intermediate.post(f"/api/v1/orders/{order_id}/acknowledge/")
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json()["own"]["state"] == "received"

    passed = intermediate.post(
        f"/api/v1/orders/{order_id}/pass-down/",
        {
            "recipients": [courts["粤0104"].pk, courts["粤0105"].pk],
            "deadline": in_hours(48),
            "note": "越秀区、海珠区分别办理",
        },
        format="json",
    )
    assert passed.status_code == 201, passed.content
    child = passed.json()
    assert child["parent"]["id"] == order_id
    assert child["note"] == "越秀区、海珠区分别办理"
    assert sorted(rows_by_code(child)) == ["粤0104", "粤0105"]

    basic = api_client(commanders["粤0104"])
    reply = basic.post(f"/api/v1/orders/{child['id']}/reply/", {"text": "已完成"}, format="json")
    assert reply.status_code == 200, reply.content
    assert reply.json()["own"]["state"] == "replied"
    assert list(rows_by_code(reply.json())) == ["粤0104"]

    aggregated = high.get(f"/api/v1/orders/{order_id}/").json()
    passed_down = rows_by_code(aggregated)["粤01"]["passed_down"]
    assert passed_down["replied_count"] == 1
    assert passed_down["waiting_count"] == 1
    assert passed_down["overdue_count"] == 0
    replies = {row["court"]["code"]: row["reply"] for row in passed_down["rows"]}
    assert replies == {"粤0104": "已完成", "粤0105": ""}

    answered = intermediate.post(
        f"/api/v1/orders/{order_id}/reply/", {"text": "辖区两院已部署"}, format="json"
    )
    assert answered.status_code == 200, answered.content
    closed = high.post(f"/api/v1/orders/{order_id}/close/")
    assert closed.status_code == 200, closed.content
    assert closed.json()["closed_at"] is not None
    states = set(OrderRecipient.objects.values_list("state", flat=True))
    assert states == {OrderRecipient.State.CLOSED}
    assert Order.objects.filter(closed_at__isnull=True).count() == 0


def test_skip_level_order_with_reason_is_audited(courts, commanders):
    response = api_client(commanders["粤"]).post(
        "/api/v1/orders/",
        order_body(courts, ["粤0303"], skip_level=True, skip_level_reason="案情紧急，直接督办"),
        format="json",
    )

    assert response.status_code == 201, response.content
    order = response.json()
    assert order["skip_level"] is True
    assert order["skip_level_reason"] == "案情紧急，直接督办"
    assert rows_by_code(order)["粤0303"]["skip_level"] is True
    records = AuditRecord.objects.filter(object_type="command.order", action="create")
    (record,) = [record for record in records if record.detail.get("skip_level")]
    assert record.detail["reason"] == "案情紧急，直接督办"
    assert record.detail["courts"] == ["粤0303"]
    assert record.channel == "api"
    # The court between lists the skip-level order among the other orders of its scope.
    between = api_client(commanders["粤03"]).get("/api/v1/orders/", {"direction": "others"})
    assert listed_ids(between) == [order["id"]]


def test_skip_level_flag_without_reason_rejected(courts, commanders):
    response = api_client(commanders["粤"]).post(
        "/api/v1/orders/", order_body(courts, ["粤0303"], skip_level=True), format="json"
    )

    assert response.status_code == 400
    assert "give the reason" in " ".join(response.json()["recipients"])
    assert not Order.objects.exists()
    assert not AuditRecord.objects.filter(object_type="command.order").exists()


# Scope and roles


def test_order_hidden_outside_scope(order, commanders):
    for code in ("粤0105", "粤03", "粤0303"):
        client = api_client(commanders[code])
        assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 404, code
        assert client.post(f"/api/v1/orders/{order.pk}/acknowledge/").status_code == 404, code
        assert listed_ids(client.get("/api/v1/orders/")) == [], code
    for code in ("粤0104", "粤01", "粤"):
        assert api_client(commanders[code]).get(f"/api/v1/orders/{order.pk}/").status_code == 200


def test_co_recipient_sees_only_own_row(issue, commanders):
    order = issue("粤01", ["粤0104", "粤0105"], deadline=timezone.now() + 48 * HOUR)
    services.reply(commanders["粤0104"], row_of(order, "粤0104"), "越秀区回复")

    sibling = api_client(commanders["粤0105"]).get(f"/api/v1/orders/{order.pk}/").json()
    issuer = api_client(commanders["粤01"]).get(f"/api/v1/orders/{order.pk}/").json()

    assert list(rows_by_code(sibling)) == ["粤0105"]
    assert "越秀区回复" not in json.dumps(sibling, ensure_ascii=False)
    assert sorted(rows_by_code(issuer)) == ["粤0104", "粤0105"]
    assert issuer["own"] is None


def test_roles_without_command_are_rejected(order, make_user, courts):
    officer = api_client(make_user("officer0104", "粤0104", "case_officer"))
    for path in ("/api/v1/orders/", f"/api/v1/orders/{order.pk}/", "/api/v1/duty/today/"):
        response = officer.get(path)
        assert response.status_code == 403, path
        assert "Only commanders, duty officers and bureau heads" in response.json()["detail"]
    head = api_client(make_user("head0104", "粤0104", "bureau_head"))
    assert head.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    assert head.post(f"/api/v1/orders/{order.pk}/acknowledge/").status_code == 403
    issued = head.post("/api/v1/orders/", order_body(courts, ["粤0104"]), format="json")
    assert issued.status_code == 403
    assert row_of(order, "粤0104").received_at is None


def test_anonymous_caller_is_rejected(order):
    client = api_client()
    for path in ("/api/v1/orders/", f"/api/v1/orders/{order.pk}/", "/api/v1/duty/today/"):
        assert client.get(path).status_code == 401, path
    assert client.post("/api/v1/duty/sign-in/").status_code == 401


def test_own_row_needed_to_answer(order, commanders):
    # The issuing court may read the order but has no row of its own to reply with.
    response = api_client(commanders["粤01"]).post(
        f"/api/v1/orders/{order.pk}/reply/", {"text": "x"}, format="json"
    )
    assert response.status_code == 404
    assert "not sent to your court" in response.json()["detail"]


def test_only_issuer_closes(order, commanders):
    response = api_client(commanders["粤0104"]).post(f"/api/v1/orders/{order.pk}/close/")

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.closed_at is None


# Bad input


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"title": ""}, "title", ["blank"]),
        ({"deadline": "2020-01-01T09:00"}, "deadline", ["2020-01-01 09:00", "has passed"]),
        ({"deadline": "next week"}, "deadline", ["format"]),
        ({"recipients": [999999]}, "recipients", ["999999", "/api/v1/courts/"]),
        ({"recipients": ["粤0104"]}, "recipients", ["number", "str"]),
        ({"recipients": []}, "recipients", ["at least one"]),
        ({"case_numbers": ["不是案号"]}, "case_numbers", ["不是案号", "not a valid case number"]),
    ],
)
def test_issue_rejects_bad_input(courts, commanders, overrides, field, words):
    response = api_client(commanders["粤01"]).post(
        "/api/v1/orders/", order_body(courts, ["粤0104"], **overrides), format="json"
    )

    assert response.status_code == 400
    message = " ".join(str(item) for item in response.json()[field])
    for word in words:
        assert word in message
    assert not Order.objects.exists()
    assert not Event.objects.exists()


def test_order_to_court_outside_tree_rejected(courts, commanders):
    response = api_client(commanders["粤01"]).post(
        "/api/v1/orders/", order_body(courts, ["粤0303"]), format="json"
    )

    assert response.status_code == 400
    assert "is not below" in " ".join(response.json()["recipients"])
    assert not Order.objects.exists()


def test_pass_down_rejects_late_deadline(issue, commanders, courts):
    order = issue("粤", ["粤01"], deadline=timezone.now() + 24 * HOUR, now=timezone.now())

    response = api_client(commanders["粤01"]).post(
        f"/api/v1/orders/{order.pk}/pass-down/",
        {"recipients": [courts["粤0104"].pk], "deadline": in_hours(48)},
        format="json",
    )

    assert response.status_code == 400
    assert "after the order's own deadline" in " ".join(response.json()["deadline"])
    assert Order.objects.count() == 1


def test_pass_down_deadline_defaults_to_order(issue, commanders, courts):
    order = issue("粤", ["粤01"], deadline=timezone.now() + 24 * HOUR, now=timezone.now())

    response = api_client(commanders["粤01"]).post(
        f"/api/v1/orders/{order.pk}/pass-down/",
        {"recipients": [courts["粤0104"].pk]},
        format="json",
    )

    assert response.status_code == 201, response.content
    child = Order.objects.get(passed_down_from__isnull=False)
    assert child.deadline == order.deadline
    assert row_of(order, "粤01").state == OrderRecipient.State.RECEIVED


def test_reply_twice_rejected(order, commanders):
    client = api_client(commanders["粤0104"])

    first = client.post(f"/api/v1/orders/{order.pk}/reply/", {"text": "完成"}, format="json")
    second = client.post(f"/api/v1/orders/{order.pk}/reply/", {"text": "再次"}, format="json")
    blank = api_client(commanders["粤0104"]).post(
        f"/api/v1/orders/{order.pk}/reply/", {"text": " "}, format="json"
    )

    assert first.status_code == 200
    assert second.status_code == 400
    assert "replied to once" in " ".join(second.json()["detail"])
    assert blank.status_code == 400
    assert row_of(order, "粤0104").reply == "完成"


@pytest.mark.parametrize(
    ("parameters", "field", "words"),
    [
        ({"direction": "sideways"}, "direction", ["sideways", "received, issued, others"]),
        ({"state": "lost"}, "state", ["lost", "overdue"]),
        ({"closed": "perhaps"}, "closed", ["perhaps", "0 or 1"]),
    ],
)
def test_list_rejects_bad_filter(commanders, parameters, field, words):
    response = api_client(commanders["粤01"]).get("/api/v1/orders/", parameters)

    assert response.status_code == 400
    message = " ".join(response.json()[field])
    for word in words:
        assert word in message


def test_list_filters(issue, commanders):
    later = timezone.now() + 48 * HOUR
    issued = issue("粤01", ["粤0104"], deadline=later, now=timezone.now())
    received = issue("粤", ["粤01"], deadline=later, now=timezone.now())
    services.close_order(commanders["粤01"], issued)
    client = api_client(commanders["粤01"])

    assert listed_ids(client.get("/api/v1/orders/", {"direction": "issued"})) == [issued.pk]
    assert listed_ids(client.get("/api/v1/orders/", {"direction": "received"})) == [received.pk]
    assert listed_ids(client.get("/api/v1/orders/", {"closed": "1"})) == [issued.pk]
    assert listed_ids(client.get("/api/v1/orders/", {"closed": "0"})) == [received.pk]
    assert listed_ids(client.get("/api/v1/orders/", {"state": "sent"})) == [received.pk]
    high = api_client(commanders["粤"])
    assert listed_ids(high.get("/api/v1/orders/", {"direction": "others"})) == [issued.pk]
    assert listed_ids(high.get("/api/v1/orders/", {"direction": "issued"})) == [received.pk]


# Attachments


def test_order_files_through_multipart(courts, commanders, tmp_path):
    body = order_body(
        courts,
        ["粤0104", "粤0105"],
        attachments=[SimpleUploadedFile("方案.png", PNG)],
    )

    response = api_client(commanders["粤01"]).post("/api/v1/orders/", body, format="multipart")

    assert response.status_code == 201, response.content
    order = response.json()
    (file,) = order["files"]
    assert file["name"] == "方案.png"
    for code in ("粤0104", "粤0105", "粤"):
        download = api_client(commanders[code]).get(file["download"])
        assert download.status_code == 200, code
        assert b"".join(download.streaming_content) == PNG
    assert api_client(commanders["粤03"]).get(file["download"]).status_code == 404

    reply = api_client(commanders["粤0104"]).post(
        f"/api/v1/orders/{order['id']}/reply/",
        {"text": "附回执", "attachments": [SimpleUploadedFile("回执.png", PNG)]},
        format="multipart",
    )
    assert reply.status_code == 200, reply.content
    (reply_file,) = reply.json()["own"]["files"]
    assert api_client(commanders["粤01"]).get(reply_file["download"]).status_code == 200
    assert api_client(commanders["粤0105"]).get(reply_file["download"]).status_code == 404


def test_bad_order_file_stores_nothing(courts, commanders, tmp_path):
    body = order_body(
        courts,
        ["粤0104"],
        attachments=[SimpleUploadedFile("方案.png", PNG), SimpleUploadedFile("a.exe", b"MZ")],
    )

    response = api_client(commanders["粤01"]).post("/api/v1/orders/", body, format="multipart")

    assert response.status_code == 400
    assert "a.exe is not an accepted file" in " ".join(response.json()["attachments"])
    assert not Order.objects.exists()
    assert not OrderAttachment.objects.exists()
    folder = tmp_path / "attachments"
    assert not folder.exists() or not any(folder.iterdir())


# Supervision of overdue orders


def test_supervision_state_of_overdue_order(issue, commanders, settings):
    settings.COMMAND_SUPERVISION_HOURS = 12
    due = NOW + 24 * HOUR
    order = issue("粤01", ["粤0104", "粤0105"], deadline=due)
    services.reply(commanders["粤0105"], row_of(order, "粤0105"), "已完成", now=NOW)
    services.check_overdue(due)
    services.check_overdue(due + 12 * HOUR)

    issuer = api_client(commanders["粤01"])
    detail = issuer.get(f"/api/v1/orders/{order.pk}/").json()
    late = rows_by_code(detail)["粤0104"]
    overdue = issuer.get("/api/v1/orders/", {"state": "overdue"})
    notices = issuer.get("/api/v1/orders/supervision-notices/").json()["results"]
    high_notices = api_client(commanders["粤"]).get("/api/v1/orders/supervision-notices/")
    other_notices = api_client(commanders["粤03"]).get("/api/v1/orders/supervision-notices/")

    assert late["state"] == "overdue"
    assert late["overdue_at"] is not None
    assert late["reminded_at"] is not None
    assert late["supervised_at"] is not None
    assert rows_by_code(detail)["粤0105"]["state"] == "replied"
    assert [notice["court"]["code"] for notice in detail["supervision_notices"]] == ["粤0104"]
    assert listed_ids(overdue) == [order.pk]
    assert overdue.json()["results"][0]["overdue_count"] == 1
    assert [(notice["order"], notice["court"]["code"]) for notice in notices] == [
        (order.pk, "粤0104")
    ]
    assert len(high_notices.json()["results"]) == 1
    assert other_notices.json()["results"] == []

    late_reply = api_client(commanders["粤0104"]).post(
        f"/api/v1/orders/{order.pk}/reply/", {"text": "迟复"}, format="json"
    )
    assert late_reply.status_code == 200
    assert late_reply.json()["own"]["replied_late"] is True


# Duty sign-in


def test_duty_sign_in_and_status(make_user, courts, commanders):
    duty = api_client(make_user("duty0104", "粤0104", "duty_officer"))

    signed = duty.post("/api/v1/duty/sign-in/")
    again = duty.post("/api/v1/duty/sign-in/")
    commander = api_client(commanders["粤0105"]).post("/api/v1/duty/sign-in/")
    status = api_client(commanders["粤01"]).get("/api/v1/duty/today/").json()
    own = duty.get("/api/v1/duty/today/").json()

    assert signed.status_code == 201, signed.content
    assert signed.json()["court"]["code"] == "粤0104"
    assert signed.json()["user"] == "duty0104"
    assert again.status_code == 400
    assert "already signed in" in " ".join(again.json()["detail"])
    assert commander.status_code == 403
    assert DutySignIn.objects.count() == 1
    assert status["signed_count"] == 1
    assert status["missing_count"] == 2
    assert status["total"] == 3
    (group,) = status["groups"]
    assert group["court"]["code"] == "粤01"
    assert [item["court"]["code"] for item in group["signed"]] == ["粤0104"]
    assert [court["code"] for court in group["missing"]] == ["粤01", "粤0105"]
    assert own["total"] == 1
    assert own["signed_count"] == 1


def test_high_court_sees_every_court_missing(courts, commanders):
    status = api_client(commanders["粤"]).get("/api/v1/duty/today/").json()

    assert status["signed_count"] == 0
    assert status["missing_count"] == 6
    assert [group["court"]["code"] for group in status["groups"]] == ["粤", "粤01", "粤03"]


# The OpenAPI document


def test_openapi_documents_command_endpoints(commanders):
    response = api_client(commanders["粤01"]).get("/api/openapi.json")
    document = json.loads(response.content)

    for path in (
        "/api/v1/orders/",
        "/api/v1/orders/{id}/",
        "/api/v1/orders/{id}/acknowledge/",
        "/api/v1/orders/{id}/reply/",
        "/api/v1/orders/{id}/pass-down/",
        "/api/v1/orders/{id}/close/",
        "/api/v1/orders/attachments/{id}/",
        "/api/v1/orders/supervision-notices/",
        "/api/v1/duty/today/",
        "/api/v1/duty/sign-in/",
    ):
        assert path in document["paths"], path
    assert_documented(document, COMMAND_PATHS)


def test_list_queries_do_not_grow_with_orders(issue, commanders):
    client = api_client(commanders["粤01"])
    # The first request also reads the court tree, which later ones reuse.
    assert client.get("/api/v1/orders/").status_code == 200
    counts = []
    for _round in range(2):
        for _number in range(3):
            order = issue("粤01", ["粤0104", "粤0105"], deadline=timezone.now() + 48 * HOUR)
            services.reply(
                commanders["粤0104"],
                row_of(order, "粤0104"),
                "附件",
                uploads=[SimpleUploadedFile("a.png", PNG)],
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/orders/").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
