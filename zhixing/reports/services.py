"""Reports of key information: routing, delivery, acknowledgement, escalation, instructions.

Every state change of the reports app goes through this module. The routing rules live in
:func:`route`, which both real reports and ``zhixing reports route`` use:

- a routine report goes to the reporting court's direct superior, which may forward it up;
- a major or especially major report goes at the same moment to every court above the
  reporting court: from a basic court to its intermediate court and the high court, from an
  intermediate court to the high court.

Reports of violent resistance, mass incidents and staff casualties are at least major.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixing import attachments
from zhixing.audit import services as audit
from zhixing.cases.case_numbers import stored_form
from zhixing.cases.models import EnforcementCase
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User
from zhixing.documents import typed_text
from zhixing.events import services as events
from zhixing.events.models import Event
from zhixing.reports.models import (
    Instruction,
    InstructionReceipt,
    Kind,
    ReportAttachment,
    ReportDelivery,
    Severity,
    SituationReport,
)

logger = logging.getLogger(__name__)

Route = ReportDelivery.Route
Stage = SituationReport.Stage

# Kinds whose reports are never routine.
MAJOR_KINDS = frozenset({Kind.VIOLENT_RESISTANCE, Kind.MASS_INCIDENT, Kind.STAFF_CASUALTY})
REPORTER_ROLES = (
    Role.Code.COMMANDER,
    Role.Code.DUTY_OFFICER,
    Role.Code.BUREAU_HEAD,
    Role.Code.CASE_OFFICER,
    Role.Code.JUDICIAL_POLICE,
)
# The staff of a command center who acknowledge, forward and instruct.
COMMAND_ROLES = (Role.Code.COMMANDER, Role.Code.DUTY_OFFICER, Role.Code.BUREAU_HEAD)
DEFAULT_REALERT_MINUTES = 10
DEFAULT_ESCALATE_MINUTES = 30
MAX_ATTACHMENTS = 20
# Typed texts go to the courts above and onto their screens; five pages of text is plenty.
TEXT_MAX_CHARS = 5000


def realert_after() -> datetime.timedelta:
    """Return how long an unacknowledged major report waits before it alerts again."""
    minutes = float(getattr(settings, "ZHIXING_REPORT_REALERT_MINUTES", DEFAULT_REALERT_MINUTES))
    return datetime.timedelta(minutes=minutes)


def escalate_after() -> datetime.timedelta:
    """Return how long an unacknowledged major report waits before it goes a level up."""
    minutes = float(getattr(settings, "ZHIXING_REPORT_ESCALATE_MINUTES", DEFAULT_ESCALATE_MINUTES))
    return datetime.timedelta(minutes=minutes)


# Routing


def check_kind_and_severity(kind: str, severity: str) -> None:
    """Raise ``ValidationError`` for an unknown kind or severity or a routine major kind."""
    if kind not in Kind.values:
        raise ValidationError(
            {
                "kind": _("Unknown kind %(kind)s; use one of %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(Kind.values)}
            }
        )
    if severity not in Severity.values:
        raise ValidationError(
            {
                "severity": _("Unknown severity %(severity)s; use one of %(values)s.")
                % {"severity": severity, "values": ", ".join(Severity.values)}
            }
        )
    if kind in MAJOR_KINDS and severity == Severity.ROUTINE:
        raise ValidationError(
            {
                "severity": _(
                    "A report of %(kind)s is at least major; choose major or especially major."
                )
                % {"kind": Kind(kind).label}
            }
        )


def route(court: Court, kind: str, severity: str) -> Sequence[tuple[Court, str]]:
    """Return the courts that a new report reaches at once, nearest first, with the route.

    Raises ``ValidationError`` for an invalid kind or severity. The high court has no court
    above it in the province, so its reports reach nobody here.
    """
    check_kind_and_severity(kind, severity)
    above = court.ancestors()
    if not above:
        return []
    if severity == Severity.ROUTINE:
        return [(above[0], Route.DIRECT)]
    return [(above[0], Route.DIRECT)] + [(upper, Route.SIMULTANEOUS) for upper in above[1:]]


# Permissions


def may_report(user: User) -> bool:
    return user.is_active and user.court_id is not None and user.has_role(*REPORTER_ROLES)


def may_command(user: User, court: Court) -> bool:
    """Return whether ``user`` acts for the command center of ``court``."""
    return user.is_active and user.court_id == court.pk and user.has_role(*COMMAND_ROLES)


def visible_reports(user: User) -> Any:
    """Return the reports ``user`` may see: of courts in scope, and those sent to their court."""
    return scope.restrict(
        SituationReport.objects.all(), user, received_by_field="deliveries__court"
    )


def unacknowledged_count(user: User, cap: int) -> int:
    """Count the reports sent to the user's court that no one there acknowledged yet,
    stopping at ``cap``."""
    unacknowledged = ReportDelivery.objects.filter(
        court_id=user.court_id, report__stage="first", acknowledged_at__isnull=True
    )
    return int(unacknowledged.values("pk")[:cap].count())


# Reports


@dataclass
class ReportInput:
    """The facts of a report as typed in; ``case_numbers`` are looked up in the reporter's scope."""

    kind: str
    severity: str
    title: str
    occurred_at: datetime.datetime
    place: str
    narrative: str
    people_involved: str = ""
    measures_taken: str = ""
    case_numbers: Sequence[str] = ()
    files: Sequence[UploadedFile] = field(default_factory=list)


