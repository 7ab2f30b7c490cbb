"""Pages of control measures: the form from an asset, lists per case and court, the detail with
its sealed documents, renewal and release, and the upcoming expiries.

Every page reads through :func:`zhixing.courts.scope.restrict`; a measure, case or asset
outside the user's scope returns 404, like a missing one. Asset identifiers that are personal
(account numbers) are masked on every page, and so is the location of a natural person's real
estate (:mod:`zhixing.measures.masking`), which the detail page reveals, audited, to those who
may see it. The sealed documents show both in full, so each download is audited. Where the
court's policy requires approval, the detail page and the approval list let the court's bureau
heads approve or reject requests that await them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from zhixing.cases.identity import mask_id_number
from zhixing.cases.models import EnforcementCase
from zhixing.cases.views import copy_errors
from zhixing.courts import scope
from zhixing.courts.masking import mask_address
from zhixing.courts.models import Role, User
from zhixing.inquiry import display
from zhixing.inquiry.models import AssetRecord
from zhixing.measures import services
from zhixing.measures.forms import DecisionForm, MeasureForm, ReleaseForm, RenewForm
from zhixing.measures.kinds import SPECS, MeasureKind, kinds_for
from zhixing.measures.masking import masks_location, shown_asset_label
from zhixing.measures.models import ControlMeasure, MeasureDocument, MeasureStep
from zhixing.measures.rules import NoRuleError, period_label, rule_on
from zhixing.query_params import (
    InvalidParameter,
    InvalidQuery,
    choice,
    database_id,
    list_status,
    page_of,
    query_without,
    url_without,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
# Decided requests that the approval list shows below those awaiting a decision.
DECIDED_ROWS = 20
AWAITING_MESSAGE = gettext_lazy(
    "The request awaits the approval of a bureau head of the court; nothing is sealed or sent "
    "until then."
)
EXPIRY_WINDOWS = (7, 15, 30, 60, 90)
DEFAULT_WINDOW = 30
WINDOW_CHOICES = [(str(days), str(days)) for days in EXPIRY_WINDOWS]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _measure_in_scope(request: HttpRequest, pk: int) -> ControlMeasure:
    measures = services.visible_measures(_user(request)).select_related(
        "case", "case__case_officer", "court", "party", "agency", "asset", "requested_by"
    )
    return get_object_or_404(measures, pk=pk)


def shown_identifier(measure: ControlMeasure) -> str:
    """Return the asset identifier as lists show it: account numbers masked."""
    if measure.asset_type in AssetRecord.PERSONAL_IDENTIFIER_TYPES:
        return mask_id_number(measure.asset_identifier)
    return measure.asset_identifier


def _with_shown(measures: Any) -> list[ControlMeasure]:
    rows = list(measures)
    for measure in rows:
        measure.shown_identifier = shown_identifier(measure)  # type: ignore[attr-defined]
        measure.shown_label = shown_asset_label(measure)  # type: ignore[attr-defined]
    return rows


# The form from an asset


def _period_preview(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return the period the form's values give, or the error that explains why none does."""
    day = timezone.localdate()
    try:
        plan = services.plan_period(
            kind, day, start=data.get("start_date"), months=data.get("period_months")
        )
    except (ValidationError, NoRuleError) as error:
        messages_ = error.messages if isinstance(error, ValidationError) else [str(error)]
        return {"error": " ".join(messages_)}
    if plan is None:
        return {"none": True}
    return {
        "rule": plan.rule,
        "months": plan.months,
        "max_months": plan.max_months,
        "text": period_label(plan.months),
        "start": plan.start,
        "end": plan.end,
        "renewal_months": plan.rule.max_renewal(SPECS[kind].property_class or ""),
    }


