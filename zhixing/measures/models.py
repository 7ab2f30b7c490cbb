"""Control measures (查控措施) on debtors' assets, the requests sent for them, their documents."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixing.audit.tracking import TrackedModel
from zhixing.measures.kinds import SPECS, KindSpec, MeasureKind
from zhixing.measures.rules import RULE_CHOICES


class ControlMeasure(TrackedModel, models.Model):
    """A freeze, deduction, seizure or distraint of one asset of a debtor in one case.

    The measure starts from an asset record that a debtor query found. It keeps the rule on
    periods in force on the day it was made (``rule``), so a renewal of a measure made under
    the 2004 rule is capped by that rule. ``queue_position`` is the number of earlier
    seizures or freezes of the same asset that take precedence (轮候): 0 is the first. It is
    estimated when the measure is sent and replaced by the agency's figure when it answers.

    Where the court's policy requires it, a measure starts awaiting a bureau head's approval:
    nothing is sealed or sent, and it has no queue position, because the agency ranks a
    measure by the time the agency receives it. Until the decision it counts as holding the
    asset only against a second request for the same asset in the case, and its amount
    counts against the amount still owed.
    """

    class State(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        NOT_APPROVED = "not_approved", _("Not approved")
        REQUESTED = "requested", _("Requested")
        SENT = "sent", _("Sent to the agency")
        IN_FORCE = "in_force", _("In force")
        PARTLY_IN_FORCE = "partly_in_force", _("Partly in force")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        RELEASED = "released", _("Released")

    ACTIVE_STATES = (State.IN_FORCE, State.PARTLY_IN_FORCE)
    # States of a measure that holds or may still hold the asset, for the queue position.
    HOLDING_STATES = (State.REQUESTED, State.SENT, State.IN_FORCE, State.PARTLY_IN_FORCE)
    # States in which a second measure of the same kind on the same asset in the case is a
    # duplicate: the holding states and a measure still awaiting approval.
    CLAIMING_STATES = (State.AWAITING_APPROVAL, *HOLDING_STATES)

    audit_personal_fields = frozenset({"asset_identifier"})

    kind = models.CharField(_("kind"), max_length=32, choices=MeasureKind.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.REQUESTED
    )
    case = models.ForeignKey(
        "cases.EnforcementCase",
        verbose_name=_("enforcement case"),
        related_name="control_measures",
        on_delete=models.PROTECT,
    )
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("court"),
        related_name="+",
        on_delete=models.PROTECT,
        help_text=_("The case's court, which issues the documents."),
    )
    party = models.ForeignKey(
        "cases.Party", verbose_name=_("debtor"), related_name="+", on_delete=models.PROTECT
    )
    asset = models.ForeignKey(
        "inquiry.AssetRecord",
        verbose_name=_("asset record"),
        related_name="measures",
        on_delete=models.PROTECT,
    )
    agency = models.ForeignKey(
        "linkage.Agency", verbose_name=_("agency"), related_name="+", on_delete=models.PROTECT
    )
    category = models.CharField(_("category"), max_length=32)
    asset_type = models.CharField(_("asset type"), max_length=32)
    asset_identifier = models.CharField(
        _("asset identifier"),
        max_length=100,
        help_text=_("Account number, certificate number, plate or registration number."),
    )
    asset_label = models.CharField(_("asset"), max_length=300, blank=True)
    amount = models.DecimalField(
        _("amount (yuan)"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Deposits: the limit of the freeze, or the amount to deduct."),
    )
    actual_amount = models.DecimalField(
        _("amount applied (yuan)"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Deposits: what the bank reports as frozen or deducted."),
    )
    rule = models.CharField(_("period rule"), max_length=8, choices=RULE_CHOICES)
    made_on = models.DateField(_("made on"))
    period_months = models.PositiveSmallIntegerField(_("period (months)"), null=True, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    queue_position = models.PositiveIntegerField(
        _("earlier measures on the asset"), null=True, blank=True
    )
    queue_reported = models.BooleanField(_("queue position reported by the agency"), default=False)
    ruling_sequence = models.PositiveSmallIntegerField(
        _("ruling number in the case"),
        help_text=_("1 for the case's first ruling of a measure (之一), 2 for the second, …"),
    )
    ruling_number = models.CharField(_("ruling number"), max_length=100)
    notice_number = models.CharField(_("notice number"), max_length=100)
    renewals = models.PositiveSmallIntegerField(_("renewals"), default=0)
    outcome_note = models.CharField(_("agency's note"), max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    state_changed_at = models.DateTimeField(_("state changed"))
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("control measure")
        verbose_name_plural = _("control measures")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "ruling_sequence"],
                name="measure_unique_ruling",
                violation_error_message=_("Another measure of the case has this ruling number."),
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0),
                name="measure_amount_positive",
                violation_error_message=_("The amount must be more than 0 yuan."),
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=False, end_date__gte=models.F("start_date")),
                name="measure_end_after_start",
                violation_error_message=_("The end of the period lies before its start."),
            ),
        ]
        indexes = [
            models.Index(fields=["asset_type", "asset_identifier"], name="measure_asset"),
            models.Index(fields=["state", "end_date"], name="measure_state_end"),
            models.Index(fields=["court", "state"], name="measure_court_state"),
        ]

    def __str__(self) -> str:
        # No asset identifier: the audit trail copies this text.
        return f"{self.kind} #{self.pk} of case {self.case_id}"

    @property
    def spec(self) -> KindSpec:
        return SPECS[self.kind]

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES


class FurtherNumberSequence(models.Model):
    """The last further number (之N) that a document of one enforcement case was given.

    Rulings of measures (之一, 之二, …) and decisions of approved applications, such as an
    exit-restriction decision, print the case number with this suffix. Both draw the next
    number from this row (see :mod:`zhixing.measures.numbering`), so no two of them share one.
    """

    case = models.OneToOneField(
        "cases.EnforcementCase",
        verbose_name=_("enforcement case"),
        related_name="+",
        on_delete=models.CASCADE,
    )
    last_number = models.PositiveIntegerField(_("last further number"), default=0)

    class Meta:
        verbose_name = _("further number sequence")
        verbose_name_plural = _("further number sequences")

    def __str__(self) -> str:
        return f"{self.case_id} {self.last_number}"


class MeasureStep(models.Model):
    """One request to the agency for a measure: applying it, renewing it or releasing it.

    Each step is one gateway item, whose id is chosen here before it is queued, so the
    agency's answer finds its step, and the sealed notice of the step travels with the item.
    A step awaiting a bureau head's approval has no documents and no gateway item yet. The
    decision (``decided_by``, ``decided_at``, ``decision_note``) stays on the step.
    """

    class Kind(models.TextChoices):
        APPLY = "apply", _("Apply")
        RENEW = "renew", _("Renew")
        RELEASE = "release", _("Release")

    class State(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        NOT_APPROVED = "not_approved", _("Not approved")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DONE = "done", _("Done")
        PARTLY_DONE = "partly_done", _("Partly done")
        REJECTED = "rejected", _("Rejected")

    # States of a step whose gateway item is queued or sent and awaits the agency's answer.
    OPEN_STATES = (State.QUEUED, State.SENT)
    # States of a step that keeps the measure from a further renewal or release.
    PENDING_STATES = (State.AWAITING_APPROVAL, *OPEN_STATES)

    measure = models.ForeignKey(
        ControlMeasure, verbose_name=_("measure"), related_name="steps", on_delete=models.CASCADE
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.QUEUED)
    item_id = models.UUIDField(_("gateway item"), unique=True)
    action = models.CharField(_("action"), max_length=16)
    period_months = models.PositiveSmallIntegerField(_("period (months)"), null=True, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    note = models.CharField(_("outcome"), max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("created"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.CharField(_("comment on the decision"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("measure step")
        verbose_name_plural = _("measure steps")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state"], name="measure_step_state")]

    def __str__(self) -> str:
        return f"{self.kind} of measure {self.measure_id}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def awaits_approval(self) -> bool:
        return self.state == self.State.AWAITING_APPROVAL


class MeasureDocument(models.Model):
    """A sealed legal document of a measure step: the ruling or the assistance notice.

    The PDF is kept in the database rather than the data folder, so that a gateway worker on
    another host, which reaches only the database, can attach it to the request.
    """

    class Role(models.TextChoices):
        RULING = "ruling", _("Ruling")
        NOTICE = "notice", _("Assistance notice")

    step = models.ForeignKey(
        MeasureStep, verbose_name=_("step"), related_name="documents", on_delete=models.CASCADE
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    kind = models.CharField(_("document kind"), max_length=64)
    title = models.CharField(_("title"), max_length=100)
    template_version = models.PositiveIntegerField(_("template version"), null=True, blank=True)
    pdf = models.BinaryField(_("sealed PDF"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("measure document")
        verbose_name_plural = _("measure documents")
        ordering = ["step_id", "role"]
        constraints = [
            models.UniqueConstraint(fields=["step", "role"], name="measure_document_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of step {self.step_id}"


class ExpiryAlert(models.Model):
    """A warning sent that a measure's period ends within ``threshold_days`` days.

    Keyed by the end date as well, so that a renewal, which moves the end, starts the
    warnings again.
    """

    measure = models.ForeignKey(
        ControlMeasure, verbose_name=_("measure"), related_name="alerts", on_delete=models.CASCADE
    )
    end_date = models.DateField(_("end"))
    threshold_days = models.PositiveSmallIntegerField(_("days before the end"))
    sent_at = models.DateTimeField(_("sent"))

    class Meta:
        verbose_name = _("expiry alert")
        verbose_name_plural = _("expiry alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "end_date", "threshold_days"], name="expiry_alert_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} {self.end_date} {self.threshold_days}"