def _report_url(report: SituationReport) -> str:
    return reverse("report-detail", args=[report.thread_root.pk])


def _event_data(report: SituationReport, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "url": _report_url(report),
        "report_id": report.pk,
        "report_kind": report.kind,
        "report_severity": report.severity,
        "court": report.court.name,
    }


def _linked_cases(user: User, numbers: Iterable[str]) -> list[EnforcementCase]:
    typed = {number.strip(): stored_form(number) for number in numbers if number.strip()}
    if not typed:
        return []
    found = {
        case.case_number: case
        for case in scope.restrict(EnforcementCase.objects.all(), user).filter(
            case_number__in=set(typed.values())
        )
    }
    missing = [number for number, stored in typed.items() if stored not in found]
    if missing:
        raise ValidationError(
            {
                "case_numbers": _("%(numbers)s: no such case in your scope; check the number.")
                % {"numbers": ", ".join(missing)}
            }
        )
    return [found[stored] for stored in dict.fromkeys(typed.values())]


def _store_files(report: SituationReport, files: Sequence[UploadedFile]) -> None:
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            {
                "uploads": _("%(count)s files is too many; attach at most %(max)s.")
                % {"count": len(files), "max": MAX_ATTACHMENTS}
            }
        )
    stored: list[attachments.StoredFile] = []
    try:
        for upload in files:
            stored.append(attachments.store(upload))
    except ValidationError as error:
        # The report's rows roll back with the caller's transaction. The files written before
        # the rejected one are deleted here, so that no file is left without a row.
        for item in stored:
            attachments.path_of(item.stored_name).unlink(missing_ok=True)
        raise ValidationError({"uploads": error.messages}) from error
    for item in stored:
        ReportAttachment.objects.create(
            report=report,
            stored_name=item.stored_name,
            original_name=item.original_name,
            kind=item.kind,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
        )


# A report's event time may run this far ahead of the server's clock, for clocks that differ.
CLOCK_TOLERANCE = datetime.timedelta(minutes=10)


def _check_facts(data: ReportInput, now: datetime.datetime) -> None:
    """Check that the typed facts are present and that the event has happened."""
    errors = {}
    for name in ("title", "place", "narrative"):
        if not str(getattr(data, name)).strip():
            errors[name] = _("This field is required.")
    for name, label in (
        ("narrative", _("account of what happened")),
        ("people_involved", _("list of people involved")),
        ("measures_taken", _("account of the measures taken")),
    ):
        if name not in errors:
            try:
                typed_text.check_length(name, getattr(data, name), TEXT_MAX_CHARS, label=label)
            except ValidationError as error:
                errors[name] = error.message_dict[name][0]
    if data.occurred_at > now + CLOCK_TOLERANCE:
        local = timezone.localtime(data.occurred_at).strftime("%Y-%m-%d %H:%M")
        errors["occurred_at"] = _(
            "The event time %(time)s is in the future; enter when the event happened."
        ) % {"time": local}
    if errors:
        raise ValidationError(errors)


