"""Idempotency keys of API requests and the responses stored with them."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """An ``Idempotency-Key`` that a user sent with a state-changing API request.

    A client of another court system or a filing script sends the key so that a retry after a
    timeout files a case or sends a freeze once, not twice. The row stores a fingerprint of the
    first request and, once that request has ended, its response, which a repeat of the same
    request receives instead of running again. ``status_code`` is null while the first request
    runs, or after it ended with a server error whose changes were rolled back.

    The stored body is the API's response and may contain names and masked ID numbers, so rows
    expire after a day and only the same user's requests read them.
    """

    # The saved cases, measures and orders have their own audit records. An audit record per
    # stored response would triple the trail of a filing script and add nothing.
    audit_exempt: ClassVar[bool] = True

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    # SHA-256 of the method, path and parsed body, in hexadecimal.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    status_code = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    response_body = models.BinaryField(_("response body"), default=b"", blank=True)

    class Meta:
        verbose_name = _("API idempotency key")
        verbose_name_plural = _("API idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"],
                name="idempotency_key_once_per_user",
                violation_error_message=_("This user already sent this idempotency key."),
            )
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_key_expires")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"

    @property
    def is_complete(self) -> bool:
        return self.status_code is not None
