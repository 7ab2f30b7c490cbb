"""Middleware that tells the audit trail which user and client address a request comes from."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from zhixing.audit.context import Actor, acting_as


def client_address(request: HttpRequest) -> str:
    # NOTE: behind a reverse proxy this is the proxy's address; trusting X-Forwarded-For needs
    # the proxy's address configured, which no deployment has yet.
    return request.META.get("REMOTE_ADDR", "")


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        channel = "api" if request.path.startswith("/api/") else "web"
        actor = Actor(user=user, client_address=client_address(request), channel=channel)  # type: ignore[arg-type]
        request.actor = actor  # type: ignore[attr-defined]
        with acting_as(actor):
            return self.get_response(request)
