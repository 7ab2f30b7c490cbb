"""Errors of the filing form name the value typed and what is accepted, and store nothing."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from zhixing.cases.tests.factories import make_resident_id
from zhixing.cases.tests.test_views import _filing_data, _nothing_saved

pytestmark = pytest.mark.django_db

LONG_COURT = "广州市越秀区人民法院" * 12
SHOWN_COURT = LONG_COURT[:39] + "…"

# (field, value typed, English message, Chinese message)
ERRORS = [
    (
        "claim_amount",
        "12345678901234567",
        "Claim amount (yuan) “12345678901234567” has too many digits: at most 14 digits before "
        "the point and 2 after, e.g. 150000.00.",
        "申请执行标的（元）“12345678901234567”位数过多：最多 14 位整数、2 位小数，例如 150000.00。",
    ),
    (
        "claim_amount",
        "100.125",
        "Claim amount (yuan) “100.125” has too many decimals: at most 2, e.g. 150000.00.",
        "申请执行标的（元）“100.125”小数位数过多：最多 2 位小数，例如 150000.00。",
    ),
    (
        "claim_amount",
        "-5",
        "Claim amount (yuan) “-5” is too small; enter 0 or more.",
        "申请执行标的（元）“-5”过小：请输入不小于 0 的数。",
    ),
    (
        "claim_amount",
        "12,5x",
        "Claim amount (yuan) “12,5x” is not a number; enter digits, with a point before any "
        "decimals, e.g. 150000.00.",
        "申请执行标的（元）“12,5x”不是数字：请输入数字，小数部分用小数点隔开，例如 150000.00。",
    ),
    (
        "filed_on",
        "2026-02-30",
        "Filing date “2026-02-30” is not a date; use the form YYYY-MM-DD, e.g. 2026-03-15.",
        "立案日期“2026-02-30”不是日期：请按 YYYY-MM-DD 格式填写，例如 2026-03-15。",
    ),
    (
        "filed_on",
        "1900-01-01",
        "Filing date “1900-01-01” is out of range; enter a date from 1950-01-01 to 2099-12-31.",
        "立案日期“1900-01-01”超出范围：请填写 1950-01-01 至 2099-12-31 之间的日期。",
    ),
    (
        "basis_court",
        LONG_COURT,
        f"Issuing court or body is too long: 120 characters where at most 100 fit; shorten "
        f"“{SHOWN_COURT}”.",
        f"作出依据的法院或机构过长：共 120 个字符，最多 100 个；请缩短“{SHOWN_COURT}”。",
    ),
    (
        "type_code",
        "执X",
        "Case type “执X” is not one of the choices; choose one of 执 (执 — Enforcement), "
        "执恢 (执恢 — Resumed enforcement), 执保 (执保 — Preservation enforcement).",
        "案件类型“执X”不是可选项：请选择 执（执 — 首次执行）、",
    ),
]


def post_filing(user, language: str, field: str, value: str):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client.post("/cases/new/", _filing_data(**{field: value}))


@pytest.mark.parametrize(("field", "value", "english", "chinese"), ERRORS)
def test_filing_error_in_english(courts, make_user, field, value, english, chinese):
    response = post_filing(make_user("officer", "粤0104"), "en", field, value)

    assert response.status_code == 400
    [message] = response.context["form"].errors[field]
    assert message == english
    assert _nothing_saved()


@pytest.mark.parametrize(("field", "value", "english", "chinese"), ERRORS)
def test_filing_error_in_chinese(courts, make_user, field, value, english, chinese):
    response = post_filing(make_user("officer", "粤0104"), "zh-hans", field, value)

    assert response.status_code == 400
    [message] = response.context["form"].errors[field]
    assert message.startswith(chinese)
    assert chinese in response.content.decode()
    assert _nothing_saved()


def test_document_number_shown_not_logged(courts, make_user, caplog):
    # An ID number with a digit too many: the page repeats it to the officer who typed it.
    typed = make_resident_id("440106", "19800303", 5) + "7" * 30
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user("officer", "粤0104"))

    with caplog.at_level(logging.DEBUG):
        response = client.post("/cases/new/", _filing_data(**{"debtors-0-document_number": typed}))

    assert response.status_code == 400
    assert (
        f"Document number is too long: 48 characters where at most 40 fit; shorten “{typed[:39]}…”."
        in (response.content.decode())
    )
    assert typed[:18] not in caplog.text
    assert _nothing_saved()
