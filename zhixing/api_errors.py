"""Translation of service errors into REST API errors, shared by every app's API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, views
from rest_framework.response import Response


def as_api_error(error: DjangoValidationError) -> exceptions.ValidationError:
    """Return a 400 error with the service's field keys, or ``detail`` for errors of no field."""
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(error.message_dict)
    return exceptions.ValidationError({"detail": error.messages})


def call_service(function: Any, **arguments: Any) -> Any:
    """Call a service, turning its permission errors into 403 and its validation errors into 400."""
    try:
        return function(**arguments)
    except DjangoPermissionDenied as error:
        raise exceptions.PermissionDenied(str(error)) from error
    except DjangoValidationError as error:
        raise as_api_error(error) from error


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with a 404 that names the resource and id instead of a model class.

    ``get_object_or_404`` raises "No ControlMeasure matches the given query.", which names a
    Python class and not the requested resource. Other 404 messages are kept.
    """
    if isinstance(exc, Http404) and _is_generic(exc):
        exc = exceptions.NotFound(_not_found(context))
    elif isinstance(exc, RequestDataTooBig):
        # Django's own handler would return an HTML page that names no limit.
        exc = exceptions.ParseError(
            _(
                "The request body is larger than %(limit)s bytes; send less text, and files "
                "through the attachment fields."
            )
            % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
        )
    return views.exception_handler(exc, context)


def _is_generic(exc: Http404) -> bool:
    message = str(exc.args[0]) if exc.args else ""
    return not message or message.endswith(" matches the given query.")


def _not_found(context: dict[str, Any]) -> str:
    view = context.get("view")
    kwargs = context.get("kwargs") or {}
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
    key = kwargs.get(lookup, kwargs.get("pk"))
    model = None
    if view is not None and hasattr(view, "get_queryset"):
        try:
            # Building the queryset reads nothing from the database.
            model = view.get_queryset().model
        except Exception:  # the message falls back to the general one
            model = None
    if key is None or model is None:
        return _("Nothing was found at this address; check the ids in it.")
    return _("No %(thing)s with the id %(id)s is in your scope; check the id in the address.") % {
        "thing": model._meta.verbose_name,
        "id": key,
    }
