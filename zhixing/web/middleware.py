"""Middleware of the site's pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)

# Addresses of the REST API and the agency gateway, whose errors stay JSON.
API_PREFIX = "/api/"


class MethodNotAllowedPageMiddleware:
    """Replace the empty 405 response to opening a form's address with a page that explains it.

    A view with ``require_POST`` responds to a GET with status 405 and no body, so a user who
    opens a bookmarked address, or comes back to it with the back button, sees a blank page. This
    middleware renders ``405.html`` in the site's layout instead, with status 405 and the
    ``Allow`` header kept. It changes only GET and HEAD requests outside ``API_PREFIX`` that
    accept HTML, whose response is an empty 405 that allows POST.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and request.method in ("GET", "HEAD"):
            # The response depends on whether the client accepts HTML.
            patch_vary_headers(response, ["Accept"])
        if not self._should_replace(request, response):
            return response
        logger.info(
            "Rendered the 405 page for a %s of the form address %s", request.method, request.path
        )
        page = render(request, "405.html", {"back_url": _back_url(request)}, status=405)
        page["Allow"] = response["Allow"]
        patch_vary_headers(page, ["Accept"])
        return page

    @staticmethod
    def _should_replace(request: HttpRequest, response: HttpResponse) -> bool:
        if response.status_code != 405 or request.method not in ("GET", "HEAD"):
            return False
        if request.path.startswith(API_PREFIX) or not request.accepts("text/html"):
            return False
        if getattr(response, "streaming", False) or response.content:
            return False
        allowed = {method.strip() for method in response.get("Allow", "").split(",")}
        return "POST" in allowed


def _back_url(request: HttpRequest) -> str:
    """Return the Referer if it is another page of this site, with the same scheme, else ""."""
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(referer)
    if parts.scheme not in ("", request.scheme) or parts.path == request.path:
        return ""
    return referer


class PasswordChangeRequiredMiddleware:
    """Send a user whose password an administrator set to the page that changes it.

    Until the user has chosen their own password, every page outside ``API_PREFIX`` redirects
    there, except logging out and the static files. The API is left alone: it authenticates by
    token, which an administrator's password does not give.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "password_change_required", False)
            and not request.path.startswith(API_PREFIX)
            and request.path not in _password_free_paths()
            and not request.path.startswith(settings.STATIC_URL)
        ):
            return redirect("own-password")
        return self.get_response(request)


def _password_free_paths() -> set[str]:
    return {reverse("own-password"), reverse("logout"), reverse("set_language")}
