"""Translation of service errors into REST API errors, shared by every app's API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions


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