@login_required
def measure_new(request: HttpRequest, asset_id: int) -> HttpResponse:
    user = _user(request)
    assets = scope.restrict(
        AssetRecord.objects.select_related("case", "case__court", "party", "agency", "item"),
        user,
        court_field="case__court",
    )
    asset = get_object_or_404(assets, pk=asset_id)
    case = asset.case
    if not services.may_control(user, case):
        raise PermissionDenied(
            _("Only the case officer or a commander may apply measures in this case.")
        )
    kinds = kinds_for(asset.record_type)
    if not kinds:
        raise PermissionDenied(_("No control measure applies to this kind of asset."))
    day = timezone.localdate()
    rule = rule_on(day)
    max_months = max(rule.max_period(SPECS[k].property_class or "deposit") for k in kinds)
    data = request.POST if request.method == "POST" else None
    form = MeasureForm(
        data, kinds=kinds, max_months=max_months, asset=asset, initial={"kind": kinds[0].value}
    )
    if data is not None and form.is_valid():
        values = form.cleaned_data
        try:
            measure = services.request_measure(
                user,
                asset,
                values["kind"],
                amount=values.get("amount"),
                start_date=values.get("start_date"),
                period_months=values.get("period_months"),
            )
        except ValidationError as error:
            copy_errors(error, form)
        else:
            if measure.state == ControlMeasure.State.AWAITING_APPROVAL:
                messages.success(request, AWAITING_MESSAGE)
            else:
                messages.success(
                    request,
                    _("The measure was sealed and queued for %(agency)s.")
                    % {"agency": asset.agency.name},
                )
            return redirect("measure-detail", measure.pk)
    chosen = form.data.get("kind") if form.is_bound else kinds[0].value
    chosen = chosen if chosen in SPECS else kinds[0].value
    preview_values = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    return render(
        request,
        "measures/new.html",
        {
            "asset": asset,
            "case": case,
            "amount_unit": display.currency_unit(asset.currency),
            "shown_identifier": mask_id_number(asset.identifier)
            if asset.identifier_is_personal
            else asset.identifier,
            "shown_asset": _shown_asset(asset),
            "form": form,
            "periods": [
                {"kind": kind, "period": _period_preview(kind.value, {})} for kind in kinds
            ],
            "chosen": chosen,
            "preview": _period_preview(str(chosen), preview_values),
            "queue_position": services.estimate_queue_position(asset, day),
            "needs_approval": services.approval_required(case, user),
        },
        # A form returned with its errors has status 400, as the other forms do.
        status=400 if data is not None else 200,
    )


def _shown_asset(asset: AssetRecord) -> str:
    """Return the asset's institution, location or description, with a person's location masked
    as on the assets page."""
    if asset.institution:
        return asset.institution
    if asset.location:
        return mask_address(asset.location) if display.masks_location(asset) else asset.location
    return asset.description


# Lists


def _court_filter(user: User, params: Any, problems: list[InvalidParameter]) -> str:
    """Return the ``court`` id of ``params`` if it names a court in the user's scope, else "".

    Any other non-empty value adds its problem to ``problems``.
    """
    text = params.get("court", "").strip()
    if not text:
        return ""
    court_id = database_id(text)
    if court_id is None or not scope.visible_courts(user).filter(pk=court_id).exists():
        message = _(
            "%(label)s (%(name)s): no court with the id “%(value)s” is in your scope; "
            "choose a court from the list or leave it empty."
        ) % {"label": _("Court"), "name": "court", "value": text}
        problems.append(InvalidParameter("court", text, message))
        return ""
    return str(court_id)


def _filtered(
    request: HttpRequest, measures: Any
) -> tuple[Any, dict[str, str], list[InvalidParameter]]:
    """Return the measures that the query parameters select, the filter values for the form and
    the problem of each value that the list cannot use.

    The filter values leave out the values with problems, so the form shows the others.
    """
    params = request.GET
    problems: list[InvalidParameter] = []
    filters = {
        "court": _court_filter(_user(request), params, problems),
        "kind": choice(params, "kind", _("Measure"), MeasureKind.choices, problems),
        "state": choice(params, "state", _("State"), ControlMeasure.State.choices, problems),
    }
    if filters["state"]:
        measures = measures.filter(state=filters["state"])
    if filters["kind"]:
        measures = measures.filter(kind=filters["kind"])
    if filters["court"]:
        measures = measures.filter(court_id=int(filters["court"]))
    return measures, filters, problems


def _log_problems(list_name: str, user: User, problems: list[InvalidParameter]) -> None:
    logger.info(
        "%s of user %s not shown, invalid parameters: %s",
        list_name,
        user.pk,
        ", ".join(problem.name for problem in problems),
    )


@login_required
def measure_list(request: HttpRequest) -> HttpResponse:
    """List the measures of the courts in the user's scope, newest first.

    A list with a bad parameter shows its problems and no measures, not a list filtered by the
    other parameters only, which the reader would take for the filtered one.
    """
    user = _user(request)
    measures = services.visible_measures(user).select_related("case", "court", "party", "agency")
    measures, filters, problems = _filtered(request, measures)
    page = None
    if not problems:
        try:
            page = page_of(Paginator(measures, PAGE_SIZE), request.GET)
        except InvalidQuery as error:
            problems = error.problems
    if problems:
        _log_problems("Measure list", user, problems)
    return render(
        request,
        "measures/list.html",
        {
            "page": page,
            "measures": _with_shown(page.object_list) if page is not None else [],
            "filters": filters,
            "query_errors": problems,
            "reset_url": url_without(request, {"page", *(problem.name for problem in problems)}),
            "query": query_without(request.GET, {"page"}),
            "courts": scope.visible_courts(user),
            "states": ControlMeasure.State.choices,
            "kinds": MeasureKind.choices,
        },
        status=list_status(request, problems),
    )


