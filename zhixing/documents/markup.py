"""The line format of document templates: what each line of a rendered template becomes.

A template is Django template text. After rendering, each line is one block of the document,
and the character at its start sets its kind:

==============  ==========================================================================
``# text``      the court's name at the top, centred, bold
``## text``     the document's title, centred, bold and larger
``> text``      a right-aligned line: the document number, the signatures of a ruling
``< text``      a line flush with the left margin: the addressee, an attachment
``| a | b |``   a table row, cells between ``|``; consecutive rows make one table, and the
                last cell of a row with fewer cells spans the remaining columns
``@ text``      a line of the closing that the seal covers: the court's name, the date.
                Every template has exactly one group of such lines, near its end.
``~ text``      a note in smaller type, flush left
``\\text``       a body paragraph that starts with one of the characters above
any other text  a body paragraph, indented by two characters on its first line
==============  ==========================================================================

Blank lines are ignored, so that lines holding only ``{% if %}`` or ``{% for %}`` tags add no
space: the layout puts space around headings, tables and the closing by itself. Spaces at the
start and end of a line are ignored too, so tags and text may be indented for reading.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.utils.translation import gettext as _


class BlockKind(enum.Enum):
    COURT = "#"
    TITLE = "##"
    RIGHT = ">"
    LEFT = "<"
    TABLE = "|"
    SEAL = "@"
    NOTE = "~"
    PARAGRAPH = ""


# Longest prefix first, so that "##" is not read as "#".
_PREFIXES = (
    ("##", BlockKind.TITLE),
    ("#", BlockKind.COURT),
    (">", BlockKind.RIGHT),
    ("<", BlockKind.LEFT),
    ("@", BlockKind.SEAL),
    ("~", BlockKind.NOTE),
)


@dataclass
class Block:
    """One block of the document: its kind, its text lines or table rows and its first line."""

    kind: BlockKind
    line: int
    lines: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class MarkupError(ValueError):
    """A structural fault of the rendered text, with the line of the rendered text it is on."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _table_cells(text: str) -> list[str]:
    inner = text.strip()
    inner = inner.removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in inner.split("|")]


def _classify(text: str) -> tuple[BlockKind, str]:
    if text.startswith("\\"):
        return BlockKind.PARAGRAPH, text[1:].strip()
    if text.startswith("|"):
        return BlockKind.TABLE, text
    for prefix, kind in _PREFIXES:
        if text.startswith(prefix):
            return kind, text[len(prefix) :].strip()
    return BlockKind.PARAGRAPH, text


def parse(text: str) -> list[Block]:
    """Split rendered template text into blocks; consecutive table and seal lines are grouped.

    Raises ``MarkupError`` unless there is exactly one group of seal lines.
    """
    blocks: list[Block] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        kind, content = _classify(stripped)
        previous = blocks[-1] if blocks else None
        if kind is BlockKind.TABLE:
            if previous is None or previous.kind is not BlockKind.TABLE:
                previous = Block(kind, number)
                blocks.append(previous)
            previous.rows.append(_table_cells(content))
        elif kind is BlockKind.SEAL and previous is not None and previous.kind is kind:
            previous.lines.append(content)
        else:
            blocks.append(Block(kind, number, lines=[content]))
    seal_groups = [block for block in blocks if block.kind is BlockKind.SEAL]
    if not seal_groups:
        raise MarkupError(
            _(
                "The template has no seal lines. Start the lines with the court's name and the "
                "date at the end with @, so that the seal can be placed over them."
            ),
            None,
        )
    if len(seal_groups) > 1:
        raise MarkupError(
            _(
                "The template has more than one group of seal lines (lines starting with @). "
                "Keep the court's name and the date together in one group at the end."
            ),
            seal_groups[1].line,
        )
    return blocks
