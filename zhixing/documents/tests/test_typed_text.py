"""Typed text in documents: one line of markup, strings of a context, and length limits."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from zhixing.documents import markup
from zhixing.documents.typed_text import check_length, markup_text, markup_values


def test_unit_markup_text_keeps_one_line():
    typed = "第一项：某房产\r\n\n  @ 某某法院 \n# 标题 | 另一格"

    assert markup_text(typed) == "第一项：某房产 @ 某某法院 # 标题 ｜ 另一格"


def test_unit_markup_text_keeps_angle_brackets():
    assert markup_text("<b>粗体</b> & 号") == "<b>粗体</b> & 号"


def test_unit_markup_text_stays_one_cell():
    value = markup_text("甲\n| 乙 | 丙 |\n@ 丁")

    blocks = markup.parse(f"| 财产 | {value} |\n@ 某某法院")

    assert blocks[0].rows == [["财产", "甲 ｜ 乙 ｜ 丙 ｜ @ 丁"]]
    assert [block.kind for block in blocks] == [markup.BlockKind.TABLE, markup.BlockKind.SEAL]


def test_unit_markup_values_nested_strings():
    day = datetime.date(2026, 12, 4)
    context = {
        "debtor": {"name": "某某\n公司", "address": "甲|乙"},
        "signatories": [{"role": "审 判 员", "name": "张\n三"}],
        "amount": Decimal("1.00"),
        "date": day,
        "end": None,
    }

    assert markup_values(context) == {
        "debtor": {"name": "某某 公司", "address": "甲｜乙"},
        "signatories": [{"role": "审 判 员", "name": "张 三"}],
        "amount": Decimal("1.00"),
        "date": day,
        "end": None,
    }
    assert context["debtor"]["name"] == "某某\n公司"


def test_unit_check_length_names_field_and_limit():
    check_length("reason", "  " + "因" * 5 + "\n", 5, label="reason")

    with pytest.raises(ValidationError) as raised:
        check_length("reason", "因" * 6, 5, label="reason")

    assert raised.value.message_dict == {
        "reason": ["The reason has 6 characters; shorten it to at most 5 characters."]
    }
