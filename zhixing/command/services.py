"""Orders, supervision and duty sign-in: every state change of the command app.

An upper command center orders its direct subordinates. An order that reaches a court further
down is a skip-level order: it needs the flag and a reason, and the audit trail records both.
Each service validates, writes in one transaction and publishes the events that the courts
concerned watch, so pages update live.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixing import attachments
from zhixing.audit import services as audit
from zhixing.cases.case_numbers import CaseNumberError, parse_case_number
from zhixing.cases.error_messages import translated_message
from zhixing.cases.models import EnforcementCase
from zhixing.command.models import (
    DutySignIn,
    Order,
    OrderAttachment,
    OrderRecipient,
    SupervisionNotice,
)
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User
from zhixing.documents import typed_text
from zhixing.events import services as events
from zhixing.events.models import Event

logger = logging.getLogger(__name__)

State = OrderRecipient.State
T = TypeVar("T")
CHINA = ZoneInfo("Asia/Shanghai")

# Roles that issue, acknowledge, reply to and pass down orders.
COMMAND_ROLES = (Role.Code.COMMANDER, Role.Code.DUTY_OFFICER)
# Roles that may read the orders and duty sign-ins of their scope.
READ_ROLES = (*COMMAND_ROLES, Role.Code.BUREAU_HEAD)
MAX_ATTACHMENTS = 10
MAX_CASES = 50
# Typed texts go to other courts and onto their screens; five pages of text is plenty.
TEXT_MAX_CHARS = 5000


def supervision_delay() -> datetime.timedelta:
    """Return the time from the reminder to the supervision notice of an overdue court."""
    return datetime.timedelta(hours=settings.COMMAND_SUPERVISION_HOURS)


def china_day(moment: datetime.datetime) -> datetime.date:
    """Return the calendar day in Asia/Shanghai of an aware ``moment``."""
    return moment.astimezone(CHINA).date()


# Permissions and scope


def may_read_orders(user: User) -> bool:
    return user.is_authenticated and user.has_role(*READ_ROLES)


def may_command(user: User) -> bool:
    return user.is_authenticated and user.has_role(*COMMAND_ROLES)


def visible_orders(user: User) -> QuerySet[Order]:
    """Return the orders the user may see.

    These are the orders issued in the user's scope, the orders sent to the user's court,
    and skip-level orders to a court below the user's, which the courts in between see too.
    A receiving court sees only its own recipient row (:func:`visible_recipients`).
    """
    issued_or_received = scope.restrict(
        Order.objects.all(), user, court_field="court", received_by_field="recipients__court"
    )
    sent_below = scope.restrict(Order.objects.all(), user, court_field="recipients__court")
    return Order.objects.filter(
        Q(pk__in=issued_or_received.values("pk")) | Q(pk__in=sent_below.values("pk"))
    )


def visible_recipients(user: User) -> QuerySet[OrderRecipient]:
    """Return the recipient rows of the user's court and of the courts below it."""
    return scope.restrict(OrderRecipient.objects.all(), user, court_field="court")


def awaiting_reply_count(user: User, cap: int) -> int:
    """Count the orders that the user's court has yet to reply to, stopping at ``cap``."""
    awaiting = OrderRecipient.objects.filter(
        court_id=user.court_id, state__in=OrderRecipient.AWAITING_REPLY
    )
    return int(awaiting.values("pk")[:cap].count())


def own_row(user: User, order: Order) -> OrderRecipient | None:
    """Return the recipient row of the user's court on ``order``, or None."""
    return order.recipients.filter(court_id=user.court_id).first()


def _require_command(user: User, court: Court) -> None:
    if not may_command(user) or user.court_id != court.pk:
        raise PermissionDenied(
            _("Only a commander or duty officer of %(court)s may do this.") % {"court": court.name}
        )


# Recipients, cases and attachments


