"""Courts of the province, their staff and the roles staff hold."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhixing.audit.tracking import TrackedModel


class Court(TrackedModel, models.Model):
    """A people's court whose enforcement bureau is one command center of the network.

    Courts form a tree: the high court of the province, its intermediate courts (one per
    prefecture-level city, plus the specialised ones) and their basic courts. ``path`` stores
    the zero-padded ids from the root down to this court, e.g. ``/000001/000004/000037/``,
    so that "this court and every court below it" is one indexed prefix query.
    """

    class Level(models.TextChoices):
        HIGH = "high", _("High court")
        INTERMEDIATE = "intermediate", _("Intermediate court")
        SPECIALISED_INTERMEDIATE = "specialised_intermediate", _("Specialised intermediate court")
        BASIC = "basic", _("Basic court")

    class CodeStatus(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed by a published source")
        DERIVED = "derived", _("Derived from the division code, not yet seen in a case number")
        UNKNOWN = "unknown", _("Unknown")

    code = models.CharField(
        _("court code"),
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Court code used in case numbers since 2016, e.g. 粤0104."),
    )
    code_status = models.CharField(
        _("code status"), max_length=16, choices=CodeStatus.choices, default=CodeStatus.CONFIRMED
    )
    name = models.CharField(_("full name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    level = models.CharField(_("level"), max_length=32, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent court"),
        related_name="children",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    division_code = models.CharField(_("administrative division code"), max_length=6, blank=True)
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_to = models.DateField(_("active until"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    path = models.CharField(_("tree path"), max_length=255, db_index=True, editable=False)

    class Meta:
        verbose_name = _("court")
        verbose_name_plural = _("courts")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True, level="high")
                | models.Q(parent__isnull=False) & ~models.Q(level="high"),
                name="court_parent_matches_level",
                violation_error_message=_(
                    "Only the high court has no parent court; every other court needs one."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_code(self) -> str:
        return self.code or "—"

    def ancestors(self) -> list[Court]:
        """Return the courts above this one, the nearest first."""
        chain = []
        court = self.parent
        while court is not None:
            chain.append(court)
            court = court.parent
        return chain

    def is_within(self, other: Court) -> bool:
        """Return whether this court is ``other`` or lies below it."""
        return self.path.startswith(other.path)


class Role(models.Model):
    """A role that a member of a court's staff holds; a user may hold several."""

    class Code(models.TextChoices):
        CASE_OFFICER = "case_officer", _("Case officer")
        CLERK = "clerk", _("Clerk")
        BUREAU_HEAD = "bureau_head", _("Bureau head")
        COMMANDER = "commander", _("Commander")
        DUTY_OFFICER = "duty_officer", _("Duty officer")
        JUDICIAL_POLICE = "judicial_police", _("Judicial police")
        ADMINISTRATOR = "administrator", _("Administrator")

    code = models.CharField(_("code"), max_length=32, primary_key=True, choices=Code.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["code"]

    def __str__(self) -> str:
        return str(self.Code(self.code).label)


class User(TrackedModel, AbstractUser):
    """A member of a court's staff who logs in; every user acts for exactly one court."""

    audit_personal_fields = frozenset({"phone", "password"})

    court = models.ForeignKey(
        Court, verbose_name=_("court"), related_name="staff", on_delete=models.PROTECT
    )
    full_name = models.CharField(pgettext_lazy("person", "full name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), related_name="users")
    # Set when an administrator chose the password, so that the user replaces it at login.
    password_change_required = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("The user chooses a new password before anything else after logging in."),
    )

    REQUIRED_FIELDS = ["court_id", "full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["court__path", "username"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.username})" if self.full_name else self.username

    def role_codes(self) -> set[str]:
        # Cached per instance because pages ask several times per request.
        if not hasattr(self, "_role_codes"):
            self._role_codes = {role.code for role in self.roles.all()}
        return self._role_codes

    def has_role(self, *codes: str) -> bool:
        """Return whether the user holds any of the given role codes."""
        return bool(self.role_codes() & {str(code) for code in codes})
