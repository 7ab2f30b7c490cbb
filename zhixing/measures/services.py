"""Control measures: the purpose binding, periods, queue positions and every change of state.

A measure starts from an asset record of a debtor query (:func:`request_measure`): the
ruling and the assistance notice are rendered and sealed, and a gateway item with the
matching action goes to the agency that reported the asset. Renewals (:func:`renew_measure`)
and releases (:func:`release_measure`) are further steps of the measure, each with its own
sealed notice and gateway item. The agency's answer moves the measure on
(:func:`record_measure_answer`), and two periodic checks keep it current: one reads the
states of the gateway items (:func:`sync_gateway_states`), the other warns of periods about
to end and marks lapsed ones expired (:func:`check_expiries`).

Where the court's policy requires it (``QueryPolicy.measure_approval_required``), a measure,
a renewal or a release requested by anyone but a bureau head of the case's court is stored
awaiting approval: nothing is sealed or sent. A bureau head of that court decides it
(:func:`decide_step`): approval seals the documents and queues the gateway item as an
immediate request does, and a rejection with its reason ends the request.

Every change runs in one transaction that also appends an audit record and an event.
"""

from __future__ import annotations

import base64
import datetime
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from zhixing import wakeup
from zhixing.audit import services as audit
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES
from zhixing.cases.models import CaseParty, EnforcementCase
from zhixing.cases.services import collect_errors
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User
from zhixing.documents import typed_text
from zhixing.documents.numbers import document_number
from zhixing.events import services as events
from zhixing.events.models import Event
from zhixing.inquiry import services as inquiry
from zhixing.inquiry.models import AssetRecord, QueryPolicy
from zhixing.linkage import gateway
from zhixing.linkage.models import Action as GatewayAction
from zhixing.linkage.models import GatewayItem
from zhixing.measures import documents
from zhixing.measures.kinds import SPECS, KindSpec, MeasureKind
from zhixing.measures.masking import masks_location
from zhixing.measures.models import ControlMeasure, ExpiryAlert, MeasureDocument, MeasureStep
from zhixing.measures.numbering import allocate_further_number
from zhixing.measures.rules import (
    PeriodRule,
    period_end,
    renewal_opens_on,
    rule_by_code,
    rule_on,
)

logger = logging.getLogger(__name__)

# Measures that expired without renewal stay flagged for this many days.
EXPIRED_FLAG_DAYS = 30

State = ControlMeasure.State
StepState = MeasureStep.State

# Days before the end of a period at which the officer and the command centers are warned.
EXPIRY_THRESHOLDS = (30, 15, 7)
# Latest start of a measure after the day it is made.
MAX_START_DELAY_DAYS = 30
MAX_AMOUNT = Decimal("99999999999999.99")
# The reason of a release is stored in a column of 500 characters (MeasureStep.reason).
RELEASE_REASON_MAX_CHARS = 500
# The comment on a decision is stored in a column of 500 characters (MeasureStep.decision_note).
DECISION_NOTE_MAX_CHARS = 500
# Records of a control answer whose ``result`` is one of these.
RESULTS = ("done", "partial", "rejected")


# Purpose binding and permissions


def may_control(user: User, case: EnforcementCase) -> bool:
    """Return whether ``user`` may start, renew and release measures in ``case``.

    The case officer may, and so may commanders of the case's court or of a court above it.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if not scope.court_in_scope(user, case.court):
        return False
    if case.case_officer_id == user.pk:
        return True
    return user.has_role(Role.Code.COMMANDER)


def may_read_documents(user: User, measure: ControlMeasure) -> bool:
    """Return whether ``user`` may download the sealed documents, which name ID numbers."""
    from zhixing.cases.services import may_see_identity

    case = measure.case
    return may_control(user, case) or may_see_identity(user, case)


def may_reveal_location(user: User, measure: ControlMeasure) -> bool:
    """Return whether ``user`` may see the full location that pages mask on ``measure``.

    The rule of the assets page applies: the case officer, clerks of the case's court and
    bureau heads of that court or a court above it, as for full identity numbers. Commanders
    control measures but see the location only in the sealed documents, whose downloads are
    audited.
    """
    from zhixing.cases.services import may_see_identity

    return may_see_identity(user, measure.case)


def record_location_read(user: User, measure: ControlMeasure, *, purpose: str) -> bool:
    """Record in the audit trail that ``user`` was shown the full location of the measure's asset.

    The entry is filed under the measure's court, names the measure, and contains the field
    name, not the address. A measure whose label is not masked gets no entry. Returns whether
    an entry was written. The caller checks :func:`may_reveal_location` first.
    """
    if not measure.asset_label or not masks_location(measure):
        return False
    audit.record(
        audit.Action.READ_PERSONAL,
        measure,
        detail={
            "fields": ["asset_label"],
            "purpose": purpose,
            "case_id": measure.case_id,
            "party_id": measure.party_id,
            "asset_id": measure.asset_id,
            "measure_id": measure.pk,
        },
    )
    logger.info(
        "Full asset location of measure %s shown to user %s (%s)", measure.pk, user.pk, purpose
    )
    return True


def visible_measures(user: User) -> QuerySet[ControlMeasure]:
    """Return the measures of the courts in ``user``'s scope."""
    return scope.restrict(ControlMeasure.objects.all(), user, court_field="court")


def control_refusal(user: User, case: EnforcementCase) -> str:
    """Return why ``user`` may not apply, renew or release measures in ``case``; or ''."""
    if may_control(user, case):
        return ""
    return _(
        "Only the case officer, or a commander of the case's court or a court above it, "
        "may apply control measures in case %(number)s."
    ) % {"number": case.case_number}


def _require_control(actor: User, case: EnforcementCase) -> None:
    refusal = control_refusal(actor, case)
    if refusal:
        raise PermissionDenied(refusal)


def approval_required(case: EnforcementCase, actor: User) -> bool:
    """Return whether a measure, renewal or release of ``actor`` in ``case`` awaits approval.

    The case's court decides by its policy. A bureau head of that court, who would decide the
    request, approves their own request by making it.
    """
    policy = QueryPolicy.objects.filter(court_id=case.court_id).first()
    if policy is None or not policy.measure_approval_required:
        return False
    return not inquiry.may_decide(actor, case)


def may_decide(user: User, case: EnforcementCase) -> bool:
    """Return whether ``user`` may approve or reject the measures of ``case``.

    The rule of debtor queries applies: only active bureau heads of the case's own court.
    """
    return user.is_authenticated and inquiry.may_decide(user, case)


def decision_refusal(user: User, case: EnforcementCase) -> str:
    """Return why ``user`` may not decide on the measures of ``case``, or ''."""
    if may_decide(user, case):
        return ""
    return _("Only a bureau head of %(court)s decides on control measures in its cases.") % {
        "court": case.court.name
    }


def check_case(case: EnforcementCase) -> None:
    """Raise ``ValidationError`` unless ``case`` is an open case of type 执, 执恢 or 执保."""
    if case.status != EnforcementCase.Status.OPEN:
        raise ValidationError(
            {
                "case": _("Case %(number)s is not open; measures need an open case.")
                % {"number": case.case_number}
            }
        )
    if case.type_code not in IMPLEMENTING_TYPE_CODES:
        raise ValidationError(
            {
                "case": _(
                    "Case %(number)s is of type %(type)s; measures need a case of type 执, 执恢 "
                    "or 执保."
                )
                % {"number": case.case_number, "type": case.type_code}
            }
        )


def _check_debtor(asset: AssetRecord) -> None:
    is_debtor = CaseParty.objects.filter(
        case_id=asset.case_id, party_id=asset.party_id, role=CaseParty.Role.DEBTOR
    ).exists()
    if not is_debtor:
        raise ValidationError(
            {
                "asset": _(
                    "%(name)s is not a debtor of case %(number)s; measures apply to debtors' "
                    "assets only."
                )
                % {"name": asset.party.name, "number": asset.case.case_number}
            }
        )


