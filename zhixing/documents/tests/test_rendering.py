"""Rendering of every document kind: text, embedded font, seal box and template errors."""

from __future__ import annotations

import datetime
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from zhixing.documents import rendering, samples
from zhixing.documents.defaults import DEFAULTS
from zhixing.documents.filters import cn_date, ymd, yuan
from zhixing.documents.kinds import DocumentKind
from zhixing.documents.models import DocumentTemplate
from zhixing.documents.numbers import document_number
from zhixing.documents.rendering import DocumentTemplateError, render, render_source
from zhixing.documents.samples import SAMPLE_TEMPLATE, sample_context

from .helpers import HAS_POPPLER, font_dictionaries, text_with_poppler, text_with_pypdf

KINDS = list(DocumentKind.values)
A4_WIDTH, A4_HEIGHT = rendering.PAGE_WIDTH, rendering.PAGE_HEIGHT


def _compact(text: str) -> str:
    return "".join(text.split())


@pytest.mark.django_db
def test_migration_stores_every_kind():
    stored = set(DocumentTemplate.objects.filter(active=True).values_list("code", flat=True))
    assert stored == set(KINDS)
    assert set(DEFAULTS) == set(KINDS)


@pytest.mark.django_db
@pytest.mark.parametrize("code", KINDS)
def test_every_template_renders_sample(code, courts):
    court = courts["粤0105"]
    context = sample_context(court, code)
    document = render(code, context)
    assert document.pdf.startswith(b"%PDF-")
    assert document.pages >= 1
    text = _compact(text_with_pypdf(document.pdf))
    title = DocumentTemplate.objects.active(code).title
    assert court.name in text
    assert title in text
    assert context["debtor"]["name"] in text
    assert _compact(context["document_number"]) in text


@pytest.mark.django_db
@pytest.mark.parametrize("code", KINDS)
def test_seal_box_lies_on_page(code):
    document = render(code, sample_context(None, code))
    page, x1, y1, x2, y2 = document.seal_box
    assert 0 <= page < document.pages
    assert 0 <= x1 < x2 <= A4_WIDTH
    assert 0 <= y1 < y2 <= A4_HEIGHT
    assert x2 - x1 == pytest.approx(rendering.SEAL_DIAMETER)
    assert y2 - y1 == pytest.approx(rendering.SEAL_DIAMETER)


@pytest.mark.django_db
def test_sample_notice_text_and_amount():
    context = sample_context(None)
    document = render(SAMPLE_TEMPLATE, context)
    text = _compact(text_with_pypdf(document.pdf))
    assert "协助冻结存款通知书" in text
    assert "中国工商银行股份有限公司广州某某支行：" in text
    assert "356,800.00" in text
    assert "自2026年3月5日起至2027年3月4日止" in text
    assert "二〇二六年三月五日" in text
    assert context["debtor"]["document_number"] in text


@pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils (pdftotext, pdffonts) not installed")
@pytest.mark.django_db
def test_poppler_extracts_text_and_sees_embedded_font(tmp_path):
    document = render(SAMPLE_TEMPLATE, sample_context(None))
    text = _compact(text_with_poppler(document.pdf))
    assert "广州市越秀区人民法院" in text
    assert "冻结期限为一年" in text
    path = tmp_path / "notice.pdf"
    path.write_bytes(document.pdf)
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, check=True
    ).stdout.decode()
    rows = [line.split() for line in listing.splitlines()[2:]]
    noto = [row for row in rows if "NotoSerifSC" in row[0]]
    assert noto
    # Columns from the right: object id, generation, uni, sub, emb.
    assert all(row[-5:-2] == ["yes", "yes", "yes"] for row in noto)


@pytest.mark.django_db
def test_font_embedded_as_subset():
    document = render(SAMPLE_TEMPLATE, sample_context(None))
    fonts = [font for font in font_dictionaries(document.pdf) if "NotoSerifSC" in font["base_font"]]
    assert {font["base_font"].split("+", 1)[1] for font in fonts} == {
        "NotoSerifSC-Regular",
        "NotoSerifSC-Bold",
    }
    for font in fonts:
        # A subset's name carries a six-letter tag: /AAAAAA+NotoSerifSC-Regular.
        tag = font["base_font"].lstrip("/").split("+", 1)[0]
        assert len(tag) == 6
        assert tag.isupper()
        assert font["subtype"] == "/TrueType"
        assert font["to_unicode"]
        assert font["font_file"] is not None
        # The whole face is about 14.8 MB; a subset of one page is a small part of it.
        assert 1000 < len(font["font_file"]) < 500_000
    assert len(document.pdf) < 300_000


def test_syntax_error_names_line():
    body = "# {{ court.name }}\n## {{ title }}\n{% if debtor.name %}\n正文\n@ {{ date|cn_date }}\n"
    with pytest.raises(DocumentTemplateError) as caught:
        render_source("标题", body, sample_context(None))
    assert caught.value.line == 3
    assert "endif" in caught.value.message


def test_unknown_variable_names_line():
    body = "# {{ court.name }}\n## {{ title }}\n被执行人{{ debtor.nmae }}。\n@ {{ date|cn_date }}\n"
    with pytest.raises(DocumentTemplateError) as caught:
        render_source("标题", body, sample_context(None))
    assert caught.value.line == 3
    assert "debtor.nmae" in caught.value.message


