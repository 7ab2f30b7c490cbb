"""No English codes or texts on the Chinese audit and application pages of a lifting."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from zhixing.approvals import services
from zhixing.approvals.tests.test_lifting import LIFT_REASON
from zhixing.approvals.tests.test_lifting_release import (
    answer_release,
    registered_restriction,
    release_items,
)

pytestmark = pytest.mark.django_db


def chinese_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_audit_page_names_lifting_answer(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    answer_release(police, item, {"type": "release", "result": "done"})

    page = chinese_client(staff["head00"]).get(
        "/audit/", {"object_type": "approvals.application", "object_id": str(application.pk)}
    )

    assert page.status_code == 200
    text = page.content.decode()
    assert "border_control_answered" not in text
    assert "border_control_lifting_answered" not in text, "raw event code on the audit page"


def test_application_page_lift_texts_chinese(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    page = chinese_client(staff["commander00"]).get(f"/approvals/{application.pk}/")
    visible = re.sub(r"<[^>]*>", " ", page.content.decode())
    for english in ("lift the restriction", "release", "Lift"):
        assert english not in visible, english
