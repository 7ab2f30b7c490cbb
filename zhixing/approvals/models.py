"""Applications that a lower court sends up for approval, their steps and PDF revisions.

An :class:`Application` is drafted at a basic or intermediate court, signed by that court's
bureau head, sealed with that court's seal and submitted. A reviewing court in between (the
intermediate court, for an exit restriction from a basic court) gives its opinion. The
deciding court receives the application and approves it with its own seal or rejects it.
The approved application is then executed. An exit restriction may be lifted before its period
ends, once approved, and lifted again when border control rejected the lifting or the request
failed. Each step is one :class:`Step` row, and each signature adds one :class:`Revision` of the
PDF as an incremental update of the one before. Each lifting of a restriction that the gateway
handed over has its own sealed document, a :class:`LiftingNotice`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixing.audit.tracking import TrackedModel


class Kind(models.TextChoices):
    SEIZURE_RENEWAL = "seizure_renewal", _("Seizure renewal")
    EXIT_RESTRICTION = "exit_restriction", _("Exit restriction")


class State(models.TextChoices):
    DRAFTED = "drafted", _("Drafted")
    HEAD_APPROVED = "head_approved", _("Signed by the bureau head")
    SEALED = "sealed", _("Sealed by the applying court")
    SUBMITTED = "submitted", _("Submitted")
    REVIEWED = "reviewed", _("Reviewed by the intermediate court")
    RECEIVED = "received", _("Received by the deciding court")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    EXECUTED = "executed", _("Executed")
    LIFTED = "lifted", _("Lifted")


# States in which nothing more is due.
FINAL_STATES = frozenset({State.REJECTED, State.EXECUTED, State.LIFTED})


class Application(TrackedModel, models.Model):
    """An application (申请) of one court to a court above it: seizure renewal or exit restriction.

    ``court`` is the applying court, ``deciding_court`` the court that approves, and
    ``reviewing_court`` the court in between that must give its opinion first, if any.
    ``step_due_at`` is the deadline of the step that is due now; the overdue timer sets
    ``overdue_at`` once it passes.
    """

    audit_personal_fields = frozenset({"person_document_number"})

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.DRAFTED
    )
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("applying court"),
        related_name="approval_applications",
        on_delete=models.PROTECT,
    )
    reviewing_court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("reviewing court"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    deciding_court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("deciding court"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    case = models.ForeignKey(
        "cases.EnforcementCase",
        verbose_name=_("case"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    case_number = models.CharField(_("case number"), max_length=64)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drafted by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    reason = models.TextField(_("reason"))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    period_months = models.PositiveSmallIntegerField(_("period (months)"))
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))

    # Exit restriction: the person restricted, copied from the case's debtor when drafted.
    person = models.ForeignKey(
        "cases.Party",
        verbose_name=_("person"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    person_name = models.CharField(_("name"), max_length=200, blank=True)
    person_document_type = models.CharField(_("document type"), max_length=32, blank=True)
    person_document_number = models.CharField(_("document number"), max_length=32, blank=True)
    # The number of the exit-restriction decision (限制出境决定书) that the border-control
    # request cites. It is the case number with the further number (之N) allocated at drafting.
    decision_sequence = models.PositiveSmallIntegerField(
        _("further number of the decision"), null=True, blank=True
    )
    decision_number = models.CharField(_("decision number"), max_length=100, blank=True)

    # Seizure renewal: the seizure renewed. When the drafter chose the seizure's record,
    # ``renewed_measure`` links it, the fields left empty below are filled from it, and
    # executing the application renews the measure. Without the link the fields are as typed in.
    renewed_measure = models.ForeignKey(
        "measures.ControlMeasure",
        verbose_name=_("seizure renewed"),
        related_name="renewal_applications",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    seized_property = models.TextField(_("seized property"), blank=True)
    previous_document_number = models.CharField(
        _("document number of the seizure"), max_length=100, blank=True
    )
    previous_start = models.DateField(_("seizure starts"), null=True, blank=True)
    previous_end = models.DateField(_("seizure ends"), null=True, blank=True)

    created_at = models.DateTimeField(_("drafted"), default=timezone.now)
    state_changed_at = models.DateTimeField(_("state changed"), default=timezone.now)
    step_due_at = models.DateTimeField(_("current step due"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("flagged overdue"), null=True, blank=True)
    # The gateway item that carried the border-control request of an exit restriction.
    border_control_item = models.UUIDField(
        _("border-control request"), null=True, blank=True, unique=True
    )

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["court", "-created_at"], name="application_court_created"),
            models.Index(fields=["deciding_court", "state"], name="application_deciding"),
            models.Index(fields=["reviewing_court", "state"], name="application_reviewing"),
            models.Index(fields=["step_due_at"], name="application_step_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="application_period_order",
                violation_error_message=_("The period ends before it starts."),
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="exit_restriction") | models.Q(person__isnull=False),
                name="application_exit_restriction_person",
                violation_error_message=_("An exit restriction names the person restricted."),
            ),
            models.CheckConstraint(
                condition=models.Q(kind="seizure_renewal") | models.Q(renewed_measure__isnull=True),
                name="application_renewed_measure_kind",
                violation_error_message=_("Only a seizure renewal links a seizure's record."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_number}"

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def is_overdue(self) -> bool:
        return self.overdue_at is not None and not self.is_final


class Revision(models.Model):
    """One version of the application's PDF; number 0 is the unsigned draft.

    Every later revision is the one before with one signature appended as an incremental
    update, so the signatures of earlier revisions still verify in it.
    """

    application = models.ForeignKey(Application, related_name="revisions", on_delete=models.CASCADE)
    number = models.PositiveSmallIntegerField(_("number"))
    pdf = models.BinaryField(_("PDF"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # The seal box of the rendered document: page index from 0, then x1, y1, x2, y2 in points.
    seal_box = models.JSONField(_("seal box"), default=list)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("PDF revision")
        verbose_name_plural = _("PDF revisions")
        ordering = ["application", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "number"],
                name="revision_unique_number",
                violation_error_message=_("The application has a revision of this number."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} r{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.number == 0


class Step(models.Model):
    """One step in an application's history: who did what when, with the PDF it produced.

    ``due_at`` is the deadline that the step had; a comment and an overdue flag have none.
    ``actor`` is empty for the steps the platform takes by itself (the overdue flag, the
    agency's answers and a failed lifting request).
    """

    class Kind(models.TextChoices):
        DRAFTED = "drafted", _("Drafted")
        HEAD_APPROVED = "head_approved", _("Signed by the bureau head")
        SEALED = "sealed", _("Sealed")
        SUBMITTED = "submitted", _("Submitted")
        REVIEWED = "reviewed", _("Reviewed and forwarded")
        RECEIVED = "received", _("Received")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        EXECUTED = "executed", _("Executed")
        LIFTED = "lifted", _("Lifted")
        AGENCY_ANSWERED = "agency_answered", _("Answered by the agency")
        LIFTING_ANSWERED = "lifting_answered", _("Lifting answered by the agency")
        LIFTING_FAILED = "lifting_failed", _("Lifting request failed")
        COMMENT = "comment", _("Comment")
        OVERDUE = "overdue", _("Overdue")

    application = models.ForeignKey(Application, related_name="steps", on_delete=models.CASCADE)
    kind = models.CharField(_("step"), max_length=20, choices=Kind.choices)
    court = models.ForeignKey(
        "courts.Court", verbose_name=_("court"), related_name="+", on_delete=models.PROTECT
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    at = models.DateTimeField(_("time"))
    comment = models.TextField(_("comment"), blank=True)
    revision = models.ForeignKey(
        Revision,
        verbose_name=_("PDF revision"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    due_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    # What an execution handed over, e.g. the border-control request; no personal data.
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"

    @property
    def was_late(self) -> bool:
        return self.due_at is not None and self.at > self.due_at


class LiftingNotice(models.Model):
    """The sealed notice lifting an exit restriction (解除限制出境通知书), sent through the gateway.

    The deciding court renders and seals one each time it lifts a restriction whose
    border-control request went through the gateway. ``item_id`` is the gateway's ``release``
    item that carries it to the agency, and ``reference`` the item of the border-control request
    that it ends. An application has more than one when border control rejected a lifting or its
    release item failed and the court lifted the restriction again. The pages offer the newest
    one (:func:`zhixing.approvals.lifting.newest_notice`).
    """

    application = models.ForeignKey(
        Application,
        verbose_name=_("application"),
        related_name="lifting_notices",
        on_delete=models.CASCADE,
    )
    pdf = models.BinaryField(_("PDF"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    template_version = models.PositiveIntegerField(_("template version"))
    item_id = models.UUIDField(_("release request"), unique=True)
    reference = models.UUIDField(_("border-control request"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("lifting notice")
        verbose_name_plural = _("lifting notices")

    def __str__(self) -> str:
        return f"{self.application_id} lifting {self.item_id}"