def plan_recipients(
    issuer: Court, recipients: Iterable[Court], *, skip_level: bool, reason: str
) -> list[tuple[Court, bool]]:
    """Return ``(court, is_skip_level)`` for each recipient, or raise ``ValidationError``.

    A court that is not below ``issuer`` is rejected. A court below the direct subordinates is
    rejected unless ``skip_level`` is set and ``reason`` is given.
    """
    planned: list[tuple[Court, bool]] = []
    problems: list[str] = []
    for court in dict.fromkeys(recipients):
        if court.pk == issuer.pk or not court.is_within(issuer):
            problems.append(
                _("%(court)s is not below %(issuer)s; send orders only to courts below your court.")
                % {"court": court.name, "issuer": issuer.name}
            )
        elif court.parent_id == issuer.pk:
            planned.append((court, False))
        elif not skip_level or not reason.strip():
            direct = next(c for c in court.ancestors() if c.parent_id == issuer.pk)
            problems.append(
                _(
                    "%(court)s is not a direct subordinate of %(issuer)s; send the order to "
                    "%(direct)s, which passes it down, or tick “Skip-level order” and give the "
                    "reason."
                )
                % {"court": court.name, "issuer": issuer.name, "direct": direct.name}
            )
        else:
            planned.append((court, True))
    if not planned and not problems:
        problems.append(_("Choose at least one receiving court."))
    if problems:
        raise ValidationError({"recipients": problems})
    return planned


def cases_in_scope(user: User, case_numbers: Iterable[str]) -> list[EnforcementCase]:
    """Return the cases of the given numbers in the user's scope, or raise ``ValidationError``."""
    texts = [text.strip() for text in case_numbers if text.strip()]
    if len(texts) > MAX_CASES:
        raise ValidationError(
            {
                "case_numbers": _("%(count)s case numbers is too many; link at most %(max)s.")
                % {"count": len(texts), "max": MAX_CASES}
            }
        )
    numbers: dict[str, str] = {}
    problems: list[str] = []
    for text in texts:
        try:
            numbers[parse_case_number(text).format()] = text
        except CaseNumberError as error:
            problems.append(
                _("%(text)s is not a valid case number (%(error)s); correct or remove it.")
                % {"text": text, "error": translated_message(error)}
            )
    found = {
        case.case_number: case
        for case in scope.restrict(EnforcementCase.objects.all(), user).filter(
            case_number__in=list(numbers)
        )
    }
    for number, text in numbers.items():
        if number not in found:
            problems.append(
                _("%(text)s: no such case in your scope; check the number or remove it.")
                % {"text": text}
            )
    if problems:
        raise ValidationError({"case_numbers": problems})
    return list(found.values())


def _store_uploads(uploads: Sequence[UploadedFile]) -> list[attachments.StoredFile]:
    """Check and store every upload, or store none and raise ``ValidationError``."""
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            {
                "attachments": _("%(count)s files is too many; attach at most %(max)s.")
                % {"count": len(uploads), "max": MAX_ATTACHMENTS}
            }
        )
    stored: list[attachments.StoredFile] = []
    try:
        for upload in uploads:
            stored.append(attachments.store(upload))
    except ValidationError as error:
        _discard(stored)
        raise ValidationError({"attachments": error.messages}) from error
    return stored


def _discard(stored: Iterable[attachments.StoredFile]) -> None:
    """Delete files stored for a change that failed, so that no file is left without a row."""
    for item in stored:
        attachments.path_of(item.stored_name).unlink(missing_ok=True)


def _attach(
    order: Order,
    recipient: OrderRecipient | None,
    stored: Iterable[attachments.StoredFile],
    user: User,
) -> None:
    for item in stored:
        OrderAttachment.objects.create(
            order=order,
            recipient=recipient,
            stored_name=item.stored_name,
            original_name=item.original_name,
            kind=item.kind,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            uploaded_by=user,
        )


def _order_url(order: Order) -> str:
    return reverse("command-order", args=[order.pk])


# Orders


def _validate_text(
    title: str, task: str, deadline: datetime.datetime, now: datetime.datetime
) -> dict[str, str]:
    errors = {}
    if not title.strip():
        errors["title"] = _("Enter a title that says what the order is about.")
    if not task.strip():
        errors["task"] = _("Enter the task: what the receiving courts must do and report.")
    else:
        try:
            typed_text.check_length("task", task, TEXT_MAX_CHARS, label=_("task"))
        except ValidationError as error:
            errors["task"] = error.message_dict["task"][0]
    if timezone.is_naive(deadline):
        raise ValueError("deadline must be an aware datetime")
    if deadline <= now:
        errors["deadline"] = _("The deadline %(deadline)s has passed; choose a later time.") % {
            "deadline": timezone.localtime(deadline, CHINA).strftime("%Y-%m-%d %H:%M")
        }
    return errors


