"""Debtor queries that fan out to the gateway, and the assets that their answers report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixing.audit.tracking import TrackedModel


class QueryPolicy(TrackedModel, models.Model):
    """A court's rules for debtor queries and control measures about its cases.

    A court without a row has the defaults: queries and measures go to the agencies at once.
    """

    court = models.OneToOneField(
        "courts.Court",
        verbose_name=_("court"),
        related_name="query_policy",
        on_delete=models.CASCADE,
    )
    approval_required = models.BooleanField(
        _("bureau head approves queries"),
        default=False,
        help_text=_(
            "Debtor queries about this court's cases wait for the approval of one of its "
            "bureau heads before they go to the agencies."
        ),
    )
    measure_approval_required = models.BooleanField(
        _("bureau head approves control measures"),
        default=False,
        help_text=_(
            "Freezes, deductions, seizures and their renewals and releases in this court's "
            "cases wait for the approval of one of its bureau heads before they are sealed and "
            "sent to the agencies."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("query policy")
        verbose_name_plural = _("query policies")

    def __str__(self) -> str:
        return (
            f"{self.court_id} approval={self.approval_required} "
            f"measures={self.measure_approval_required}"
        )


class QueryRequest(TrackedModel, models.Model):
    """One officer's query about debtors of a case: the gateway items it sent or reused.

    Where the court's policy requires it, the query waits for a bureau head's decision and
    keeps the chosen debtors in ``party_ids`` until then; it sends nothing before approval.
    """

    class State(models.TextChoices):
        SENT = "sent", _("Sent to the agencies")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey(
        "cases.EnforcementCase",
        verbose_name=_("enforcement case"),
        related_name="query_requests",
        on_delete=models.PROTECT,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    categories = models.JSONField(_("categories"), default=list)
    party_ids = models.JSONField(_("debtors"), default=list)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.SENT, db_index=True
    )
    force = models.BooleanField(_("query again"), default=False)
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
    force_reason = models.CharField(
        _("reason for a new query"),
        max_length=500,
        blank=True,
        help_text=_("Given when recent answers were not reused."),
    )
    items = models.ManyToManyField(  # type: ignore[var-annotated]
        "linkage.GatewayItem", through="QueryItem", related_name="query_requests"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("debtor query")
        verbose_name_plural = _("debtor queries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "-created_at"], name="query_case_created")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def court(self) -> object:
        return self.case.court


class QueryItem(models.Model):
    """A gateway item that belongs to a query: sent for it, or reused from a recent query."""

    request = models.ForeignKey(QueryRequest, on_delete=models.CASCADE, related_name="links")
    item = models.ForeignKey("linkage.GatewayItem", on_delete=models.PROTECT, related_name="+")
    reused = models.BooleanField(_("reused"), default=False)

    class Meta:
        verbose_name = _("query item")
        verbose_name_plural = _("query items")
        constraints = [
            models.UniqueConstraint(fields=["request", "item"], name="query_item_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.item_id}"


class AssetRecord(models.Model):
    """One record of an agency's answer about a debtor: an account, a home, a trip, …

    The typed columns hold what lists show and sort by; ``raw`` keeps the record as the agency
    sent it. ``position`` is the record's place in the answer, so that storing the same answer
    again finds the rows it stored before and adds none.
    """

    class Type(models.TextChoices):
        BANK_ACCOUNT = "bank_account", _("Bank account")
        REAL_ESTATE = "real_estate", _("Real estate")
        VEHICLE = "vehicle", _("Vehicle")
        SHAREHOLDING = "shareholding", _("Shareholding")
        BUSINESS = "business", _("Business role")
        EMPLOYMENT = "employment", _("Employment")
        RESIDENCE = "residence", _("Residence")
        TRAVEL = "travel", _("Travel")
        HOUSEHOLD = "household", _("Household registration")
        TAX = "tax", _("Tax record")
        FAMILY = "family", _("Family")
        ORGANISATION = "organisation", _("Organisation")
        SECURITIES = "securities", _("Securities account")
        PROVIDENT_FUND = "provident_fund", _("Provident fund account")
        PAYMENT_ACCOUNT = "payment_account", _("Payment account")
        SHIP = "ship", _("Ship")

    # Types whose identifier is an account or taxpayer number: masked unless revealed.
    PERSONAL_IDENTIFIER_TYPES = frozenset(
        {"bank_account", "securities", "provident_fund", "payment_account", "tax"}
    )
    # Types that tell where the debtor lives or travels rather than what they own.
    WHEREABOUTS_TYPES = frozenset({"residence", "travel", "household"})

    # asset_case_party (case, party, record_type) serves lookups by case.
    case = models.ForeignKey(
        "cases.EnforcementCase",
        verbose_name=_("enforcement case"),
        related_name="assets",
        on_delete=models.PROTECT,
        db_index=False,
    )
    party = models.ForeignKey(
        "cases.Party", verbose_name=_("party"), related_name="assets", on_delete=models.PROTECT
    )
    # Shown with the record, never searched.
    agency = models.ForeignKey(
        "linkage.Agency",
        verbose_name=_("source agency"),
        related_name="+",
        on_delete=models.PROTECT,
        db_index=False,
    )
    item = models.ForeignKey(
        "linkage.GatewayItem",
        verbose_name=_("gateway item"),
        related_name="assets",
        on_delete=models.PROTECT,
    )
    position = models.PositiveSmallIntegerField(_("position in the answer"))
    answered_at = models.DateTimeField(_("answered"))
    record_type = models.CharField(_("record type"), max_length=32, choices=Type.choices)
    institution = models.CharField(_("institution"), max_length=200, blank=True)
    identifier = models.CharField(_("identifier"), max_length=100, blank=True)
    amount = models.DecimalField(
        _("amount (yuan)"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    location = models.CharField(_("location"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=32, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    raw = models.JSONField(_("raw record"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("asset record")
        verbose_name_plural = _("asset records")
        ordering = ["party_id", "record_type", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "item", "position"], name="asset_record_unique_position"
            ),
        ]
        indexes = [models.Index(fields=["case", "party", "record_type"], name="asset_case_party")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.party_id} {self.record_type}"

    @property
    def identifier_is_personal(self) -> bool:
        return self.record_type in self.PERSONAL_IDENTIFIER_TYPES


class SeenAnswer(models.Model):
    """An answered gateway item that a user has seen in their inbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("linkage.GatewayItem", on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(_("seen"), auto_now_add=True)

    class Meta:
        verbose_name = _("seen answer")
        verbose_name_plural = _("seen answers")
        constraints = [
            models.UniqueConstraint(fields=["user", "item"], name="seen_answer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.item_id}"
