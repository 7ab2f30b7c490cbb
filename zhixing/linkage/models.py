"""Linkage agencies, the courts' signing keys, and the gateway's outstanding requests."""

from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhixing.audit.tracking import TrackedModel

# The protocol allows at most this many items in one batch.
MAX_BATCH_SIZE = 1000
DEFAULT_DEADLINE_HOURS = 72


class Category(models.TextChoices):
    """Kind of information a query asks an agency for; the codes are fixed by the protocol."""

    HOUSEHOLD = "household", _("Household registration")
    TEMPORARY_RESIDENCE = "temporary_residence", _("Temporary residence")
    HOTEL_LODGING = "hotel_lodging", _("Hotel lodging")
    EXIT_ENTRY = "exit_entry", _("Exit and entry records")
    BUSINESS_REGISTRATION = "business_registration", _("Business registration and shareholdings")
    BANK_ACCOUNT = "bank_account", _("Bank accounts")
    LAND = "land", _("Land")
    REAL_ESTATE = "real_estate", _("Real estate")
    TAX = "tax", _("Tax")
    SOCIAL_SECURITY = "social_security", _("Social security")
    FAMILY_PLANNING = "family_planning", _("Family planning")
    CREDIT_CODE = "credit_code", _("Unified social credit code register")
    VEHICLE = "vehicle", _("Vehicles")
    SECURITIES = "securities", _("Securities")
    PROVIDENT_FUND = "provident_fund", _("Housing provident fund")
    ONLINE_PAYMENT = "online_payment", _("Online payment accounts")
    SHIP = "ship", _("Ships")


class Action(models.TextChoices):
    """What a request asks the agency to do: look something up, or apply a control measure."""

    QUERY = "query", _("Query")
    FREEZE = "freeze", _("Freeze")
    RENEW = "renew", _("Renew")
    RELEASE = "release", _("Release")
    DEDUCT = "deduct", _("Deduct")
    SEIZE = "seize", _("Seize")
    RESTRICT_EXIT = "restrict_exit", _("Restrict exit")


def _validate_categories(value: object) -> None:
    if not isinstance(value, list) or not all(item in Category.values for item in value):
        raise ValidationError(
            _("Categories must be a list of category codes such as %(example)s."),
            params={"example": '["bank_account"]'},
        )


def _validate_actions(value: object) -> None:
    if not isinstance(value, list) or not all(item in Action.values for item in value):
        raise ValidationError(
            _("Actions must be a list of action codes such as %(example)s."),
            params={"example": '["query", "freeze"]'},
        )


def _validate_service_days(value: object) -> None:
    if not isinstance(value, list) or not all(
        isinstance(day, int) and 1 <= day <= 7 for day in value
    ):
        raise ValidationError(
            _("Service days must be a list of weekday numbers from 1 (Monday) to 7 (Sunday).")
        )


def _validate_deadlines(value: object) -> None:
    if not isinstance(value, dict) or not all(
        key in Action.values and isinstance(hours, int | float) and hours > 0
        for key, hours in value.items()
    ):
        raise ValidationError(
            _("Deadlines must map action codes to hours, for example %(example)s."),
            params={"example": '{"query": 72}'},
        )


def _all_days() -> list[int]:
    return [1, 2, 3, 4, 5, 6, 7]


def _query_only() -> list[str]:
    return [Action.QUERY.value]


def _default_deadlines() -> dict[str, int]:
    return {Action.QUERY.value: DEFAULT_DEADLINE_HOURS}


