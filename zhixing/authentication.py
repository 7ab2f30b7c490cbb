"""API authentication that also tells the audit trail who is acting."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication
from rest_framework.request import Request

from zhixing.audit.context import attach_user


class AuditedTokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None:
            attach_user(result[0])
        return result


class AuditedSessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request: Request) -> Any:
        result = super().authenticate(request)
        if result is not None:
            attach_user(result[0])
        return result


class AuditedSessionScheme(OpenApiAuthenticationExtension):
    """Describe the session login in the OpenAPI document, as for Django's own session."""

    target_class = "zhixing.authentication.AuditedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
