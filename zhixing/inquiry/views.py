"""Pages of debtor queries: the query form, the request list, assets and the answer inbox.

Every page reads through :func:`zhixing.courts.scope.restrict`; a case or query outside the
user's scope returns 404, like a missing one.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from zhixing.audit import services as audit
from zhixing.cases import services as case_services
from zhixing.cases.case_numbers import stored_form
from zhixing.cases.identity import mask_id_number
from zhixing.cases.models import EnforcementCase, Party
from zhixing.courts import scope
from zhixing.courts.masking import mask_address
from zhixing.courts.models import Role, User
from zhixing.form_errors import NamedErrorsMixin
from zhixing.inquiry import batch_files, display, services
from zhixing.inquiry.models import AssetRecord, QueryItem, QueryPolicy, QueryRequest, SeenAnswer
from zhixing.linkage.models import Action, Agency, AgencyHealth, Category, GatewayItem
from zhixing.query_params import InvalidQuery, page_of

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
INBOX_ROWS = 200
# Element id of the batch query form on the request list, the target of GET /inquiry/batch/.
BATCH_FORM_ID = "batch-form"
STATES = GatewayItem.State


class QueryForm(NamedErrorsMixin, forms.Form):
    parties = forms.MultipleChoiceField(
        label=gettext_lazy("Debtors"), widget=forms.CheckboxSelectMultiple
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Leave all unticked to query every category."),
    )
    force = forms.BooleanField(
        label=gettext_lazy("Query again instead of reusing recent answers"), required=False
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, required=False)

    def __init__(self, *args: Any, debtors: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(party.pk), party.name) for party in debtors]
        self.fields["parties"].choices = choices  # type: ignore[attr-defined]


class BatchForm(NamedErrorsMixin, forms.Form):
    numbers = forms.CharField(
        label=gettext_lazy("Case numbers"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=gettext_lazy("One case number per line; all debtors of each case are queried."),
    )
    file = forms.FileField(
        label=gettext_lazy("Or a file of case numbers"),
        required=False,
        help_text=gettext_lazy(
            ".txt, .csv or .xlsx with one case number per line or row, in the first column."
        ),
    )

    def clean_file(self) -> list[str]:
        upload = self.cleaned_data.get("file")
        if not upload:
            return []
        try:
            return batch_files.case_numbers(upload.name, upload.read(batch_files.MAX_BYTES + 1))
        except batch_files.CaseListError as error:
            raise ValidationError(str(error)) from error

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = [line.strip() for line in data.get("numbers", "").splitlines() if line.strip()]
        numbers = list(dict.fromkeys(typed + (data.get("file") or [])))
        if not numbers and not self.errors:
            raise ValidationError(_("Enter case numbers or choose a file of case numbers."))
        if len(numbers) > batch_files.MAX_CASES:
            raise ValidationError(
                _("%(count)s case numbers is too many; query at most %(max)s at once.")
                % {"count": len(numbers), "max": batch_files.MAX_CASES}
            )
        data["case_numbers"] = numbers
        return data


def _case_in_scope(request: HttpRequest, case_id: int) -> EnforcementCase:
    cases = scope.restrict(
        EnforcementCase.objects.select_related("court", "case_officer"), request.user
    )
    return get_object_or_404(cases, pk=case_id)


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


@login_required
def query_new(request: HttpRequest, case_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = _case_in_scope(request, case_id)
    debtors = list(services.case_debtors(case))
    data = request.POST if request.method == "POST" else None
    form = QueryForm(data, debtors=debtors, initial={"parties": [str(p.pk) for p in debtors]})
    if data is not None and form.is_valid():
        chosen = [party for party in debtors if str(party.pk) in form.cleaned_data["parties"]]
        try:
            result = services.request_query(
                user,
                case,
                chosen,
                form.cleaned_data["categories"] or None,
                force=form.cleaned_data["force"],
                reason=form.cleaned_data["reason"],
            )
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            for key, key_messages in error.message_dict.items():
                for message in key_messages:
                    form.add_error(key if key in form.fields else None, message)
        else:
            if result.awaiting_approval:
                messages.success(
                    request,
                    _("Query stored; it goes to the agencies once a bureau head approves it."),
                )
            else:
                messages.success(
                    request,
                    _("Query sent: %(queued)s requests queued, %(reused)s recent answers reused.")
                    % {"queued": len(result.queued), "reused": len(result.reused)},
                )
            return redirect("inquiry-request-list")
    reusable = sorted(
        services.reusable_items(case.court, debtors, Category.values).values(),
        key=lambda item: (item.party_id, item.category, item.agency.code),
    )
    names = {party.pk: party.name for party in debtors}
    for item in reusable:
        item.party_name = names.get(item.party_id, "")  # type: ignore[attr-defined]
    return render(
        request,
        "inquiry/new.html",
        {
            "case": case,
            "form": form,
            "may_query": services.may_query(user, case),
            "case_refusal": services.case_refusal(case),
            "reusable": reusable,
            "reuse_hours": services.reuse_window().total_seconds() / 3600,
        },
        status=400 if data is not None else 200,
    )


def _progress(queries: list[QueryRequest]) -> None:
    """Set ``agencies`` (rows of counts per state) and ``totals`` on each query.

    A row whose items wait to be sent while the agency is outside its service hours gets a note,
    because nothing else would tell the officer why they stay pending.
    """
    rows = (
        QueryItem.objects.filter(request__in=queries)
        .values("request_id", "item__agency_id", "item__agency__name", "item__state")
        .annotate(count=Count("id"))
    )
    per_query: dict[int, dict[tuple[str, int], dict[str, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    pending_agencies = set()
    for row in rows:
        agency = (row["item__agency__name"], row["item__agency_id"])
        per_query[row["request_id"]][agency][row["item__state"]] = row["count"]
        if row["item__state"] == GatewayItem.State.PENDING:
            pending_agencies.add(row["item__agency_id"])
    waiting = _closed_agencies(pending_agencies, timezone.now())
    for query in queries:
        agencies = per_query.get(query.pk, {})
        query.agencies = [  # type: ignore[attr-defined]
            {
                "name": name,
                "counts": [counts.get(state, 0) for state in STATES.values],
                "waiting": waiting.get(agency_id, "")
                if counts.get(GatewayItem.State.PENDING)
                else "",
            }
            for (name, agency_id), counts in sorted(agencies.items())
        ]
        totals = [0] * len(STATES.values)
        for counts in agencies.values():
            for index, state in enumerate(STATES.values):
                totals[index] += counts.get(state, 0)
        query.totals = totals  # type: ignore[attr-defined]
        open_count = sum(totals[: len(GatewayItem.OPEN_STATES)])
        query.in_progress = open_count > 0  # type: ignore[attr-defined]


def _closed_agencies(agency_ids: set[int], now: datetime.datetime) -> dict[int, str]:
    """Return a note for each of the agencies that is outside its service hours at ``now``."""
    notes = {}
    for agency in Agency.objects.filter(pk__in=agency_ids):
        if agency.in_service(now):
            continue
        if agency.service_start is None or agency.service_end is None:
            notes[agency.pk] = _("Outside its service days; waiting requests go out on the next.")
        else:
            notes[agency.pk] = _(
                "Outside its service hours (%(start)s to %(end)s); waiting requests go out when "
                "they begin."
            ) % {
                "start": agency.service_start.strftime("%H:%M"),
                "end": agency.service_end.strftime("%H:%M"),
            }
    return notes


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    queries = scope.restrict(
        QueryRequest.objects.select_related("case", "requested_by"), user, court_field="case__court"
    )
    page = None
    page_errors: list[str] = []
    try:
        page = page_of(Paginator(queries, PAGE_SIZE), request.GET)
    except InvalidQuery as error:
        page_errors = [problem.message for problem in error.problems]
        logger.info("Request list of user %s not shown, invalid page", user.pk)
    shown = list(page.object_list) if page is not None else []
    _progress(shown)
    context = {
        "page": page,
        "page_errors": page_errors,
        "queries": shown,
        "states": STATES.choices,
        "polling": any(query.in_progress for query in shown),  # type: ignore[attr-defined]
        "batch_form": BatchForm(),
        "may_monitor": user.has_role(*MONITOR_ROLES),
        "may_decide": user.has_role(Role.Code.BUREAU_HEAD),
        "may_set_policy": user.has_role(*POLICY_ROLES),
        "awaiting_count": _awaiting(user).count(),
    }
    template = "inquiry/_requests.html" if _is_partial(request) else "inquiry/requests.html"
    # htmx swaps in only 2xx responses, also when it restores the history, so its requests get
    # the error with status 200.
    status = 400 if page_errors and not request.headers.get("HX-Request") else 200
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def case_lookup(request: HttpRequest) -> HttpResponse:
    """Open the query form of the case whose number the user typed on the request list."""
    number = request.GET.get("number", "").strip()
    case = (
        scope.restrict(EnforcementCase.objects.all(), request.user)
        .filter(case_number=stored_form(number))
        .first()
    )
    if case is None:
        messages.error(request, _("%(number)s: no such case in your scope.") % {"number": number})
        return redirect("inquiry-request-list")
    return redirect("inquiry-new", case_id=case.pk)


@login_required
@require_http_methods(["GET", "POST"])
def batch_query(request: HttpRequest) -> HttpResponse:
    """Query all debtors of many cases: typed or uploaded case numbers, or ticked cases.

    A GET, from a bookmark or the back button after a query, goes to the batch query form on
    the request list.
    """
    if request.method != "POST":
        return redirect(reverse("inquiry-request-list") + f"#{BATCH_FORM_ID}")
    user: User = request.user  # type: ignore[assignment]
    if "case_ids" in request.POST:
        ids = [int(value) for value in request.POST.getlist("case_ids") if value.isdigit()]
        ids = list(dict.fromkeys(ids))[: batch_files.MAX_CASES]
        if not ids:
            messages.error(request, _("Tick at least one case."))
            return redirect("case-list")
        found = dict(
            scope.restrict(EnforcementCase.objects.all(), user)
            .filter(pk__in=ids)
            .values_list("case_number", "pk")
        )
        numbers = list(found)
        in_scope = set(found.values())
        missing = [str(pk) for pk in ids if pk not in in_scope]
    else:
        form = BatchForm(request.POST, request.FILES)
        if not form.is_valid():
            for error in form.errors.values():
                messages.error(request, " ".join(str(message) for message in error))
            return redirect("inquiry-request-list")
        typed = form.cleaned_data["case_numbers"]
        stored = {number: stored_form(number) for number in typed}
        by_number = dict(
            scope.restrict(EnforcementCase.objects.all(), user)
            .filter(case_number__in=set(stored.values()))
            .values_list("case_number", "pk")
        )
        # Typed as the user typed them, so that messages quote their own text.
        found = {
            number: by_number[stored[number]] for number in typed if stored[number] in by_number
        }
        numbers = list(found)
        missing = [number for number in typed if number not in found]
    result = services.request_batch(user, [found[n] for n in numbers if n in found])
    awaiting = sum(1 for query in result.queries if query.awaiting_approval)
    messages.success(
        request,
        _("%(done)s cases queried.") % {"done": len(result.queries) - awaiting},
    )
    if awaiting:
        messages.success(
            request,
            _("%(count)s queries wait for a bureau head's approval.") % {"count": awaiting},
        )
    for number in missing:
        messages.error(
            request,
            _("%(number)s: no such case in your scope.") % {"number": number},
        )
    numbers_by_id = {pk: number for number, pk in found.items()}
    for case_id, reason in result.refused.items():
        separator = pgettext("label separator", ": ")
        messages.error(request, f"{numbers_by_id.get(case_id, case_id)}{separator}{reason}")
    return redirect("inquiry-request-list")


def _asset_rows(assets: list[AssetRecord], *, reveal: bool) -> None:
    for asset in assets:
        shown = asset.identifier
        if shown and display.masks_identifier(asset) and not reveal:
            shown = mask_id_number(shown)
        asset.shown_identifier = shown  # type: ignore[attr-defined]
        location = asset.location
        if location and display.masks_location(asset) and not reveal:
            location = mask_address(location)
        asset.shown_location = location  # type: ignore[attr-defined]


def _render_assets(
    request: HttpRequest, case: EnforcementCase, *, reveal: bool = False
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    debtors = list(services.case_debtors(case))
    party_id = request.GET.get("party") or request.POST.get("party") or ""
    assets_qs = AssetRecord.objects.filter(case=case).select_related("agency", "party")
    selected = None
    if party_id:
        selected = next((p for p in debtors if str(p.pk) == party_id), None)
        if selected is None:
            raise Http404("No such debtor of this case.")
        assets_qs = assets_qs.filter(party=selected)
    assets = list(assets_qs.order_by("party_id", "record_type", "agency__code", "position"))
    _asset_rows(assets, reveal=reveal)
    display.label_assets(assets)
    groups: dict[int, dict[str, Any]] = {}
    labels = dict(AssetRecord.Type.choices)
    for asset in assets:
        group = groups.setdefault(asset.party_id, {"party": asset.party, "types": {}})
        group["types"].setdefault(
            asset.record_type, {"label": labels[asset.record_type], "rows": []}
        )
        group["types"][asset.record_type]["rows"].append(asset)
    for group in groups.values():
        travel = group["types"].get(AssetRecord.Type.TRAVEL)
        if travel is not None:
            travel["rows"].sort(key=lambda row: row.sort_key, reverse=True)
    response = render(
        request,
        "inquiry/assets.html",
        {
            "case": case,
            "debtors": debtors,
            "selected": selected,
            "groups": list(groups.values()),
            "count": len(assets),
            "revealed": reveal,
            "may_reveal": case_services.may_see_identity(user, case),
            "may_query": services.may_query(user, case) and not services.case_refusal(case),
        },
    )
    if reveal:
        patch_cache_control(response, no_store=True, private=True)
    return response


@login_required
def case_assets(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_assets(request, _case_in_scope(request, case_id))


@login_required
@require_POST
def case_assets_reveal(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_in_scope(request, case_id)
    if not case_services.may_see_identity(request.user, case):  # type: ignore[arg-type]
        raise PermissionDenied(
            _(
                "Only the case officer, clerks of the court and bureau heads see full numbers "
                "and addresses."
            )
        )
    # Recorded under the case, whose audit trail then lists who saw its debtors' assets.
    audit.record(
        audit.Action.READ_PERSONAL,
        case,
        detail={
            "fields": ["identifier", "location"],
            "purpose": "asset summary",
            "case_id": case.pk,
            "party_id": request.POST.get("party", ""),
        },
    )
    logger.info("Full asset identifiers and locations of case %s shown", case.pk)
    return _render_assets(request, case, reveal=True)


def _inbox_items(user: User) -> Any:
    """Return the officer's unseen closed queries: answers, and queries that failed or expired.

    Control measures are left out: their answers and failures show on the measure pages.
    """
    seen = SeenAnswer.objects.filter(user=user, item=OuterRef("pk"))
    return (
        GatewayItem.objects.filter(
            action=Action.QUERY,
            case__case_officer=user,
            state__in=(STATES.ANSWERED, STATES.FAILED, STATES.EXPIRED),
            case__court__in=scope.visible_courts(user),
        )
        .exclude(Exists(seen))
        .select_related("case", "party", "agency")
        .annotate(asset_count=Count("assets"), closed_at=Coalesce("answered_at", "updated_at"))
        .order_by("-closed_at")
    )


def inbox_count(user: User, cap: int) -> int:
    """Count the officer's unseen closed queries, stopping at ``cap``."""
    return int(_inbox_items(user).order_by().values("pk")[:cap].count())


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    items = list(_inbox_items(user)[:INBOX_ROWS])
    return render(request, "inquiry/inbox.html", {"items": items, "row_limit": INBOX_ROWS})