def _deliver(
    report: SituationReport, recipients: Sequence[tuple[Court, str]], now: datetime.datetime
) -> list[ReportDelivery]:
    deliveries = [
        ReportDelivery(report=report, court=court, route=route_name, sent_at=now)
        for court, route_name in recipients
    ]
    for delivery in deliveries:
        delivery.save()
    if deliveries:
        title = _("%(court)s reports: %(title)s") % {
            "court": report.court.name,
            "title": report.title,
        }
        events.publish(
            "report.received",
            courts=[delivery.court for delivery in deliveries],
            subject=report,
            data=_event_data(report, title),
            severity=Event.Severity.MAJOR if report.is_major else Event.Severity.INFO,
        )
    return deliveries


def submit_report(
    actor: User,
    data: ReportInput,
    *,
    follows: SituationReport | None = None,
    final: bool = False,
    now: datetime.datetime | None = None,
) -> SituationReport:
    """Store a report of ``actor``'s court and deliver it at once; return it.

    A first report goes to the courts that :func:`route` names. A follow-up (``follows`` set)
    or final report (``final`` too) goes to every court that received the first report, and
    only the reporting court adds them, until its final report. Raises ``PermissionDenied``
    or ``ValidationError`` naming the field; then nothing is stored.
    """
    now = now or timezone.now()
    if not may_report(actor):
        raise PermissionDenied(
            _("Only command center, enforcement and judicial police staff report.")
        )
    assert actor.court is not None
    check_kind_and_severity(data.kind, data.severity)
    _check_facts(data, timezone.now())
    first = follows.thread_root if follows is not None else None
    if first is not None:
        if first.court_id != actor.court_id:
            raise PermissionDenied(_("Only the reporting court adds follow-up and final reports."))
        if first.later_reports.filter(stage=Stage.FINAL).exists():
            raise ValidationError(
                {"stage": _("This report has its final report; start a new report instead.")}
            )
    if first is None:
        stage = Stage.FIRST
    elif final:
        stage = Stage.FINAL
    else:
        stage = Stage.FOLLOW_UP
    with transaction.atomic():
        cases = _linked_cases(actor, data.case_numbers)
        report = SituationReport.objects.create(
            court=actor.court,
            reported_by=actor,
            kind=data.kind,
            severity=data.severity,
            stage=stage,
            first_report=first,
            title=data.title.strip(),
            occurred_at=data.occurred_at,
            place=data.place.strip(),
            narrative=data.narrative.strip(),
            people_involved=data.people_involved.strip(),
            measures_taken=data.measures_taken.strip(),
            created_at=now,
        )
        report.cases.set(cases)
        _store_files(report, data.files)
        if first is None:
            recipients = route(actor.court, data.kind, data.severity)
        else:
            recipients = [
                (delivery.court, delivery.route)
                for delivery in first.deliveries.select_related("court")
            ]
        deliveries = _deliver(report, recipients, now)
    logger.info(
        "Report %s (%s, %s, %s) of court %s delivered to %s court(s)",
        report.pk,
        report.kind,
        report.severity,
        report.stage,
        actor.court_id,
        len(deliveries),
    )
    return report


def mark_received(user: User, report: SituationReport, now: datetime.datetime | None = None) -> int:
    """Record that ``user``'s court has the report on screen; return the deliveries updated."""
    now = now or timezone.now()
    if user.court_id is None:
        return 0
    ids = [report.pk, *report.later_reports.values_list("pk", flat=True)]
    return ReportDelivery.objects.filter(
        report_id__in=ids, court_id=user.court_id, received_at__isnull=True
    ).update(received_at=now)


