"""Pages of the agency registry and of the manual adapter's request lists and typed answers.

The registry pages are for administrators, and everyone else gets 403. The manual pages show the
batches of manual agencies in the user's scope: a batch or item of a court outside it returns
404, like a missing one. Full document numbers and typed answers are for the sending court's
staff that :func:`zhixing.linkage.adapters.manual.may_handle` names, and each list with full
numbers is recorded in the audit trail. So are the account numbers of control measures on
deposits: masked on the pages, in full on the printed list, in the answer form and in the
sealed documents, each of which is audited.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
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
from zhixing.documents.kinds import DocumentKind
from zhixing.linkage import gateway, services
from zhixing.linkage.adapters import manual
from zhixing.linkage.answer_forms import (
    RESULT_CHOICES,
    AnswerEntry,
    MeasureAnswerEntry,
    MeasureRecordForm,
    RequestedMeasure,
)
from zhixing.linkage.forms import AgencyForm
from zhixing.linkage.models import Action, Agency, AgencyHealth, GatewayBatch, GatewayItem
from zhixing.query_params import (
    InvalidParameter,
    InvalidQuery,
    list_status,
    page_of,
    query_without,
    url_without,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
# Measure items whose batch message entries are built at a time for the request list.
MESSAGE_CHUNK = 50
STATES = GatewayItem.State


# Agency registry


def _require_manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not services.may_manage_agencies(user):
        raise PermissionDenied(services.REGISTRY_MANAGERS_ONLY)
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


def _waiting_manual_batches(user: User) -> QuerySet[GatewayBatch]:
    """Return the manual batches in the user's scope with items that wait for answers."""
    waiting = Q(items__state=STATES.ACKNOWLEDGED)
    return (
        _manual_batches(user)
        .annotate(
            waiting=Count("items", filter=waiting),
            total=Count("items"),
            first_deadline=Min("items__deadline", filter=waiting),
        )
        .filter(waiting__gt=0)
    )


def waiting_batch_count(user: User, cap: int) -> int:
    """Count the manual batches that wait for typed-in answers, stopping at ``cap``."""
    return int(_waiting_manual_batches(user).order_by().values("pk")[:cap].count())


@login_required
def manual_batch_list(request: HttpRequest) -> HttpResponse:
    """List the batches of manual agencies in the user's scope that still wait for answers.

    A ``page`` that is not the number of a page shows its problem and no batches.
    """
    user: User = request.user  # type: ignore[assignment]
    batches = _waiting_manual_batches(user).order_by("first_deadline", "created_at")
    page = None
    problems: list[InvalidParameter] = []
    try:
        page = page_of(Paginator(batches, PAGE_SIZE), request.GET)
    except InvalidQuery as error:
        problems = error.problems
        logger.info("Manual batch list of user %s not shown, invalid page", user.pk)
    context = {
        "page": page,
        "query_errors": problems,
        "reset_url": url_without(request, {"page"}),
        "query": query_without(request.GET, {"page"}),
    }
    return render(
        request, "linkage/manual_batches.html", context, status=list_status(request, problems)
    )


@dataclass(frozen=True)
class SealedDocument:
    """A sealed PDF that a measure item carries: its notice (number 0) or an attachment."""

    number: int
    kind: str
    label: str
    sha256: str


@dataclass(frozen=True)
class MeasureRequest:
    """The request of a measure item to the agency, and the sealed documents that it carries."""

    requested: RequestedMeasure
    documents: list[SealedDocument]
    # False when the platform has no measure for the item, so the page can point to the notice.
    known: bool


def _message_entries(items: Sequence[GatewayItem]) -> dict[str, dict[str, Any]]:
    """Return the batch message's ``document`` and ``measure`` of the measure items, by id."""
    entries = [
        {"item_id": str(item.pk), "action": item.action}
        for item in items
        if item.action != Action.QUERY
    ]
    if entries:
        gateway.measure_fields(entries)
    return {entry["item_id"]: entry for entry in entries}