@login_required
def case_measures(request: HttpRequest, case_id: int) -> HttpResponse:
    """List the measures of one case."""
    user = _user(request)
    cases = scope.restrict(EnforcementCase.objects.select_related("court"), user)
    case = get_object_or_404(cases, pk=case_id)
    measures = (
        services.visible_measures(user)
        .filter(case=case)
        .select_related("case", "court", "party", "agency")
    )
    return render(
        request,
        "measures/case.html",
        {
            "case": case,
            "measures": _with_shown(measures),
            "may_control": services.may_control(user, case),
        },
    )


@login_required
def expiring(request: HttpRequest) -> HttpResponse:
    """List the measures in force that end soon, grouped by court.

    A ``days`` value that is not one of ``EXPIRY_WINDOWS`` shows its problem in place of the
    upcoming expiries. The measures that expired without renewal do not depend on it.
    """
    user = _user(request)
    problems: list[InvalidParameter] = []
    window = choice(
        request.GET, "days", _("Expiry window"), WINDOW_CHOICES, problems, str(DEFAULT_WINDOW)
    )
    day = timezone.localdate()
    groups: dict[int, dict[str, Any]] = defaultdict(dict)
    days = None
    if problems:
        _log_problems("Expiry list", user, problems)
    else:
        days = int(window)
        for measure in _with_shown(services.upcoming_expiries(user, day, days)):
            group = groups.setdefault(measure.court_id, {"court": measure.court, "rows": []})
            measure.days_left = (measure.end_date - day).days  # type: ignore[attr-defined,operator]
            group["rows"].append(measure)
    expired = _with_shown(
        services.expired_unrenewed(user, day)
        .select_related("case", "court", "party")
        .order_by("-end_date")
    )
    return render(
        request,
        "measures/expiring.html",
        {
            "groups": list(groups.values()),
            "days": days,
            "windows": EXPIRY_WINDOWS,
            "default_window": DEFAULT_WINDOW,
            "query_errors": problems,
            "reset_url": url_without(request, {"days"}),
            "expired": expired,
        },
        status=list_status(request, problems),
    )


# Detail, renewal and release


def _render_detail(
    request: HttpRequest, measure: ControlMeasure, *, reveal: bool = False
) -> HttpResponse:
    user = _user(request)
    day = timezone.localdate()
    steps = list(measure.steps.prefetch_related("documents").select_related("requested_by"))
    may_control = services.may_control(user, measure.case)
    renew_refusal = services.renewal_refusal(measure, day)
    awaiting = next((step for step in steps if step.awaits_approval), None)
    may_decide = awaiting is not None and services.may_decide(user, measure.case)
    context: dict[str, Any] = {
        "measure": measure,
        "shown_identifier": shown_identifier(measure),
        "shown_label": shown_asset_label(measure, reveal=reveal),
        "label_masked": bool(measure.asset_label) and masks_location(measure) and not reveal,
        "may_reveal": services.may_reveal_location(user, measure),
        "revealed": reveal,
        "steps": steps,
        "may_control": may_control,
        "may_read_documents": services.may_read_documents(user, measure),
        "renew_refusal": renew_refusal,
        "release_refusal": services.release_refusal(measure),
        "days_left": (measure.end_date - day).days if measure.end_date else None,
        "awaiting_step": awaiting,
        "may_decide": may_decide,
        "needs_approval": may_control and services.approval_required(measure.case, user),
    }
    if may_control and not renew_refusal:
        plan = services.plan_renewal(measure)
        context["renew_form"] = RenewForm(max_months=plan.max_months)
        context["renewal"] = plan
    if may_control:
        context["release_form"] = ReleaseForm()
    if not renew_refusal:
        context["renewal_application_url"] = _renewal_application_url(user, measure)
    response = render(request, "measures/detail.html", context)
    if reveal:
        # A page with a person's full address must not stay in a browser or proxy cache.
        patch_cache_control(response, no_store=True, private=True)
    return response


@login_required
def measure_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _measure_in_scope(request, pk))


@login_required
@require_POST
def measure_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the measure's page with the full location of the asset, and audit the read."""
    user = _user(request)
    measure = _measure_in_scope(request, pk)
    if not services.may_reveal_location(user, measure):
        raise PermissionDenied(
            _(
                "Only the case officer, clerks of the court and bureau heads see full numbers "
                "and addresses."
            )
        )
    # A measure whose label is not masked has nothing to reveal, and the page shows it as usual.
    revealed = services.record_location_read(user, measure, purpose="measure detail")
    return _render_detail(request, measure, reveal=revealed)


