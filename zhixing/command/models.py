"""Orders between command centers, their recipients and supervision, and duty sign-in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhixing.audit.tracking import TrackedModel


class Order(TrackedModel, models.Model):
    """An order (指令) that a command center gives to command centers below it.

    ``court`` is the issuing court. An order normally goes to direct subordinates. An order that
    reaches past them to a court further down is a skip-level order and carries the reason.
    An intermediate court passes an order it received down to its basic courts as a new order
    whose ``passed_down_from`` is its own recipient row of the original order.
    """

    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("issuing court"),
        related_name="issued_orders",
        on_delete=models.PROTECT,
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    title = models.CharField(_("title"), max_length=200)
    task = models.TextField(_("task"))
    deadline = models.DateTimeField(_("deadline"), db_index=True)
    skip_level = models.BooleanField(_("skip-level order"), default=False)
    skip_level_reason = models.TextField(_("reason for the skip-level order"), blank=True)
    note = models.TextField(
        _("note of the passing court"),
        blank=True,
        help_text=_("What the court that passed the order down added for its basic courts."),
    )
    passed_down_from = models.ForeignKey(
        "OrderRecipient",
        verbose_name=_("passed down from"),
        related_name="passed_down",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    cases = models.ManyToManyField(
        "cases.EnforcementCase", verbose_name=_("linked cases"), related_name="+", blank=True
    )
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(skip_level=False) | ~Q(skip_level_reason=""),
                name="order_skip_level_has_reason",
                violation_error_message=_("A skip-level order needs a reason."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def parent(self) -> Order | None:
        """The order this one was passed down from, or None."""
        return self.passed_down_from.order if self.passed_down_from is not None else None


class OrderRecipient(TrackedModel, models.Model):
    """One receiving court of an order, and its progress in handling the order.

    The state moves from sent to received (acknowledged) to replied. The overdue check sets
    an open row to overdue once the deadline passed; a late reply still moves it to replied.
    Closing the order closes every row. ``reminded_at`` and ``supervised_at`` record the
    reminder and the supervision notice that the overdue check sent, each at most once.
    """

    class State(models.TextChoices):
        SENT = "sent", _("Sent")
        RECEIVED = "received", _("Received")
        REPLIED = "replied", _("Replied")
        OVERDUE = "overdue", _("Overdue")
        CLOSED = "closed", pgettext_lazy("order", "Closed")

    # States in which the court still owes a reply.
    AWAITING_REPLY = (State.SENT, State.RECEIVED, State.OVERDUE)

    order = models.ForeignKey(
        Order, verbose_name=_("order"), related_name="recipients", on_delete=models.CASCADE
    )
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("receiving court"),
        related_name="received_orders",
        on_delete=models.PROTECT,
    )
    skip_level = models.BooleanField(_("skip-level"), default=False)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.SENT, db_index=True
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
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
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    supervised_at = models.DateTimeField(_("supervision notice sent"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("order recipient")
        verbose_name_plural = _("order recipients")
        ordering = ["order", "court__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "court"],
                name="order_recipient_once_per_court",
                violation_error_message=_("The order was already sent to this court."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} → {self.court}"

    @property
    def replied_late(self) -> bool:
        return self.replied_at is not None and self.replied_at > self.order.deadline


class OrderAttachment(models.Model):
    """A file attached to an order, or to one court's reply when ``recipient`` is set.

    The file itself is kept by :mod:`zhixing.attachments`; an order passed down shares the
    stored files of the order it came from.
    """

    order = models.ForeignKey(
        Order, verbose_name=_("order"), related_name="attachments", on_delete=models.CASCADE
    )
    recipient = models.ForeignKey(
        OrderRecipient,
        verbose_name=_("reply of"),
        related_name="attachments",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
    )
    stored_name = models.CharField(_("stored name"), max_length=64)
    original_name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("order attachment")
        verbose_name_plural = _("order attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def court(self) -> object:
        """The court the audit trail files the attachment under: the replying or issuing one."""
        return self.recipient.court if self.recipient is not None else self.order.court


class SupervisionNotice(models.Model):
    """A supervision notice (督办) on an order that a receiving court let become overdue.

    The overdue check writes one per recipient row, a set time after the reminder, and every
    court above the recipient sees it, the issuing court included.
    """

    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        related_name="supervision_notices",
        on_delete=models.CASCADE,
    )
    recipient = models.OneToOneField(
        OrderRecipient,
        verbose_name=_("supervised court's row"),
        related_name="supervision_notice",
        on_delete=models.CASCADE,
    )
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("supervised court"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("issued"), default=timezone.now)

    class Meta:
        verbose_name = _("supervision notice")
        verbose_name_plural = _("supervision notices")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.court}: {self.order}"


class DutySignIn(models.Model):
    """A court's duty officer signing in for the day (值班签到), once per court and day.

    ``day`` is the calendar day in Asia/Shanghai on which the officer signed in.
    """

    court = models.ForeignKey(
        "courts.Court", verbose_name=_("court"), related_name="+", on_delete=models.PROTECT
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("duty officer"),
        related_name="+",
        on_delete=models.PROTECT,
    )
    day = models.DateField(_("day"))
    signed_at = models.DateTimeField(_("signed in"), default=timezone.now)

    class Meta:
        verbose_name = _("duty sign-in")
        verbose_name_plural = _("duty sign-ins")
        ordering = ["-day", "court__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["court", "day"],
                name="duty_sign_in_once_per_court_and_day",
                violation_error_message=_("The court's duty officer already signed in that day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.court}"