def _collect(
    errors: dict[str, list[str]], step: Callable[..., T], *args: Any, **kwargs: Any
) -> T | None:
    """Call ``step`` and add its field errors to ``errors``; return its result or None."""
    try:
        return step(*args, **kwargs)
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            errors.setdefault(key, []).extend(messages)
        return None


def issue_order(
    user: User,
    *,
    title: str,
    task: str,
    deadline: datetime.datetime,
    recipients: Iterable[Court],
    skip_level: bool = False,
    skip_level_reason: str = "",
    case_numbers: Iterable[str] = (),
    uploads: Sequence[UploadedFile] = (),
    now: datetime.datetime | None = None,
) -> Order:
    """Issue an order of the user's court to courts below it; return the order.

    Raises ``PermissionDenied`` unless the user is a commander or duty officer, and
    ``ValidationError`` with the errors of every field otherwise.
    """
    now = now or timezone.now()
    court = user.court
    _require_command(user, court)
    errors: dict[str, list[str]] = {
        key: [message] for key, message in _validate_text(title, task, deadline, now).items()
    }
    planned = _collect(
        errors, plan_recipients, court, recipients, skip_level=skip_level, reason=skip_level_reason
    )
    cases = _collect(errors, cases_in_scope, user, case_numbers)
    if errors:
        raise ValidationError(errors)
    assert planned is not None and cases is not None
    is_skip_level = any(skip for _court, skip in planned)
    stored = _store_uploads(uploads)
    try:
        with transaction.atomic():
            order = Order.objects.create(
                court=court,
                issued_by=user,
                title=title.strip(),
                task=task.strip(),
                deadline=deadline,
                skip_level=is_skip_level,
                skip_level_reason=skip_level_reason.strip() if is_skip_level else "",
                created_at=now,
            )
            for recipient_court, skip in planned:
                OrderRecipient.objects.create(
                    order=order, court=recipient_court, skip_level=skip, sent_at=now
                )
            if cases:
                order.cases.set(cases)
            _attach(order, None, stored, user)
            if is_skip_level:
                audit.record(
                    audit.Action.CREATE,
                    order,
                    detail={
                        "skip_level": True,
                        "courts": [c.code or c.name for c, skip in planned if skip],
                        "reason": order.skip_level_reason,
                    },
                )
            _publish_new_order(order, planned)
    except BaseException:
        _discard(stored)
        raise
    logger.info(
        "Order %s issued by court %s to courts %s (skip-level: %s)",
        order.pk,
        court.pk,
        [c.pk for c, _skip in planned],
        is_skip_level,
    )
    return order


def _publish_new_order(order: Order, planned: Sequence[tuple[Court, bool]]) -> None:
    """Tell each receiving court of a new order; skip-level ones also tell the courts between."""
    url = _order_url(order)
    direct = [court for court, skip in planned if not skip]
    if direct:
        events.publish(
            "command.order_issued",
            courts=direct,
            subject=order,
            data={
                "title": _("New order from %(court)s: %(title)s")
                % {"court": order.court.name, "title": order.title},
                "url": url,
            },
        )
    skipped = [court for court, skip in planned if skip]
    if skipped:
        # The courts between the issuer and a skip-level recipient learn of the order too,
        # unless they receive it themselves.
        recipients = {court.pk for court, _skip in planned}
        between = {
            ancestor.pk: ancestor
            for court in skipped
            for ancestor in court.ancestors()
            if ancestor.is_within(order.court)
            and ancestor.pk != order.court.pk
            and ancestor.pk not in recipients
        }
        events.publish(
            "command.order_issued",
            courts=[*skipped, *between.values()],
            subject=order,
            data={
                "title": _("Skip-level order from %(court)s: %(title)s")
                % {"court": order.court.name, "title": order.title},
                "url": url,
            },
            severity=Event.Severity.MAJOR,
        )


