"""Key-information reports (执行要情), their delivery up the court tree, and instructions (批示).

A report goes from the reporting court to the command centers above it, one
:class:`ReportDelivery` per receiving court, which records when it was sent, received and
acknowledged. Follow-up reports (续报) and the final report (终报) link to the first report
and reach the same courts. An upper court's instruction goes down to the reporting court and
the courts between, one :class:`InstructionReceipt` per court, which acknowledges and
replies.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixing.audit.tracking import TrackedModel


class Kind(models.TextChoices):
    VIOLENT_RESISTANCE = "violent_resistance", _("Violent resistance to enforcement")
    MASS_INCIDENT = "mass_incident", _("Mass incident")
    STAFF_CASUALTY = "staff_casualty", _("Staff injured or killed")
    MAJOR_CASE = "major_case", _("Major or sensitive case")
    PUBLIC_OPINION = "public_opinion", _("Public-opinion event")
    WORK_PROGRESS = "work_progress", _("Important work progress")
    ROUTINE = "routine", _("Routine information")


class Severity(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    MAJOR = "major", _("Major")
    ESPECIALLY_MAJOR = "especially_major", _("Especially major")


class SituationReport(TrackedModel, models.Model):
    """One report of key information from a court's command center to the centers above."""

    class Stage(models.TextChoices):
        FIRST = "first", _("First report")
        FOLLOW_UP = "follow_up", _("Follow-up report")
        FINAL = "final", _("Final report")

    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("reporting court"),
        related_name="situation_reports",
        on_delete=models.PROTECT,
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.FIRST)
    first_report = models.ForeignKey(
        "self",
        verbose_name=_("first report"),
        related_name="later_reports",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    title = models.CharField(_("title"), max_length=200)
    occurred_at = models.DateTimeField(_("time of the event"))
    place = models.CharField(_("place"), max_length=200)
    narrative = models.TextField(_("what happened"))
    people_involved = models.TextField(_("people involved"), blank=True)
    measures_taken = models.TextField(_("measures taken"), blank=True)
    cases = models.ManyToManyField(
        "cases.EnforcementCase", verbose_name=_("linked cases"), related_name="+", blank=True
    )
    created_at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        verbose_name = _("key-information report")
        verbose_name_plural = _("key-information reports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["court", "-created_at"], name="report_court_created"),
            models.Index(fields=["kind", "severity", "created_at"], name="report_kind_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stage="first", first_report__isnull=True)
                | ~models.Q(stage="first") & models.Q(first_report__isnull=False),
                name="report_later_links_first",
                violation_error_message=_("Follow-up and final reports link to a first report."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.court_id} {self.title}"

    @property
    def thread_root(self) -> SituationReport:
        return self.first_report or self

    @property
    def is_major(self) -> bool:
        return self.severity != Severity.ROUTINE


class ReportAttachment(models.Model):
    """A photo, video or document attached to a report, stored in the data directory."""

    report = models.ForeignKey(
        SituationReport, related_name="attachments", on_delete=models.CASCADE
    )
    stored_name = models.CharField(_("stored name"), max_length=100, unique=True)
    original_name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("report attachment")
        verbose_name_plural = _("report attachments")

    def __str__(self) -> str:
        return self.original_name


class ReportDelivery(TrackedModel, models.Model):
    """A report's arrival at one command center, and that center's acknowledgement.

    ``route`` says why the court received it: as the direct superior, at the same moment as
    the direct superior (a major event), forwarded by a court below, or escalated because a
    court below did not acknowledge in time.
    """

    class Route(models.TextChoices):
        DIRECT = "direct", _("Direct superior")
        SIMULTANEOUS = "simultaneous", _("Sent at the same time")
        FORWARDED = "forwarded", _("Forwarded")
        ESCALATED = "escalated", _("Escalated")

    report = models.ForeignKey(SituationReport, related_name="deliveries", on_delete=models.CASCADE)
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("receiving court"),
        related_name="report_deliveries",
        on_delete=models.PROTECT,
    )
    route = models.CharField(_("route"), max_length=16, choices=Route.choices)
    sent_at = models.DateTimeField(_("sent"))
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    realerted_at = models.DateTimeField(_("alerted again"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    # Set in place of escalated_at for a court with no court above it on the platform, whose
    # command center staff are alerted once more at the escalation deadline.
    overdue_alerted_at = models.DateTimeField(
        _("alerted again when overdue"), null=True, blank=True
    )
    forwarded_at = models.DateTimeField(_("forwarded upward"), null=True, blank=True)

    class Meta:
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "court"], name="report_delivery_unique"),
        ]
        indexes = [
            models.Index(fields=["court", "acknowledged_at"], name="delivery_court_ack"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} → {self.court_id}"


class Instruction(TrackedModel, models.Model):
    """An upper command center's instruction (批示) on a report, sent down the court tree."""

    report = models.ForeignKey(
        SituationReport, related_name="instructions", on_delete=models.CASCADE
    )
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("instructing court"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    text = models.TextField(_("instruction"))
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("instruction")
        verbose_name_plural = _("instructions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.court_id}"


class InstructionReceipt(TrackedModel, models.Model):
    """An instruction's arrival at one court below, with its acknowledgement and reply."""

    instruction = models.ForeignKey(Instruction, related_name="receipts", on_delete=models.CASCADE)
    court = models.ForeignKey(
        "courts.Court", verbose_name=_("court"), related_name="+", on_delete=models.PROTECT
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("replied by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("instruction receipt")
        verbose_name_plural = _("instruction receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["instruction", "court"], name="instruction_receipt_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instruction_id} → {self.court_id}"
