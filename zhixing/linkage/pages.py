"""Pages of the agency registry and of the manual adapter's request lists and typed answers.

The registry pages are for administrators, and everyone else gets 403. The manual pages show the
batches of manual agencies in the user's scope: a batch or item of a court outside it returns
404, like a missing one. Full document numbers and typed answers are for the sending court's
staff that :func:`zhixing.linkage.adapters.manual.may_handle` names, and each list with full
numbers is recorded in the audit trail.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixing.audit import services as audit
from zhixing.cases.identity import mask_id_number
from zhixing.cases.views import copy_errors
from zhixing.courts import scope
from zhixing.courts.models import User
from zhixing.linkage import services
from zhixing.linkage.adapters import manual
from zhixing.linkage.answer_forms import AnswerEntry
from zhixing.linkage.forms import AgencyForm
from zhixing.linkage.models import Agency, AgencyHealth, GatewayBatch, GatewayItem

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
STATES = GatewayItem.State


# Agency registry


def _require_manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not services.may_manage_agencies(user):
        raise PermissionDenied(_("Only administrators manage the linkage agencies."))
    return user


@login_required
def agency_list(request: HttpRequest) -> HttpResponse:
    """List every agency with its connection, state and the health of its circuit."""
    _require_manager(request)
    healths = {health.agency_id: health for health in AgencyHealth.objects.all()}
    rows = []
    for agency in Agency.objects.order_by("kind", "code"):
        health = healths.get(agency.pk)
        requests = health.requests if health else 0
        rows.append(
            {
                "agency": agency,
                "circuit": health.get_circuit_display() if health else "",
                "circuit_open": bool(health and health.circuit != AgencyHealth.Circuit.CLOSED),
                "requests": requests,
                # NOTE: AgencyHealth keeps running totals, so this is the error rate since the
                # counters began, not over a recent window.
                "error_percent": 100 * health.errors / requests if health and requests else None,
                "last_error": health.last_error if health else "",
            }
        )
    return render(request, "linkage/agencies.html", {"rows": rows})


def _save_form(user: User, form: AgencyForm) -> Agency | None:
    if not form.is_valid():
        return None
    agency = form.save(commit=False)
    try:
        services.save_agency(user, agency)
    except ValidationError as error:
        copy_errors(error, form)
        return None
    return agency


@login_required
def agency_create(request: HttpRequest) -> HttpResponse:
    user = _require_manager(request)
    form = AgencyForm(request.POST or None)
    if request.method == "POST":
        agency = _save_form(user, form)
        if agency is not None:
            messages.success(request, _("Agency %(name)s created.") % {"name": agency.name})
            return redirect("agency-list")
    return render(
        request,
        "linkage/agency_form.html",
        {"form": form, "creating": True},
        status=400 if form.is_bound else 200,
    )


@login_required
def agency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_manager(request)
    agency = get_object_or_404(Agency, pk=pk)
    form = AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST":
        saved = _save_form(user, form)
        if saved is not None:
            messages.success(request, _("Agency %(name)s saved.") % {"name": saved.name})
            return redirect("agency-list")
    return render(
        request,
        "linkage/agency_form.html",
        {"form": form, "creating": False, "agency": agency},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def agency_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_manager(request)
    agency = get_object_or_404(Agency, pk=pk)
    active = request.POST.get("active") == "1"
    if services.set_agency_active(user, agency, active):
        if active:
            messages.success(request, _("Agency %(name)s activated.") % {"name": agency.name})
        else:
            messages.success(
                request,
                _(
                    "Agency %(name)s deactivated. It gets no new requests; requests already "
                    "queued wait and expire at their deadline unless you activate it again."
                )
                % {"name": agency.name},
            )
    else:
        messages.info(
            request, _("Agency %(name)s was already in that state.") % {"name": agency.name}
        )
    return redirect("agency-list")


# Manual requests


def _manual_batches(user: User) -> QuerySet[GatewayBatch]:
    return scope.restrict(
        GatewayBatch.objects.filter(agency__adapter=Agency.Adapter.MANUAL), user
    ).select_related("agency", "court")


def _batch_in_scope(request: HttpRequest, batch_id: uuid.UUID) -> GatewayBatch:
    return get_object_or_404(_manual_batches(request.user), pk=batch_id)  # type: ignore[arg-type]


@login_required
def manual_batch_list(request: HttpRequest) -> HttpResponse:
    """List the batches of manual agencies in the user's scope that still wait for answers."""
    user: User = request.user  # type: ignore[assignment]
    waiting = Q(items__state=STATES.ACKNOWLEDGED)
    batches = (
        _manual_batches(user)
        .annotate(
            waiting=Count("items", filter=waiting),
            total=Count("items"),
            first_deadline=Min("items__deadline", filter=waiting),
        )
        .filter(waiting__gt=0)
        .order_by("first_deadline", "created_at")
    )
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "linkage/manual_batches.html", {"page": page})


def _item_rows(items: list[GatewayItem], *, reveal: bool) -> list[GatewayItem]:
    for item in items:
        number = item.party.document_number
        item.shown_number = (  # type: ignore[attr-defined]
            number if reveal or not number else mask_id_number(number)
        )
    return items


@login_required
def manual_batch(request: HttpRequest, batch_id: uuid.UUID) -> HttpResponse:
    """Show a batch's items with masked numbers, their state and links to the answer forms."""
    user: User = request.user  # type: ignore[assignment]
    batch = _batch_in_scope(request, batch_id)
    items = list(
        batch.items.select_related("case", "party").order_by("case__case_number", "created_at")
    )
    return render(
        request,
        "linkage/manual_batch.html",
        {
            "batch": batch,
            "items": _item_rows(items, reveal=False),
            "waiting": sum(1 for item in items if item.state == STATES.ACKNOWLEDGED),
            "may_handle": manual.may_handle(user, batch.court_id),
        },
    )


