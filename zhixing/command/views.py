"""Pages of command and dispatch: orders, their replies and supervision, and duty sign-in.

Orders are read through :func:`services.visible_orders` and recipient rows through
:func:`services.visible_recipients`, so a receiving court sees its own row and never a
sibling's. An order outside the user's scope returns 404, like a missing one; a user without
a command role gets 403.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixing import attachments
from zhixing.command import services
from zhixing.command.forms import OrderForm, PassDownForm, ReplyForm
from zhixing.command.models import Order, OrderAttachment, OrderRecipient
from zhixing.courts.models import Court, Role, User
from zhixing.web.once import submit_once

logger = logging.getLogger(__name__)

LIST_ROWS = 100
NOTICE_ROWS = 20
State = OrderRecipient.State


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _reader(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not services.may_read_orders(user):
        raise PermissionDenied(_("Only commanders, duty officers and bureau heads use orders."))
    return user


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for key, key_messages in error.message_dict.items():
            for message in key_messages:
                form.add_error(key if key in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _render_partial_or_page(
    request: HttpRequest, page: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    template = partial if _is_partial(request) else page
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# Order list


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    """List the orders received by the user's court, those it issued, and others in its scope."""
    user = _reader(request)
    received = list(
        OrderRecipient.objects.filter(court_id=user.court_id)
        .select_related("order__court")
        .order_by("-order__created_at", "-id")[:LIST_ROWS]
    )
    # Rows that still need the court's reply come first.
    received.sort(key=lambda row: row.state not in OrderRecipient.AWAITING_REPLY)
    counts = {
        "received_count": Count("recipients", filter=Q(recipients__received_at__isnull=False)),
        "replied_count": Count("recipients", filter=Q(recipients__replied_at__isnull=False)),
        "overdue_count": Count("recipients", filter=Q(recipients__state=State.OVERDUE)),
    }
    issued = list(
        Order.objects.filter(court_id=user.court_id)
        .annotate(recipient_count=Count("recipients"), **counts)
        .order_by("-created_at", "-id")[:LIST_ROWS]
    )
    others = list(
        services.visible_orders(user)
        .exclude(court_id=user.court_id)
        .exclude(recipients__court_id=user.court_id)
        .select_related("court")
        .annotate(recipient_count=Count("recipients"), **counts)
        .order_by("-created_at", "-id")[:LIST_ROWS]
    )
    notices = list(
        services.visible_notices(user)
        .select_related("order", "court", "recipient")
        .order_by("-created_at", "-id")[:NOTICE_ROWS]
    )
    context = {
        "received": received,
        "issued": issued,
        "others": others,
        "notices": notices,
        "may_command": services.may_command(user),
        "may_issue": services.may_command(user) and user.court.children.exists(),
    }
    return _render_partial_or_page(request, "command/orders.html", "command/_orders.html", context)


# Issuing an order


def _recipient_tree(court: Court) -> list[tuple[Court, list[Court]]]:
    """Return each direct subordinate with the courts below it, which only a skip-level reaches."""
    below = list(Court.objects.filter(path__startswith=court.path).exclude(pk=court.pk))
    direct = [c for c in below if c.parent_id == court.pk]
    return [
        (child, [c for c in below if c.pk != child.pk and c.is_within(child)]) for child in direct
    ]