def _check_agency(asset: AssetRecord, action: str) -> None:
    agency = asset.agency
    if not agency.active:
        raise ValidationError(
            {"asset": _("%(agency)s is inactive; it takes no requests.") % {"agency": agency.name}}
        )
    if action not in agency.actions or asset.item.category not in agency.categories:
        raise ValidationError(
            {
                "kind": _(
                    "%(agency)s does not accept %(action)s requests online; send the documents "
                    "on paper."
                )
                % {"agency": agency.name, "action": action}
            }
        )


# Periods


def today(now: datetime.datetime) -> datetime.date:
    """Return the calendar day of ``now`` in Asia/Shanghai."""
    return timezone.localdate(now)


@dataclass(frozen=True)
class PeriodPlan:
    """The period of a measure or renewal: the rule, the maximum and the chosen months."""

    rule: PeriodRule
    max_months: int
    months: int
    start: datetime.date
    end: datetime.date


def _months(value: int | None, maximum: int) -> int:
    months = maximum if value is None else value
    if not 1 <= months <= maximum:
        raise ValidationError(
            {
                "period_months": _(
                    "The period of %(months)s months is invalid; choose 1 to %(max)s months."
                )
                % {"months": months, "max": maximum}
            }
        )
    return months


def plan_period(
    kind: str,
    made_on: datetime.date,
    *,
    start: datetime.date | None = None,
    months: int | None = None,
) -> PeriodPlan | None:
    """Return the period of a new measure of ``kind`` made on ``made_on``, or None (deduction).

    The rule is the one in force on ``made_on``; the period defaults to its maximum and
    starts on ``made_on`` unless ``start`` is given. Raises one ``ValidationError`` naming
    each field that is out of range, the start or the months.
    """
    spec = SPECS[kind]
    if spec.property_class is None:
        # A deduction takes the money at once: a period would be silently ignored.
        errors = {}
        if start is not None:
            errors["start_date"] = _("A deduction takes effect at once; leave the start empty.")
        if months is not None:
            errors["period_months"] = _("A deduction has no period; leave the period empty.")
        if errors:
            raise ValidationError(errors)
        return None
    rule = rule_on(made_on)
    start = start or made_on
    problems: dict[str, list[ValidationError]] = {}
    last = made_on + datetime.timedelta(days=MAX_START_DELAY_DAYS)
    if not made_on <= start <= last:
        message = _("The start %(start)s is invalid; choose a day from %(first)s to %(last)s.") % {
            "start": start.isoformat(),
            "first": made_on.isoformat(),
            "last": last.isoformat(),
        }
        problems["start_date"] = [ValidationError(message)]
    maximum = rule.max_period(spec.property_class)
    chosen = maximum
    with collect_errors(problems):
        chosen = _months(months, maximum)
    if problems:
        raise ValidationError(problems)
    return PeriodPlan(rule, maximum, chosen, start, period_end(start, chosen))


def plan_renewal(measure: ControlMeasure, *, months: int | None = None) -> PeriodPlan:
    """Return the renewal period of ``measure``: from the day after its end, capped by its rule.

    The rule is the one the measure was made under: the same period as the first under the
    2015 rule, half of it under the 2004 rule.
    """
    spec = measure.spec
    if spec.property_class is None or measure.end_date is None:
        raise ValidationError({"measure": _("A deduction has no period to renew.")})
    rule = rule_by_code(measure.rule)
    maximum = rule.max_renewal(spec.property_class)
    chosen = _months(months, maximum)
    start = measure.end_date + datetime.timedelta(days=1)
    return PeriodPlan(rule, maximum, chosen, start, period_end(start, chosen))