def acknowledge(
    actor: User, report: SituationReport, now: datetime.datetime | None = None
) -> list[ReportDelivery]:
    """Acknowledge every unacknowledged delivery of the report's thread to ``actor``'s court.

    Raises ``PermissionDenied`` unless ``actor`` acts for the command center of a court the
    thread was delivered to. Tells the reporting court and the other receiving courts.
    """
    now = now or timezone.now()
    thread = [report.thread_root.pk, *report.thread_root.later_reports.values_list("pk", flat=True)]
    deliveries = list(
        ReportDelivery.objects.filter(report_id__in=thread, court_id=actor.court_id).select_related(
            "court", "report__court"
        )
    )
    if not deliveries or not may_command(actor, deliveries[0].court):
        raise PermissionDenied(_("Only the command center of a receiving court acknowledges."))
    with transaction.atomic():
        done = []
        for delivery in deliveries:
            updated = ReportDelivery.objects.filter(
                pk=delivery.pk, acknowledged_at__isnull=True
            ).update(
                acknowledged_at=now,
                acknowledged_by=actor,
                received_at=delivery.received_at or now,
            )
            if updated:
                delivery.refresh_from_db()
                done.append(delivery)
        if done:
            root = report.thread_root
            others = ReportDelivery.objects.filter(report=root).exclude(court_id=actor.court_id)
            events.publish(
                "report.acknowledged",
                courts=[
                    root.court,
                    *[delivery.court for delivery in others.select_related("court")],
                ],
                subject=root,
                data=_event_data(
                    root,
                    _("%(court)s acknowledged: %(title)s")
                    % {"court": deliveries[0].court.name, "title": root.title},
                ),
            )
            audit.record(
                audit.Action.UPDATE,
                root,
                detail={"event": "report_acknowledged", "deliveries": [d.pk for d in done]},
            )
    logger.info(
        "Court %s acknowledged %s delivery(ies) of report %s", actor.court_id, len(done), report.pk
    )
    return done


def forward(
    actor: User, report: SituationReport, now: datetime.datetime | None = None
) -> ReportDelivery:
    """Forward a report that ``actor``'s court received to that court's direct superior."""
    now = now or timezone.now()
    root = report.thread_root
    own = (
        ReportDelivery.objects.filter(report=root, court_id=actor.court_id)
        .select_related("court")
        .first()
    )
    if own is None or not may_command(actor, own.court):
        raise PermissionDenied(_("Only the command center of a receiving court forwards a report."))
    parent = own.court.parent
    if parent is None:
        raise ValidationError(
            {
                "court": _("%(court)s has no court above it in the province.")
                % {"court": own.court.name}
            }
        )
    with transaction.atomic():
        if ReportDelivery.objects.filter(report=root, court=parent).exists():
            raise ValidationError(
                {"court": _("%(court)s has this report already.") % {"court": parent.name}}
            )
        ReportDelivery.objects.filter(pk=own.pk).update(forwarded_at=now)
        (delivery,) = _deliver(root, [(parent, Route.FORWARDED)], now)
        for later in root.later_reports.all():
            ReportDelivery.objects.create(
                report=later, court=parent, route=Route.FORWARDED, sent_at=now
            )
    logger.info("Court %s forwarded report %s to court %s", actor.court_id, root.pk, parent.pk)
    return delivery


def escalate_unacknowledged(now: datetime.datetime | None = None) -> int:
    """Alert again, then escalate, the major reports that a court has not acknowledged.

    After :func:`realert_after` the receiving court is alerted again. After
    :func:`escalate_after` the report goes to the next court up, or, when that court has it
    already, that court is told who has not acknowledged. A court with no court above it on
    the platform (the high court) has its command center staff alerted once more instead.
    Each step happens once per delivery. Returns how many steps were taken.
    """
    now = now or timezone.now()
    steps = 0
    open_major = ReportDelivery.objects.filter(
        acknowledged_at__isnull=True, report__stage=Stage.FIRST
    ).exclude(report__severity=Severity.ROUTINE)
    for delivery in open_major.filter(
        realerted_at__isnull=True, sent_at__lte=now - realert_after()
    ).select_related("report__court", "court"):
        if ReportDelivery.objects.filter(pk=delivery.pk, realerted_at__isnull=True).update(
            realerted_at=now
        ):
            steps += 1
            report = delivery.report
            events.publish(
                "report.realert",
                courts=[delivery.court],
                subject=report,
                data=_event_data(
                    report, _("Not acknowledged yet: %(title)s") % {"title": report.title}
                ),
                severity=Event.Severity.MAJOR,
            )
    overdue = open_major.filter(sent_at__lte=now - escalate_after())
    for delivery in overdue.filter(
        court__parent__isnull=False, escalated_at__isnull=True
    ).select_related("report__court", "court__parent"):
        steps += _escalate(delivery, now)
    for delivery in overdue.filter(
        court__parent__isnull=True, overdue_alerted_at__isnull=True
    ).select_related("report__court", "court"):
        steps += _alert_top_court_again(delivery, now)
    return steps