def test_unknown_filter_names_line():
    body = "# {{ court.name }}\n\n\n{{ date|no_such_filter }}\n@ {{ date|cn_date }}\n"
    with pytest.raises(DocumentTemplateError) as caught:
        render_source("标题", body, sample_context(None))
    assert caught.value.line == 4


def test_missing_seal_lines_rejected():
    with pytest.raises(DocumentTemplateError) as caught:
        render_source("标题", "# {{ court.name }}\n正文。\n", sample_context(None))
    assert "seal" in caught.value.message


def test_second_seal_group_names_line():
    body = "# {{ court.name }}\n@ {{ court.name }}\n正文。\n@ {{ date|cn_date }}\n"
    with pytest.raises(DocumentTemplateError) as caught:
        render_source("标题", body, sample_context(None))
    assert caught.value.line == 4


def test_character_outside_font_names_line():
    body = "# {{ court.name }}\n正文。\n\U0001f600\n@ {{ date|cn_date }}\n"
    with pytest.raises(DocumentTemplateError) as caught:
        render_source("标题", body, sample_context(None))
    assert caught.value.line == 3
    assert "U+1F600" in caught.value.message


def test_include_and_load_unavailable():
    for body in ('{% include "web/base.html" %}\n@ x\n', "{% load i18n %}\n@ x\n"):
        with pytest.raises(DocumentTemplateError) as caught:
            render_source("标题", body, sample_context(None))
        assert caught.value.line == 1


def test_text_not_read_as_markup():
    context = {**sample_context(None), "debtor": {**sample_context(None)["debtor"]}}
    context["debtor"]["name"] = "<b>黄&志强</b>"
    body = "正文{{ debtor.name }}。\n@ {{ date|cn_date }}\n"
    document = render_source("标题", body, context)
    assert "<b>黄&志强</b>" in _compact(text_with_pypdf(document.pdf))


def test_table_rows_and_long_text_paginate():
    rows = "".join(f"| 项目{index} | 内容{index} | 说明 | 备注 |\n" for index in range(60))
    body = (
        "# {{ court.name }}\n## {{ title }}\n" + rows + "| 合计 | 六十项 |\n@ {{ date|cn_date }}\n"
    )
    document = render_source("清单", body, sample_context(None))
    text = _compact(text_with_pypdf(document.pdf))
    assert document.pages >= 2
    assert "项目59" in text
    assert "六十项" in text
    assert document.seal_box[0] == document.pages - 1


@pytest.mark.django_db
def test_invalid_template_rejected_on_validation():
    template = DocumentTemplate(
        code=SAMPLE_TEMPLATE,
        title="协助冻结存款通知书",
        body="# {{ court.name }}\n{% for x in %}\n@ {{ date|cn_date }}\n",
        version=99,
        active=False,
    )
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    message = " ".join(caught.value.message_dict["body"])
    assert "Line 2" in message


@pytest.mark.django_db
def test_unknown_code_raises_lookup_error():
    with pytest.raises(LookupError):
        render("no_such_kind", sample_context(None))


@pytest.mark.django_db
def test_empty_table_falls_back_to_default():
    DocumentTemplate.objects.all().delete()
    document = render(SAMPLE_TEMPLATE, sample_context(None))
    assert "协助冻结存款通知书" in _compact(text_with_pypdf(document.pdf))


def test_filters():
    assert cn_date(datetime.date(2026, 3, 5)) == "二〇二六年三月五日"
    assert cn_date(datetime.date(2030, 10, 20)) == "二〇三〇年十月二十日"
    assert cn_date(datetime.date(2031, 12, 31)) == "二〇三一年十二月三十一日"
    assert cn_date(datetime.date(2026, 11, 10)) == "二〇二六年十一月十日"
    assert ymd(datetime.date(2026, 3, 5)) == "2026年3月5日"
    assert yuan(Decimal("356800")) == "356,800.00"
    assert yuan("12.5") == "12.50"
    assert yuan("n/a") == "n/a"
    assert cn_date("not a date") == "not a date"


def test_document_number_from_case_number():
    assert document_number("(2026)粤0104执1234号") == "（2026）粤0104执1234号"
    assert document_number("(2026)粤0104执1234号", 1) == "（2026）粤0104执1234号之一"
    assert document_number("（2016）粤01执恢44号之一") == "（2016）粤01执恢44号之一"
    assert document_number("(2016)粤01执恢44号之一", 2) == "（2016）粤01执恢44号之二"


def test_sample_context_values():
    context = sample_context(None)
    number = context["debtor"]["document_number"]
    assert len(number) == 18
    from stdnum.cn import ric

    assert ric.is_valid(number)
    measure = context["measure"]
    assert measure["amount"] == Decimal("356800.00")
    assert measure["end"] == datetime.date(2027, 3, 4)
    assert context["agency"]["name"].startswith("中国工商银行")
    assert SAMPLE_TEMPLATE == "assistance_notice_freeze"


def test_period_end_of_leap_day():
    assert samples._period_end(datetime.date(2028, 2, 29), 1) == datetime.date(2029, 2, 28)
    assert samples._period_end(datetime.date(2026, 3, 5), 3) == datetime.date(2029, 3, 4)
