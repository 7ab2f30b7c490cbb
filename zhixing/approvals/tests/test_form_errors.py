"""Errors of the application forms name the value typed and what is accepted, and store nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from zhixing.approvals.models import Application
from zhixing.approvals.tests.conftest import exit_input

pytestmark = pytest.mark.django_db


def exit_form(case, **overrides: str) -> dict[str, str]:
    data = exit_input(case)
    form = {
        "case_number": data.case_number,
        "person_document_type": data.person_document_type,
        "person_document_number": data.person_document_number,
        "reason": data.reason,
        "legal_basis": data.legal_basis,
        "period_months": str(data.period_months),
        "period_start": "2026-12-20",
    }
    form.update(overrides)
    return form


# (field, value typed, English message, Chinese message)
ERRORS = [
    (
        "period_months",
        "999",
        "Period (months) “999” is out of range; enter a number from 3 to 60.",
        "期限（月）“999”超出范围：请输入 3 至 60 之间的数。",
    ),
    (
        "period_months",
        "six",
        "Period (months) “six” is not a whole number; enter digits only, e.g. 6.",
        "期限（月）“six”不是整数：请只输入数字，例如 6。",
    ),
    (
        "period_start",
        "20.12.2026",
        "Period starts “20.12.2026” is not a date; use the form YYYY-MM-DD, e.g. 2026-03-15.",
        "“20.12.2026”不是日期：请按 YYYY-MM-DD 格式填写，例如 2026-03-15。",
    ),
    (
        "period_start",
        "9999-12-31",
        "Period starts “9999-12-31” is out of range; enter a date from 1950-01-01 to 2099-12-31.",
        "“9999-12-31”超出范围：请填写 1950-01-01 至 2099-12-31 之间的日期。",
    ),
]


def post_exit(staff, case, language: str, field: str, value: str):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(staff["officer0104"])
    return client.post("/approvals/new/exit_restriction/", exit_form(case, **{field: value}))


@pytest.mark.parametrize(("field", "value", "english", "chinese"), ERRORS)
def test_exit_restriction_error_in_english(staff, case, field, value, english, chinese):
    response = post_exit(staff, case, "en", field, value)

    assert response.status_code == 400
    assert list(response.context["form"].errors[field]) == [english]
    assert not Application.objects.exists()


@pytest.mark.parametrize(("field", "value", "english", "chinese"), ERRORS)
def test_exit_restriction_error_in_chinese(staff, case, field, value, english, chinese):
    response = post_exit(staff, case, "zh-hans", field, value)

    assert response.status_code == 400
    [message] = response.context["form"].errors[field]
    assert message.endswith(chinese)
    assert not Application.objects.exists()
