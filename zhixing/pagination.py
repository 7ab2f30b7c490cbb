"""Pagination of the REST API's lists."""

from __future__ import annotations

from rest_framework import pagination

# The largest page a client may ask for with ``limit``; a larger value is cut to this.
MAX_LIMIT = 1000


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """Limit-offset pagination with at most ``MAX_LIMIT`` items per page."""

    max_limit = MAX_LIMIT
