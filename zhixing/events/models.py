"""The event log: what users watch, appended by services and read by the pages' live stream."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """Something a user or a court's staff watches happened: a report arrived, answers came in.

    An event goes to one user, or to every user acting for one court; a service that informs
    several courts appends one event per court. The id orders the log, and a page that lost
    its connection asks for the events after the last id it saw. ``data`` carries what the
    page shows (titles, counts, links) and never personal data such as ID or account numbers.
    Rows are never changed. A periodic check deletes them after 30 days.
    """

    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        MAJOR = "major", _("Major")

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=64)
    severity = models.CharField(
        _("severity"), max_length=8, choices=Severity.choices, default=Severity.INFO
    )
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("recipient court"),
        related_name="+",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        related_name="+",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
    )
    subject_type = models.CharField(_("subject type"), max_length=64, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["court", "id"], name="event_court_id"),
            models.Index(fields=["user", "id"], name="event_user_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(court__isnull=False) | models.Q(user__isnull=False),
                name="event_has_recipient",
                violation_error_message=_("An event needs a recipient court or user."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Events are append-only; publish a new event instead.")
        super().save(*args, **kwargs)