def _locked_row(recipient: OrderRecipient) -> OrderRecipient:
    return (
        OrderRecipient.objects.select_for_update()
        .select_related("order", "order__court", "court")
        .get(pk=recipient.pk)
    )


def acknowledge(
    user: User, recipient: OrderRecipient, *, now: datetime.datetime | None = None
) -> OrderRecipient:
    """Record that the receiving court has received the order; a repeat changes nothing."""
    now = now or timezone.now()
    _require_command(user, recipient.court)
    with transaction.atomic():
        row = _locked_row(recipient)
        if row.received_at is not None:
            return row
        if row.state == State.CLOSED:
            raise ValidationError(_("The order is closed; there is nothing to acknowledge."))
        row.received_at = now
        row.received_by = user
        if row.state == State.SENT:
            row.state = State.RECEIVED
        row.save(update_fields=["received_at", "received_by", "state"])
        events.publish(
            "command.order_received",
            courts=[row.order.court, row.court],
            subject=row.order,
            data={
                "title": _("%(court)s received the order: %(title)s")
                % {"court": row.court.name, "title": row.order.title},
                "url": _order_url(row.order),
            },
        )
    logger.info("Order %s received by court %s", row.order_id, row.court_id)
    return row


def _require_awaiting_reply(row: OrderRecipient) -> None:
    if row.state == State.REPLIED:
        raise ValidationError(
            _("%(court)s already replied on %(time)s; an order is replied to once.")
            % {
                "court": row.court.name,
                "time": timezone.localtime(row.replied_at, CHINA).strftime("%Y-%m-%d %H:%M"),
            }
        )
    if row.state == State.CLOSED:
        raise ValidationError(_("The order is closed; it takes no more replies."))


def reply(
    user: User,
    recipient: OrderRecipient,
    text: str,
    *,
    uploads: Sequence[UploadedFile] = (),
    now: datetime.datetime | None = None,
) -> OrderRecipient:
    """Store the receiving court's reply to the order, with its attachments."""
    now = now or timezone.now()
    _require_command(user, recipient.court)
    if not text.strip():
        raise ValidationError({"text": _("Enter the reply: what your court did and found.")})
    typed_text.check_length("text", text, TEXT_MAX_CHARS, label=_("reply"))
    _require_awaiting_reply(recipient)
    stored = _store_uploads(uploads)
    try:
        with transaction.atomic():
            row = _locked_row(recipient)
            _require_awaiting_reply(row)
            row.reply = text.strip()
            row.replied_at = now
            row.replied_by = user
            row.state = State.REPLIED
            if row.received_at is None:
                row.received_at = now
                row.received_by = user
            row.save(
                update_fields=[
                    "reply",
                    "replied_at",
                    "replied_by",
                    "state",
                    "received_at",
                    "received_by",
                ]
            )
            _attach(row.order, row, stored, user)
            events.publish(
                "command.order_replied",
                courts=[row.order.court, row.court],
                subject=row.order,
                data={
                    "title": _("%(court)s replied to the order: %(title)s")
                    % {"court": row.court.name, "title": row.order.title},
                    "url": _order_url(row.order),
                },
            )
    except BaseException:
        _discard(stored)
        raise
    logger.info("Order %s replied by court %s", row.order_id, row.court_id)
    return row


