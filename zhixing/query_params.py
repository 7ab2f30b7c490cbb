"""Checks of the query parameters that filter and page lists, shared by pages and the API.

A list that cannot use a parameter's value must report it instead of showing an unfiltered list
that the reader takes for the filtered one. The checks collect one :class:`InvalidParameter`
per bad value. Pages show their messages instead of the results, and the API returns them with
status 400, keyed by parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import InvalidPage, Page, Paginator
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import pgettext


@dataclass(frozen=True)
class InvalidParameter:
    """A query parameter whose value a list cannot use, with the message that names the fix."""

    name: str
    value: str
    message: str


class InvalidQuery(ValueError):
    """Raised when query parameters of a list have values that it cannot use."""

    def __init__(self, problems: Sequence[InvalidParameter]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(problem.message for problem in self.problems))

    def by_parameter(self) -> dict[str, list[str]]:
        """Return the messages keyed by parameter name, the shape of a REST API 400 body."""
        messages: dict[str, list[str]] = {}
        for problem in self.problems:
            messages.setdefault(problem.name, []).append(problem.message)
        return messages


def accepted_values(choices: Iterable[tuple[str, Any]]) -> str:
    """Return the accepted codes of ``choices`` for a message, each with its label if it differs.

    For example ``open (Open), closed (Closed)``, with the list separator of the language.
    """
    parts = []
    opening, closing = pgettext("parenthesis", " ("), pgettext("parenthesis", ")")
    for code, label in choices:
        text = str(label)
        parts.append(code if text == code else f"{code}{opening}{text}{closing}")
    return pgettext("list separator", ", ").join(parts)


def invalid_choice(
    label: Any, name: str, value: str, choices: Iterable[tuple[str, Any]]
) -> InvalidParameter:
    """Return the problem of a value that is not one of ``choices``."""
    message = _(
        "%(label)s (%(name)s): “%(value)s” is not valid; use one of %(accepted)s, "
        "or leave it empty."
    ) % {"label": label, "name": name, "value": value, "accepted": accepted_values(choices)}
    return InvalidParameter(name, value, message)


def choice(
    params: Mapping[str, str],
    name: str,
    label: Any,
    choices: Sequence[tuple[str, Any]],
    problems: list[InvalidParameter],
    default: str = "",
) -> str:
    """Return the value of ``name`` if it is one of ``choices``, else ``default``.

    An empty or missing value is ``default``. Any other value outside ``choices`` adds its
    problem to ``problems``.
    """
    value = params.get(name, "").strip()
    if not value:
        return default
    if value not in {code for code, _label in choices}:
        problems.append(invalid_choice(label, name, value, choices))
        return default
    return value


def page_of(paginator: Paginator, params: Mapping[str, str], name: str = "page") -> Page:
    """Return the page of ``paginator`` that ``params`` request, by default the first.

    Raises :class:`InvalidQuery` for a value that is not the number of one of its pages. An
    empty list has one empty page.
    """
    value = params.get(name, "").strip()
    if not value:
        return paginator.page(1)
    try:
        return paginator.page(value)
    except InvalidPage as error:
        message = _("Page “%(value)s” does not exist; use a whole number from 1 to %(last)s.") % {
            "value": value,
            "last": paginator.num_pages,
        }
        raise InvalidQuery([InvalidParameter(name, value, message)]) from error


def query_without(params: QueryDict, names: Iterable[str]) -> str:
    """Return the query string of ``params`` without the parameters ``names``."""
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def url_without(request: HttpRequest, names: Iterable[str]) -> str:
    """Return the path of ``request`` with its query string less the parameters ``names``.

    Pages link to it from their error messages, to reload the list without the bad values.
    """
    query = query_without(request.GET, names)
    return f"{request.path}?{query}" if query else request.path


def database_id(text: str) -> int | None:
    """Return ``text`` as a row id, or None if it is not one (a bigint is at most 2**63 - 1).

    A larger number would make the database query fail, so it counts as no id.
    """
    # More than 19 digits is past the range, and Python refuses to convert very long strings.
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 19:
        return None
    number = int(text)
    return number if 0 < number < 2**63 else None


def list_status(request: HttpRequest, problems: Sequence[InvalidParameter]) -> int:
    """Return the status of a list page that shows ``problems`` in place of its results.

    The status is 400 with problems, but htmx swaps in only 2xx responses, also when it restores
    the history, so its requests get 200.
    """
    return 400 if problems and not request.headers.get("HX-Request") else 200
