"""Line breaks of rendered documents by the rules of Chinese typesetting (GB/T 15834-2011).

No line starts with a closing mark or ends with an opening mark, and ID numbers, account
numbers, amounts, case numbers and vehicle plates stay on one line. The PDF tests shift each
case along the line one character at a time, so that one of the paragraphs puts it at the
line's end whatever the exact width of the type area.
"""

from __future__ import annotations

import io
import re
import subprocess
import time

import pypdf
import pytest

from zhixing.documents import fonts, rendering
from zhixing.documents.rendering import break_lines, render_source

from .helpers import HAS_POPPLER

# Full-width closing and opening marks of Chinese text.
CLOSING = "，。、；：？！）》」』”"
OPENING = "（《「『“"
RESIDENT_ID = "44010419850612123X"
TOKENS = [
    RESIDENT_ID,
    "6222020200112345678",  # bank account
    "1,234,567.89",  # amount
    "（2026）粤0104执1234号",  # case number
    "（2026）粤0104执恢12号之一",
    "粤A12345",  # vehicle plate
    "粤（2020）广州市不动产权第 0000001 号",
]
SHIFTS = range(14, 30)


def _lines_of(pdf: bytes) -> list[str]:
    """Return the non-blank text lines of ``pdf`` in reading order."""
    result = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return [line for line in result.stdout.decode("utf-8").splitlines() if line.strip()]


def _document(paragraphs: list[str]) -> bytes:
    body = "# 广州市越秀区人民法院\n## 执行裁定书\n"
    body += "".join(f"{paragraph}\n" for paragraph in paragraphs)
    body += "@ 广州市越秀区人民法院\n@ 二〇二六年三月五日\n"
    return render_source("执行裁定书", body, {}).pdf


def _body_lines(text: str) -> list[str]:
    """Break ``text`` as a body paragraph of the type area."""
    fonts.register()
    width = rendering.FRAME_WIDTH - 12  # the frame's padding
    first = width - 2 * rendering.BODY_SIZE
    lines = break_lines(text, [first, width], fonts.REGULAR, rendering.BODY_SIZE)
    return [line for _, line in lines]


@pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils (pdftotext) not installed")
def test_pdf_lines_never_start_with_closing_mark():
    paragraphs = [
        "一" * shift + f"乙{mark}三四五六七八九十" for mark in CLOSING for shift in SHIFTS
    ]
    lines = _lines_of(_document(paragraphs))
    starts = [line for line in lines if line.lstrip()[0] in CLOSING]
    assert starts == []
    # Every mark is printed once, after its character.
    text = "".join("".join(lines).split())
    assert all(text.count(f"乙{mark}") == len(SHIFTS) for mark in CLOSING)


@pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils (pdftotext) not installed")
def test_pdf_lines_never_end_with_opening_mark():
    paragraphs = [
        "一" * shift + f"二{mark}三四五六七八九十" for mark in OPENING for shift in SHIFTS
    ]
    lines = _lines_of(_document(paragraphs))
    ends = [line for line in lines if line.rstrip()[-1] in OPENING]
    assert ends == []


@pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils (pdftotext) not installed")
@pytest.mark.parametrize("token", TOKENS)
def test_pdf_keeps_numbers_on_one_line(token):
    paragraphs = ["一" * shift + f"号码{token}，其余文字。" for shift in SHIFTS]
    lines = _lines_of(_document(paragraphs))
    whole = "".join(token.split())
    assert sum(whole in "".join(line.split()) for line in lines) == len(paragraphs)


@pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils (pdftotext) not installed")
def test_pdf_table_cell_keeps_id_whole():
    rows = [f"| 证件号码 | {'甲' * shift}{RESIDENT_ID}，乙 |" for shift in range(0, 16)]
    lines = _lines_of(_document(rows))
    assert sum(RESIDENT_ID in line for line in lines) == len(rows)


def test_break_lines_moves_comma_with_character():
    # 24 characters fill the first line of a body paragraph: 二 would end it and the comma start
    # the next one, so 二 goes down with the comma.
    lines = _body_lines("一" * 23 + "二，三四五六七。")
    assert lines == ["一" * 23, "二，三四五六七。"]


def test_break_lines_moves_opening_mark_down():
    lines = _body_lines("一" * 23 + "《民事诉讼法》")
    assert lines == ["一" * 23, "《民事诉讼法》"]


@pytest.mark.parametrize("token", TOKENS)
def test_break_lines_moves_whole_token(token):
    for shift in SHIFTS:
        lines = _body_lines("一" * shift + token + "二" * 30)
        assert any(token in line for line in lines), (shift, lines)
        assert "".join(lines) == "一" * shift + token + "二" * 30


def test_break_lines_keeps_dashes_and_ellipses_whole():
    for shift in SHIFTS:
        for mark in ("——", "……"):
            lines = _body_lines("一" * shift + mark + "二" * 30)
            assert any(mark in line for line in lines), (shift, mark, lines)


def test_break_lines_cuts_token_longer_than_line():
    token = "1" * 200
    lines = _body_lines(token)
    assert len(lines) > 1
    assert "".join(lines) == token


def test_break_lines_drops_no_text():
    text = "联系人：陈建国　　联系电话：020-80104010　" + "一" * 40
    lines = _body_lines(text)
    assert "".join("".join(lines).split()) == "".join(text.split())
    assert lines[0].startswith("联系人：陈建国　　联系电话：020-80104010")
    assert not any(re.match(r"\s", line) for line in lines[1:])


def test_rendering_time_stays_low():
    # Several pages of text with an ID number near many line ends. The limit leaves room for a
    # busy machine: a sample document took about 10 ms on the development machine.
    paragraphs = ["一" * (shift % 20) + f"号码{RESIDENT_ID}，其余文字。" * 6 for shift in range(30)]
    _document(paragraphs[:1])
    started = time.perf_counter()
    _document(paragraphs)
    assert time.perf_counter() - started < 2


@pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils (pdftotext) not installed")
def test_paragraph_split_over_pages_keeps_text():
    paragraph = "".join(
        f"第{index}项，号码{RESIDENT_ID}，（2026）粤0104执{index}号。" for index in range(60)
    )
    pdf = _document([paragraph])
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) >= 3
    lines = [line for line in _lines_of(pdf) if not re.fullmatch(r"- \d+ -", line.strip())]
    assert "".join("".join(lines).split()).count(paragraph) == 1
    assert [line for line in lines if line.lstrip()[0] in CLOSING] == []
    assert sum(RESIDENT_ID in line for line in lines) == 60
