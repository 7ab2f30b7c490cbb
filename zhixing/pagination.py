"""Pagination of the REST API's lists."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.request import Request

# The largest page a client may ask for with ``limit``; a larger value is cut to this.
MAX_LIMIT = 1000


def _whole_number(text: str) -> int | None:
    """Return ``text`` as a whole number of at least 0, or None if it is not one."""
    return int(text) if text.isascii() and text.isdigit() else None


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """Limit-offset pagination with at most ``MAX_LIMIT`` items per page.

    A ``limit`` or ``offset`` that is not a whole number in range gets status 400, keyed by
    parameter, where Django REST framework would silently use the default. A ``limit`` above
    ``max_limit`` is cut to it, and an ``offset`` past the end gives an empty page.
    """

    max_limit = MAX_LIMIT

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any] | None:
        self._check_numbers(request)
        return super().paginate_queryset(queryset, request, view)

    def _check_numbers(self, request: Request) -> None:
        """Raise a 400 error that names each of ``limit`` and ``offset`` that is invalid."""
        errors = {}
        limit = request.query_params.get(self.limit_query_param, "").strip()
        if limit and not _whole_number(limit):
            errors[self.limit_query_param] = [
                _(
                    "limit: “%(value)s” is not a number of items; use a whole number from 1 to "
                    "%(max)s."
                )
                % {"value": limit, "max": self.max_limit}
            ]
        offset = request.query_params.get(self.offset_query_param, "").strip()
        if offset and _whole_number(offset) is None:
            errors[self.offset_query_param] = [
                _("offset: “%(value)s” is not a position; use a whole number from 0 upwards.")
                % {"value": offset}
            ]
        if errors:
            raise exceptions.ValidationError(errors)