@login_required
@submit_once
def order_new(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    if not services.may_command(user):
        raise PermissionDenied(_("Only commanders and duty officers issue orders."))
    data = request.POST if request.method == "POST" else None
    form = OrderForm(data, request.FILES if data is not None else None, court=user.court)
    if data is not None and form.is_valid():
        try:
            order = services.issue_order(
                user,
                title=form.cleaned_data["title"],
                task=form.cleaned_data["task"],
                deadline=form.cleaned_data["deadline"],
                recipients=list(form.cleaned_data["recipients"]),
                skip_level=form.cleaned_data["skip_level"],
                skip_level_reason=form.cleaned_data["skip_level_reason"],
                case_numbers=form.cleaned_data["case_numbers"].splitlines(),
                uploads=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Order sent to %(count)s courts.") % {"count": order.recipients.count()},
            )
            return redirect("command-order", pk=order.pk)
    chosen = {str(value) for value in (form["recipients"].value() or [])}
    return render(
        request,
        "command/new.html",
        {"form": form, "tree": _recipient_tree(user.court), "chosen": chosen},
        status=400 if data is not None else 200,
    )


# One order


def _visible_order(user: User, pk: int) -> Order:
    return get_object_or_404(
        services.visible_orders(user).select_related(
            "court", "issued_by", "passed_down_from__order__court", "passed_down_from__court"
        ),
        pk=pk,
    )


def _own_row_or_404(user: User, order: Order) -> OrderRecipient:
    row = services.own_row(user, order)
    if row is None:
        raise Http404("The order was not sent to your court.")
    return row


def _detail_context(user: User, order: Order) -> dict[str, Any]:
    rows = list(
        services.visible_recipients(user)
        .filter(order=order)
        .select_related("court", "received_by", "replied_by")
        .prefetch_related("attachments")
        .order_by("court__path")
    )
    for row in rows:
        row.summary = services.pass_down_summary(row)  # type: ignore[attr-defined]
    own = next((row for row in rows if row.court_id == user.court_id), None)
    may_command = services.may_command(user)
    notices = list(
        services.visible_notices(user).filter(order=order).select_related("court", "recipient")
    )
    return {
        "order": order,
        "parent": order.parent,
        "rows": rows,
        "own": own,
        "files": list(order.attachments.filter(recipient__isnull=True)),
        "cases": list(order.cases.all()),
        "notices": notices,
        "is_issuer": order.court_id == user.court_id,
        "may_close": may_command and order.court_id == user.court_id and order.closed_at is None,
        "may_acknowledge": may_command
        and own is not None
        and own.received_at is None
        and own.state != State.CLOSED,
        "may_reply": may_command and own is not None and own.state in OrderRecipient.AWAITING_REPLY,
        "may_pass_down": may_command
        and own is not None
        and own.state in OrderRecipient.AWAITING_REPLY
        and user.court.children.exists(),
    }


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    order = _visible_order(user, pk)
    context = _detail_context(user, order)
    context["reply_form"] = ReplyForm()
    return _render_partial_or_page(request, "command/detail.html", "command/_detail.html", context)


@login_required
@require_POST
def order_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    order = _visible_order(user, pk)
    row = _own_row_or_404(user, order)
    try:
        services.acknowledge(user, row)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Receipt acknowledged."))
    return redirect("command-order", pk=order.pk)


@login_required
@require_POST
def order_reply(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    order = _visible_order(user, pk)
    row = _own_row_or_404(user, order)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.reply(
                user,
                row,
                form.cleaned_data["text"],
                uploads=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Reply sent to %(court)s.") % {"court": order.court.name})
            return redirect("command-order", pk=order.pk)
    context = _detail_context(user, order)
    context["reply_form"] = form
    return render(request, "command/detail.html", context, status=400)


@login_required
def order_pass_down(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    order = _visible_order(user, pk)
    row = _own_row_or_404(user, order)
    data = request.POST if request.method == "POST" else None
    form = PassDownForm(
        data,
        court=user.court,
        initial={
            "deadline": order.deadline.astimezone(services.CHINA).replace(tzinfo=None),
            "courts": list(user.court.children.values_list("pk", flat=True)),
        },
    )
    if data is not None and form.is_valid():
        try:
            services.pass_down(
                user,
                row,
                courts=list(form.cleaned_data["courts"]),
                deadline=form.cleaned_data["deadline"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Order passed down."))
            return redirect("command-order", pk=order.pk)
    return render(
        request,
        "command/pass_down.html",
        {"order": order, "row": row, "form": form},
        status=400 if data is not None else 200,
    )


@login_required
@require_POST
def order_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    order = _visible_order(user, pk)
    services.close_order(user, order)
    messages.success(request, _("Order closed."))
    return redirect("command-order", pk=order.pk)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Serve an order's or a reply's file to a user who may see that order or reply."""
    user = _reader(request)
    attachment = get_object_or_404(
        OrderAttachment.objects.filter(order__in=services.visible_orders(user)).filter(
            Q(recipient__isnull=True) | Q(recipient__in=services.visible_recipients(user))
        ),
        pk=pk,
    )
    try:
        path = attachments.path_of(attachment.stored_name)
        handle = path.open("rb")
    except (ValueError, OSError) as error:
        logger.error("Attachment %s of order %s is missing: %s", pk, attachment.order_id, error)
        raise Http404("The file is missing.") from error
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


# Duty sign-in


@login_required
def duty(request: HttpRequest) -> HttpResponse:
    """Show today's duty sign-ins of the courts in the user's scope, and the sign-in button."""
    user = _reader(request)
    status = services.duty_status(user)
    own_signed = next(
        (
            signed
            for group in status.groups
            for court, signed in group.signed
            if court.pk == user.court_id
        ),
        None,
    )
    context = {
        "status": status,
        "own_signed": own_signed,
        "may_sign_in": user.has_role(Role.Code.DUTY_OFFICER) and own_signed is None,
    }
    return _render_partial_or_page(request, "command/duty.html", "command/_duty.html", context)


@login_required
@require_POST
def duty_sign_in(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    try:
        services.sign_in(user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Signed in for duty today."))
    return redirect("command-duty")
