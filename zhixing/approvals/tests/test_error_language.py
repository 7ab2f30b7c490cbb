"""Identity-number errors of exit-restriction applications in the language of the request."""

from __future__ import annotations

import pytest

from zhixing.approvals.models import Application
from zhixing.approvals.tests.test_api import api_client, exit_body

pytestmark = pytest.mark.django_db

# A resident ID number whose check character is wrong, and its masked form in messages.
BAD_ID = "44010419700101005X"
MASKED = "440104**********5X"


def post_application(language: str, staff, case):
    client = api_client(staff["officer0104"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    body = exit_body(case, person_document_number=BAD_ID)
    return client.post("/api/v1/approvals/exit-restriction/", body, format="json")


def test_exit_restriction_id_error_in_chinese(staff, case):
    response = post_application("zh-hans", staff, case)

    assert response.status_code == 400
    [message] = response.json()["person_document_number"]
    assert message.startswith(f"公民身份号码 {MASKED} 无效：")
    assert "校验码" in message
    assert not Application.objects.exists()


def test_exit_restriction_id_error_in_english(staff, case):
    response = post_application("en", staff, case)

    assert response.status_code == 400
    [message] = response.json()["person_document_number"]
    assert message.startswith(f"resident ID number {MASKED} is invalid:")
    assert "check character" in message