def _renewal_application_url(user: User, measure: ControlMeasure) -> str:
    """Return the link that drafts a cross-level renewal of ``measure``, or "" where none fits.

    Only seizures in force of the user's own court are renewed through an application, and only
    staff who draft applications get the link.
    """
    # Imported here because the approvals app builds on this one.
    from zhixing.approvals.seizures import SEIZURE_KINDS
    from zhixing.approvals.services import DRAFT_ROLES

    if (
        measure.kind not in SEIZURE_KINDS
        or not measure.is_active
        or measure.court_id != user.court_id
        or not user.has_role(*DRAFT_ROLES)
    ):
        return ""
    url = reverse("approval-new", args=["seizure_renewal"])
    return f"{url}?measure={measure.pk}"


@login_required
@require_POST
def measure_renew(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    measure = _measure_in_scope(request, pk)
    if not services.may_control(user, measure.case):
        raise PermissionDenied(_("Only the case officer or a commander may renew this measure."))
    try:
        maximum = services.plan_renewal(measure).max_months
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("measure-detail", measure.pk)
    form = RenewForm(request.POST, max_months=maximum)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("period_months", [])))
        return redirect("measure-detail", measure.pk)
    try:
        step = services.renew_measure(
            user, measure, period_months=form.cleaned_data["period_months"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if step.awaits_approval:
            messages.success(request, AWAITING_MESSAGE)
        else:
            messages.success(
                request,
                _("The renewal notice was sealed and queued; the new period ends on %(end)s.")
                % {"end": step.end_date},
            )
    return redirect("measure-detail", measure.pk)


@login_required
@require_POST
def measure_release(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    measure = _measure_in_scope(request, pk)
    if not services.may_control(user, measure.case):
        raise PermissionDenied(_("Only the case officer or a commander may release this measure."))
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the release."))
        return redirect("measure-detail", measure.pk)
    try:
        step = services.release_measure(user, measure, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if step.awaits_approval:
            messages.success(request, AWAITING_MESSAGE)
        else:
            messages.success(request, _("The release notice was sealed and queued."))
    return redirect("measure-detail", measure.pk)


# Approval by a bureau head


@login_required
def approval_list(request: HttpRequest) -> HttpResponse:
    """List the requests that await the bureau head's decision, and the latest decided ones."""
    user = _user(request)
    if not user.has_role(Role.Code.BUREAU_HEAD):
        raise PermissionDenied(_("Only bureau heads decide on control measures."))
    related = (
        "measure__case",
        "measure__asset",
        "measure__party",
        "measure__agency",
        "requested_by",
    )
    awaiting = list(services.awaiting_steps(user).select_related(*related).order_by("created_at"))
    decided = list(
        MeasureStep.objects.filter(measure__case__court_id=user.court_id, decided_at__isnull=False)
        .select_related(*related, "decided_by")
        .order_by("-decided_at", "-id")[:DECIDED_ROWS]
    )
    for step in awaiting + decided:
        step.measure.shown_identifier = shown_identifier(step.measure)  # type: ignore[attr-defined]
        step.measure.shown_label = shown_asset_label(step.measure)  # type: ignore[attr-defined]
    return render(request, "measures/approvals.html", {"awaiting": awaiting, "decided": decided})


@login_required
@require_POST
def measure_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject the request of the measure that the form names by its step."""
    user = _user(request)
    measure = _measure_in_scope(request, pk)
    form = DecisionForm(request.POST)
    # The approval list posts back=list, so that the bureau head returns to the list.
    if request.POST.get("back") == "list":
        back = reverse("measure-approvals")
    else:
        back = reverse("measure-detail", args=[measure.pk])
    if not form.is_valid():
        if set(form.errors) == {"note"}:
            messages.error(request, " ".join(str(message) for message in form.errors["note"]))
        else:
            messages.error(request, _("Choose to approve or reject the request."))
        return redirect(back)
    step = get_object_or_404(measure.steps.all(), pk=form.cleaned_data["step"])
    approve = form.cleaned_data["decision"] == "approve"
    prefix = f"{measure.case.case_number}{pgettext('label separator', ': ')}"
    try:
        services.decide_step(user, step, approve=approve, note=form.cleaned_data["note"])
    except ValidationError as error:
        messages.error(request, prefix + " ".join(error.messages))
    else:
        if approve:
            messages.success(request, prefix + _("approved; the documents were sealed and queued."))
        else:
            messages.success(request, prefix + _("rejected; the requester is told the reason."))
    return redirect(back)


@login_required
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a sealed document of a measure in the user's scope; every download is audited."""
    user = _user(request)
    documents = MeasureDocument.objects.select_related("step__measure")
    document = get_object_or_404(documents, pk=pk)
    measure = _measure_in_scope(request, document.step.measure_id)
    if not services.may_read_documents(user, measure):
        raise PermissionDenied(
            _("Only the case officer, clerks of the court, bureau heads and commanders read these.")
        )
    services.record_document_download(user, measure, document)
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.kind}-{measure.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