def pass_down(
    user: User,
    recipient: OrderRecipient,
    *,
    courts: Iterable[Court],
    deadline: datetime.datetime,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Order:
    """Pass an order that the user's court received down to courts below it; return the new order.

    The new order repeats the title, task, linked cases and attachments, adds the ``note``, and
    is due no later than the order it came from, so that the replies arrive in time for the
    passing court's own reply. Passing down also acknowledges receipt.
    """
    now = now or timezone.now()
    _require_command(user, recipient.court)
    parent = recipient.order
    _require_awaiting_reply(recipient)
    errors: dict[str, list[str]] = {}
    if deadline <= now:
        errors["deadline"] = [
            _("The deadline %(deadline)s has passed; choose a later time.")
            % {"deadline": timezone.localtime(deadline, CHINA).strftime("%Y-%m-%d %H:%M")}
        ]
    elif deadline > parent.deadline:
        errors["deadline"] = [
            _(
                "The deadline is after the order's own deadline %(deadline)s; choose that time or "
                "earlier, so that the replies arrive before your court must reply."
            )
            % {"deadline": timezone.localtime(parent.deadline, CHINA).strftime("%Y-%m-%d %H:%M")}
        ]
    _collect(errors, typed_text.check_length, "note", note, TEXT_MAX_CHARS, label=_("note"))
    planned = _collect(
        errors, plan_recipients, recipient.court, courts, skip_level=False, reason=""
    )
    if planned is not None:
        earlier = OrderRecipient.objects.filter(
            order__passed_down_from=recipient, court__in=[c for c, _skip in planned]
        ).select_related("court")
        for row in earlier:
            errors.setdefault("recipients", []).append(
                _("%(court)s already received this order from your court; untick it.")
                % {"court": row.court.name}
            )
    if errors:
        raise ValidationError(errors)
    assert planned is not None
    with transaction.atomic():
        row = _locked_row(recipient)
        _require_awaiting_reply(row)
        child = Order.objects.create(
            court=row.court,
            issued_by=user,
            title=parent.title,
            task=parent.task,
            note=note.strip(),
            deadline=deadline,
            passed_down_from=row,
            created_at=now,
        )
        for court, _skip in planned:
            OrderRecipient.objects.create(order=child, court=court, sent_at=now)
        cases = list(parent.cases.all())
        if cases:
            child.cases.set(cases)
        for attachment in parent.attachments.filter(recipient__isnull=True):
            OrderAttachment.objects.create(
                order=child,
                stored_name=attachment.stored_name,
                original_name=attachment.original_name,
                kind=attachment.kind,
                content_type=attachment.content_type,
                size=attachment.size,
                sha256=attachment.sha256,
                uploaded_by=attachment.uploaded_by,
                uploaded_at=attachment.uploaded_at,
            )
        if row.received_at is None:
            row.received_at = now
            row.received_by = user
            if row.state == State.SENT:
                row.state = State.RECEIVED
            row.save(update_fields=["received_at", "received_by", "state"])
        _publish_new_order(child, planned)
        events.publish(
            "command.order_passed_down",
            courts=[parent.court, row.court],
            subject=parent,
            data={
                "title": _("%(court)s passed the order down to %(count)s courts: %(title)s")
                % {"court": row.court.name, "count": len(planned), "title": parent.title},
                "url": _order_url(parent),
            },
        )
    logger.info(
        "Order %s passed down by court %s as order %s", parent.pk, recipient.court_id, child.pk
    )
    return child


@dataclass
class PassDownSummary:
    """The recipient rows of the courts that one court passed an order down to."""

    rows: list[OrderRecipient] = field(default_factory=list)

    @property
    def replied(self) -> list[OrderRecipient]:
        return [row for row in self.rows if row.state == State.REPLIED]

    @property
    def overdue(self) -> list[OrderRecipient]:
        return [row for row in self.rows if row.state == State.OVERDUE]

    @property
    def waiting(self) -> list[OrderRecipient]:
        return [row for row in self.rows if row.state in (State.SENT, State.RECEIVED)]


def pass_down_summary(recipient: OrderRecipient) -> PassDownSummary:
    """Return the rows of the courts that ``recipient``'s court passed its order down to."""
    rows = (
        OrderRecipient.objects.filter(order__passed_down_from=recipient)
        .select_related("court", "order", "replied_by")
        .prefetch_related("attachments")
        .order_by("court__path", "order_id")
    )
    return PassDownSummary(rows=list(rows))


def close_order(user: User, order: Order, *, now: datetime.datetime | None = None) -> Order:
    """Close the order and the orders passed down from it; no more replies are taken."""
    now = now or timezone.now()
    _require_command(user, order.court)
    with transaction.atomic():
        closed = _close(order, now)
    logger.info("Order %s closed by court %s (%s orders in all)", order.pk, order.court_id, closed)
    order.refresh_from_db()
    return order


def _close(order: Order, now: datetime.datetime) -> int:
    locked = Order.objects.select_for_update().select_related("court").get(pk=order.pk)
    if locked.closed_at is not None:
        return 0
    locked.closed_at = now
    locked.save(update_fields=["closed_at"])
    rows = list(locked.recipients.exclude(state=State.CLOSED).select_related("court"))
    for row in rows:
        row.state = State.CLOSED
        row.closed_at = now
        row.save(update_fields=["state", "closed_at"])
    events.publish(
        "command.order_closed",
        courts=[locked.court, *(row.court for row in rows)],
        subject=locked,
        data={
            "title": _("%(court)s closed the order: %(title)s")
            % {"court": locked.court.name, "title": locked.title},
            "url": _order_url(locked),
        },
    )
    count = 1
    for child in Order.objects.filter(passed_down_from__order=locked, closed_at__isnull=True):
        count += _close(child, now)
    return count


# Overdue orders: reminder, then supervision


def check_overdue(now: datetime.datetime | None = None) -> int:
    """Mark rows overdue, remind their courts, and issue supervision notices; return changes.

    This is the periodic check of the app. Each change is guarded by the state it expects, so
    runs at the same time or repeated after a crash send each reminder and notice once.
    """
    now = now or timezone.now()
    return _mark_overdue(now) + _send_reminders(now) + _send_supervision_notices(now)


def _mark_overdue(now: datetime.datetime) -> int:
    due = OrderRecipient.objects.filter(
        state__in=[State.SENT, State.RECEIVED],
        order__deadline__lte=now,
        order__closed_at__isnull=True,
    ).values_list("pk", "state")
    changed = 0
    for pk, state in list(due):
        with transaction.atomic():
            updated = OrderRecipient.objects.filter(pk=pk, state=state).update(
                state=State.OVERDUE, overdue_at=now
            )
            if updated:
                row = OrderRecipient.objects.select_related("court").get(pk=pk)
                audit.record(
                    audit.Action.UPDATE, row, detail={"changes": {"state": [state, State.OVERDUE]}}
                )
        changed += updated
    return changed


def _send_reminders(now: datetime.datetime) -> int:
    due = OrderRecipient.objects.filter(state=State.OVERDUE, reminded_at__isnull=True).values_list(
        "pk", flat=True
    )
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            updated = OrderRecipient.objects.filter(
                pk=pk, state=State.OVERDUE, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not updated:
                continue
            row = OrderRecipient.objects.select_related("order", "order__court", "court").get(pk=pk)
            audit.record(
                audit.Action.UPDATE, row, detail={"changes": {"reminded_at": [None, str(now)]}}
            )
            url = _order_url(row.order)
            events.publish(
                "command.order_reminder",
                courts=[row.court],
                subject=row.order,
                data={
                    "title": _("Reminder: the order “%(title)s” was due %(deadline)s; reply now.")
                    % {
                        "title": row.order.title,
                        "deadline": timezone.localtime(row.order.deadline, CHINA).strftime(
                            "%Y-%m-%d %H:%M"
                        ),
                    },
                    "url": url,
                },
            )
            events.publish(
                "command.order_overdue",
                courts=[row.order.court],
                subject=row.order,
                data={
                    "title": _("%(court)s has not replied to the order “%(title)s” in time.")
                    % {"court": row.court.name, "title": row.order.title},
                    "url": url,
                },
            )
        sent += 1
        logger.info("Reminder sent for order %s to court %s", row.order_id, row.court_id)
    return sent


def _send_supervision_notices(now: datetime.datetime) -> int:
    due = OrderRecipient.objects.filter(
        state=State.OVERDUE,
        reminded_at__lte=now - supervision_delay(),
        supervised_at__isnull=True,
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            updated = OrderRecipient.objects.filter(
                pk=pk, state=State.OVERDUE, supervised_at__isnull=True
            ).update(supervised_at=now)
            if not updated:
                continue
            row = OrderRecipient.objects.select_related("order", "order__court", "court").get(pk=pk)
            notice = SupervisionNotice.objects.create(
                order=row.order, recipient=row, court=row.court, created_at=now
            )
            events.publish(
                "command.supervision_notice",
                courts=[row.court, *row.court.ancestors()],
                subject=row.order,
                data={
                    "title": _(
                        "Supervision: %(court)s has not replied to the order “%(title)s”, due "
                        "%(deadline)s."
                    )
                    % {
                        "court": row.court.name,
                        "title": row.order.title,
                        "deadline": timezone.localtime(row.order.deadline, CHINA).strftime(
                            "%Y-%m-%d %H:%M"
                        ),
                    },
                    "url": _order_url(row.order),
                },
                severity=Event.Severity.MAJOR,
            )
        sent += 1
        logger.info(
            "Supervision notice %s for order %s to court %s", notice.pk, row.order_id, row.court_id
        )
    return sent


def visible_notices(user: User) -> QuerySet[SupervisionNotice]:
    """Return the supervision notices about the user's court and the courts below it."""
    return scope.restrict(SupervisionNotice.objects.all(), user, court_field="court")


# Duty sign-in


def sign_in(user: User, *, now: datetime.datetime | None = None) -> DutySignIn:
    """Sign the user in as their court's duty officer for today (Asia/Shanghai)."""
    now = now or timezone.now()
    if not user.has_role(Role.Code.DUTY_OFFICER):
        raise PermissionDenied(_("Only a duty officer signs in for duty."))
    court = user.court
    day = china_day(now)
    try:
        with transaction.atomic():
            signed = DutySignIn.objects.create(court=court, user=user, day=day, signed_at=now)
            events.publish(
                "command.duty_signed_in",
                courts=[court, *court.ancestors()],
                subject=signed,
                data={
                    "title": _("%(court)s: duty officer signed in") % {"court": court.name},
                    "url": reverse("command-duty"),
                },
            )
    except IntegrityError:
        earlier = DutySignIn.objects.select_related("user").get(court=court, day=day)
        raise ValidationError(
            _(
                "%(name)s already signed in for %(court)s today at %(time)s; a court signs in "
                "once a day."
            )
            % {
                "name": earlier.user.full_name or earlier.user.username,
                "court": court.name,
                "time": timezone.localtime(earlier.signed_at, CHINA).strftime("%H:%M"),
            }
        ) from None
    logger.info("Duty sign-in of court %s by user %s for %s", court.pk, user.pk, day)
    return signed


@dataclass
class DutyGroup:
    """The courts of one intermediate court (or the high court alone) and their sign-ins."""

    court: Court
    signed: list[tuple[Court, DutySignIn]] = field(default_factory=list)
    missing: list[Court] = field(default_factory=list)


@dataclass
class DutyStatus:
    """The duty sign-ins of the courts of a user's scope on ``day``, grouped."""

    day: datetime.date
    groups: list[DutyGroup]

    @property
    def signed_count(self) -> int:
        return sum(len(group.signed) for group in self.groups)

    @property
    def missing_count(self) -> int:
        return sum(len(group.missing) for group in self.groups)

    @property
    def total(self) -> int:
        return self.signed_count + self.missing_count


def _group_court(court: Court, by_id: dict[int, Court]) -> Court:
    if court.level == Court.Level.BASIC and court.parent_id in by_id:
        return by_id[court.parent_id]
    return court


def duty_status(user: User, *, now: datetime.datetime | None = None) -> DutyStatus:
    """Return the duty sign-ins of today for the courts in the user's scope that are active."""
    day = china_day(now or timezone.now())
    courts = list(
        scope.visible_courts(user)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=day))
        .filter(Q(active_to__isnull=True) | Q(active_to__gte=day))
        .order_by("path")
    )
    by_id = {court.pk: court for court in courts}
    sign_ins = {
        signed.court_id: signed
        for signed in DutySignIn.objects.filter(day=day, court__in=courts).select_related("user")
    }
    groups: dict[int, DutyGroup] = {}
    for court in courts:
        head = _group_court(court, by_id)
        group = groups.setdefault(head.pk, DutyGroup(court=head))
        if court.pk in sign_ins:
            group.signed.append((court, sign_ins[court.pk]))
        else:
            group.missing.append(court)
    return DutyStatus(day=day, groups=sorted(groups.values(), key=lambda g: g.court.path))
