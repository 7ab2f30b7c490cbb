"""The append-only audit trail."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditRecordIsImmutable(Exception):
    """Raised when code tries to change or delete an audit record."""


class AuditRecordQuerySet(models.QuerySet["AuditRecord"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditRecordIsImmutable("Audit records cannot be changed.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AuditRecordIsImmutable("Audit records cannot be deleted.")


class AuditRecord(models.Model):
    """One entry of the audit trail: a change to a record, a read of personal data, a login.

    Rows are only ever inserted. The model refuses updates and deletes, and database
    triggers reject them too, so neither the application nor a stray query can rewrite
    history. The user's name and court path are copied, so an entry stays readable after
    the user is renamed or moved. Entries of console commands have no user; they are filed
    under the court whose record they touched.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        READ_PERSONAL = "read_personal", _("Read personal data")
        EXPORT = "export", _("Exported")
        LOGIN = "login", _("Logged in")
        LOGOUT = "logout", _("Logged out")
        LOGIN_FAILED = "login_failed", _("Login failed")

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        "courts.User",
        verbose_name=_("user"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_constraint=False,
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("court"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_constraint=False,
    )
    # Tree paths of the acting user's court and of the court whose record was touched; the
    # audit page of a court shows entries where either lies in its scope.
    actor_court_path = models.CharField(_("acting court path"), max_length=255, blank=True)
    subject_court_path = models.CharField(_("subject court path"), max_length=255, blank=True)
    client_address = models.CharField(_("client address"), max_length=64, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["actor_court_path", "at"], name="audit_actor_court_time"),
            models.Index(fields=["subject_court_path", "at"], name="audit_subject_court_time"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditRecordIsImmutable("Audit records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditRecordIsImmutable("Audit records cannot be deleted.")