def _record_document_reads(batch: GatewayBatch, items: list[GatewayItem]) -> int:
    """Record one audit entry per party and case whose document number the list shows."""
    recorded = 0
    seen: set[tuple[int, int]] = set()
    for item in items:
        party = item.party
        if not party.document_number or (item.case_id, party.pk) in seen:
            continue
        seen.add((item.case_id, party.pk))
        # Filed under the case, because a party has no court of its own.
        audit.record(
            audit.Action.READ_PERSONAL,
            item.case,
            object_type=party._meta.label_lower,
            object_id=str(party.pk),
            object_repr=str(party)[:200],
            detail={
                "fields": ["document_number"],
                "purpose": "manual request list",
                "case_id": item.case_id,
                "case_number": item.case.case_number,
                "batch_id": str(batch.pk),
            },
        )
        recorded += 1
    return recorded


@login_required
@require_POST
def manual_batch_print(request: HttpRequest, batch_id: uuid.UUID) -> HttpResponse:
    """Show the printable request list of a batch's waiting items, with full numbers."""
    user: User = request.user  # type: ignore[assignment]
    batch = _batch_in_scope(request, batch_id)
    if not manual.may_handle(user, batch.court_id):
        raise PermissionDenied(
            _(
                "Only clerks, case officers and bureau heads of the court that sent the requests "
                "print the list with full document numbers."
            )
        )
    items = list(
        batch.items.filter(state=STATES.ACKNOWLEDGED)
        .select_related("case", "party")
        .order_by("case__case_number", "created_at")
    )
    recorded = _record_document_reads(batch, items)
    logger.info(
        "Request list of manual batch %s shown with full numbers, %s audit records",
        batch.pk,
        recorded,
    )
    response = render(
        request,
        "linkage/manual_print.html",
        {"batch": batch, "items": _item_rows(items, reveal=True), "printed_at": timezone.now()},
    )
    # A page with full document numbers must not stay in a browser or proxy cache.
    patch_cache_control(response, no_store=True, private=True)
    return response


def _not_stored_message(item: GatewayItem) -> str:
    if item.state == STATES.ANSWERED:
        return _(
            "This request was already answered at %(time)s; your answer was not stored and "
            "nothing changed."
        ) % {"time": timezone.localtime(item.answered_at).strftime("%Y-%m-%d %H:%M")}
    if item.state == STATES.EXPIRED:
        return _(
            "This request expired at %(time)s without an answer; your answer was not stored. "
            "Query the debtor again from the case to ask the agency anew."
        ) % {"time": timezone.localtime(item.deadline).strftime("%Y-%m-%d %H:%M")}
    return _("This request is %(state)s and takes no answer; your answer was not stored.") % {
        "state": item.get_state_display()
    }


def _render_answer(
    request: HttpRequest, item: GatewayItem, entry: AnswerEntry | None, *, quiet: bool, status: int
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    number = item.party.document_number
    context: dict[str, Any] = {
        "item": item,
        "batch": item.batch,
        "entry": entry,
        "quiet": quiet,
        "shown_number": mask_id_number(number) if number else "",
        "may_handle": manual.may_handle(user, item.court_id),
        "is_open": item.state == STATES.ACKNOWLEDGED,
        "records": len(item.answer.get("records", [])) if isinstance(item.answer, dict) else 0,
    }
    return render(request, "linkage/manual_answer.html", context, status=status)


@login_required
def manual_answer(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    """Show and take the typed answer of one item of a manual batch.

    Clerks, case officers and bureau heads of the sending court type answers; see
    :func:`zhixing.linkage.adapters.manual.may_handle`. A second answer to an answered item
    changes nothing, and the page says so.
    """
    user: User = request.user  # type: ignore[assignment]
    items = scope.restrict(
        GatewayItem.objects.filter(
            agency__adapter=Agency.Adapter.MANUAL, batch__isnull=False
        ).select_related("agency", "batch", "case", "party", "court"),
        user,
    )
    item = get_object_or_404(items, pk=item_id)
    if request.method != "POST":
        entry = AnswerEntry(item.category) if item.state == STATES.ACKNOWLEDGED else None
        return _render_answer(request, item, entry, quiet=False, status=200)

    if not manual.may_handle(user, item.court_id):
        raise PermissionDenied(
            _(
                "Only clerks, case officers and bureau heads of the court that sent the request "
                "type in its answer."
            )
        )
    add_record = request.POST.get("add_record", "")
    entry = AnswerEntry(item.category, request.POST, add_record=add_record)
    if add_record:
        return _render_answer(request, item, entry, quiet=True, status=200)
    if item.state != STATES.ACKNOWLEDGED:
        messages.warning(request, _not_stored_message(item))
        return redirect("manual-answer", item_id=item.pk)
    if not entry.is_valid():
        return _render_answer(request, item, entry, quiet=False, status=400)
    try:
        stored = manual.submit_answer(user, item, entry.status_value, entry.records())
    except ValidationError as error:
        copy_errors(error, entry.status)
        return _render_answer(request, item, entry, quiet=False, status=400)
    if not stored:
        item.refresh_from_db()
        messages.warning(request, _not_stored_message(item))
        return redirect("manual-answer", item_id=item.pk)
    messages.success(
        request,
        _("Answer for %(party)s in case %(case)s stored.")
        % {"party": item.party.name, "case": item.case.case_number},
    )
    return redirect("manual-batch", batch_id=item.batch_id)
