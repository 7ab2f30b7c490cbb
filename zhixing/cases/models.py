"""Enforcement cases, their parties, flow nodes and the numbers courts allocate to them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhixing.audit.tracking import TrackedModel
from zhixing.cases.identity import DocumentType

ZERO = Decimal("0.00")


DOCUMENT_TYPE_CHOICES = [
    (DocumentType.RESIDENT_ID.value, _("Resident ID card")),
    (DocumentType.PASSPORT.value, _("Passport")),
    (DocumentType.HK_MACAU_PERMIT.value, _("Mainland travel permit for Hong Kong and Macao")),
    (DocumentType.TAIWAN_PERMIT.value, _("Mainland travel permit for Taiwan residents")),
    (DocumentType.HK_MACAU_RESIDENCE_PERMIT.value, _("Residence permit for Hong Kong and Macao")),
    (DocumentType.TAIWAN_RESIDENCE_PERMIT.value, _("Residence permit for Taiwan residents")),
    (DocumentType.FOREIGN_PERMANENT_RESIDENCE.value, _("Foreign permanent resident ID card")),
    (DocumentType.USCC.value, _("Unified social credit code")),
    (DocumentType.ORGANIZATION_CODE.value, _("Organization code")),
    (DocumentType.BUSINESS_REGISTRATION.value, _("Business registration number")),
]

# Translated names of the enforcement case types, by type code (zhixing.cases.case_numbers
# names them in Chinese only). The Chinese texts are those the pages showed before: the short
# names of the three types filed here and the standard's names of the others.
ENFORCEMENT_TYPE_LABELS = {
    "执": pgettext_lazy("case type", "Enforcement"),
    "执恢": pgettext_lazy("case type", "Resumed enforcement"),
    "执保": pgettext_lazy("case type", "Preservation enforcement"),
    "执异": pgettext_lazy("case type", "Enforcement objection"),
    "执复": pgettext_lazy("case type", "Enforcement review"),
    "执监": pgettext_lazy("case type", "Enforcement supervision"),
    "执协": pgettext_lazy("case type", "Enforcement coordination"),
    "执他": pgettext_lazy("case type", "Other enforcement"),
}


class Party(TrackedModel, models.Model):
    """A natural person or an organisation that takes part in enforcement cases.

    One person is one row however many cases name them: parties are found by their identity
    document, so the debtor of ten cases is queried once. Document numbers are stored in normal
    form (18-character resident ID numbers with an uppercase X, uppercase credit codes).

    A document filed under a name other than the registered one, by a user who sees no case of
    the registered party, becomes a further row with the next ``name_variant``: rejecting it
    would tell that user the number is known and let them try names until one fits (see
    :func:`zhixing.cases.services.check_party`).
    """

    class Kind(models.TextChoices):
        PERSON = "person", _("Natural person")
        ORGANISATION = "organisation", _("Organisation")

    audit_personal_fields = frozenset({"document_number", "address", "phone"})

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Names are searched by fragment through the trigram index of migration 0004. No query
    # compares or sorts whole names, so a B-tree index on them would only slow writes.
    name = models.CharField(_("name"), max_length=200)
    document_type = models.CharField(
        _("document type"), max_length=32, choices=DOCUMENT_TYPE_CHOICES, blank=True
    )
    document_number = models.CharField(_("document number"), max_length=32, blank=True)
    # 0 for the first name registered under a document, then 1, 2 … for each further name.
    name_variant = models.PositiveSmallIntegerField(
        _("name variant"), default=0, db_default=0, editable=False
    )
    needs_confirmation = models.BooleanField(
        _("needs confirmation"),
        default=False,
        help_text=_("The credit code fails its check character and was accepted by a person."),
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        constraints = [
            # The number leads, so that the index also serves lookups by number alone.
            models.UniqueConstraint(
                fields=["document_number", "document_type", "name_variant"],
                condition=~models.Q(document_number=""),
                name="party_unique_document",
                violation_error_message=_("A party with this identity document already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EnforcementCase(TrackedModel, models.Model):
    """An enforcement case (执行案件) of one court, from filing to closing.

    ``case_number`` is the canonical text of the number, and its parts are kept in their own
    columns for allocation and filtering. ``next_due_on`` is the earliest open deadline, kept
    up to date by the services so that overdue cases are one indexed query.
    """

    class BasisKind(models.TextChoices):
        JUDGMENT = "judgment", _("Judgment")
        RULING = "ruling", _("Ruling")
        MEDIATION = "mediation", _("Mediation statement")
        PAYMENT_ORDER = "payment_order", _("Payment order")
        ARBITRAL_AWARD = "arbitral_award", _("Arbitral award")
        NOTARISED_DEBT = "notarised_debt", _("Notarised debt instrument")
        ADMINISTRATIVE_DECISION = "administrative_decision", _("Administrative decision")
        CRIMINAL_JUDGMENT = "criminal_judgment", _("Property part of a criminal judgment")
        OTHER = "other", _("Other")

    # Bases enforced as non-litigation cases, which have a 3-month handling period.
    NON_LITIGATION_BASES = frozenset(
        {BasisKind.ARBITRAL_AWARD, BasisKind.NOTARISED_DEBT, BasisKind.ADMINISTRATIVE_DECISION}
    )

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    class ClosingMode(models.TextChoices):
        COMPLETED = "completed", _("Enforcement completed")
        TERMINATED_WITHOUT_ASSETS = (
            "terminated_without_assets",
            _("Current procedure terminated (no enforceable assets)"),
        )
        TERMINATED = "terminated", _("Enforcement terminated")
        WITHDRAWN = "withdrawn", _("Case withdrawn")
        NOT_ENFORCED = "not_enforced", _("Enforcement refused")
        APPLICATION_REJECTED = "application_rejected", _("Application rejected")

    case_number = models.CharField(_("case number"), max_length=64, unique=True)
    # Indexed by case_court_filed_id (court, filed_on, id), which serves every court lookup.
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("court"),
        related_name="cases",
        on_delete=models.PROTECT,
        db_index=False,
    )
    year = models.PositiveSmallIntegerField(_("year"))
    type_code = models.CharField(_("type code"), max_length=8)
    sequence = models.PositiveIntegerField(_("sequence"))
    suffix = models.CharField(_("suffix"), max_length=8, blank=True)
    filed_on = models.DateField(_("filing date"))
    basis_kind = models.CharField(
        _("kind of enforcement basis"), max_length=32, choices=BasisKind.choices
    )
    basis_court = models.CharField(_("issuing court or body"), max_length=100, blank=True)
    basis_document_number = models.CharField(_("basis document number"), max_length=100, blank=True)
    claim_amount = models.DecimalField(
        _("claim amount (yuan)"),
        max_digits=16,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    recovered_amount = models.DecimalField(
        _("recovered amount (yuan)"),
        max_digits=16,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
    )
    # No index of its own: case_officer_status starts with this column and serves its lookups.
    case_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("case officer"),
        related_name="cases",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    closing_mode = models.CharField(
        _("closing mode"), max_length=32, choices=ClosingMode.choices, blank=True
    )
    closed_on = models.DateField(_("closing date"), null=True, blank=True)
    next_due_on = models.DateField(_("next deadline"), null=True, blank=True)
    next_due_rule = models.CharField(_("next deadline rule"), max_length=32, blank=True)
    handling_due_on = models.DateField(_("handling deadline"), null=True, blank=True)
    parties = models.ManyToManyField(  # type: ignore[var-annotated]
        Party, through="CaseParty", related_name="cases"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("enforcement case")
        verbose_name_plural = _("enforcement cases")
        ordering = ["-filed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["court", "year", "type_code", "sequence", "suffix"],
                name="case_unique_number_parts",
            ),
            models.CheckConstraint(
                condition=models.Q(status="closed", closed_on__isnull=False)
                & ~models.Q(closing_mode="")
                | ~models.Q(status="closed") & models.Q(closed_on__isnull=True, closing_mode=""),
                name="case_closed_has_mode_and_date",
                violation_error_message=_(
                    "A closed case needs a closing mode and date; an open case has neither."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(recovered_amount__gte=0) & models.Q(claim_amount__gte=0),
                name="case_amounts_not_negative",
                violation_error_message=_("Amounts cannot be negative."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_due_on"], name="case_status_due"),
            models.Index(fields=["case_officer", "status"], name="case_officer_status"),
        ]

    def __str__(self) -> str:
        return self.case_number

    @property
    def non_litigation(self) -> bool:
        return self.basis_kind in self.NON_LITIGATION_BASES

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    def address_of(self, party: Party | None) -> str:
        """Return the address given for ``party`` in this case, or an empty string."""
        if party is None:
            return ""
        link = (
            CaseParty.objects.filter(case=self, party=party)
            .exclude(address="")
            .order_by("pk")
            .first()
        )
        return link.address if link is not None else ""


class CaseParty(models.Model):
    """The role a party plays in one case: applicant (申请执行人) or debtor (被执行人).

    The contact details are those given for this case and belong to the case's court. A court
    that files a case naming a known person is shown what it entered, not what other courts
    recorded, and its entry is kept even when it differs from theirs.
    """

    class Role(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        DEBTOR = "debtor", _("Debtor")

    # Both keys lead a wider index (case_party_unique, case_party_party_role), so neither needs
    # its own.
    case = models.ForeignKey(
        EnforcementCase, on_delete=models.CASCADE, related_name="case_parties", db_index=False
    )
    party = models.ForeignKey(
        Party, on_delete=models.PROTECT, related_name="case_roles", db_index=False
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # The database default lets bulk loads leave the columns out.
    address = models.CharField(_("address"), max_length=300, blank=True, default="", db_default="")
    phone = models.CharField(_("phone"), max_length=30, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("case party")
        verbose_name_plural = _("case parties")
        constraints = [
            models.UniqueConstraint(fields=["case", "party", "role"], name="case_party_unique"),
        ]
        indexes = [models.Index(fields=["party", "role"], name="case_party_party_role")]

    def __str__(self) -> str:
        return f"{self.case} {self.get_role_display()} {self.party}"


class FlowNode(models.Model):
    """A step of a case's flow, with the time it happened (立案, 分案, 发出执行通知, …)."""

    class Kind(models.TextChoices):
        FILED = "filed", pgettext_lazy("flow step", "Filed")
        OFFICER_ASSIGNED = "officer_assigned", _("Case officer assigned")
        FILE_RECEIVED = "file_received", _("File received by the officer")
        NOTICE_SENT = "notice_sent", _("Enforcement notice sent")
        ASSET_LEADS_RECEIVED = "asset_leads_received", _("Asset leads received")
        ASSET_LEADS_VERIFIED = "asset_leads_verified", _("Asset leads verified")
        ONLINE_QUERY = "online_query", _("Online query")
        ASSET_INVESTIGATION = "asset_investigation", _("Asset investigation finished")
        DISPOSAL = "disposal", _("Disposal of assets")
        SUSPENDED = "suspended", pgettext_lazy("flow step", "Suspended")
        RESUMED = "resumed", _("Resumed")
        EXTENSION_APPROVED = "extension_approved", _("Extension approved")
        CLOSED = "closed", pgettext_lazy("flow step", "Closed")

    # flow_case_on (case, on) serves lookups by case.
    case = models.ForeignKey(
        EnforcementCase, on_delete=models.CASCADE, related_name="flow", db_index=False
    )
    kind = models.CharField(_("step"), max_length=32, choices=Kind.choices)
    on = models.DateField(_("date"))
    at = models.DateTimeField(_("recorded"), auto_now_add=True)
    # Only shown with the node, never searched. No page or command deletes accounts, so the
    # PROTECT check that a deletion would run, and that an index would speed up, does not occur.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Extensions only: the length approved.
    extension_months = models.PositiveSmallIntegerField(null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("flow node")
        verbose_name_plural = _("flow nodes")
        ordering = ["on", "id"]
        indexes = [models.Index(fields=["case", "on"], name="flow_case_on")]

    def __str__(self) -> str:
        return f"{self.case} {self.get_kind_display()} {self.on}"


class CaseSequence(models.Model):
    """The last sequence number a court allocated for one case type in one year."""

    court = models.ForeignKey("courts.Court", on_delete=models.PROTECT, related_name="+")
    type_code = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["court", "type_code", "year"], name="case_sequence_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.court_id} {self.year} {self.type_code} {self.last_sequence}"


class PendingRestore(models.Model):
    """A statement that a large load runs after its commit: an index build or a key check.

    The load stores these in its transaction and deletes each one in the transaction that runs
    it. Those that a crash or an error left behind are run again by a periodic check (see
    ``demo_data.finish_restores``).
    """

    statement = models.TextField(_("statement"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("pending restore statement")
        verbose_name_plural = _("pending restore statements")

    def __str__(self) -> str:
        return self.statement


from zhixing.cases.job_models import ImportJob  # noqa: E402, F401