def _document_pdfs(document: Any) -> list[dict[str, Any]]:
    """Return the notice and then its attachments, the PDFs of a message's ``document``."""
    if not isinstance(document, dict):
        return []
    attachments = document.get("attachments")
    pdfs = [document, *(attachments if isinstance(attachments, list) else [])]
    return [pdf for pdf in pdfs if isinstance(pdf, dict)]


def _document_label(kind: str) -> str:
    """Return the name of a sealed document's kind.

    Kinds that have no stored template, only a built-in text, are named by that text's title.
    """
    # Imported here because the measures app builds on this one.
    from zhixing.measures.fallback_texts import FALLBACK_TEXTS

    if kind in DocumentKind.values:
        return str(DocumentKind(kind).label)
    if kind in FALLBACK_TEXTS:
        return FALLBACK_TEXTS[kind][0]
    return kind


def _measure_requests(items: Sequence[GatewayItem]) -> dict[uuid.UUID, MeasureRequest]:
    """Return the request of each measure item among ``items``, read from its batch message."""
    requests = {}
    # The message entries carry every sealed PDF in base64, of which only the kinds and hashes
    # are kept, so a batch of up to 1000 items is read in chunks to bound the memory.
    for first in range(0, len(items), MESSAGE_CHUNK):
        requests.update(_chunk_requests(items[first : first + MESSAGE_CHUNK]))
    return requests


def _chunk_requests(items: Sequence[GatewayItem]) -> dict[uuid.UUID, MeasureRequest]:
    entries = _message_entries(items)
    requests = {}
    for item in items:
        entry = entries.get(str(item.pk))
        if entry is None:
            continue
        measure = entry.get("measure")
        documents = [
            SealedDocument(
                number=number,
                kind=str(pdf.get("kind", "")),
                label=_document_label(str(pdf.get("kind", ""))),
                sha256=str(pdf.get("sha256", "")),
            )
            for number, pdf in enumerate(_document_pdfs(entry.get("document")))
        ]
        requests[item.pk] = MeasureRequest(
            requested=RequestedMeasure.from_message(item.action, item.category, measure),
            documents=documents,
            known=isinstance(measure, dict),
        )
    return requests


def _shown_identifier(request: MeasureRequest | None, *, reveal: bool) -> str:
    """Return the asset identifier of a measure item: account numbers masked unless revealed."""
    if request is None or not request.requested.identifier:
        return ""
    identifier = request.requested.identifier
    if request.requested.identifier_is_personal and not reveal:
        return mask_id_number(identifier)
    return identifier


