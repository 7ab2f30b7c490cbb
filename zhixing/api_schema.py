"""OpenAPI schema generation: each operation also lists the error responses it can return.

The bodies follow what DRF and ``zhixing.api_errors.exception_handler`` send:

- 401, 403 and 404 carry ``{"detail": "<message>"}``. A 400 for a body that is not valid JSON
  has the same shape.
- A 400 for invalid input maps each field to its list of messages. Errors of a nested object
  or of a list's items are nested under the field, keyed by field name or by item index (DRF's
  LIST_SERIALIZER_ERRORS_AS_DICT, true by default in DRF 3.18). ``non_field_errors`` contains
  the messages about the input as a whole, and ``detail`` the list of messages of a service
  error that names no field (``zhixing.api_errors.as_api_error``).

An operation keeps any response that its view documents itself for one of these codes.

The state-changing operations (POST, PUT, PATCH, DELETE) also list the optional
``Idempotency-Key`` header, the 409 and 422 that it can lead to, and the
``Idempotent-Replayed`` header of a replayed response (``zhixing.idempotency.api``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry, ResolvedComponent, is_serializer
from drf_spectacular.utils import OpenApiParameter

from zhixing.idempotency.keys import (
    HEADER,
    KEEP,
    MAX_LENGTH,
    REPLAYED_HEADER,
    STATE_CHANGING_METHODS,
)
from zhixing.pagination import LimitOffsetPagination

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"

JSON = "application/json"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error with one message.",
    "properties": {
        "detail": {"type": "string", "description": "The error message."},
    },
    "required": ["detail"],
}

VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Invalid input. Each key is a field name, or non_field_errors for the input as a "
        "whole, or detail for a service error that names no field. Its value is the list of "
        "messages, or for a nested object or a list the errors of each part in the same "
        "form, keyed by field name or by item index."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"$ref": f"#/components/schemas/{VALIDATION_ERROR}"},
        ]
    },
    "minProperties": 1,
}

DESCRIPTIONS = {
    "400": (
        "Invalid input: a validation error names each field, query parameter or header and "
        "its messages. A body that is not valid JSON gets an Error instead."
    ),
    "401": (
        "No valid credentials: the Authorization header is missing or names an unknown token, "
        "or the session has ended. The WWW-Authenticate header names the Token scheme."
    ),
    "403": (
        "The account may not do this: its role or court lacks the right, or a session "
        "request lacks its CSRF token."
    ),
    "404": (
        "Nothing with the id in the path is in your scope, or the file or revision that the "
        "path names does not exist. A record outside your scope gets the same response as one "
        "that does not exist."
    ),
    "409": (
        "A request with the same Idempotency-Key is still running. Send the request again "
        "with the key once it has ended, to get its response."
    ),
    "422": (
        "The Idempotency-Key was already used for a request with another method, path, query "
        "or body. Use a new key for a new request."
    ),
}

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    description=(
        f"Optional key of 1 to {MAX_LENGTH} printable ASCII characters, such as a UUID, "
        "unique per request, plain or as a quoted string. The first request with the key "
        "runs and its response is stored for "
        f"{int(KEEP.total_seconds() // 3600)} hours, unless its status is 500 or more. The "
        "same request with the same key by the same user gets the stored response with "
        f"{REPLAYED_HEADER}: true, and changes nothing again."
    ),
)

REPLAYED_RESPONSE_HEADER = {
    "description": (
        "true when the response is the one stored for an earlier request with the same "
        "Idempotency-Key; absent otherwise."
    ),
    "schema": {"type": "string", "enum": ["true"]},
}

# Methods whose request carries input that the API validates.
INPUT_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ErrorDocumentingAutoSchema(AutoSchema):
    """AutoSchema that adds the 400, 401, 403 and 404 responses that an operation can return.

    - 401 and 403: the operation requires authentication (its security list does not
      contain the empty requirement that marks anonymous access). NOTE: 403 is listed for
      every such operation, although some reads, such as the list of courts, never return it.
    - 404: the path has a parameter, such as the id of a detail route.
    - 400: the method is POST, PUT or PATCH, or the query parameters are documented with a
      serializer, which the view uses to validate them, or the operation is a list paginated
      by :class:`zhixing.pagination.LimitOffsetPagination`, which checks ``limit`` and
      ``offset``, or the operation accepts an ``Idempotency-Key``, which is checked.
    - 409 and 422: the operation accepts an ``Idempotency-Key``.
    """

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._accepts_idempotency_key():
            parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        return parameters

    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.get("responses", {})
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._error_response(code)
        if self._accepts_idempotency_key():
            self._add_replayed_header(responses)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _accepts_idempotency_key(self) -> bool:
        return self.method in STATE_CHANGING_METHODS and getattr(
            self.view, "accepts_idempotency_key", False
        )

    def _add_replayed_header(self, responses: dict[str, Any]) -> None:
        # Any stored response can be replayed: each status below 500.
        for code, response in responses.items():
            if code.isdigit() and int(code) < 500 and code not in ("409", "422"):
                response.setdefault("headers", {})[REPLAYED_HEADER] = REPLAYED_RESPONSE_HEADER

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        codes = []
        if self._takes_input() or self._accepts_idempotency_key():
            codes.append("400")
        if self._accepts_idempotency_key():
            codes += ["409", "422"]
        security = operation.get("security") or []
        if security and {} not in security:
            codes += ["401", "403"]
        if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
            codes.append("404")
        return codes

    def _takes_input(self) -> bool:
        if self.method in INPUT_METHODS:
            return True
        if self.method != "GET":
            return False
        if any(is_serializer(parameter) for parameter in self.get_override_parameters()):
            return True
        return isinstance(self._get_paginator(), LimitOffsetPagination) and self._is_list_view()

    def _error_response(self, code: str) -> dict[str, Any]:
        error = self._component(ERROR, ERROR_SCHEMA)
        if code == "400":
            schema = {"oneOf": [self._component(VALIDATION_ERROR, VALIDATION_ERROR_SCHEMA), error]}
        else:
            schema = error
        response: dict[str, Any] = {
            "description": DESCRIPTIONS[code],
            "content": {JSON: {"schema": schema}},
        }
        if code == "401":
            response["headers"] = {
                "WWW-Authenticate": {
                    "description": "The authentication scheme to use: Token.",
                    "schema": {"type": "string"},
                }
            }
        return response

    def _component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            schema=schema,
            object=f"{__name__}.{name}",
        )
        self.registry.register_on_missing(component)
        return component.ref