@login_required
@require_POST
def inbox_seen(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    ids = list(_inbox_items(user).values_list("pk", flat=True)[:INBOX_ROWS])
    SeenAnswer.objects.bulk_create(
        [SeenAnswer(user=user, item_id=pk) for pk in ids], ignore_conflicts=True
    )
    messages.success(request, _("Answers marked as seen."))
    return redirect("inquiry-inbox")


# Roles that watch the gateway of their court and the courts below it.
MONITOR_ROLES = (
    Role.Code.COMMANDER,
    Role.Code.DUTY_OFFICER,
    Role.Code.BUREAU_HEAD,
    Role.Code.ADMINISTRATOR,
)


def _count_by_agency(items: QuerySet[GatewayItem]) -> dict[int, int]:
    rows = items.order_by().values_list("agency_id").annotate(count=Count("id"))
    return dict(rows)


@login_required
def gateway_status(request: HttpRequest) -> HttpResponse:
    """Show query volume and backlog in the user's scope, and each agency's health."""
    user: User = request.user  # type: ignore[assignment]
    if not user.has_role(*MONITOR_ROLES):
        raise PermissionDenied(
            _("Only commanders, duty officers, bureau heads and administrators see this page.")
        )
    since = timezone.now() - datetime.timedelta(hours=24)
    items = scope.restrict(GatewayItem.objects.all(), user)
    # One count per condition, so that each reads only its rows through its own index (see
    # migration linkage.0006) instead of every item ever queued.
    counts = {
        name: _count_by_agency(items.filter(condition))
        for name, condition in (
            ("queued", Q(created_at__gte=since)),
            ("backlog", Q(state__in=GatewayItem.OPEN_STATES)),
            ("failed", Q(state__in=(STATES.FAILED, STATES.EXPIRED), updated_at__gte=since)),
        )
    }
    healths = {health.agency_id: health for health in AgencyHealth.objects.all()}
    rows = []
    for agency in Agency.objects.order_by("kind", "code"):
        health = healths.get(agency.pk)
        requests = health.requests if health else 0
        rows.append(
            {
                "agency": agency,
                "queued": counts["queued"].get(agency.pk, 0),
                "backlog": counts["backlog"].get(agency.pk, 0),
                "failed": counts["failed"].get(agency.pk, 0),
                "latency_ms": health.latency_ms_total // requests if health and requests else None,
                "error_percent": 100 * health.errors / requests if health and requests else None,
                "circuit": health.get_circuit_display() if health else "",
            }
        )
    totals = {name: sum(by_agency.values()) for name, by_agency in counts.items()}
    return render(request, "inquiry/gateway.html", {"rows": rows, "totals": totals})


# Approvals of queries, where the court's policy requires them

POLICY_ROLES = (Role.Code.BUREAU_HEAD, Role.Code.ADMINISTRATOR)
DECIDED_ROWS = 20


class DecisionForm(NamedErrorsMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))]
    )
    note = forms.CharField(label=gettext_lazy("Comment"), max_length=500, required=False)


