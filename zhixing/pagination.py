"""Pagination of the REST API's lists."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.request import Request

# The largest page a client may ask for with ``limit``; a larger value is cut to this.
MAX_LIMIT = 1000


# Digits of the largest limit and offset read as numbers. Longer ones are past any list, and
# the database's bigint has 19 digits; Python refuses to convert strings of over 4,300 digits.
MAX_DIGITS = 18


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _long(text: str) -> bool:
    """Return whether the digits ``text`` make a number of more than ``MAX_DIGITS`` digits."""
    return len(text.lstrip("0")) > MAX_DIGITS


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

    def get_limit(self, request: Request) -> int | None:
        limit = request.query_params.get(self.limit_query_param, "").strip()
        if _digits(limit) and _long(limit):
            # Above any page size; converting it could fail, so it is cut here.
            return self.max_limit
        return super().get_limit(request)

    def get_offset(self, request: Request) -> int:
        offset = request.query_params.get(self.offset_query_param, "").strip()
        if _digits(offset) and _long(offset):
            # Past the end of any list, which gives an empty page.
            return 10**MAX_DIGITS
        return super().get_offset(request)

    def _check_numbers(self, request: Request) -> None:
        """Raise a 400 error that names each of ``limit`` and ``offset`` that is invalid."""
        errors = {}
        limit = request.query_params.get(self.limit_query_param, "").strip()
        if limit and not (_digits(limit) and limit.strip("0")):
            errors[self.limit_query_param] = [
                _(
                    "limit: “%(value)s” is not a number of items; use a whole number from 1 to "
                    "%(max)s."
                )
                % {"value": limit, "max": self.max_limit}
            ]
        offset = request.query_params.get(self.offset_query_param, "").strip()
        if offset and not _digits(offset):
            errors[self.offset_query_param] = [
                _("offset: “%(value)s” is not a position; use a whole number from 0 upwards.")
                % {"value": offset}
            ]
        if errors:
            raise exceptions.ValidationError(errors)
