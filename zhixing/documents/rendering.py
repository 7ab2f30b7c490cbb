"""Rendering of legal documents: a stored template and a context to an A4 PDF with a seal box.

:func:`render` takes the active template of a document kind, renders its body with Django's
template language, reads the result line by line in the format of
:mod:`zhixing.documents.markup` and lays it out with ReportLab in the embedded Chinese font of
:mod:`zhixing.documents.fonts`. The returned :class:`RenderedDocument` gives the position of the
court's seal, so that the electronic seal can be drawn over the court's name and the date.

The context holds plain values (strings, numbers, ``Decimal``, dates, dicts and lists), never
model instances, so that a template edited by an administrator reaches nothing but the data
of its document. Every variable a template names must exist in the context (its value may be
empty): a misspelt name raises :class:`DocumentTemplateError` instead of leaving a gap in a
legal document. Optional parts go inside ``{% if %}``.

Layout: A4 with the margins of GB/T 9704-2012 for official documents (top 37 mm, left 28 mm,
a type area of 156 mm by 225 mm), body text in 16 pt with 28 pt line spacing. Lines break by
the rules of Chinese typesetting (GB/T 15834-2011): no closing mark at the start of a line, no
opening mark at its end, and a number (ID, account, amount), case number or vehicle plate is
never split (see :class:`_ChineseParagraph`).
"""

# The comments on line breaking quote the full-width marks of Chinese text.
# ruff: noqa: RUF003

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from zhixing.documents import fonts, markup
from zhixing.documents.markup import Block, BlockKind

logger = logging.getLogger(__name__)

PAGE_WIDTH, PAGE_HEIGHT = A4
TOP_MARGIN = 37 * mm
LEFT_MARGIN = 28 * mm
FRAME_WIDTH = 156 * mm
FRAME_HEIGHT = 225 * mm
RIGHT_MARGIN = PAGE_WIDTH - LEFT_MARGIN - FRAME_WIDTH
BOTTOM_MARGIN = PAGE_HEIGHT - TOP_MARGIN - FRAME_HEIGHT

BODY_SIZE = 16
BODY_LEADING = 28
TABLE_SIZE = 12
NOTE_SIZE = 11
# NOTE: 42 mm is a common diameter of a court's round seal, not a checked rule. The esign app
# scales the court's own seal image to this box.
SEAL_DIAMETER = 42 * mm
# Characters of space between the right margin and the longest closing line.
CLOSING_RIGHT_INDENT = 4

# Marks a variable that the context lacks; the Django engine puts the variable's name at %s.
_MISSING = "\x00missing:%s\x00"
_MISSING_START = "\x00missing:"

SealBox = tuple[int, float, float, float, float]


@dataclass(frozen=True)
class RenderedDocument:
    """A rendered document: the PDF and where on it the seal goes.

    ``seal_box`` is (page index from 0, x1, y1, x2, y2) in PDF points from the bottom left
    corner of the page, a square of the seal's diameter over the court's name and the date.
    """

    pdf: bytes
    seal_box: SealBox
    pages: int