class PolicyForm(NamedErrorsMixin, forms.ModelForm):
    class Meta:
        model = QueryPolicy
        fields = ["approval_required", "measure_approval_required"]


def _awaiting(user: User) -> Any:
    """Return the queries about cases of ``user``'s court that wait for a decision."""
    if not user.has_role(Role.Code.BUREAU_HEAD) or user.court_id is None:
        return QueryRequest.objects.none()
    return QueryRequest.objects.filter(
        case__court_id=user.court_id, state=QueryRequest.State.AWAITING_APPROVAL
    )


def awaiting_count(user: User, cap: int) -> int:
    """Count the queries that wait for the bureau head's decision, stopping at ``cap``."""
    return int(_awaiting(user).order_by().values("pk")[:cap].count())


def _with_party_names(queries: list[QueryRequest]) -> None:
    ids = {pk for query in queries for pk in query.party_ids}
    names = dict(Party.objects.filter(pk__in=ids).values_list("pk", "name"))
    for query in queries:
        query.party_names = [names.get(pk, "?") for pk in query.party_ids]  # type: ignore[attr-defined]


@login_required
def approval_list(request: HttpRequest) -> HttpResponse:
    """List the queries that wait for the bureau head's decision, and the latest decided ones."""
    user: User = request.user  # type: ignore[assignment]
    if not user.has_role(Role.Code.BUREAU_HEAD):
        raise PermissionDenied(_("Only bureau heads decide on debtor queries."))
    related = ("case", "requested_by", "decided_by")
    awaiting = list(_awaiting(user).select_related(*related).order_by("created_at"))
    decided = list(
        QueryRequest.objects.filter(case__court_id=user.court_id, decided_at__isnull=False)
        .select_related(*related)
        .order_by("-decided_at")[:DECIDED_ROWS]
    )
    _with_party_names(awaiting + decided)
    categories = dict(Category.choices)
    for query in awaiting + decided:
        query.category_labels = [  # type: ignore[attr-defined]
            categories.get(code, code) for code in query.categories
        ]
    return render(
        request,
        "inquiry/approvals.html",
        {"awaiting": awaiting, "decided": decided, "form": DecisionForm()},
    )


