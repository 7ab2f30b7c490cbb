"""Idempotency keys for every state-changing request of the REST API.

:class:`IdempotencyRouter` registers each viewset with :class:`IdempotentViewMixin`, so a
POST, PUT, PATCH or DELETE with an ``Idempotency-Key`` header runs once per user and key:

- The first request runs, and its response is stored with the key, unless its status is 500
  or more. A server error rolls back the request's changes and stores nothing, so a retry with
  the key runs again. Every other status, 4xx errors included, is the request's outcome and is
  stored, because the IETF draft "The Idempotency-Key HTTP Header Field" has a retry get the
  result of the completed request, success or error.
- A repeat of the same request (method, path, query and body) returns the stored status, body
  and headers with ``Idempotent-Replayed: true`` and changes nothing.
- The key with a different request gets 422; a repeat while the first still runs gets 409.
- A key that is empty, longer than 255 characters or not printable ASCII gets 400.

Authentication, permission and throttling checks run before the key is looked at, so their
errors are not stored, and a stored response goes to the user who sent the key and no one else.
Requests without the header, and GET, HEAD and OPTIONS requests, run as before.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import Any, TypeVar, cast

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import exceptions, status, views
from rest_framework.request import Request
from rest_framework.routers import DefaultRouter
from rest_framework.viewsets import ViewSetMixin

from zhixing.courts.models import User
from zhixing.idempotency import services
from zhixing.idempotency.keys import (
    HEADER,
    REPLAYED_HEADER,
    STATE_CHANGING_METHODS,
    InvalidKey,
    parse_key,
    request_fingerprint,
)
from zhixing.idempotency.models import IdempotencyKey

logger = logging.getLogger(__name__)


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


class RequestInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_progress"


class _Replay(Exception):
    """Raised in ``initial()`` to end the request with the stored response of ``record``."""

    def __init__(self, record: IdempotencyKey) -> None:
        super().__init__(record.pk)
        self.record = record


def _key_reused(key: str, record: IdempotencyKey) -> KeyReused:
    return KeyReused(
        _(
            "The Idempotency-Key “%(key)s” was already used for a different request: "
            "the first was %(method)s %(path)s, and this one differs in its method, "
            "path, query or body. Send a new key with each new request, or resend the "
            "first request unchanged to get its response."
        )
        % {"key": key, "method": record.method, "path": record.path}
    )


def _in_progress(key: str) -> RequestInProgress:
    return RequestInProgress(
        _(
            "A request with the Idempotency-Key “%(key)s” is still running. Wait until "
            "it ends, then send the same request with the same key again to get its "
            "response."
        )
        % {"key": key}
    )


def replay_response(record: IdempotencyKey) -> HttpResponse:
    """Return the stored response of ``record``, marked with ``Idempotent-Replayed: true``."""
    assert record.status_code is not None
    response = HttpResponse(bytes(record.response_body), status=record.status_code)
    if "Content-Type" not in record.response_headers:
        del response["Content-Type"]
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotentViewMixin(views.APIView):
    """Run a state-changing request with an ``Idempotency-Key`` once per user and key.

    The view's handler runs in a transaction that holds the key's row lock and ends by storing
    the response in that row, so the changes and the stored response commit together.
    """

    # Read by the OpenAPI schema, which lists the header on the state-changing operations.
    accepts_idempotency_key = True

    _idempotency_transaction: ExitStack | None = None
    _idempotency_record: IdempotencyKey | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in STATE_CHANGING_METHODS or HEADER not in request.headers:
            return super().dispatch(request, *args, **kwargs)
        with ExitStack() as stack:
            self._idempotency_transaction = stack
            response = super().dispatch(request, *args, **kwargs)
            if self._idempotency_record is not None:
                self._store(self._idempotency_record, response)
        return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        stack = self._idempotency_transaction
        # Keys are stored per user, so an anonymous request, which no view allows today, runs
        # without one.
        if stack is None or not request.user.is_authenticated:
            return
        try:
            key = parse_key(request.headers[HEADER])
        except InvalidKey as error:
            raise exceptions.ValidationError({HEADER: [error.message]}) from error
        record, outcome = self._claim(request, key)
        if outcome is services.Outcome.MISMATCH:
            raise _key_reused(key, record)
        if outcome is services.Outcome.REPLAY:
            raise _Replay(record)

        stack.enter_context(transaction.atomic())
        locked = services.lock(record)
        if locked is None:
            raise _in_progress(key)
        if locked.is_complete:
            # The first request ended between the claim and the lock.
            raise _Replay(locked)
        self._idempotency_record = locked

    def _claim(self, request: Request, key: str) -> tuple[IdempotencyKey, services.Outcome]:
        user: User = request.user  # type: ignore[assignment]
        method = request.method or ""
        record, outcome = services.claim(
            user,
            key,
            fingerprint=request_fingerprint(method, request.get_full_path(), request.data),
            method=method,
            path=request.path,
            now=timezone.now(),
        )
        if outcome is services.Outcome.MISMATCH:
            logger.info(
                "Idempotency key %s of user %s sent with another request", record.pk, user.pk
            )
        return record, outcome

    # DRF's dispatch accepts any HttpResponseBase here, as its finalize_response does.
    def handle_exception(self, exc: Exception) -> HttpResponseBase:  # type: ignore[override]
        if isinstance(exc, _Replay):
            logger.info(
                "Replayed the stored response of idempotency key %s to user %s",
                exc.record.pk,
                exc.record.user_id,
            )
            return replay_response(exc.record)
        return super().handle_exception(exc)

    def _store(self, record: IdempotencyKey, response: HttpResponseBase) -> None:
        """Store ``response`` with ``record``, or roll the request back on a server error."""
        if response.status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
            transaction.set_rollback(True)
            logger.warning(
                "Request with idempotency key %s ended with status %s; its changes were rolled "
                "back and a retry with the key runs again",
                record.pk,
                response.status_code,
            )
            return
        if response.streaming:
            # NOTE: no API view returns a streamed body for a state-changing request. One that
            # did would have its status and headers stored with an empty body.
            logger.warning("Stored idempotency key %s without its streamed body", record.pk)
            body = b""
        else:
            render = getattr(response, "render", None)
            if render is not None:
                render()
            body = response.content  # type: ignore[attr-defined]
        headers = dict(response.headers)
        # The locale middleware sets the language after this, from the request that replays.
        headers.setdefault("Content-Language", translation.get_language())
        services.store_response(record, response.status_code, headers, body)


ViewClass = TypeVar("ViewClass", bound=type)


def with_idempotency_keys(viewset: ViewClass) -> ViewClass:
    """Return a subclass of ``viewset`` with :class:`IdempotentViewMixin`, of the same name."""
    if issubclass(viewset, IdempotentViewMixin):
        return viewset
    attributes = {
        "__module__": viewset.__module__,
        "__qualname__": viewset.__qualname__,
        "__doc__": viewset.__doc__,
    }
    return cast(ViewClass, type(viewset.__name__, (IdempotentViewMixin, viewset), attributes))


class IdempotencyRouter(DefaultRouter):
    """A router whose viewsets accept an ``Idempotency-Key`` on their state-changing requests."""

    def register(self, prefix: str, viewset: type[ViewSetMixin], *args: Any, **kwargs: Any) -> None:
        super().register(prefix, with_idempotency_keys(viewset), *args, **kwargs)