def clean_amount(value: Decimal | str | None, spec: KindSpec) -> Decimal | None:
    """Return the amount of a measure in yuan, or raise ``ValidationError`` naming the fix."""
    if not spec.needs_amount:
        if value not in (None, ""):
            raise ValidationError({"amount": _("Only deposits take an amount; leave it empty.")})
        return None
    if value in (None, ""):
        raise ValidationError({"amount": _("Enter the amount in yuan, e.g. 356800.00.")})
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise ValidationError(
            {
                "amount": _("%(value)s is not an amount; enter yuan such as 356800.00.")
                % {"value": value}
            }
        ) from error
    # Range first, so that quantize never meets infinity, NaN or more digits than it keeps.
    if (
        not amount.is_finite()
        or not Decimal("0") < amount <= MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ValidationError(
            {
                "amount": _(
                    "%(value)s is invalid; enter more than 0 yuan with at most two decimals."
                )
                % {"value": value}
            }
        )
    return amount.quantize(Decimal("0.01"))


# Money still owed

# States in which a measure of the case already covers money: a freeze that is or may yet be
# in force, and a deduction whose result the bank has not reported yet.
# A measure awaiting approval counts too, so that two requests awaiting approval cannot
# together cover more than is owed.
_FREEZE_HOLDING_STATES = ControlMeasure.CLAIMING_STATES
_DEDUCTION_PENDING_STATES = (State.AWAITING_APPROVAL, State.REQUESTED, State.SENT)


def money_held(
    case: EnforcementCase, kind: str, asset: AssetRecord, *, exclude: int | None = None
) -> Decimal:
    """Return the yuan that other freezes and deductions of ``case`` already cover.

    A freeze counts with the amount the bank reported, or else the amount requested. A
    deduction counts until the bank reports its result, because the money of a completed
    deduction is recorded as the case's recovered amount. A deduction of ``asset`` does not
    count the freezes of the same account, because it takes the money that they hold.
    Measures awaiting approval count with their amount. ``exclude`` is the id of a measure
    left out: the one being approved.
    """
    freezes = ControlMeasure.objects.filter(
        case=case, kind=MeasureKind.FREEZE, state__in=_FREEZE_HOLDING_STATES
    )
    if kind == MeasureKind.DEDUCT:
        freezes = freezes.exclude(asset_type=asset.record_type, asset_identifier=asset.identifier)
    deductions = ControlMeasure.objects.filter(
        case=case, kind=MeasureKind.DEDUCT, state__in=_DEDUCTION_PENDING_STATES
    )
    if exclude is not None:
        freezes = freezes.exclude(pk=exclude)
        deductions = deductions.exclude(pk=exclude)
    total = Decimal("0.00")
    for measure in [*freezes, *deductions]:
        covered = measure.actual_amount if measure.actual_amount is not None else measure.amount
        total += covered or Decimal("0.00")
    return total


def _check_amount_owed(
    case: EnforcementCase,
    kind: str,
    asset: AssetRecord,
    amount: Decimal | None,
    *,
    exclude: int | None = None,
) -> None:
    """Raise ``ValidationError`` on ``amount`` when it freezes or deducts more than is owed.

    Freezing or deducting beyond the amount owed (超标的冻结) is not allowed. The limit is the
    claim amount less the recovered amount, less what other measures of the case hold.
    """
    # NOTE: interest for delayed performance and enforcement fees are not counted in the
    # amount owed, because the case records neither.
    if amount is None:
        return
    owed = case.claim_amount - case.recovered_amount
    held_by_others = money_held(case, kind, asset, exclude=exclude)
    limit = owed - held_by_others
    if amount <= limit:
        return
    values = {
        "value": f"{amount:.2f}",
        "limit": f"{max(limit, Decimal('0.00')):.2f}",
        "claim": f"{case.claim_amount:.2f}",
        "recovered": f"{case.recovered_amount:.2f}",
        "held": f"{held_by_others:.2f}",
    }
    if limit > 0:
        message = _(
            "%(value)s yuan is more than the %(limit)s yuan still owed in this case: claim "
            "%(claim)s less recovered %(recovered)s less %(held)s held by other freezes and "
            "deductions. Enter at most %(limit)s yuan."
        )
    else:
        message = _(
            "%(value)s yuan is more than the %(limit)s yuan still owed in this case: claim "
            "%(claim)s less recovered %(recovered)s less %(held)s held by other freezes and "
            "deductions. Nothing is left to freeze or deduct. Correct the case's amounts, or "
            "release a freeze first."
        )
    raise ValidationError({"amount": message % values})


# The balance of an account

# Currency codes of balances in yuan; an empty code is yuan too.
_YUAN_CODES = ("", "CNY", "cny", "RMB", "rmb")


def last_known_balance(asset: AssetRecord) -> AssetRecord | None:
    """Return the newest record of the account of ``asset`` in its case with a balance in yuan.

    Each query result about the account adds a record, so the newest one contains the last
    known balance. Returns None when the asset has no account number or no record of the
    account has a balance in yuan.
    """
    if not asset.identifier:
        return None
    return (
        AssetRecord.objects.filter(
            case_id=asset.case_id,
            record_type=asset.record_type,
            identifier=asset.identifier,
            amount__isnull=False,
            currency__in=_YUAN_CODES,
        )
        .order_by("-answered_at", "-pk")
        .first()
    )


def balance_exceeded(asset: AssetRecord, kind: str, amount: Decimal | None) -> AssetRecord | None:
    """Return the record of the last known balance if deducting ``amount`` exceeds it, else None.

    Balances change between the query and the deduction, so exceeding the balance is no reason
    to reject the deduction. The form requires the officer's confirmation instead.
    """
    if kind != MeasureKind.DEDUCT or amount is None:
        return None
    record = last_known_balance(asset)
    if record is None or record.amount is None or amount <= record.amount:
        return None
    return record


# Queue positions


def _holding(
    record_type: str, identifier: str, states: Sequence[str] = ControlMeasure.HOLDING_STATES
) -> QuerySet[ControlMeasure]:
    return ControlMeasure.objects.filter(
        asset_type=record_type,
        asset_identifier=identifier,
        state__in=states,
    ).exclude(kind=MeasureKind.DEDUCT)


def _duplicate(case: EnforcementCase, kind: str, asset: AssetRecord) -> ControlMeasure | None:
    """Return a measure of ``kind`` of ``case`` on ``asset`` in a state of ``CLAIMING_STATES``."""
    claiming = _holding(asset.record_type, asset.identifier, ControlMeasure.CLAIMING_STATES)
    return claiming.filter(case=case, kind=kind).first()


def estimate_queue_position(asset: AssetRecord, day: datetime.date) -> int:
    """Return how many earlier measures hold ``asset``: the queue position of a new one.

    It counts the platform's own measures that hold the same asset (by type and identifier,
    in any case), plus the seizures the query answer reported that are not the platform's
    own (matched by case number) and had not ended by ``day``. Bank accounts and vehicles
    report only a ``frozen`` or ``seized`` state, which counts as one earlier measure unless
    the platform's own measures on the asset reached the agency before the answer.
    """
    own = _holding(asset.record_type, asset.identifier)
    count = own.count()
    raw = asset.raw if isinstance(asset.raw, dict) else {}
    if asset.record_type == "real_estate":
        own_numbers = set(own.values_list("case__case_number", flat=True))
        for seizure in raw.get("existing_seizures") or []:
            if not isinstance(seizure, dict) or seizure.get("case_number") in own_numbers:
                continue
            until = parse_date(str(seizure.get("until") or "")) if seizure.get("until") else None
            if until is None or until >= day:
                count += 1
        return count
    held_state = {"bank_account": "frozen", "vehicle": "seized"}.get(asset.record_type)
    # A measure reaches the agency when it is made, or on approval where it waited for one.
    own_before_answer = own.filter(
        Q(created_at__lte=asset.answered_at, steps__decided_at__isnull=True)
        | Q(steps__decided_at__lte=asset.answered_at),
        steps__kind=MeasureStep.Kind.APPLY,
    ).exists()
    if held_state and raw.get("state") == held_state and not own_before_answer:
        count += 1
    return count


def _advance_queue(measure: ControlMeasure) -> None:
    """Move the platform's later measures on the same asset one place up the queue."""
    if measure.queue_position is None:
        return
    later = _holding(measure.asset_type, measure.asset_identifier).filter(
        queue_position__gt=measure.queue_position
    )
    for other in later:
        other.queue_position = (other.queue_position or 1) - 1
        other.save(update_fields=["queue_position", "updated_at"])


# Events


def _measure_url(measure: ControlMeasure) -> str:
    return reverse("measure-detail", args=[measure.pk])


def _title(measure: ControlMeasure, text: str) -> str:
    return _("%(kind)s in case %(number)s: %(text)s") % {
        "kind": MeasureKind(measure.kind).label,
        "number": measure.case.case_number,
        "text": text,
    }


def _publish(
    measure: ControlMeasure,
    kind: str,
    text: str,
    *,
    courts: Sequence[Court] = (),
    severity: str = Event.Severity.INFO,
    extra_users: Iterable[int] = (),
) -> None:
    """Tell the case officer (and ``courts``) about ``measure``; no personal data in the event."""
    user_ids = set(extra_users)
    if measure.case.case_officer_id is not None:
        user_ids.add(measure.case.case_officer_id)
    data = {
        "title": _title(measure, text),
        "url": _measure_url(measure),
        "state": measure.state,
        "severity": severity,
    }
    events.publish(kind, user_ids=sorted(user_ids), subject=measure, data=data, severity=severity)
    if courts:
        events.publish(kind, courts=courts, subject=measure, data=data, severity=severity)


def command_centers(measure: ControlMeasure) -> list[Court]:
    """Return the case's court and the courts above it, whose command centers watch measures."""
    court = measure.court
    return [court, *court.ancestors()]


def _set_state(
    measure: ControlMeasure, state: str, now: datetime.datetime, *, detail: dict[str, Any]
) -> None:
    old = measure.state
    measure.state = state
    measure.state_changed_at = now
    measure.save()
    audit.record(
        audit.Action.UPDATE,
        measure,
        detail={"event": "measure_state", "from": old, "to": state, **detail},
    )
    logger.info("Measure %s of case %s: %s -> %s", measure.pk, measure.case_id, old, state)


# Documents of a step


def _store_documents(
    step: MeasureStep,
    sealed: Sequence[tuple[str, documents.SealedDocument]],
    now: datetime.datetime,
) -> None:
    MeasureDocument.objects.bulk_create(
        [
            MeasureDocument(
                step=step,
                role=role,
                kind=document.kind,
                title=document.title,
                template_version=document.template_version,
                pdf=document.pdf,
                sha256=document.sha256,
                size=len(document.pdf),
                created_at=now,
            )
            for role, document in sealed
        ]
    )


def _context(
    measure: ControlMeasure, actor: User, day: datetime.date, values: dict[str, Any]
) -> dict[str, Any]:
    return documents.base_context(
        case=measure.case,
        debtor=measure.party,
        court=measure.court,
        officer=measure.case.case_officer or actor,
        agency_name=measure.asset.institution or measure.agency.name,
        ruling_sequence=measure.ruling_sequence,
        day=day,
        measure=values,
    )


def _previous(measure: ControlMeasure) -> dict[str, Any]:
    return {
        "document_number": measure.notice_number,
        "start": measure.start_date,
        "end": measure.end_date,
    }


def _enqueue(measure: ControlMeasure, step: MeasureStep, now: datetime.datetime) -> None:
    gateway.enqueue(
        [
            gateway.ItemRequest(
                agency=measure.agency,
                case=measure.case,
                party=measure.party,
                category=measure.category,
                action=step.action,
                item_id=step.item_id,
            )
        ],
        now=now,
    )
    wakeup.wake(wakeup.GATEWAY_TASK)


# Applying a measure


def request_measure(
    actor: User,
    asset: AssetRecord,
    kind: str,
    *,
    amount: Decimal | str | None = None,
    start_date: datetime.date | None = None,
    period_months: int | None = None,
    now: datetime.datetime | None = None,
) -> ControlMeasure:
    """Make a measure of ``kind`` on ``asset``: seal its ruling and notice and send it.

    Raises ``PermissionDenied`` unless ``actor`` may control the asset's case, and
    ``ValidationError`` naming the field when the case, the debtor, the kind, the amount,
    the period or the agency does not allow the measure; then nothing is stored. Where the
    court's policy requires approval (:func:`approval_required`), the measure is stored
    awaiting a bureau head's decision (:func:`decide_step`), with no documents, no gateway
    item and no queue position.
    """
    now = now or timezone.now()
    case = asset.case
    _require_control(actor, case)
    errors: dict[str, list[ValidationError]] = {}
    with collect_errors(errors):
        check_case(case)
    with collect_errors(errors):
        _check_debtor(asset)
    if not asset.identifier:
        errors.setdefault("asset", []).append(
            ValidationError(_("The asset record has no account or certificate number to name."))
        )
    spec = SPECS.get(kind)
    if spec is None or asset.record_type not in spec.record_types:
        errors.setdefault("kind", []).append(
            ValidationError(
                _("This measure does not apply to an asset of this type; choose another.")
            )
        )
        spec = None
    made_on = today(now)
    clean = None
    plan = None
    # The agency, amount and period rules depend on the kind of measure.
    if spec is not None:
        with collect_errors(errors):
            _check_agency(asset, spec.action)
        with collect_errors(errors):
            clean = clean_amount(amount, spec)
        with collect_errors(errors):
            plan = plan_period(kind, made_on, start=start_date, months=period_months)
    with transaction.atomic():
        # The lock on the case makes a concurrent request for the same asset, or for money of
        # the same case, wait and then count this one.
        locked = EnforcementCase.objects.select_for_update().get(pk=case.pk)
        if spec is not None and asset.identifier:
            duplicate = _duplicate(case, kind, asset)
            if duplicate is not None:
                message = _(
                    "Measure #%(id)s of this case already holds this asset; renew or release "
                    "it instead."
                ) % {"id": duplicate.pk}
                errors.setdefault("asset", []).append(ValidationError(message))
        if "amount" not in errors:
            with collect_errors(errors):
                _check_amount_owed(locked, kind, asset, clean)
        if errors:
            raise ValidationError(errors)
        assert spec is not None
        awaiting = approval_required(case, actor)
        rule = plan.rule if plan is not None else rule_on(made_on)
        # NOTE: a measure awaiting approval takes its ruling number now, so a rejected one
        # leaves a gap in the case's further numbers (之N).
        sequence = allocate_further_number(case)
        measure = ControlMeasure.objects.create(
            kind=kind,
            state=State.AWAITING_APPROVAL if awaiting else State.REQUESTED,
            case=case,
            court=case.court,
            party=asset.party,
            asset=asset,
            agency=asset.agency,
            category=asset.item.category,
            asset_type=asset.record_type,
            asset_identifier=asset.identifier,
            asset_label=(asset.institution or asset.location or asset.description)[:300],
            amount=clean,
            rule=rule.code,
            made_on=made_on,
            period_months=plan.months if plan else None,
            start_date=plan.start if plan else None,
            end_date=plan.end if plan else None,
            queue_position=None
            if kind == MeasureKind.DEDUCT or awaiting
            else estimate_queue_position(asset, made_on),
            ruling_sequence=sequence,
            ruling_number=document_number(case.case_number, sequence),
            notice_number=document_number(case.case_number),
            requested_by=actor,
            state_changed_at=now,
            created_at=now,
        )
        step = MeasureStep.objects.create(
            measure=measure,
            kind=MeasureStep.Kind.APPLY,
            state=StepState.AWAITING_APPROVAL if awaiting else StepState.QUEUED,
            item_id=uuid.uuid4(),
            action=spec.action,
            period_months=measure.period_months,
            start_date=measure.start_date,
            end_date=measure.end_date,
            requested_by=actor,
            created_at=now,
        )
        if not awaiting:
            _seal_and_send_application(measure, step, actor, now)
        audit.record(
            audit.Action.CREATE,
            measure,
            detail={
                "event": "measure_submitted" if awaiting else "measure_requested",
                "kind": kind,
                "case_id": case.pk,
                "asset_id": asset.pk,
                "item_id": str(step.item_id),
                "rule": rule.code,
                "amount": str(clean) if clean is not None else None,
            },
        )
        if awaiting:
            _publish_submitted(measure, step, actor)
        else:
            _publish(measure, "measures.requested", _("requested"), extra_users=[actor.pk])
    logger.info(
        "Measure %s (%s) of case %s requested by user %s, item %s%s",
        measure.pk,
        kind,
        case.pk,
        actor.pk,
        step.item_id,
        ", awaiting approval" if awaiting else "",
    )
    return measure


def _seal_and_send_application(
    measure: ControlMeasure, step: MeasureStep, actor: User, now: datetime.datetime
) -> None:
    """Seal the ruling and the assistance notice of the measure's first step and queue it.

    ``actor`` seals: the requester of a measure sent at once, or the approving bureau head.
    The documents are dated on the day the measure is made (``measure.made_on``).
    """
    spec = measure.spec
    case = measure.case
    values = documents.measure_values(
        asset=measure.asset,
        verb=spec.verb,
        amount=measure.amount,
        months=measure.period_months,
        start=measure.start_date,
        end=measure.end_date,
    )
    if measure.kind == MeasureKind.DEDUCT:
        values["payee"] = documents.deduction_payee(case.court)
    context = _context(measure, actor, measure.made_on, values)
    sealed = [
        (
            MeasureDocument.Role.RULING,
            documents.render_and_seal(spec.ruling, context, court=case.court, actor=actor),
        ),
        (
            MeasureDocument.Role.NOTICE,
            documents.render_and_seal(spec.notice, context, court=case.court, actor=actor),
        ),
    ]
    _store_documents(step, sealed, now)
    _enqueue(measure, step, now)


# Renewal and release


def open_step(measure: ControlMeasure) -> MeasureStep | None:
    """Return the measure's renewal or release that awaits the agency, if any."""
    return measure.steps.filter(state__in=MeasureStep.OPEN_STATES).first()


def _pending_refusal(measure: ControlMeasure, deciding: MeasureStep | None) -> str:
    """Return why a pending step keeps ``measure`` from another renewal or release, or ''.

    ``deciding`` is the step being approved, which does not count against itself.
    """
    pending = measure.steps.filter(state__in=MeasureStep.PENDING_STATES)
    if deciding is not None:
        pending = pending.exclude(pk=deciding.pk)
    step = pending.first()
    if step is None:
        return ""
    if step.awaits_approval:
        return _("A renewal or release of this measure awaits a bureau head's approval.")
    return _("A renewal or release of this measure awaits the agency's answer.")


def renewal_refusal(
    measure: ControlMeasure, day: datetime.date, *, deciding: MeasureStep | None = None
) -> str:
    """Return why ``measure`` cannot be renewed on ``day``, or an empty string if it can.

    A measure has at most one renewal or release awaiting approval or the agency, and a
    renewal is made only from :func:`~zhixing.measures.rules.renewal_opens_on` to the end of
    the period. ``deciding`` is a renewal awaiting approval that is checked for its approval.
    """
    if not measure.spec.has_period:
        return _("A deduction has no period to renew.")
    if not measure.is_active:
        return _("Only a measure in force can be renewed.")
    if measure.end_date is None or day > measure.end_date:
        return _("The period ended on %(end)s; a renewal must be made before the end.") % {
            "end": measure.end_date
        }
    pending = _pending_refusal(measure, deciding)
    if pending:
        return pending
    opens_on = renewal_opens_on(measure.end_date)
    if day < opens_on:
        return _(
            "A renewal on %(day)s is too early: the period ends on %(end)s, and a renewal is "
            "possible from %(opens)s. Renew on or after %(opens)s."
        ) % {
            "day": day.isoformat(),
            "end": measure.end_date.isoformat(),
            "opens": opens_on.isoformat(),
        }
    return ""


def release_refusal(measure: ControlMeasure, *, deciding: MeasureStep | None = None) -> str:
    """Return why ``measure`` cannot be released, or an empty string if it can.

    ``deciding`` is a release awaiting approval that is checked for its approval.
    """
    if not measure.spec.has_period:
        return _("A deduction cannot be released.")
    if not measure.is_active:
        return _("Only a measure in force can be released.")
    return _pending_refusal(measure, deciding)


def _check_step_allowed(actor: User, measure: ControlMeasure) -> None:
    _require_control(actor, measure.case)
    check_case(measure.case)


def renew_measure(
    actor: User,
    measure: ControlMeasure,
    *,
    period_months: int | None = None,
    preapproved: bool = False,
    now: datetime.datetime | None = None,
) -> MeasureStep:
    """Renew ``measure`` before its end for at most the period its rule allows; send the notice.

    Raises ``PermissionDenied`` or ``ValidationError`` (naming the field) and then stores
    nothing. The measure's end moves when the agency confirms the renewal. Where the court's
    policy requires approval, the renewal is stored awaiting a bureau head's decision and
    nothing is sealed or sent. ``preapproved`` skips that wait. The caller passes it when a
    bureau head of the measure's court approved this renewal already, as the bureau head who
    signed an executed seizure-renewal application did.
    """
    now = now or timezone.now()
    _check_step_allowed(actor, measure)
    day = today(now)
    awaiting = not preapproved and approval_required(measure.case, actor)
    with transaction.atomic():
        measure = ControlMeasure.objects.select_for_update().get(pk=measure.pk)
        refusal = renewal_refusal(measure, day)
        if refusal:
            raise ValidationError({"measure": refusal})
        _check_agency(measure.asset, "renew")
        plan = plan_renewal(measure, months=period_months)
        step = MeasureStep.objects.create(
            measure=measure,
            kind=MeasureStep.Kind.RENEW,
            state=StepState.AWAITING_APPROVAL if awaiting else StepState.QUEUED,
            item_id=uuid.uuid4(),
            action="renew",
            period_months=plan.months,
            start_date=plan.start,
            end_date=plan.end,
            requested_by=actor,
            created_at=now,
        )
        if not awaiting:
            _seal_and_send_renewal(measure, step, actor, day, now)
        audit.record(
            audit.Action.UPDATE,
            measure,
            detail={
                "event": "measure_renewal_submitted" if awaiting else "measure_renewal_requested",
                "item_id": str(step.item_id),
                "months": plan.months,
                "end": plan.end.isoformat(),
            },
        )
        if awaiting:
            _publish_submitted(measure, step, actor)
        else:
            _publish(
                measure,
                "measures.renewal_requested",
                _("renewal requested"),
                extra_users=[actor.pk],
            )
    logger.info(
        "Renewal of measure %s requested by user %s, item %s%s",
        measure.pk,
        actor.pk,
        step.item_id,
        ", awaiting approval" if awaiting else "",
    )
    return step


def _seal_and_send_renewal(
    measure: ControlMeasure,
    step: MeasureStep,
    actor: User,
    day: datetime.date,
    now: datetime.datetime,
) -> None:
    """Seal the renewal notice of ``step`` in the name of ``actor``, dated ``day``, and queue it."""
    spec = measure.spec
    assert spec.renew_notice is not None
    values = documents.measure_values(
        asset=measure.asset,
        verb=spec.verb,
        amount=measure.amount,
        months=step.period_months,
        start=step.start_date,
        end=step.end_date,
        previous=_previous(measure),
    )
    notice = documents.render_and_seal(
        spec.renew_notice,
        _context(measure, actor, day, values),
        court=measure.court,
        actor=actor,
    )
    _store_documents(step, [(MeasureDocument.Role.NOTICE, notice)], now)
    _enqueue(measure, step, now)


def release_measure(
    actor: User,
    measure: ControlMeasure,
    *,
    reason: str,
    now: datetime.datetime | None = None,
) -> MeasureStep:
    """Release ``measure``: seal the release notice and send it; the agency's answer ends it.

    Raises ``PermissionDenied`` or ``ValidationError`` (naming the field) and then stores
    nothing. Where the court's policy requires approval, the release is stored awaiting a
    bureau head's decision and nothing is sealed or sent.
    """
    now = now or timezone.now()
    _check_step_allowed(actor, measure)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the release.")})
    typed_text.check_length("reason", reason, RELEASE_REASON_MAX_CHARS, label=_("reason"))
    day = today(now)
    awaiting = approval_required(measure.case, actor)
    with transaction.atomic():
        measure = ControlMeasure.objects.select_for_update().get(pk=measure.pk)
        refusal = release_refusal(measure)
        if refusal:
            raise ValidationError({"measure": refusal})
        _check_agency(measure.asset, "release")
        step = MeasureStep.objects.create(
            measure=measure,
            kind=MeasureStep.Kind.RELEASE,
            state=StepState.AWAITING_APPROVAL if awaiting else StepState.QUEUED,
            item_id=uuid.uuid4(),
            action="release",
            reason=reason,
            requested_by=actor,
            created_at=now,
        )
        if not awaiting:
            _seal_and_send_release(measure, step, actor, day, now)
        audit.record(
            audit.Action.UPDATE,
            measure,
            detail={
                "event": "measure_release_submitted" if awaiting else "measure_release_requested",
                "item_id": str(step.item_id),
            },
        )
        if awaiting:
            _publish_submitted(measure, step, actor)
        else:
            _publish(
                measure,
                "measures.release_requested",
                _("release requested"),
                extra_users=[actor.pk],
            )
    logger.info(
        "Release of measure %s requested by user %s, item %s%s",
        measure.pk,
        actor.pk,
        step.item_id,
        ", awaiting approval" if awaiting else "",
    )
    return step


def _seal_and_send_release(
    measure: ControlMeasure,
    step: MeasureStep,
    actor: User,
    day: datetime.date,
    now: datetime.datetime,
) -> None:
    """Seal the release notice of ``step`` in the name of ``actor``, dated ``day``, and queue it."""
    spec = measure.spec
    assert spec.release_notice is not None
    values = documents.measure_values(
        asset=measure.asset,
        verb=spec.verb,
        amount=measure.actual_amount if measure.actual_amount is not None else measure.amount,
        months=None,
        start=measure.start_date,
        end=measure.end_date,
        previous=_previous(measure),
    )
    notice = documents.render_and_seal(
        spec.release_notice,
        _context(measure, actor, day, values),
        court=measure.court,
        actor=actor,
    )
    _store_documents(step, [(MeasureDocument.Role.NOTICE, notice)], now)
    _enqueue(measure, step, now)


# Approval by a bureau head


def _bureau_head_ids(court_id: int) -> list[int]:
    return list(
        User.objects.filter(
            court_id=court_id, is_active=True, roles__code=Role.Code.BUREAU_HEAD
        ).values_list("pk", flat=True)
    )


def _step_noun(step: MeasureStep) -> str:
    return {
        MeasureStep.Kind.APPLY: _("the measure"),
        MeasureStep.Kind.RENEW: _("the renewal"),
        MeasureStep.Kind.RELEASE: _("the release"),
    }[MeasureStep.Kind(step.kind)]


def _publish_submitted(measure: ControlMeasure, step: MeasureStep, actor: User) -> None:
    """Tell the requester, the case officer and the court's bureau heads what awaits approval."""
    _publish(
        measure,
        "measures.approval_requested",
        _("%(request)s awaits a bureau head's approval") % {"request": _step_noun(step)},
        extra_users=[actor.pk, *_bureau_head_ids(measure.case.court_id)],
    )


def awaiting_steps(user: User) -> QuerySet[MeasureStep]:
    """Return the requests of the cases of ``user``'s court that await the user's decision.

    Empty unless ``user`` is a bureau head, because only bureau heads of the case's court
    decide (:func:`may_decide`).
    """
    if (
        not user.is_authenticated
        or user.court_id is None
        or not user.has_role(Role.Code.BUREAU_HEAD)
    ):
        return MeasureStep.objects.none()
    return MeasureStep.objects.filter(
        state=StepState.AWAITING_APPROVAL, measure__case__court_id=user.court_id
    )


def awaiting_count(user: User, cap: int) -> int:
    """Count the requests that await the bureau head's decision, stopping at ``cap``."""
    return int(awaiting_steps(user).order_by().values("pk")[:cap].count())


def awaiting_step(measure: ControlMeasure) -> MeasureStep | None:
    """Return the measure's request that awaits a bureau head's approval, if any."""
    return measure.steps.filter(state=StepState.AWAITING_APPROVAL).first()


def decide_step(
    actor: User,
    step: MeasureStep,
    *,
    approve: bool,
    note: str = "",
    now: datetime.datetime | None = None,
) -> MeasureStep:
    """Approve or reject a request awaiting approval: a new measure, a renewal or a release.

    Approval seals the documents with the court's seal, in the name of ``actor``, and queues
    the gateway item, as a request sent at once does. Rejection needs ``note``, the reason;
    a rejected measure ends in the state ``not_approved``, and a rejected renewal or release
    leaves its measure as it was. The requester and the case officer are notified either way.

    Raises ``PermissionDenied`` unless ``actor`` is a bureau head of the case's court, and
    ``ValidationError`` when the request was decided already, a rejection has no reason, or
    the case, the asset, the agency or the period no longer allow the request; then nothing
    changes, and the bureau head may still reject it.
    """
    now = now or timezone.now()
    case = step.measure.case
    refusal = decision_refusal(actor, case)
    if refusal:
        raise PermissionDenied(refusal)
    note = note.strip()
    if not approve and not note:
        raise ValidationError({"note": _("Give the reason for rejecting the request.")})
    typed_text.check_length("note", note, DECISION_NOTE_MAX_CHARS, label=_("comment"))
    day = today(now)
    with transaction.atomic():
        # The locks come in the order request_measure and renew_measure take them: the case,
        # then the measure. A second decision on the same request waits here, then finds the
        # request decided and changes nothing.
        locked_case = EnforcementCase.objects.select_for_update().get(pk=case.pk)
        measure = ControlMeasure.objects.select_for_update().get(pk=step.measure_id)
        locked = (
            MeasureStep.objects.select_for_update()
            .filter(pk=step.pk, state=StepState.AWAITING_APPROVAL)
            .first()
        )
        if locked is None:
            raise ValidationError(
                {"state": _("This request was decided already; reload the page to see how.")}
            )
        step = locked
        step.decided_by = actor
        step.decided_at = now
        step.decision_note = note
        if approve:
            _approve(locked_case, measure, step, actor, day, now)
        else:
            _reject(measure, step, now)
    logger.info(
        "%s of measure %s %s by user %s, item %s",
        step.kind,
        measure.pk,
        "approved" if approve else "rejected",
        actor.pk,
        step.item_id,
    )
    return step


def _approve(
    case: EnforcementCase,
    measure: ControlMeasure,
    step: MeasureStep,
    actor: User,
    day: datetime.date,
    now: datetime.datetime,
) -> None:
    check_case(case)
    if step.kind == MeasureStep.Kind.APPLY:
        _approve_application(case, measure, step, actor, day, now)
    elif step.kind == MeasureStep.Kind.RENEW:
        refusal = renewal_refusal(measure, day, deciding=step)
        if refusal:
            raise ValidationError({"measure": refusal})
        _check_agency(measure.asset, "renew")
        plan = plan_renewal(measure, months=step.period_months)
        step.start_date = plan.start
        step.end_date = plan.end
        step.state = StepState.QUEUED
        step.save()
        _seal_and_send_renewal(measure, step, actor, day, now)
    else:
        refusal = release_refusal(measure, deciding=step)
        if refusal:
            raise ValidationError({"measure": refusal})
        _check_agency(measure.asset, "release")
        step.state = StepState.QUEUED
        step.save()
        _seal_and_send_release(measure, step, actor, day, now)
    audit.record(
        audit.Action.UPDATE,
        measure,
        detail={"event": "measure_step_approved", "step": step.kind, "item_id": str(step.item_id)},
    )
    _publish(
        measure,
        "measures.approved",
        _("%(request)s was approved, sealed and sent") % {"request": _step_noun(step)},
        extra_users=[step.requested_by_id, actor.pk],
    )


def _approve_application(
    case: EnforcementCase,
    measure: ControlMeasure,
    step: MeasureStep,
    actor: User,
    day: datetime.date,
    now: datetime.datetime,
) -> None:
    """Make the measure on the day of approval: check it again, plan its period, seal, send.

    The period is planned again from ``day``, under the rule in force that day: a start that
    has passed moves to ``day``, and the months requested stay. The queue position is
    estimated now, because the agency ranks the measure from the time it receives it.
    """
    asset = measure.asset
    _check_debtor(asset)
    _check_agency(asset, measure.spec.action)
    start = measure.start_date if measure.start_date and measure.start_date > day else None
    months = measure.period_months if measure.spec.has_period else None
    plan = plan_period(measure.kind, day, start=start, months=months)
    _check_amount_owed(case, measure.kind, asset, measure.amount, exclude=measure.pk)
    measure.made_on = day
    measure.rule = (plan.rule if plan is not None else rule_on(day)).code
    if plan is not None:
        measure.period_months = plan.months
        measure.start_date = plan.start
        measure.end_date = plan.end
    if measure.kind != MeasureKind.DEDUCT:
        measure.queue_position = estimate_queue_position(asset, day)
    step.period_months = measure.period_months
    step.start_date = measure.start_date
    step.end_date = measure.end_date
    step.state = StepState.QUEUED
    step.save()
    _set_state(measure, State.REQUESTED, now, detail={"item_id": str(step.item_id)})
    _seal_and_send_application(measure, step, actor, now)


def _reject(measure: ControlMeasure, step: MeasureStep, now: datetime.datetime) -> None:
    step.state = StepState.NOT_APPROVED
    step.save()
    if step.kind == MeasureStep.Kind.APPLY:
        _set_state(measure, State.NOT_APPROVED, now, detail={"item_id": str(step.item_id)})
    audit.record(
        audit.Action.UPDATE,
        measure,
        detail={
            "event": "measure_step_rejected",
            "step": step.kind,
            "item_id": str(step.item_id),
            "note": step.decision_note,
        },
    )
    _publish(
        measure,
        "measures.not_approved",
        _("%(request)s was not approved; the reason is on the measure's page")
        % {"request": _step_noun(step)},
        extra_users=[step.requested_by_id],
    )


# Downloads of the sealed documents


def record_document_download(
    user: User, measure: ControlMeasure, document: MeasureDocument
) -> None:
    """Record in the audit trail that ``user`` downloaded ``document`` of ``measure``.

    The sealed documents print the debtor's ID number and the account in full, so each
    download is a read of personal data. The caller checks :func:`may_read_documents` first.
    """
    audit.record(
        audit.Action.READ_PERSONAL,
        measure,
        object_type=MeasureDocument._meta.label_lower,
        object_id=str(document.pk),
        object_repr=f"{document.kind} of measure {measure.pk}",
        detail={
            "fields": ["pdf"],
            "purpose": "measure document",
            "case_id": measure.case_id,
            "measure_id": measure.pk,
            "sha256": document.sha256,
        },
    )
    logger.info("Document %s of measure %s downloaded by user %s", document.pk, measure.pk, user.pk)


# Documents for the gateway


def _document_dict(document: MeasureDocument) -> dict[str, Any]:
    return {
        "kind": document.kind,
        "sha256": document.sha256,
        "pdf_base64": base64.b64encode(bytes(document.pdf)).decode("ascii"),
    }


def document_for_item(item_id: uuid.UUID | str) -> dict[str, Any] | None:
    """Return the sealed notice that travels with gateway item ``item_id``, or None.

    The result is ``{"kind", "sha256", "pdf_base64"}`` of the assistance notice. A measure's
    first request also carries its ruling, as ``"attachments": [{"kind", "sha256",
    "pdf_base64"}]``. Items of queries and unknown ids return None.
    """
    try:
        key = str(uuid.UUID(str(item_id)))
    except ValueError:
        return None
    fields = message_fields([key]).get(key)
    return fields["document"] if fields is not None else None


def _date_text(day: datetime.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _reference(step: MeasureStep, applies: dict[int, uuid.UUID]) -> str | None:
    """Return the item id of the request that ``step`` continues or ends, or None.

    A renewal or release continues its measure's first request. A deduction continues the
    same court's freeze of the same asset in the same case, when one holds it.
    """
    measure = step.measure
    if step.kind != MeasureStep.Kind.APPLY:
        first = applies.get(measure.pk)
        return str(first) if first is not None else None
    if measure.kind != MeasureKind.DEDUCT:
        return None
    freeze = (
        MeasureStep.objects.filter(
            kind=MeasureStep.Kind.APPLY,
            measure__kind=MeasureKind.FREEZE,
            measure__case_id=measure.case_id,
            measure__court_id=measure.court_id,
            measure__asset_identifier=measure.asset_identifier,
            measure__state__in=ControlMeasure.ACTIVE_STATES,
        )
        .order_by("-created_at")
        .values_list("item_id", flat=True)
        .first()
    )
    return str(freeze) if freeze is not None else None


def message_fields(item_ids: Iterable[uuid.UUID | str]) -> dict[str, dict[str, Any]]:
    """Return what the batch message adds to the items of measures among ``item_ids``.

    Each found item id (as text) maps to ``{"document", "measure"}``: the sealed notice (see
    :func:`document_for_item`) and the asset, amount, period and the item id of the request it
    continues (``docs/protocol.md`` section 8). Ids of other items are left out.
    """
    keys = []
    for value in item_ids:
        try:
            keys.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    steps = list(MeasureStep.objects.filter(item_id__in=keys).select_related("measure"))
    if not steps:
        return {}
    applies = dict(
        MeasureStep.objects.filter(
            measure_id__in={step.measure_id for step in steps}, kind=MeasureStep.Kind.APPLY
        ).values_list("measure_id", "item_id")
    )
    documents_by_step: dict[int, list[MeasureDocument]] = {}
    for row in MeasureDocument.objects.filter(step__in=steps).order_by("role"):
        documents_by_step.setdefault(row.step_id, []).append(row)
    fields = {}
    for step in steps:
        measure = step.measure
        rows = documents_by_step.get(step.pk, [])
        notice = next((row for row in rows if row.role == MeasureDocument.Role.NOTICE), None)
        document = None
        if notice is not None:
            document = _document_dict(notice)
            rulings = [
                _document_dict(row) for row in rows if row.role == MeasureDocument.Role.RULING
            ]
            if rulings:
                document["attachments"] = rulings
        amount = None
        if (
            step.action in (GatewayAction.FREEZE, GatewayAction.DEDUCT)
            and measure.amount is not None
        ):
            amount = f"{measure.amount:.2f}"
        fields[str(step.item_id)] = {
            "document": document,
            "measure": {
                "asset_type": measure.asset_type,
                "identifier": measure.asset_identifier,
                "amount": amount,
                "start": _date_text(step.start_date),
                "end": _date_text(step.end_date),
                "reference": _reference(step, applies),
            },
        }
    return fields


# Answers


@dataclass(frozen=True)
class Outcome:
    """The agency's outcome of a step, read from its answer."""

    result: str
    amount: Decimal | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    queue_position: int | None = None
    reason: str = ""


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _date(value: Any) -> datetime.date | None:
    return parse_date(value) if isinstance(value, str) else None


def read_outcome(step: MeasureStep, answer: Any) -> Outcome | None:
    """Read the agency's outcome for ``step`` from a stored answer; None if it is unreadable.

    ``not_found`` means the agency found nothing to apply the step to: rejected. A ``found``
    answer needs a record whose ``type`` is the step's action (see docs/protocol.md). Without
    a ``result``, a freeze or deduction of less than the amount counts as partial.
    """
    if not isinstance(answer, dict):
        return None
    if answer.get("status") == "not_found":
        return Outcome(result="rejected", reason=str(answer.get("error") or ""))
    records = answer.get("records")
    if answer.get("status") != "found" or not isinstance(records, list):
        return None
    record = next(
        (row for row in records if isinstance(row, dict) and row.get("type") == step.action), None
    )
    if record is None:
        return None
    amount = _decimal(
        record.get("frozen_amount") if step.action != "deduct" else record.get("deducted_amount")
    )
    result = record.get("result")
    if result not in RESULTS:
        wanted = step.measure.amount
        result = (
            "partial" if amount is not None and wanted is not None and amount < wanted else "done"
        )
    position = record.get("queue_position")
    return Outcome(
        result=str(result),
        amount=amount,
        start=_date(record.get("start")),
        end=_date(record.get("end")),
        queue_position=position if isinstance(position, int) and position >= 0 else None,
        reason=str(record.get("reason") or "")[:500],
    )


def _apply_outcome(
    measure: ControlMeasure, step: MeasureStep, outcome: Outcome, now: datetime.datetime
) -> None:
    detail = {"item_id": str(step.item_id), "step": step.kind, "result": outcome.result}
    step.answered_at = now
    step.note = outcome.reason
    if outcome.result == "rejected":
        step.state = StepState.REJECTED
    else:
        step.state = StepState.PARTLY_DONE if outcome.result == "partial" else StepState.DONE
    step.save(update_fields=["state", "answered_at", "note"])
    if step.kind == MeasureStep.Kind.APPLY:
        if outcome.amount is not None:
            measure.actual_amount = outcome.amount
        if outcome.queue_position is not None:
            measure.queue_position = outcome.queue_position
            measure.queue_reported = True
        if measure.spec.has_period and outcome.start is not None:
            measure.start_date = outcome.start
            measure.end_date = outcome.end or period_end(outcome.start, measure.period_months or 1)
        measure.outcome_note = outcome.reason
        state = {
            "done": State.IN_FORCE,
            "partial": State.PARTLY_IN_FORCE,
            "rejected": State.REJECTED,
        }[outcome.result]
        _set_state(measure, state, now, detail=detail)
        _publish(measure, "measures.answered", str(measure.get_state_display()).lower())
        return
    if step.kind == MeasureStep.Kind.RENEW:
        if outcome.result == "rejected":
            audit.record(
                audit.Action.UPDATE, measure, detail={"event": "measure_renewal_rejected", **detail}
            )
            _publish(
                measure,
                "measures.renewal_rejected",
                _("the agency rejected the renewal; the period ends on %(end)s")
                % {"end": measure.end_date},
            )
            return
        measure.end_date = outcome.end or step.end_date
        measure.renewals += 1
        if outcome.amount is not None:
            measure.actual_amount = outcome.amount
        renewed_state = State.PARTLY_IN_FORCE if outcome.result == "partial" else measure.state
        _set_state(measure, renewed_state, now, detail={**detail, "end": str(measure.end_date)})
        _publish(
            measure, "measures.renewed", _("renewed until %(end)s") % {"end": measure.end_date}
        )
        return
    if outcome.result == "rejected":
        audit.record(
            audit.Action.UPDATE, measure, detail={"event": "measure_release_rejected", **detail}
        )
        _publish(measure, "measures.release_rejected", _("the agency rejected the release"))
        return
    _set_state(measure, State.RELEASED, now, detail=detail)
    _advance_queue(measure)
    _publish(measure, "measures.released", _("released"))


class AnsweredRequest(Protocol):
    """What an answered gateway item offers: its id and the answer the agency gave."""

    @property
    def pk(self) -> uuid.UUID: ...

    @property
    def answer(self) -> Any: ...


def record_measure_answer(
    items: Sequence[AnsweredRequest], *, now: datetime.datetime | None = None
) -> int:
    """Update the measures whose steps the answered ``items`` are; return how many changed.

    ``items`` are the items as the gateway's answer hook passes them, or gateway items; a
    gateway item counts only in the state answered. Items of queries and items answered before
    change nothing, so the gateway may pass every answered item. An answer that names no
    record of the step's action is logged and left for a person to read, and the step stays
    open.
    """
    now = now or timezone.now()
    answered = {
        item.pk: item
        for item in items
        if getattr(item, "state", GatewayItem.State.ANSWERED) == GatewayItem.State.ANSWERED
    }
    if not answered:
        return 0
    changed = 0
    steps = MeasureStep.objects.filter(
        item_id__in=list(answered), state__in=MeasureStep.OPEN_STATES
    ).values_list("pk", "measure_id", "measure__case_id")
    for step_id, measure_id, case_id in steps:
        with transaction.atomic():
            _lock_case_and_measure(case_id, measure_id)
            step = (
                MeasureStep.objects.select_for_update(of=("self",))
                .select_related("measure", "measure__case", "measure__court")
                .filter(pk=step_id, state__in=MeasureStep.OPEN_STATES)
                .first()
            )
            if step is None:
                continue
            outcome = read_outcome(step, answered[step.item_id].answer)
            if outcome is None:
                logger.error(
                    "Answer to item %s of measure %s has no %s record; left for a person",
                    step.item_id,
                    step.measure_id,
                    step.action,
                )
                continue
            _apply_outcome(step.measure, step, outcome, now)
            changed += 1
    return changed


# Periodic checks


def _reject_failed_step(step: MeasureStep, item: GatewayItem, now: datetime.datetime) -> None:
    measure = step.measure
    step.state = StepState.REJECTED
    step.answered_at = now
    step.note = (item.last_error or item.state)[:500]
    step.save(update_fields=["state", "answered_at", "note"])
    detail = {"item_id": str(item.pk), "step": step.kind, "gateway_state": item.state}
    if step.kind == MeasureStep.Kind.APPLY:
        measure.outcome_note = step.note
        _set_state(measure, State.REJECTED, now, detail=detail)
        _publish(
            measure,
            "measures.answered",
            _("the request failed: %(state)s") % {"state": item.get_state_display()},
        )
        return
    audit.record(audit.Action.UPDATE, measure, detail={"event": "measure_step_failed", **detail})
    _publish(
        measure,
        "measures.step_failed",
        _("the %(step)s request failed: %(state)s")
        % {"step": step.get_kind_display().lower(), "state": item.get_state_display()},
    )


def sync_gateway_states(now: datetime.datetime | None = None) -> int:
    """Bring open steps up to date with their gateway items; return how many changed.

    An acknowledged item makes its measure ``sent``; a failed or expired item rejects the
    step; an answered item is read as :func:`record_measure_answer` reads it, which covers
    answers stored before the gateway's answer hook calls this app.
    """
    now = now or timezone.now()
    open_steps = {
        step.item_id: step
        for step in MeasureStep.objects.filter(state__in=MeasureStep.OPEN_STATES).select_related(
            "measure", "measure__case", "measure__court"
        )
    }
    if not open_steps:
        return 0
    items = list(GatewayItem.objects.filter(pk__in=list(open_steps)))
    changed = record_measure_answer(
        [item for item in items if item.state == GatewayItem.State.ANSWERED], now=now
    )
    for item in items:
        step = open_steps[item.pk]
        with transaction.atomic():
            if item.state in (GatewayItem.State.FAILED, GatewayItem.State.EXPIRED):
                if MeasureStep.objects.filter(
                    pk=step.pk, state__in=MeasureStep.OPEN_STATES
                ).exists():
                    _reject_failed_step(step, item, now)
                    changed += 1
            elif item.state == GatewayItem.State.ACKNOWLEDGED and _mark_sent(step, now):
                changed += 1
    return changed


def _mark_sent(step: MeasureStep, now: datetime.datetime) -> bool:
    """Record that the agency acknowledged ``step``; False if that was recorded before."""
    if not MeasureStep.objects.filter(pk=step.pk, state=StepState.QUEUED).update(
        state=StepState.SENT
    ):
        return False
    measure = step.measure
    if step.kind == MeasureStep.Kind.APPLY and measure.state == State.REQUESTED:
        _set_state(measure, State.SENT, now, detail={"item_id": str(step.item_id)})
        _publish(measure, "measures.sent", _("sent to the agency"))
    return True


def _lock_case_and_measure(case_id: int, measure_id: int) -> None:
    """Lock the case, then the measure, in the order that :func:`decide_step` takes them.

    A single SELECT … FOR UPDATE over a join locks its rows in the order of the plan, so a
    decision that holds the case and waits for the measure could deadlock with it.
    """
    EnforcementCase.objects.select_for_update().filter(pk=case_id).values_list("pk").first()
    ControlMeasure.objects.select_for_update().filter(pk=measure_id).values_list("pk").first()


def _expire(measure: ControlMeasure, now: datetime.datetime) -> bool:
    with transaction.atomic():
        _lock_case_and_measure(measure.case_id, measure.pk)
        locked = (
            ControlMeasure.objects.select_for_update(of=("self",))
            .select_related("case", "court")
            .filter(pk=measure.pk, state__in=ControlMeasure.ACTIVE_STATES)
            .first()
        )
        if locked is None:
            return False
        _set_state(locked, State.EXPIRED, now, detail={"end": str(locked.end_date)})
        _advance_queue(locked)
        # A renewal or release that waited for approval can no longer be carried out.
        for step in locked.steps.filter(state=StepState.AWAITING_APPROVAL):
            step.decided_at = now
            step.decision_note = _("The measure's period ended before the decision.")
            _reject(locked, step, now)
        _publish(
            locked,
            "measures.expired",
            _("the period ended on %(end)s without a renewal") % {"end": locked.end_date},
            courts=command_centers(locked),
            severity=Event.Severity.MAJOR,
        )
    logger.warning("Measure %s of case %s expired without renewal", measure.pk, measure.case_id)
    return True


def _alert(measure: ControlMeasure, day: datetime.date, now: datetime.datetime) -> bool:
    """Record the thresholds ``measure`` crossed and send one warning; False if none is new."""
    assert measure.end_date is not None
    days_left = (measure.end_date - day).days
    crossed = [days for days in EXPIRY_THRESHOLDS if days_left <= days]
    created = []
    with transaction.atomic():
        for threshold in crossed:
            try:
                with transaction.atomic():
                    ExpiryAlert.objects.create(
                        measure=measure,
                        end_date=measure.end_date,
                        threshold_days=threshold,
                        sent_at=now,
                    )
            except IntegrityError:
                continue
            created.append(threshold)
        if not created:
            return False
        _publish(
            measure,
            "measures.expiring",
            _("the period ends on %(end)s, in %(days)s days; renew it before then")
            % {"end": measure.end_date, "days": days_left},
            courts=command_centers(measure),
        )
        audit.record(
            audit.Action.UPDATE,
            measure,
            detail={"event": "measure_expiry_alert", "thresholds": created, "days_left": days_left},
        )
    return True


def check_expiries(now: datetime.datetime | None = None) -> int:
    """Warn of measures ending within 30, 15 and 7 days and expire lapsed ones; return changes.

    Each threshold warns once per measure and end date: a measure first seen with 10 days
    left gets one warning, which records the 30- and 15-day thresholds as passed. A measure
    whose renewal awaits the agency is neither warned of nor expired until the answer.
    """
    now = now or timezone.now()
    day = today(now)
    active = (
        ControlMeasure.objects.filter(
            state__in=ControlMeasure.ACTIVE_STATES, end_date__isnull=False
        )
        .exclude(steps__state__in=MeasureStep.OPEN_STATES)
        .select_related("case", "court")
    )
    changed = 0
    for measure in active.filter(end_date__lt=day):
        changed += _expire(measure, now)
    horizon = day + datetime.timedelta(days=max(EXPIRY_THRESHOLDS))
    for measure in active.filter(end_date__gte=day, end_date__lte=horizon):
        changed += _alert(measure, day, now)
    return changed


def expired_unrenewed(user: User, day: datetime.date) -> QuerySet[ControlMeasure]:
    """Return the measures of the user's scope that expired unrenewed in the 30 days to ``day``."""
    return visible_measures(user).filter(
        state=ControlMeasure.State.EXPIRED,
        end_date__gte=day - datetime.timedelta(days=EXPIRED_FLAG_DAYS),
    )


def upcoming_expiries(user: User, day: datetime.date, days: int) -> QuerySet[ControlMeasure]:
    """Return the measures in ``user``'s scope in force and ending within ``days`` of ``day``."""
    return (
        visible_measures(user)
        .filter(
            state__in=ControlMeasure.ACTIVE_STATES,
            end_date__gte=day,
            end_date__lte=day + datetime.timedelta(days=days),
        )
        .select_related("case", "court", "party", "agency")
        .order_by("court__path", "end_date", "pk")
    )