def _item_rows(
    items: list[GatewayItem],
    *,
    reveal: bool,
    requests: dict[uuid.UUID, MeasureRequest] | None = None,
) -> list[GatewayItem]:
    for item in items:
        number = item.party.document_number
        item.shown_number = (  # type: ignore[attr-defined]
            number if reveal or not number else mask_id_number(number)
        )
        request = (requests or {}).get(item.pk)
        item.measure_request = request  # type: ignore[attr-defined]
        item.shown_identifier = _shown_identifier(request, reveal=reveal)  # type: ignore[attr-defined]
        # The blank outcome that the agency fills in on the printed list.
        item.outcome_form = (  # type: ignore[attr-defined]
            MeasureRecordForm(request.requested) if request is not None else None
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


def _record_party_read(item: GatewayItem, fields: list[str], purpose: str, **extra: str) -> None:
    """Record in the audit trail that the user was shown ``fields`` of ``item``'s party in full."""
    party = item.party
    # Filed under the case, because a party has no court of its own.
    audit.record(
        audit.Action.READ_PERSONAL,
        item.case,
        object_type=party._meta.label_lower,
        object_id=str(party.pk),
        object_repr=str(party)[:200],
        detail={
            "fields": sorted(fields),
            "purpose": purpose,
            "case_id": item.case_id,
            "case_number": item.case.case_number,
            **extra,
        },
    )


def _record_document_reads(
    batch: GatewayBatch, items: list[GatewayItem], requests: dict[uuid.UUID, MeasureRequest]
) -> int:
    """Record one audit entry per party and case whose full numbers the list shows.

    The numbers are the party's document number and the account numbers of its measure items
    on deposits.
    """
    shown: dict[tuple[int, int], tuple[GatewayItem, set[str]]] = {}
    for item in items:
        _first, fields = shown.setdefault((item.case_id, item.party_id), (item, set()))
        if item.party.document_number:
            fields.add("document_number")
        request = requests.get(item.pk)
        if request is not None and request.requested.identifier_is_personal:
            fields.add("asset_identifier")
    recorded = 0
    for first, fields in shown.values():
        if fields:
            _record_party_read(first, sorted(fields), "manual request list", batch_id=str(batch.pk))
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
    requests = _measure_requests(items)
    recorded = _record_document_reads(batch, items, requests)
    logger.info(
        "Request list of manual batch %s shown with full numbers, %s audit records",
        batch.pk,
        recorded,
    )
    response = render(
        request,
        "linkage/manual_print.html",
        {
            "batch": batch,
            "items": _item_rows(items, reveal=True, requests=requests),
            "has_measures": bool(requests),
            "printed_at": timezone.now(),
        },
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


AnyEntry = AnswerEntry | MeasureAnswerEntry


def _answer_entry(
    item: GatewayItem,
    request: MeasureRequest | None,
    data: Any = None,
    *,
    add_record: str = "",
) -> AnyEntry:
    """Return the answer form of ``item``: query records, or the outcome of its measure."""
    if request is not None:
        return MeasureAnswerEntry(request.requested, data)
    return AnswerEntry(item.category, data, add_record=add_record)


def _answered_result(item: GatewayItem) -> str:
    """Return the result of the stored answer to a measure item as the page shows it, or ''."""
    answer = item.answer if isinstance(item.answer, dict) else {}
    records = answer.get("records")
    record = next(
        (
            row
            for row in (records if isinstance(records, list) else [])
            if isinstance(row, dict) and row.get("type") == item.action
        ),
        None,
    )
    result = record.get("result") if record is not None else None
    return str(dict(RESULT_CHOICES).get(result, "")) if isinstance(result, str) else ""


def _render_answer(
    request: HttpRequest,
    item: GatewayItem,
    entry: AnyEntry | None,
    *,
    measure_request: MeasureRequest | None,
    quiet: bool,
    status: int,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    number = item.party.document_number
    context: dict[str, Any] = {
        "item": item,
        "batch": item.batch,
        "entry": entry,
        "measure_entry": entry if isinstance(entry, MeasureAnswerEntry) else None,
        "measure_request": measure_request,
        # The facts show account numbers masked, and only the form contains the full number.
        "shown_identifier": _shown_identifier(measure_request, reveal=False),
        "answered_result": _answered_result(item) if measure_request is not None else "",
        "quiet": quiet,
        "shown_number": mask_id_number(number) if number else "",
        "may_handle": manual.may_handle(user, item.court_id),
        "is_open": item.state == STATES.ACKNOWLEDGED,
        "records": len(item.answer.get("records", [])) if isinstance(item.answer, dict) else 0,
    }
    return render(request, "linkage/manual_answer.html", context, status=status)


def _manual_items(user: User) -> QuerySet[GatewayItem]:
    return scope.restrict(
        GatewayItem.objects.filter(
            agency__adapter=Agency.Adapter.MANUAL, batch__isnull=False
        ).select_related("agency", "batch", "case", "party", "court"),
        user,
    )


@login_required
def manual_answer(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    """Show and take the typed answer of one item of a manual batch.

    Clerks, case officers and bureau heads of the sending court type answers; see
    :func:`zhixing.linkage.adapters.manual.may_handle`. A second answer to an answered item
    changes nothing, and the page shows a message. A control measure's answer is its outcome,
    one record of the item's action, whose form starts with the asset and the period requested.
    """
    user: User = request.user  # type: ignore[assignment]
    item = get_object_or_404(_manual_items(user), pk=item_id)
    measure_request = _measure_requests([item]).get(item.pk)
    if request.method != "POST":
        entry = None
        if item.state == STATES.ACKNOWLEDGED:
            entry = _answer_entry(item, measure_request)
            if (
                measure_request is not None
                and measure_request.requested.identifier_is_personal
                and manual.may_handle(user, item.court_id)
            ):
                # The form starts with the account number in full.
                _record_party_read(
                    item, ["asset_identifier"], "manual answer form", item_id=str(item.pk)
                )
        return _render_answer(
            request, item, entry, measure_request=measure_request, quiet=False, status=200
        )

    if not manual.may_handle(user, item.court_id):
        raise PermissionDenied(
            _(
                "Only clerks, case officers and bureau heads of the court that sent the request "
                "type in its answer."
            )
        )
    # A measure's answer has one record, so its form has no button to add another.
    add_record = request.POST.get("add_record", "") if measure_request is None else ""
    entry = _answer_entry(item, measure_request, request.POST, add_record=add_record)
    if add_record:
        return _render_answer(
            request, item, entry, measure_request=measure_request, quiet=True, status=200
        )
    if item.state != STATES.ACKNOWLEDGED:
        messages.warning(request, _not_stored_message(item))
        return redirect("manual-answer", item_id=item.pk)
    if not entry.is_valid():
        return _render_answer(
            request, item, entry, measure_request=measure_request, quiet=False, status=400
        )
    try:
        stored = manual.submit_answer(user, item, entry.status_value, entry.records())
    except ValidationError as error:
        copy_errors(error, entry.status)
        return _render_answer(
            request, item, entry, measure_request=measure_request, quiet=False, status=400
        )
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


@login_required
def manual_document(request: HttpRequest, item_id: uuid.UUID, number: int) -> HttpResponse:
    """Send a sealed PDF of a measure item of a manual batch, to print and take to the agency.

    ``number`` 0 is the assistance notice and 1, 2, … its attachments, such as the ruling: the
    PDFs of the item's batch message. They show the debtor's ID number and the account in full,
    so only the staff who print the request list download them, and each download is audited.
    """
    user: User = request.user  # type: ignore[assignment]
    item = get_object_or_404(_manual_items(user), pk=item_id)
    if not manual.may_handle(user, item.court_id):
        raise PermissionDenied(
            _(
                "Only clerks, case officers and bureau heads of the court that sent the request "
                "download its sealed documents."
            )
        )
    entry = _message_entries([item]).get(str(item.pk), {})
    pdfs = _document_pdfs(entry.get("document"))
    if number >= len(pdfs):
        raise Http404(_("This request carries no sealed document with that number."))
    pdf = pdfs[number]
    try:
        content = base64.b64decode(str(pdf.get("pdf_base64", "")), validate=True)
    except (binascii.Error, ValueError) as error:
        logger.error("Sealed document %s of item %s is not base64: %s", number, item.pk, error)
        raise Http404(_("This sealed document cannot be read.")) from error
    kind = str(pdf.get("kind", ""))
    audit.record(
        audit.Action.READ_PERSONAL,
        item,
        detail={
            "fields": ["pdf"],
            "purpose": "manual request document",
            "case_id": item.case_id,
            "item_id": str(item.pk),
            "kind": kind,
            "sha256": str(pdf.get("sha256", "")),
        },
    )
    logger.info("Sealed document %s of item %s downloaded by user %s", number, item.pk, user.pk)
    response = HttpResponse(content, content_type="application/pdf")
    filename = re.sub(r"[^A-Za-z0-9_-]", "", kind) or "document"
    response["Content-Disposition"] = f'attachment; filename="{filename}-{item.pk}.pdf"'
    patch_cache_control(response, no_store=True, private=True)
    return response
