"""The live stream endpoint: ``GET /events/stream`` (Server-Sent Events)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from zhixing.courts.models import User
from zhixing.events import services, stream

logger = logging.getLogger(__name__)


def _last_id(request: HttpRequest) -> int | None:
    value = request.headers.get("Last-Event-ID") or request.GET.get("after", "")
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        return -1
    return number if number >= 0 else -1


@login_required
@require_GET
def event_stream(request: HttpRequest) -> HttpResponseBase:
    """Stream the user's events after ``Last-Event-ID`` (or ``?after=``), else from now on."""
    user: User = request.user  # type: ignore[assignment]
    last_id = _last_id(request)
    if last_id == -1:
        return JsonResponse(
            {"error": "invalid_request", "detail": "Last-Event-ID must be a whole number ≥ 0."},
            status=400,
        )
    if last_id is None:
        last_id = services.latest_id()

    def read(after: int) -> list[tuple[int, str, dict[str, Any]]]:
        return [
            (event.id, event.kind, {**event.data, "severity": event.severity})
            for event in services.events_after(user, after)
        ]

    listening = stream.ensure_listener(services.CHANNEL)
    source = stream.Stream(read, last_id, listening=listening)
    content = source.asynchronous() if isinstance(request, ASGIRequest) else source.sync()
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    # Reverse proxies such as nginx would otherwise buffer the stream.
    response["X-Accel-Buffering"] = "no"
    logger.debug("Event stream opened for user %s after event %s", user.pk, last_id)
    return response