def _escalate(delivery: ReportDelivery, now: datetime.datetime) -> int:
    """Send an overdue delivery's report to the receiving court's parent, or alert the parent.

    Returns 1, or 0 when another runner escalated the delivery first.
    """
    with transaction.atomic():
        if not ReportDelivery.objects.filter(pk=delivery.pk, escalated_at__isnull=True).update(
            escalated_at=now
        ):
            return 0
        report = delivery.report
        upper = delivery.court.parent
        assert upper is not None
        title = _("%(court)s has not acknowledged: %(title)s") % {
            "court": delivery.court.name,
            "title": report.title,
        }
        if ReportDelivery.objects.filter(report=report, court=upper).exists():
            events.publish(
                "report.escalated",
                courts=[upper],
                subject=report,
                data=_event_data(report, title),
                severity=Event.Severity.MAJOR,
            )
        else:
            ReportDelivery.objects.create(
                report=report, court=upper, route=Route.ESCALATED, sent_at=now
            )
            events.publish(
                "report.received",
                courts=[upper],
                subject=report,
                data=_event_data(report, title),
                severity=Event.Severity.MAJOR,
            )
    logger.info(
        "Report %s escalated from court %s to court %s", report.pk, delivery.court_id, upper.pk
    )
    return 1


def _alert_top_court_again(delivery: ReportDelivery, now: datetime.datetime) -> int:
    """Alert the command center staff of an overdue delivery's court, which has no court above.

    The alert goes to each active user of the court with a command role. A court without such
    users gets one court-wide alert, so that the alert is not lost. Returns 1, or 0 when
    another runner sent the alert first.
    """
    with transaction.atomic():
        if not ReportDelivery.objects.filter(
            pk=delivery.pk, overdue_alerted_at__isnull=True
        ).update(overdue_alerted_at=now):
            return 0
        report = delivery.report
        command_staff = list(
            User.objects.filter(
                court_id=delivery.court_id, is_active=True, roles__code__in=COMMAND_ROLES
            ).distinct()
        )
        events.publish(
            "report.overdue",
            courts=[] if command_staff else [delivery.court],
            users=command_staff,
            subject=report,
            data=_event_data(
                report, _("Acknowledgement overdue: %(title)s") % {"title": report.title}
            ),
            severity=Event.Severity.MAJOR,
        )
    if command_staff:
        logger.info(
            "Report %s not acknowledged in time by court %s, which has no court above it, so "
            "%s command center user(s) were alerted again",
            report.pk,
            delivery.court_id,
            len(command_staff),
        )
    else:
        logger.warning(
            "Report %s not acknowledged in time by court %s, which has no court above it and "
            "no active command center staff, so the whole court was alerted again",
            report.pk,
            delivery.court_id,
        )
    return 1


# Instructions


def courts_between(upper: Court, lower: Court) -> list[Court]:
    """Return the courts from just below ``upper`` down to ``lower``, top first."""
    chain = [lower, *lower.ancestors()]
    below = []
    for court in chain:
        if court.pk == upper.pk:
            break
        below.append(court)
    return list(reversed(below))


def instruct(
    actor: User, report: SituationReport, text: str, now: datetime.datetime | None = None
) -> Instruction:
    """Write ``actor``'s court's instruction on a report; it reaches every court below, down to
    the reporting court, each of which acknowledges and replies."""
    now = now or timezone.now()
    root = report.thread_root
    court = actor.court
    if (
        court is None
        or not may_command(actor, court)
        or not root.court.is_within(court)
        or court.pk == root.court_id
    ):
        raise PermissionDenied(
            _("Only the command center of a court above the reporting court instructs.")
        )
    if not text.strip():
        raise ValidationError({"text": _("Write the instruction.")})
    typed_text.check_length("text", text, TEXT_MAX_CHARS, label=_("instruction"))
    with transaction.atomic():
        instruction = Instruction.objects.create(
            report=root, court=court, author=actor, text=text.strip(), created_at=now
        )
        receivers = courts_between(court, root.court)
        for lower in receivers:
            InstructionReceipt.objects.create(instruction=instruction, court=lower)
        events.publish(
            "report.instruction",
            courts=receivers,
            subject=root,
            data=_event_data(
                root,
                _("Instruction from %(court)s on: %(title)s")
                % {"court": court.name, "title": root.title},
            ),
            severity=Event.Severity.MAJOR if root.is_major else Event.Severity.INFO,
        )
    logger.info(
        "Court %s instructed on report %s (%s court(s) below)", court.pk, root.pk, len(receivers)
    )
    return instruction