class DocumentTemplateError(Exception):
    """A template that cannot be rendered, with the line of the template the fault is on."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"Line {line}: {message}")
        self.message = message
        self.line = line


@functools.cache
def _engine() -> Engine:
    # No loaders: a template cannot include or extend files. No libraries beyond the built-in
    # tags and filters and this app's filters, so {% load %} finds nothing to load.
    return Engine(
        debug=True,
        loaders=[],
        autoescape=False,
        string_if_invalid=_MISSING,
        builtins=["zhixing.documents.filters"],
    )


def _source_line(source: str, needle: str) -> int | None:
    for number, line in enumerate(source.splitlines(), start=1):
        if needle in line:
            return number
    return None


def render_text(body: str, context: dict[str, Any]) -> str:
    """Render a template body with ``context`` and return the text, before layout.

    Raises ``DocumentTemplateError`` with the template line of a syntax error, of an error
    while rendering, or of the first variable that the context lacks.
    """
    try:
        template = _engine().from_string(body)
        text = template.render(Context(context, autoescape=False))
    except TemplateSyntaxError as error:
        info = getattr(error, "template_debug", None)
        raise DocumentTemplateError(str(error), info["line"] if info else None) from error
    except Exception as error:
        info = getattr(error, "template_debug", None)
        raise DocumentTemplateError(
            f"{type(error).__name__}: {error}", info["line"] if info else None
        ) from error
    start = text.find(_MISSING_START)
    if start >= 0:
        name = text[start + len(_MISSING_START) : text.index("\x00", start + 1)]
        raise DocumentTemplateError(
            _(
                "The variable “%(name)s” is not in the document's data. Check its spelling, or "
                "put optional values inside {%% if %%}."
            )
            % {"name": name},
            _source_line(body, name),
        )
    return text


# Layout

# Line breaking. ReportLab's CJK wrapping (reportlab.lib.textsplit.dumbSplit, 5.1) may break
# between any two characters. It keeps a mark on the line only if the mark is in its
# ALL_CANNOT_START, which lacks the full-width ，；：？！》” of Chinese text. It never reads its
# own ALL_CANNOT_END. It keeps a run of Latin letters and digits whole only if the run starts in
# the second half of the line and contains no Chinese character. So lines started with "，"
# and ID numbers, account numbers, case numbers and plates were split. Instead, the text is cut
# into units that no line break may enter, and each unit that does not fit starts a new line.

# Marks that may not end a line (GB/T 15834-2011, 5.1: opening quotes, brackets and title
# marks) and marks that may not start one (closing ones, the pause marks, the interpunct).
_OPENING = "（《「『“‘〈【〔［｛〖([{"
_CLOSING = "，。、；：？！）》」』”’〉】〕］｝〗％～·,.;:?!)]}%"
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋内蒙陕吉闽贵黔粤青藏川宁琼军兵"
_UNBREAKABLE = "|".join(
    (
        # Case and document numbers, with a certificate's province: （2026）粤0104执1234号之一,
        # 粤（2020）广州市不动产权第 0000001 号.
        rf"[{_PROVINCES}]?[（(〔]\d{{4}}[）)〕][\u4e00-\u9fff\d ]{{0,24}}?\d+ ?号"
        "(?:之[一二三四五六七八九十]+)?",
        # Vehicle plates: 粤A12345, 粤A·12345, 粤AD12345, 粤A1234学.
        rf"[{_PROVINCES}][A-Z][·•]?[A-Z0-9]{{4,6}}[挂学警港澳领试超]?",
        # Numbers, IDs and Latin words, with the separators inside them: 1,234,567.89.
        r"[0-9A-Za-z](?:[0-9A-Za-z]|[,.:/\-](?=[0-9A-Za-z]))*",
        # Dashes and ellipses stay whole.
        "——",
        "……",
    )
)
# A unit: opening marks, then an unbreakable token or one character, then closing marks and
# spaces. An opening mark at the very end of the text is a unit of its own.
_OPENING_CLASS = re.escape(_OPENING)
_UNIT = re.compile(
    rf"[{_OPENING_CLASS}]*?(?:{_UNBREAKABLE}|[^{_OPENING_CLASS}])[{re.escape(_CLOSING)}\s]*|.",
    re.DOTALL,
)


def break_lines(
    text: str, widths: list[float], font_name: str, font_size: float
) -> list[tuple[float, str]]:
    """Break ``text`` into lines of the given widths; return (unused width, text) per line.

    ``widths`` contains the width of the first line, then of the next ones, the last repeating.
    A closing mark goes to the next line with the character before it, instead of hanging in
    the margin as in ReportLab. A unit wider than a whole line is cut between characters.
    """
    lines: list[tuple[float, str]] = []
    limit = widths[0]
    line = ""
    used = 0.0
    units = _UNIT.findall(text)
    units.reverse()
    while units:
        unit = units.pop()
        # Spaces at the end of a line may go past the margin.
        width = stringWidth(unit.rstrip(), font_name, font_size)
        if used + width > limit + 1e-6:
            if line:
                line = line.rstrip()
                lines.append((limit - stringWidth(line, font_name, font_size), line))
                limit = widths[min(len(lines), len(widths) - 1)]
                line = ""
                used = 0.0
                units.append(unit)
                continue
            if len(unit) > 1:
                units.extend(reversed(unit))
                continue
        line += unit
        used += stringWidth(unit, font_name, font_size) if unit[-1].isspace() else width
    if line:
        lines.append((limit - used, line))
    return lines


class _ChineseParagraph(Paragraph):
    """A paragraph of plain text whose lines break by :func:`break_lines`.

    Paragraphs with markup (several fragments) and the parts of a paragraph split over pages,
    which keep the lines already broken, are left to ReportLab.
    """

    def breakLinesCJK(self, maxWidths: Any) -> Any:
        frags = self.frags
        if (
            len(frags) != 1
            or hasattr(frags[0], "cbDefn")
            or self.bulletText
            or self.style.endDots
            or getattr(self, "_splitpara", 0)
        ):
            return super().breakLinesCJK(maxWidths)
        fragment = frags[0]
        text = fragment.text if hasattr(fragment, "text") else "".join(fragment.words)
        if not isinstance(maxWidths, list | tuple):
            maxWidths = [maxWidths]
        lines = break_lines(text, list(maxWidths), fragment.fontName, fragment.fontSize)
        # The structure of ReportLab's own single-fragment case: (unused width, [text]).
        return fragment.clone(
            kind=0,
            lines=[(unused, [line]) for unused, line in lines],
            ascent=fragment.fontSize,
            descent=-0.2 * fragment.fontSize,
        )


def _styles() -> dict[str, ParagraphStyle]:
    fonts.register()
    body = ParagraphStyle(
        "body",
        fontName=fonts.REGULAR,
        fontSize=BODY_SIZE,
        leading=BODY_LEADING,
        alignment=TA_JUSTIFY,
        firstLineIndent=2 * BODY_SIZE,
        wordWrap="CJK",
    )
    return {
        "body": body,
        "court": ParagraphStyle(
            "court",
            parent=body,
            fontName=fonts.BOLD,
            fontSize=20,
            leading=32,
            alignment=TA_CENTER,
            firstLineIndent=0,
        ),
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=fonts.BOLD,
            fontSize=24,
            leading=36,
            alignment=TA_CENTER,
            firstLineIndent=0,
            spaceAfter=10,
        ),
        "right": ParagraphStyle(
            "right", parent=body, alignment=TA_RIGHT, firstLineIndent=0, rightIndent=BODY_SIZE
        ),
        "left": ParagraphStyle("left", parent=body, alignment=TA_LEFT, firstLineIndent=0),
        "note": ParagraphStyle(
            "note",
            parent=body,
            fontSize=NOTE_SIZE,
            leading=18,
            alignment=TA_LEFT,
            firstLineIndent=0,
        ),
        "cell": ParagraphStyle(
            "cell",
            parent=body,
            fontSize=TABLE_SIZE,
            leading=18,
            alignment=TA_LEFT,
            firstLineIndent=0,
        ),
    }


class _SealBlock(Flowable):
    """The closing lines (court name, date) with room for the seal, recording where it lands."""

    def __init__(self, lines: list[str], box: list[SealBox]) -> None:
        super().__init__()
        self.lines = lines
        self.box = box
        self.line_height = BODY_LEADING

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        self.height = max(SEAL_DIAMETER, len(self.lines) * self.line_height) + BODY_SIZE
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        widths = [stringWidth(line, fonts.REGULAR, BODY_SIZE) for line in self.lines]
        widest = max(widths)
        # Lines are centred on one axis; the widest ends CLOSING_RIGHT_INDENT characters before
        # the right margin, or at the left margin if it is wider than the rest of the line.
        axis = max(self.width - CLOSING_RIGHT_INDENT * BODY_SIZE - widest / 2, widest / 2)
        text_height = len(self.lines) * self.line_height
        top = (self.height + text_height) / 2
        canvas.setFont(fonts.REGULAR, BODY_SIZE)
        for index, (line, width) in enumerate(zip(self.lines, widths, strict=True)):
            baseline = top - (index + 1) * self.line_height + (self.line_height - BODY_SIZE) / 2
            canvas.drawString(axis - width / 2, baseline + 2, line)
        # The seal's centre sits a little above the middle of the lines, so that they fall in
        # its lower half, as on printed documents.
        centre_x, centre_y = canvas.absolutePosition(axis, self.height / 2 + 0.1 * SEAL_DIAMETER)
        radius = SEAL_DIAMETER / 2
        page = canvas.getPageNumber() - 1
        self.box.append(
            (page, centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius)
        )


def _table(block: Block, styles: dict[str, ParagraphStyle]) -> Table:
    columns = max(len(row) for row in block.rows)
    # Label columns (even) are narrower than the value columns after them.
    weights = [3 if index % 2 == 0 else 7 for index in range(columns)]
    if columns == 1:
        weights = [1]
    total = sum(weights)
    widths = [FRAME_WIDTH * weight / total for weight in weights]
    data: list[list[Any]] = []
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
    ]
    for row_index, row in enumerate(block.rows):
        cells: list[Any] = [_ChineseParagraph(escape(cell), styles["cell"]) for cell in row]
        if len(cells) < columns:
            commands.append(("SPAN", (len(cells) - 1, row_index), (columns - 1, row_index)))
            cells.extend("" for _ in range(columns - len(cells)))
        data.append(cells)
    table = Table(data, colWidths=widths)
    table.setStyle(TableStyle(commands))
    return table


def _closing_range(blocks: list[Block]) -> range:
    """Return the indexes of the blocks that stay on one page with the seal lines.

    The right-aligned lines around the seal lines (a ruling's signatures and clerk) and the
    paragraph before them go with the seal lines, so that no page holds only the closing.
    """
    seal = next(index for index, block in enumerate(blocks) if block.kind is BlockKind.SEAL)
    start = seal
    while start > 0 and blocks[start - 1].kind is BlockKind.RIGHT:
        start -= 1
    if start > 0 and blocks[start - 1].kind is BlockKind.PARAGRAPH:
        start -= 1
    end = seal + 1
    while end < len(blocks) and blocks[end].kind is BlockKind.RIGHT:
        end += 1
    return range(start, end)


def _flowables(blocks: list[Block], seal_box: list[SealBox]) -> list[Flowable]:
    styles = _styles()
    paragraph_styles = {
        BlockKind.COURT: styles["court"],
        BlockKind.TITLE: styles["title"],
        BlockKind.RIGHT: styles["right"],
        BlockKind.LEFT: styles["left"],
        BlockKind.NOTE: styles["note"],
        BlockKind.PARAGRAPH: styles["body"],
    }
    closing_range = _closing_range(blocks)
    story: list[Flowable] = []
    closing: list[Flowable] = []
    for index, block in enumerate(blocks):
        flowables: list[Flowable]
        if block.kind is BlockKind.TABLE:
            flowables = [Spacer(1, 6), _table(block, styles), Spacer(1, 10)]
        elif block.kind is BlockKind.SEAL:
            flowables = [_SealBlock(block.lines, seal_box)]
        else:
            flowables = [_ChineseParagraph(escape(block.lines[0]), paragraph_styles[block.kind])]
        if index in closing_range:
            closing.extend(flowables)
            if index == closing_range[-1]:
                story.append(KeepTogether(closing))
        else:
            story.extend(flowables)
    return story


def _page_number(canvas: Canvas, document: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(fonts.REGULAR, 12)
    canvas.drawCentredString(PAGE_WIDTH / 2, BOTTOM_MARGIN / 2, f"- {canvas.getPageNumber()} -")
    canvas.restoreState()


def _check_characters(body: str, text: str) -> None:
    missing = fonts.missing_characters(text)
    if not missing:
        return
    character = missing[0]
    line = _source_line(body, character)
    if line is not None:
        message = _(
            "The font has no glyph for “%(character)s” (U+%(code)s); use another character."
        )
    else:
        message = _(
            "The font has no glyph for “%(character)s” (U+%(code)s), which comes from the "
            "document's data; use another character."
        )
    raise DocumentTemplateError(
        message % {"character": character, "code": f"{ord(character):04X}"}, line
    )


def render_source(
    title: str, body: str, context: dict[str, Any], *, author: str = ""
) -> RenderedDocument:
    """Render an unsaved template (title and body) with ``context``; used by the preview."""
    context = {"title": title, **context}
    text = render_text(body, context)
    try:
        blocks = markup.parse(text)
    except markup.MarkupError as error:
        # The rendered line is the template's line unless loops or multi-line values shifted it.
        line = None
        if error.line is not None:
            line = _source_line(body, text.splitlines()[error.line - 1].strip()) or error.line
        raise DocumentTemplateError(error.message, line) from error
    _check_characters(body, text)
    seal_box: list[SealBox] = []
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        topMargin=TOP_MARGIN,
        bottomMargin=BOTTOM_MARGIN,
        leftMargin=LEFT_MARGIN,
        rightMargin=RIGHT_MARGIN,
        title=title,
        author=author,
        creator="Zhixing",
        lang="zh-CN",
    )
    document.build(
        _flowables(blocks, seal_box), onFirstPage=_page_number, onLaterPages=_page_number
    )
    return RenderedDocument(pdf=buffer.getvalue(), seal_box=seal_box[0], pages=document.page)


def render(template_code: str, context: dict[str, Any]) -> RenderedDocument:
    """Render the active template of ``template_code`` with ``context`` to a PDF.

    Raises ``DocumentTemplateError`` if the template cannot be rendered with this context and
    ``LookupError`` if no template has that code.
    """
    from zhixing.documents.models import DocumentTemplate

    template = DocumentTemplate.objects.active(template_code)
    court = context.get("court")
    author = court.get("name", "") if isinstance(court, dict) else ""
    started = time.perf_counter()
    document = render_source(template.title, template.body, context, author=author)
    logger.info(
        "Rendered document template %s version %s: %s pages, %s bytes in %.2f s",
        template.code,
        template.version,
        document.pages,
        len(document.pdf),
        time.perf_counter() - started,
    )
    return document