class Agency(TrackedModel, models.Model):
    """A linkage agency (联动单位): a system that answers the courts' queries and measures.

    Each bank is an agency of its own. The adapter determines how requests reach the agency: online
    (HTTP and JSON), batch files (an outbox and an inbox folder) or manual (a printed list whose
    answers staff type in). Service hours are local time in Asia/Shanghai. A window whose end
    lies before its start runs past midnight, and no start or end means the agency is always
    open.
    """

    class Kind(models.TextChoices):
        POLICE = "police", _("Police")
        MARKET_REGULATION = "market_regulation", _("Market regulation")
        BANK = "bank", _("Bank")
        NATURAL_RESOURCES = "natural_resources", _("Natural resources")
        HOUSING = "housing", _("Housing and real-estate registration")
        TAX = "tax", _("Tax")
        SOCIAL_SECURITY = "social_security", _("Social security")
        HEALTH = "health", _("Health commission")
        CREDIT_CODE_REGISTER = "credit_code_register", _("Credit code register")
        TRAFFIC_POLICE = "traffic_police", _("Traffic police")
        SECURITIES = "securities", _("Securities depository")
        PROVIDENT_FUND = "provident_fund", _("Housing provident fund")
        ONLINE_PAYMENT = "online_payment", _("Online payment platform")
        SHIP_REGISTRY = "ship_registry", _("Ship registry")
        OTHER = "other", _("Other")

    class Adapter(models.TextChoices):
        ONLINE = "online", _("Online (HTTP and JSON)")
        BATCH_FILE = "batch_file", _("Batch files")
        MANUAL = "manual", _("Manual")

    code = models.SlugField(
        _("code"),
        max_length=64,
        unique=True,
        help_text=_("ASCII letters, digits and hyphens, e.g. bank-icbc; agencies sign with it."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    categories = models.JSONField(
        _("categories"),
        default=list,
        blank=True,
        validators=[_validate_categories],
        help_text=_("Category codes the agency answers."),
    )
    actions = models.JSONField(
        _("actions"),
        default=_query_only,
        validators=[_validate_actions],
        help_text=_("Action codes the agency accepts."),
    )
    adapter = models.CharField(
        _("adapter"), max_length=16, choices=Adapter.choices, default=Adapter.ONLINE
    )
    base_url = models.URLField(
        _("base URL"), blank=True, help_text=_("Online adapter: the agency's address.")
    )
    timeout_seconds = models.FloatField(
        _("timeout (seconds)"), default=10.0, validators=[MinValueValidator(0.1)]
    )
    outbox_dir = models.CharField(
        _("outbox folder"), max_length=500, blank=True, help_text=_("Batch files: requests.")
    )
    inbox_dir = models.CharField(
        _("inbox folder"), max_length=500, blank=True, help_text=_("Batch files: answers.")
    )
    public_key_pem = models.TextField(
        _("public key (PEM)"),
        blank=True,
        help_text=_(
            "The agency's public key that verifies its answers: Ed25519, ECDSA or RSA in PEM, "
            "or sm2: and the SM2 point in hexadecimal."
        ),
    )
    batch_size = models.PositiveIntegerField(
        _("batch size"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_BATCH_SIZE)],
    )
    batch_window_seconds = models.PositiveIntegerField(
        _("batch window (seconds)"),
        default=5,
        help_text=_("A batch is sent once its oldest item has waited this long, or when full."),
    )
    rate_limit = models.FloatField(
        _("rate limit (requests per second)"), default=10.0, validators=[MinValueValidator(0.01)]
    )
    concurrency = models.PositiveSmallIntegerField(
        _("concurrency"),
        default=2,
        validators=[MinValueValidator(1)],
        help_text=_("Maximum batches in flight to this agency at the same time."),
    )
    poll_interval_seconds = models.PositiveIntegerField(
        _("poll interval (seconds)"),
        default=10,
        help_text=_("How often the gateway polls for answers while items are outstanding."),
    )
    service_start = models.TimeField(_("service starts"), null=True, blank=True)
    service_end = models.TimeField(_("service ends"), null=True, blank=True)
    service_days = models.JSONField(
        _("service days"),
        default=_all_days,
        validators=[_validate_service_days],
        help_text=_("Weekdays from 1 (Monday) to 7 (Sunday)."),
    )
    deadlines = models.JSONField(
        _("deadlines (hours)"),
        default=_default_deadlines,
        validators=[_validate_deadlines],
        help_text=_("Hours per action after which an unanswered request expires."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("linkage agency")
        verbose_name_plural = _("linkage agencies")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(batch_size__gte=1, batch_size__lte=MAX_BATCH_SIZE),
                name="agency_batch_size_range",
                violation_error_message=_("The batch size must lie between 1 and 1000."),
            ),
            models.CheckConstraint(
                condition=models.Q(concurrency__gte=1),
                name="agency_concurrency_positive",
                violation_error_message=_("The concurrency must be at least 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def deadline_for(self, action: str, start: datetime.datetime) -> datetime.datetime:
        """Return the time after which a request of ``action`` made at ``start`` expires."""
        hours = self.deadlines.get(action, DEFAULT_DEADLINE_HOURS)
        return start + datetime.timedelta(hours=float(hours))

    def in_service(self, now: datetime.datetime) -> bool:
        """Return whether the agency takes requests at ``now`` (an aware datetime)."""
        local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
        if self.service_start is None or self.service_end is None:
            return local.isoweekday() in self.service_days
        moment = local.time()
        if self.service_start <= self.service_end:
            return (
                local.isoweekday() in self.service_days
                and self.service_start <= moment < self.service_end
            )
        # The window runs past midnight, so the early hours belong to the previous day.
        if moment >= self.service_start:
            return local.isoweekday() in self.service_days
        if moment < self.service_end:
            return (local - datetime.timedelta(days=1)).isoweekday() in self.service_days
        return False


class CourtKey(models.Model):
    """A court's key pair for gateway signatures that do not use its seal certificate.

    With ``ZHIXING_GATEWAY_SIGNATURE=sm2`` a court signs its gateway messages with an SM2 key
    pair stored here. The public key is ``04`` + x + y in hexadecimal. The private key is
    encrypted with AES-256-GCM under a key that scrypt derives from the passphrase, as
    :mod:`zhixing.linkage.keys` describes. The passphrase is the configured
    ``ZHIXING_KEY_PASSPHRASE`` or, without one, a key derived from the Django secret key, so a
    copy of the database alone does not reveal it. Ed25519 rows (public key and encrypted
    PKCS #8 in PEM) are the keys that courts signed with before the seal certificates.
    Nothing signs with them any more.
    """

    class Algorithm(models.TextChoices):
        ED25519 = "ed25519", _("Ed25519 (no longer used)")
        SM2 = "sm2", _("SM2 with SM3")

    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("court"),
        related_name="gateway_keys",
        on_delete=models.CASCADE,
    )
    algorithm = models.CharField(_("algorithm"), max_length=16, choices=Algorithm.choices)
    public_key = models.TextField(_("public key"))
    private_key = models.TextField(_("encrypted private key"), editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("court key")
        verbose_name_plural = _("court keys")
        constraints = [
            models.UniqueConstraint(
                fields=["court", "algorithm"],
                name="linkage_one_court_key_per_algorithm",
                violation_error_message=_("This court already has a key of this algorithm."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.court} {self.algorithm} key"


class GatewayBatch(models.Model):
    """One message of requests from one court to one agency (the protocol's batch).

    A batch whose sending failed for a passing reason keeps its id, and its items are sent
    again under the same id, so an agency that stored the first attempt stores nothing new.
    """

    class State(models.TextChoices):
        SENDING = "sending", _("Sending")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RETRY = "retry", _("Waiting to be sent again")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(_("batch id"), primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), related_name="batches", on_delete=models.PROTECT
    )
    court = models.ForeignKey(
        "courts.Court", verbose_name=_("court"), related_name="+", on_delete=models.PROTECT
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.SENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    lease_owner = models.CharField(_("lease owner"), max_length=100, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    ack = models.JSONField(_("acknowledgement"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("gateway batch")
        verbose_name_plural = _("gateway batches")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["agency", "state", "lease_until"], name="gw_batch_agency_state"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.id}"


class GatewayItem(models.Model):
    """One request to one agency about one party of a case, from queueing to its answer.

    The row is the source of truth: a worker that claims it sets a lease, and an item whose
    lease ran out is sent again. The item id travels to the agency and comes back with the
    answer, so a repeated or late answer finds an item that is already answered and changes
    nothing.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ANSWERED = "answered", _("Answered")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    OPEN_STATES = (State.PENDING, State.SENT, State.ACKNOWLEDGED)

    id = models.UUIDField(_("item id"), primary_key=True, default=uuid.uuid4, editable=False)
    # No index on the agency alone: the queue's partial indexes lead with it for open items,
    # and no query looks up an agency's answered items.
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        related_name="items",
        on_delete=models.PROTECT,
        db_index=False,
    )
    court = models.ForeignKey(
        "courts.Court", verbose_name=_("court"), related_name="+", on_delete=models.PROTECT
    )
    # gw_item_case_party (case, party) serves lookups by case.
    case = models.ForeignKey(
        "cases.EnforcementCase",
        verbose_name=_("enforcement case"),
        related_name="gateway_items",
        on_delete=models.PROTECT,
        db_index=False,
    )
    party = models.ForeignKey(
        "cases.Party", verbose_name=_("party"), related_name="+", on_delete=models.PROTECT
    )
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    action = models.CharField(
        _("action"), max_length=16, choices=Action.choices, default=Action.QUERY
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    lease_owner = models.CharField(_("lease owner"), max_length=100, blank=True)
    deadline = models.DateTimeField(_("deadline"))
    batch = models.ForeignKey(
        GatewayBatch,
        verbose_name=_("batch"),
        related_name="items",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    last_error = models.TextField(_("last error"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answer = models.JSONField(_("raw answer"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("gateway item")
        verbose_name_plural = _("gateway items")
        ordering = ["created_at"]
        # The queue's indexes are partial: they hold the open items only, so they stay as small
        # as the backlog while answered items pile up, and storing an answer adds no entry
        # to them. The gateway's queries name the state, which lets PostgreSQL use them.
        indexes = [
            # Batch formation: due pending items of one agency.
            models.Index(
                fields=["agency", "next_attempt_at"],
                name="gw_item_pending_due",
                condition=Q(state="pending"),
            ),
            # Agencies and courts with items out, whose answers the workers poll for.
            models.Index(
                fields=["agency", "court"],
                name="gw_item_outstanding",
                condition=Q(state__in=["sent", "acknowledged"]),
            ),
            # The sweep looks for lapsed leases, the expiry for passed deadlines.
            models.Index(
                fields=["lease_until"], name="gw_item_sent_lease", condition=Q(state="sent")
            ),
            models.Index(
                fields=["deadline"],
                name="gw_item_open_deadline",
                condition=Q(state__in=["pending", "sent", "acknowledged"]),
            ),
            models.Index(fields=["case", "party"], name="gw_item_case_party"),
            # The command center counts the failures of the last day; failures are few.
            models.Index(
                fields=["updated_at"],
                name="gw_item_failed_at",
                condition=Q(state__in=["failed", "expired"]),
            ),
        ]
        # Migration 0006 adds a BRIN index on created_at on PostgreSQL for the count of the
        # items queued in the last day. Rows are stored roughly in the order they are created,
        # so the index narrows the count to the pages written lately.

    def __str__(self) -> str:
        return f"{self.agency_id} {self.category} {self.id}"


class AgencyHealth(models.Model):
    """Recent request outcomes of an agency, and the state of its circuit breaker.

    Requests are the batches sent and the polls for answers. After a run of consecutive
    failures the circuit opens, and for a cool-down period no batches go to the agency and no
    answers are polled. Then it turns half-open and lets one probe request through, and the
    probe's outcome closes the circuit again or opens it for another cool-down.
    """

    class Circuit(models.TextChoices):
        CLOSED = "closed", pgettext_lazy("circuit", "Closed")
        OPEN = "open", pgettext_lazy("circuit", "Open")
        HALF_OPEN = "half_open", pgettext_lazy("circuit", "Half-open")

    agency = models.OneToOneField(
        Agency, verbose_name=_("agency"), related_name="health", on_delete=models.CASCADE
    )
    circuit = models.CharField(
        _("circuit"), max_length=16, choices=Circuit.choices, default=Circuit.CLOSED
    )
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    probe_until = models.DateTimeField(
        _("probe until"),
        null=True,
        blank=True,
        help_text=_("While half-open: the probe batch's lease; another probe may start after it."),
    )
    requests = models.PositiveBigIntegerField(_("requests"), default=0)
    errors = models.PositiveBigIntegerField(_("errors"), default=0)
    latency_ms_total = models.PositiveBigIntegerField(_("total latency (ms)"), default=0)
    last_latency_ms = models.PositiveIntegerField(_("last latency (ms)"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("agency health")
        verbose_name_plural = _("agency health")

    def __str__(self) -> str:
        return f"{self.agency_id} {self.circuit}"


class AnswerCursor(models.Model):
    """The agency's cursor at which a court's polling for that agency's answers stopped."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), related_name="cursors", on_delete=models.CASCADE
    )
    court = models.ForeignKey(
        "courts.Court", verbose_name=_("court"), related_name="+", on_delete=models.CASCADE
    )
    cursor = models.CharField(_("cursor"), max_length=200, blank=True)
    polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)

    class Meta:
        verbose_name = _("answer cursor")
        verbose_name_plural = _("answer cursors")
        constraints = [
            models.UniqueConstraint(fields=["agency", "court"], name="answer_cursor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.court_id} {self.cursor}"
