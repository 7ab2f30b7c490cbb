"""Records of the web interface itself."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    """A form sent once: its one-time token, and where the first sending led.

    A second sending of the same form (a double click, a reload, the back button) finds the
    token taken and is led to the first result instead of storing the same thing twice.
    """

    token = models.CharField(_("token"), max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE
    )
    path = models.CharField(_("path"), max_length=200)
    # Empty while the first sending is handled.
    location = models.CharField(_("result"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        indexes = [models.Index(fields=["created_at"], name="web_submission_created")]

    def __str__(self) -> str:
        return f"{self.path} {self.token}"
