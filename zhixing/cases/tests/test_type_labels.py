"""Enforcement case types carry an English label, and pages show it in the user's language."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import translation

from zhixing.cases.case_numbers import CASE_TYPES, ENFORCEMENT_TYPE_CODES
from zhixing.cases.models import ENFORCEMENT_TYPE_LABELS
from zhixing.cases.tests.test_views import file_case

CJK = re.compile(r"[\u4e00-\u9fff]")


def type_options(page: str) -> dict[str, str]:
    select = re.search(r'<select name="type">(.*?)</select>', page, re.S)
    assert select is not None
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select.group(1)))


def test_unit_every_type_has_english_label():
    assert set(ENFORCEMENT_TYPE_LABELS) == set(ENFORCEMENT_TYPE_CODES)
    with translation.override("en"):
        english = {code: str(label) for code, label in ENFORCEMENT_TYPE_LABELS.items()}
    for code, label in english.items():
        assert label, code
        assert not CJK.search(label), (code, label)
        assert label != CASE_TYPES[code]
    assert len(set(english.values())) == len(english)


@pytest.mark.django_db
def test_case_list_type_filter_in_english(courts, make_user):
    user = make_user("head01", "粤01", "bureau_head")
    file_case(courts["粤0104"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    page = client.get("/cases/").content.decode()
    options = type_options(page)
    assert options["执他"] == "执他 — Other enforcement"
    assert options["执协"] == "执协 — Enforcement coordination"
    assert options["执复"] == "执复 — Enforcement review"
    assert options["执异"] == "执异 — Enforcement objection"
    assert options["执监"] == "执监 — Enforcement supervision"
    assert options["执"] == "执 — Enforcement"
    assert options["执恢"] == "执恢 — Resumed enforcement"
    assert options["执保"] == "执保 — Preservation enforcement"
    # The filed types come first, as before.
    assert list(options)[:3] == ["执", "执恢", "执保"]


@pytest.mark.django_db
def test_type_filter_chinese_unchanged(courts, make_user):
    user = make_user("head01", "粤01", "bureau_head")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    options = type_options(client.get("/cases/").content.decode())
    assert options["执"] == "执 — 首次执行"
    assert options["执恢"] == "执恢 — 恢复执行"
    assert options["执保"] == "执保 — 财产保全执行"
    for code in ("执异", "执复", "执监", "执协", "执他"):
        assert options[code] == f"{code} — {CASE_TYPES[code]}"


@pytest.mark.django_db
def test_invalid_type_message_in_english(courts, make_user):
    user = make_user("head01", "粤01", "bureau_head")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    page = client.get("/cases/", {"type": "执x"}).content.decode()
    assert "Other enforcement" in page
    assert "其他执行案件" not in page
