"""API authentication that also tells the audit trail who is acting."""

from __future__ import annotations

from typing import Any

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