@login_required
@require_POST
def approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    queries = scope.restrict(
        QueryRequest.objects.select_related("case__court"), user, court_field="case__court"
    )
    query = get_object_or_404(queries, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or reject the query."))
        return redirect("inquiry-approvals")
    approve = form.cleaned_data["decision"] == "approve"
    try:
        result = services.decide_query(user, query, approve=approve, note=form.cleaned_data["note"])
    except PermissionDenied as error:
        raise PermissionDenied(str(error)) from error
    except ValidationError as error:
        for message in error.messages:
            separator = pgettext("label separator", ": ")
            messages.error(request, f"{query.case.case_number}{separator}{message}")
        return redirect("inquiry-approvals")
    if approve:
        messages.success(
            request,
            _("%(number)s: query approved, %(queued)s requests queued.")
            % {"number": query.case.case_number, "queued": len(result.queued)},
        )
    else:
        messages.success(
            request, _("%(number)s: query rejected.") % {"number": query.case.case_number}
        )
    return redirect("inquiry-approvals")


@login_required
def query_policy(request: HttpRequest) -> HttpResponse:
    """Show and change the query policy of the user's own court."""
    user: User = request.user  # type: ignore[assignment]
    if not user.has_role(*POLICY_ROLES) or user.court is None:
        raise PermissionDenied(_("Only bureau heads and administrators set the query policy."))
    policy = QueryPolicy.objects.filter(court=user.court).first() or QueryPolicy(court=user.court)
    form = PolicyForm(request.POST if request.method == "POST" else None, instance=policy)
    if request.method == "POST" and form.is_valid():
        form.save()
        logger.info(
            "Query policy of court %s set by user %s: approval %s, measure approval %s",
            user.court_id,
            user.pk,
            policy.approval_required,
            policy.measure_approval_required,
        )
        messages.success(request, _("The query policy is saved."))
        return redirect("inquiry-policy")
    return render(request, "inquiry/policy.html", {"form": form, "court": user.court})
