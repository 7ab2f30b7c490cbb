"""Debtor queries: the purpose binding, reuse of recent answers and the fan-out to agencies.

Every query goes through :func:`request_query`, which checks the purpose binding
(an open enforcement case of type 执, 执恢 or 执保, a debtor of that case, the case officer or
the command center), reuses answers newer than ``ZHIXING_QUERY_REUSE_HOURS`` and queues one
gateway item per debtor, agency and category.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixing import wakeup
from zhixing.audit import services as audit
from zhixing.cases import services as case_services
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User
from zhixing.inquiry.assets import store_assets
from zhixing.inquiry.models import QueryItem, QueryPolicy, QueryRequest
from zhixing.linkage import gateway
from zhixing.linkage.models import Action, Agency, Category, GatewayItem

logger = logging.getLogger(__name__)

DEFAULT_REUSE_HOURS = 24
# Roles that authorise queries for the cases of their court and the courts below it.
COMMAND_ROLES = (Role.Code.COMMANDER, Role.Code.DUTY_OFFICER)


def reuse_window() -> datetime.timedelta:
    """Return how long an answer (or a query still in progress) is reused."""
    hours = float(getattr(settings, "ZHIXING_QUERY_REUSE_HOURS", DEFAULT_REUSE_HOURS))
    return datetime.timedelta(hours=hours)


def may_query(user: User, case: EnforcementCase) -> bool:
    """Return whether ``user`` may query the debtors of ``case``.

    The case officer may, and so may commanders and duty officers of the case's court or of a
    court above it: the command center authorises them.
    """
    if not user.is_active or not scope.court_in_scope(user, case.court):
        return False
    if case.case_officer_id == user.pk:
        return True
    return user.has_role(*COMMAND_ROLES)


def case_refusal(case: EnforcementCase) -> str:
    """Return the message of :func:`check_case` when ``case`` cannot be queried, else ""."""
    try:
        check_case(case)
    except ValidationError as error:
        return " ".join(error.message_dict["case"])
    return ""


def check_case(case: EnforcementCase) -> None:
    """Raise ``ValidationError`` unless ``case`` is an open case of type 执, 执恢 or 执保."""
    if case.status != EnforcementCase.Status.OPEN:
        raise ValidationError(
            {
                "case": _("Case %(number)s is not open; only open cases may be queried.")
                % {"number": case.case_number}
            }
        )
    if case.type_code not in IMPLEMENTING_TYPE_CODES:
        raise ValidationError(
            {
                "case": _(
                    "Case %(number)s is of type %(type)s; only cases of type 执, 执恢 or 执保 "
                    "may be queried."
                )
                % {"number": case.case_number, "type": case.type_code}
            }
        )


def case_debtors(case: EnforcementCase) -> QuerySet[Party]:
    """Return the debtors of ``case`` in the order they were added."""
    return Party.objects.filter(
        case_roles__case=case, case_roles__role=CaseParty.Role.DEBTOR
    ).order_by("case_roles__id")


def agencies_for(categories: Iterable[str]) -> dict[str, list[Agency]]:
    """Return the active agencies that answer queries of each category."""
    wanted = list(categories)
    result: dict[str, list[Agency]] = {category: [] for category in wanted}
    for agency in Agency.objects.filter(active=True).order_by("kind", "code"):
        if Action.QUERY not in agency.actions:
            continue
        for category in wanted:
            if category in agency.categories:
                result[category].append(agency)
    return result


def reusable_items(
    court: Court,
    parties: Iterable[Party],
    categories: Iterable[str],
    now: datetime.datetime | None = None,
) -> dict[tuple[int, int, str], GatewayItem]:
    """Return recent query items per (party, agency, category): answered or still open.

    Only items of cases at ``court`` or below it count: an answer given for a sibling court's
    case would show that court's findings to a court that may not see them. An answer counts
    when it came within the reuse window; an open item when it was queued within it. The
    newest item wins.
    """
    now = now or timezone.now()
    since = now - reuse_window()
    items = (
        GatewayItem.objects.filter(
            party__in=list(parties),
            category__in=list(categories),
            action=Action.QUERY,
            case__court__path__startswith=court.path,
        )
        .filter(
            Q(state=GatewayItem.State.ANSWERED, answered_at__gte=since)
            | Q(state__in=GatewayItem.OPEN_STATES, created_at__gte=since)
        )
        .select_related("agency")
        .order_by("created_at")
    )
    return {(item.party_id, item.agency_id, item.category): item for item in items}


@dataclass
class QueryResult:
    """A stored query with the items it queued and reused, and categories nobody answers."""

    request: QueryRequest
    queued: list[GatewayItem] = field(default_factory=list)
    reused: list[GatewayItem] = field(default_factory=list)
    unserved: list[str] = field(default_factory=list)

    @property
    def awaiting_approval(self) -> bool:
        return self.request.state == QueryRequest.State.AWAITING_APPROVAL


def _clean_categories(categories: Sequence[str] | None) -> list[str]:
    if not categories:
        return list(Category.values)
    unknown = [category for category in categories if category not in Category.values]
    if unknown:
        raise ValidationError(
            {
                "categories": _("Unknown categories %(codes)s; choose from the list.")
                % {"codes": ", ".join(unknown)}
            }
        )
    return list(dict.fromkeys(categories))


def approval_required(case: EnforcementCase, actor: User) -> bool:
    """Return whether a query of ``actor`` about ``case`` must wait for a bureau head.

    The case's court decides by its query policy. A bureau head of that court approves their
    own queries by making them.
    """
    policy = QueryPolicy.objects.filter(court_id=case.court_id).first()
    if policy is None or not policy.approval_required:
        return False
    return not may_decide(actor, case)


def may_decide(user: User, case: EnforcementCase) -> bool:
    """Return whether ``user`` may approve or reject queries about ``case``.

    Only bureau heads of the case's own court decide. A court above has bureau heads of its
    own, who do not decide for the court below.
    """
    return (
        user.is_active and user.court_id == case.court_id and user.has_role(Role.Code.BUREAU_HEAD)
    )


def _check_parties(case: EnforcementCase, parties: list[Party]) -> None:
    if not parties:
        raise ValidationError({"parties": _("Choose at least one debtor to query.")})
    debtor_ids = set(case_debtors(case).values_list("pk", flat=True))
    strangers = [party for party in parties if party.pk not in debtor_ids]
    if strangers:
        raise ValidationError(
            {
                "parties": _(
                    "%(name)s is not a debtor of case %(number)s; only debtors are queried."
                )
                % {"name": strangers[0].name, "number": case.case_number}
            }
        )


def _fan_out(query: QueryRequest, parties: list[Party], now: datetime.datetime) -> QueryResult:
    """Queue the items of ``query`` (in the caller's transaction), reusing recent answers."""
    case = query.case
    wanted = list(query.categories)
    served = agencies_for(wanted)
    recent = {} if query.force else reusable_items(case.court, parties, wanted, now)

    result = QueryResult(request=query)
    requests = []
    for party in parties:
        for category in wanted:
            for agency in served[category]:
                previous = recent.get((party.pk, agency.pk, category))
                if previous is not None:
                    result.reused.append(previous)
                    continue
                requests.append(
                    gateway.ItemRequest(agency=agency, case=case, party=party, category=category)
                )
    result.unserved = [category for category in wanted if not served[category]]
    result.queued = gateway.enqueue(requests, now=now)
    if result.queued:
        wakeup.wake(wakeup.GATEWAY_TASK)

    QueryItem.objects.bulk_create(
        [QueryItem(request=query, item=item) for item in result.queued]
        + [QueryItem(request=query, item=item, reused=True) for item in result.reused]
    )
    # An answer from another case of the same debtor becomes this case's asset too. The
    # items are read again because an answer may have arrived since they were chosen.
    # NOTE: an answer stored between this read and this transaction's commit does not
    # see the new query link, so this case misses those assets until the query is repeated.
    reused_ids = [item.pk for item in result.reused]
    for item in GatewayItem.objects.filter(pk__in=reused_ids, state=GatewayItem.State.ANSWERED):
        store_assets(item, {case.pk})
    return result


def request_query(
    actor: User,
    case: EnforcementCase,
    parties: Sequence[Party],
    categories: Sequence[str] | None = None,
    force: bool = False,
    reason: str = "",
    *,
    now: datetime.datetime | None = None,
) -> QueryResult:
    """Query the agencies about ``parties`` of ``case`` for ``categories`` (default: all).

    Raises ``PermissionDenied`` when ``actor`` may not query the case and ``ValidationError``
    naming the field when a rule fails; then nothing is stored. Recent answers are reused
    unless ``force`` with a ``reason``; the query, with that reason, is audited. Where the
    court's policy requires approval, the query is stored awaiting a bureau head's decision
    (:func:`decide_query`) and sends nothing yet. A query sent at once adds the online-query
    step to the case's flow when the flow has none.
    """
    now = now or timezone.now()
    if not may_query(actor, case):
        raise PermissionDenied(
            _(
                "Only the case officer, or a commander or duty officer of the case's court or a "
                "court above it, may query the debtors of case %(number)s."
            )
            % {"number": case.case_number}
        )
    check_case(case)
    parties = list(parties)
    _check_parties(case, parties)
    wanted = _clean_categories(categories)
    reason = reason.strip()
    if force and not reason:
        raise ValidationError(
            {"reason": _("Give the reason for querying again instead of reusing recent answers.")}
        )
    awaiting = approval_required(case, actor)
    with transaction.atomic():
        query = QueryRequest.objects.create(
            case=case,
            requested_by=actor,
            categories=wanted,
            party_ids=[party.pk for party in parties],
            force=force,
            force_reason=reason if force else "",
            state=QueryRequest.State.AWAITING_APPROVAL if awaiting else QueryRequest.State.SENT,
        )
        result = QueryResult(request=query) if awaiting else _fan_out(query, parties, now)
        if not awaiting:
            case_services.record_first_online_query(
                actor=actor, case=case, on=timezone.localdate(now)
            )
        audit.record(
            audit.Action.CREATE,
            query,
            detail={
                "event": "debtor_query_submitted" if awaiting else "debtor_query",
                "case_id": case.pk,
                "case_number": case.case_number,
                "party_ids": sorted(party.pk for party in parties),
                "categories": wanted,
                "queued": len(result.queued),
                "reused": len(result.reused),
                "force": force,
                "reason": reason if force else "",
            },
        )
    logger.info(
        "Query %s of case %s: %s item(s) queued, %s reused%s",
        query.pk,
        case.pk,
        len(result.queued),
        len(result.reused),
        ", awaiting approval" if awaiting else "",
    )
    return result


def decide_query(
    actor: User,
    query: QueryRequest,
    *,
    approve: bool,
    note: str = "",
    now: datetime.datetime | None = None,
) -> QueryResult:
    """Approve or reject a query that awaits approval; approval sends it to the agencies.

    Raises ``PermissionDenied`` unless ``actor`` is a bureau head of the case's court, and
    ``ValidationError`` when the query was decided already, a rejection has no comment, or
    the case or its debtors no longer allow the query (then nothing changes).
    """
    now = now or timezone.now()
    case = query.case
    if not may_decide(actor, case):
        raise PermissionDenied(
            _("Only a bureau head of %(court)s decides on queries about its cases.")
            % {"court": case.court.name}
        )
    note = note.strip()
    if not approve and not note:
        raise ValidationError({"note": _("Give the reason for rejecting the query.")})
    with transaction.atomic():
        locked = QueryRequest.objects.select_for_update().filter(pk=query.pk).first()
        if locked is None or locked.state != QueryRequest.State.AWAITING_APPROVAL:
            raise ValidationError(
                {"state": _("This query was decided already; reload the page to see how.")}
            )
        query = locked
        query.decided_by = actor
        query.decided_at = now
        query.decision_note = note
        if approve:
            check_case(case)
            parties = list(Party.objects.filter(pk__in=query.party_ids).order_by("pk"))
            _check_parties(case, parties)
            query.state = QueryRequest.State.SENT
            query.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
            result = _fan_out(query, parties, now)
            case_services.record_first_online_query(
                actor=query.requested_by, case=case, on=timezone.localdate(now)
            )
        else:
            query.state = QueryRequest.State.REJECTED
            query.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
            result = QueryResult(request=query)
    logger.info(
        "Query %s of case %s %s by user %s: %s item(s) queued",
        query.pk,
        case.pk,
        "approved" if approve else "rejected",
        actor.pk,
        len(result.queued),
    )
    return result


@dataclass
class BatchResult:
    """Queries stored per case, and the reason each refused case was left out."""

    queries: list[QueryResult] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def request_batch(
    actor: User,
    case_ids: Iterable[int],
    categories: Sequence[str] | None = None,
    *,
    now: datetime.datetime | None = None,
) -> BatchResult:
    """Query all debtors of many cases; a case that breaks a rule is reported and skipped."""
    result = BatchResult()
    ids = list(dict.fromkeys(case_ids))
    cases = {
        case.pk: case
        for case in scope.restrict(EnforcementCase.objects.select_related("court"), actor).filter(
            pk__in=ids
        )
    }
    for case_id in ids:
        case = cases.get(case_id)
        if case is None:
            result.refused[case_id] = _("The case does not exist or lies outside your scope.")
            continue
        debtors = list(case_debtors(case))
        try:
            result.queries.append(request_query(actor, case, debtors, categories, now=now))
        except (PermissionDenied, ValidationError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            result.refused[case_id] = " ".join(messages)
    return result