def answer_instruction(
    actor: User,
    instruction: Instruction,
    *,
    reply: str = "",
    now: datetime.datetime | None = None,
) -> InstructionReceipt:
    """Acknowledge an instruction for ``actor``'s court, with an optional reply."""
    now = now or timezone.now()
    receipt = (
        InstructionReceipt.objects.filter(instruction=instruction, court_id=actor.court_id)
        .select_related("court")
        .first()
    )
    if receipt is None or not may_command(actor, receipt.court):
        raise PermissionDenied(_("Only a court that received the instruction acknowledges it."))
    reply = reply.strip()
    typed_text.check_length("reply", reply, TEXT_MAX_CHARS, label=_("reply"))
    with transaction.atomic():
        changes: dict[str, Any] = {}
        if receipt.acknowledged_at is None:
            changes.update(acknowledged_at=now, acknowledged_by=actor)
        if reply:
            changes.update(reply=reply, replied_at=now, replied_by=actor)
        if not changes:
            raise ValidationError(
                {"reply": _("The instruction is acknowledged; write a reply to add one.")}
            )
        InstructionReceipt.objects.filter(pk=receipt.pk).update(**changes)
        receipt.refresh_from_db()
        root = instruction.report
        events.publish(
            "report.instruction_reply" if reply else "report.instruction_acknowledged",
            courts=[instruction.court],
            subject=root,
            data=_event_data(
                root,
                (
                    _("%(court)s replied to the instruction on: %(title)s")
                    if reply
                    else _("%(court)s acknowledged the instruction on: %(title)s")
                )
                % {"court": receipt.court.name, "title": root.title},
            ),
        )
    return receipt


# The thread as one timeline


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    kind: str
    court: Court
    text: str
    obj: Any = None


def timeline(root: SituationReport) -> list[TimelineEntry]:
    """Return the report thread's entries in time order: reports, receipts, acknowledgements,
    forwards, escalations, overdue alerts of the high court, instructions and their replies."""
    entries: list[TimelineEntry] = []
    reports = [
        root,
        *root.later_reports.select_related("court", "reported_by").order_by("created_at"),
    ]
    acknowledged: set[tuple[int, datetime.datetime]] = set()
    for report in reports:
        entries.append(
            TimelineEntry(
                report.created_at, "report_" + report.stage, report.court, report.title, report
            )
        )
        for delivery in report.deliveries.select_related("court", "acknowledged_by"):
            # One acknowledgement covers every report of the thread that the court had then.
            moment = delivery.acknowledged_at
            if moment is not None and (delivery.court_id, moment) not in acknowledged:
                acknowledged.add((delivery.court_id, moment))
                entries.append(TimelineEntry(moment, "acknowledged", delivery.court, "", delivery))
            if delivery.escalated_at:
                entries.append(
                    TimelineEntry(delivery.escalated_at, "escalated", delivery.court, "", delivery)
                )
            if delivery.overdue_alerted_at:
                entries.append(
                    TimelineEntry(
                        delivery.overdue_alerted_at, "overdue_alert", delivery.court, "", delivery
                    )
                )
            if delivery.forwarded_at and report.stage == Stage.FIRST:
                entries.append(
                    TimelineEntry(delivery.forwarded_at, "forwarded", delivery.court, "", delivery)
                )
    for instruction in root.instructions.select_related("court", "author"):
        entries.append(
            TimelineEntry(
                instruction.created_at,
                "instruction",
                instruction.court,
                instruction.text,
                instruction,
            )
        )
        for receipt in instruction.receipts.select_related("court"):
            if receipt.acknowledged_at:
                entries.append(
                    TimelineEntry(
                        receipt.acknowledged_at,
                        "instruction_acknowledged",
                        receipt.court,
                        "",
                        receipt,
                    )
                )
            if receipt.replied_at:
                entries.append(
                    TimelineEntry(
                        receipt.replied_at,
                        "instruction_reply",
                        receipt.court,
                        receipt.reply,
                        receipt,
                    )
                )
    return sorted(entries, key=lambda entry: entry.at)
