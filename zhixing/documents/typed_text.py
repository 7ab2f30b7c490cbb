"""Text that users type and that documents print: one line of markup, and a length limit.

A record keeps such text as it was typed. Only the value handed to a template is changed, by
:func:`markup_text`, so that the text stays inside the line the template gives it. Services
check the length of typed text with :func:`check_length` before they store or render it, so
that the form page and the API report the same error on the same field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Takes the place of "|" in typed text, where "|" would start a new table cell.
FULLWIDTH_VERTICAL_LINE = "\uff5c"


def markup_text(text: str) -> str:
    """Return typed text as it goes into a template: one line, with no cell separator.

    Each line of a rendered template is one block of :mod:`zhixing.documents.markup`, so a line
    break in a value would end a table row or a paragraph and could start a heading, a table or
    a second seal group. Line breaks become spaces, and ``|``, which separates table cells,
    becomes the full-width vertical line U+FF5C. Characters such as ``<`` and ``&`` need no
    change: the renderer escapes every block before layout.
    """
    lines = (line.strip() for line in text.splitlines())
    return " ".join(line for line in lines if line).replace("|", FULLWIDTH_VERTICAL_LINE)


def markup_values(value: Any) -> Any:
    """Return ``value`` with :func:`markup_text` applied to every string inside it.

    Dicts and lists are copied with their strings converted; numbers, dates and ``None`` are
    returned unchanged. Used on a document's context whose strings all come from records.
    """
    if isinstance(value, str):
        return markup_text(value)
    if isinstance(value, dict):
        return {key: markup_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [markup_values(item) for item in value]
    return value


def check_length(field: str, text: str, limit: int, *, label: str) -> None:
    """Raise ``ValidationError`` on ``field`` when stripped ``text`` is longer than ``limit``.

    ``label`` is the field's name in the message, in lower case: "The reason has 801
    characters; shorten it to at most 800 characters."
    """
    length = len(text.strip())
    if length > limit:
        raise ValidationError(
            {
                field: _(
                    "The %(field)s has %(length)s characters; shorten it to at most %(limit)s "
                    "characters."
                )
                % {"field": label, "length": length, "limit": limit}
            }
        )
