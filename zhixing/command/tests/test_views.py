"""Command pages: scope (404), roles (403), forms, live partials and file downloads."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from zhixing.command import services
from zhixing.command.models import Order, OrderAttachment
from zhixing.command.tests.conftest import row_of

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def future(hours: int = 48) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=hours)


@pytest.fixture
def order(issue):
    return issue("粤01", ["粤0104"], deadline=future(), now=timezone.now())


@pytest.mark.parametrize(
    "path",
    ["/command/{pk}/", "/command/{pk}/pass-down/"],
)
def test_order_pages_outside_scope_are_404(order, commanders, path):
    for code in ("粤0105", "粤03", "粤0303"):
        response = client_for(commanders[code]).get(path.format(pk=order.pk))
        assert response.status_code == 404, code
    assert client_for(commanders["粤0104"]).get(path.format(pk=order.pk)).status_code == 200


def test_order_page_visible_to_issuer_and_above(order, commanders):
    for code in ("粤01", "粤"):
        response = client_for(commanders[code]).get(f"/command/{order.pk}/")
        assert response.status_code == 200
        assert "清理积案" in response.content.decode()


def test_pages_need_a_command_role(order, make_user):
    officer = client_for(make_user("officer0104", "粤0104", "case_officer"))
    for path in ("/command/", f"/command/{order.pk}/", "/command/new/", "/command/duty/"):
        assert officer.get(path).status_code == 403, path
    head = client_for(make_user("head0104", "粤0104", "bureau_head"))
    assert head.get(f"/command/{order.pk}/").status_code == 200
    assert head.get("/command/new/").status_code == 403
    assert head.post(f"/command/{order.pk}/acknowledge/").status_code == 403


def test_nav_link_for_command_roles(commanders, make_user):
    assert 'data-testid="nav-command"' in client_for(commanders["粤01"]).get("/").content.decode()
    officer = client_for(make_user("officer0104", "粤0104", "case_officer"))
    assert 'data-testid="nav-command"' not in officer.get("/").content.decode()


def test_new_order_form_sends_order(commanders, courts):
    client = client_for(commanders["粤01"])
    page = client.get("/command/new/")
    assert page.status_code == 200
    assert courts["粤0104"].name in page.content.decode()

    response = client.post(
        "/command/new/",
        {
            "title": "春节前集中执行",
            "task": "组织集中执行行动并报告结果。",
            "deadline": future().astimezone(services.CHINA).strftime("%Y-%m-%dT%H:%M"),
            "recipients": [courts["粤0104"].pk, courts["粤0105"].pk],
            "attachments": [SimpleUploadedFile("方案.png", PNG)],
        },
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/command/{order.pk}/"
    assert order.recipients.count() == 2
    assert order.attachments.get().original_name == "方案.png"


def test_skip_level_error_names_the_court_and_fix(commanders, courts):
    client = client_for(commanders["粤"])
    response = client.post(
        "/command/new/",
        {
            "title": "督办",
            "task": "报告",
            "deadline": future().astimezone(services.CHINA).strftime("%Y-%m-%dT%H:%M"),
            "recipients": [courts["粤0104"].pk],
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert f"{courts['粤0104'].name} is not a direct subordinate" in text
    assert "Skip-level order" in text
    assert not Order.objects.exists()


def test_acknowledge_and_reply_through_pages(order, commanders):
    client = client_for(commanders["粤0104"])
    page = client.get(f"/command/{order.pk}/").content.decode()
    assert 'data-testid="acknowledge"' in page

    assert client.post(f"/command/{order.pk}/acknowledge/").status_code == 302
    assert row_of(order, "粤0104").state == "received"

    response = client.post(
        f"/command/{order.pk}/reply/",
        {"text": "已完成", "attachments": [SimpleUploadedFile("回执.png", PNG)]},
    )
    assert response.status_code == 302
    assert row_of(order, "粤0104").state == "replied"

    empty = client.post(f"/command/{order.pk}/reply/", {"text": ""})
    assert empty.status_code == 400


def test_reply_of_another_court_is_404(order, commanders):
    response = client_for(commanders["粤0105"]).post(f"/command/{order.pk}/reply/", {"text": "x"})
    assert response.status_code == 404
    # The issuing court sees the order but has no row of its own to reply with.
    response = client_for(commanders["粤01"]).post(f"/command/{order.pk}/reply/", {"text": "x"})
    assert response.status_code == 404


def test_reply_file_downloads_only_in_scope(order, commanders):
    services.reply(
        commanders["粤0104"],
        row_of(order, "粤0104"),
        "附照片",
        uploads=[SimpleUploadedFile("a.png", PNG)],
    )
    attachment = OrderAttachment.objects.get()
    path = f"/command/attachments/{attachment.pk}/"
    for code in ("粤0104", "粤01", "粤"):
        response = client_for(commanders[code]).get(path)
        assert response.status_code == 200, code
        assert b"".join(response.streaming_content) == PNG
    for code in ("粤0105", "粤03"):
        assert client_for(commanders[code]).get(path).status_code == 404, code


def test_sibling_reply_file_hidden_from_co_recipient(issue, commanders):
    order = issue("粤01", ["粤0104", "粤0105"], deadline=future(), now=timezone.now())
    services.reply(
        commanders["粤0104"],
        row_of(order, "粤0104"),
        "附件",
        uploads=[SimpleUploadedFile("a.png", PNG)],
    )
    attachment = OrderAttachment.objects.get()
    assert (
        client_for(commanders["粤0105"]).get(f"/command/attachments/{attachment.pk}/").status_code
        == 404
    )
    page = client_for(commanders["粤0105"]).get(f"/command/{order.pk}/").content.decode()
    assert "附件" not in page


def test_pass_down_page(issue, commanders, courts):
    order = issue("粤", ["粤01"], deadline=future(72), now=timezone.now())
    client = client_for(commanders["粤01"])
    assert client.get(f"/command/{order.pk}/pass-down/").status_code == 200
    response = client.post(
        f"/command/{order.pk}/pass-down/",
        {
            "courts": [courts["粤0104"].pk],
            "deadline": future(24).astimezone(services.CHINA).strftime("%Y-%m-%dT%H:%M"),
            "note": "越秀区办理",
        },
    )
    assert response.status_code == 302
    child = Order.objects.get(passed_down_from__isnull=False)
    page = client.get(f"/command/{order.pk}/").content.decode()
    assert f'data-testid="passed-{courts["粤0104"].pk}"' in page
    basic = client_for(commanders["粤0104"]).get(f"/command/{child.pk}/").content.decode()
    assert "越秀区办理" in basic

    late = client.post(
        f"/command/{order.pk}/pass-down/",
        {
            "courts": [courts["粤0105"].pk],
            "deadline": future(100).astimezone(services.CHINA).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert late.status_code == 400
    assert "after the order&#x27;s own deadline" in late.content.decode()


def test_order_list_partial_for_live_refresh(order, commanders):
    client = client_for(commanders["粤0104"])
    page = client.get("/command/").content.decode()
    assert 'hx-trigger="zhixing-live from:body"' in page
    assert f'data-testid="received-{order.pk}"' in page
    partial = client.get("/command/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<div id="order-lists"')
    assert "<html" not in partial
    sibling = client_for(commanders["粤0105"]).get("/command/").content.decode()
    assert f'data-testid="received-{order.pk}"' not in sibling
    assert "清理积案" not in sibling


def test_duty_page_signs_in_and_lists_missing(make_user, courts, commanders):
    duty = client_for(make_user("duty0104", "粤0104", "duty_officer"))
    assert duty.post("/command/duty/sign-in/").status_code == 302
    again = duty.post("/command/duty/sign-in/", follow=True).content.decode()
    assert "already signed in" in again

    page = client_for(commanders["粤01"]).get("/command/duty/").content.decode()
    assert "1 of 3 courts signed in, 2 missing" in page
    assert courts["粤0105"].name in page


def test_duty_page_joins_missing_courts_in_chinese(courts, commanders):
    client = client_for(commanders["粤01"])

    page = client.get("/command/duty/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    missing = re.search(r'data-testid="missing-\d+">(.*?)</span></p>', page, re.DOTALL)
    assert missing is not None
    assert "、" in missing.group(1)
    assert ", " not in missing.group(1)
