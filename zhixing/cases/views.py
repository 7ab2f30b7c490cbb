"""Pages of the case database: list and search, deadlines, detail, filing and case actions.

Every page reads cases through the data scope (:func:`zhixing.cases.search.filter_cases` or
:func:`zhixing.courts.scope.restrict`) and changes them only through
:mod:`zhixing.cases.services`. A case outside the user's scope returns 404, like a missing one.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Prefetch, Q
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from zhixing.cases import deadlines, importing, services
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES
from zhixing.cases.forms import (
    AssignForm,
    CaseFilingForm,
    CloseForm,
    PartyFormSet,
    StepForm,
    case_officers,
)
from zhixing.cases.identity import mask_id_number
from zhixing.cases.models import ENFORCEMENT_TYPE_LABELS, CaseParty, EnforcementCase
from zhixing.cases.search import (
    DUE_CHOICES,
    SOON_DAYS,
    CaseFilter,
    filter_cases,
)
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User
from zhixing.query_params import InvalidQuery, page_of, query_without
from zhixing.web.once import submit_once

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
# NOTE: counting every match of a province-wide filter scans millions of index entries, so the
# list counts at most this many matches and offers pages up to them only. A narrower filter
# reaches the rest; keyset pagination would lift the limit.
COUNT_CAP = 10_000
# Maximum rows on the deadlines page. The totals above the table count every watched case.
DEADLINE_ROWS = 500
DEBTOR_NAMES_SHOWN = 3

# Translated names of the deadline rules of zhixing.cases.deadlines.RULES, by rule id.
DEADLINE_LABELS = {
    "handling_period": gettext_lazy("Handling period"),
    "assign_officer": gettext_lazy("Assign a case officer"),
    "enforcement_notice": gettext_lazy("Send the enforcement notice"),
    "verify_asset_leads": gettext_lazy("Verify the applicant's asset leads"),
    "asset_investigation": gettext_lazy("Finish the asset investigation"),
}
DEADLINE_STATUS_LABELS: Mapping[deadlines.DeadlineStatus, Any] = {
    "done": gettext_lazy("Done"),
    "done_late": gettext_lazy("Done late"),
    "open": pgettext_lazy("deadline status", "Open"),
    "due_soon": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
    "not_applicable": gettext_lazy("Not applicable: the case is closed"),
}
# The select of the case list offers the types that are filed here first, then the other
# enforcement types, which only imported cases have, in the order of ENFORCEMENT_TYPE_LABELS.
LIST_TYPE_CHOICES = [
    (code, format_lazy("{code} — {label}", code=code, label=label))
    for code, label in ENFORCEMENT_TYPE_LABELS.items()
]
SORTABLE_COLUMNS = ("number", "filed", "amount", "due")

# Keys of service errors about one party row, such as ``debtors[0].document_number``.
_PARTY_ERROR_KEY = re.compile(r"^(applicants|debtors)\[(\d+)\]\.(\w+)$")


class CappedPaginator(Paginator):
    """Paginator that counts at most ``COUNT_CAP`` rows and sets ``capped`` when more match."""

    capped = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.values("pk")[: COUNT_CAP + 1].count()  # type: ignore[attr-defined]
        if counted > COUNT_CAP:
            self.capped = True
            return COUNT_CAP
        return int(counted)


def deadline_label(rule_id: str) -> str:
    return str(DEADLINE_LABELS.get(rule_id, rule_id))


def _is_partial(request: HttpRequest) -> bool:
    # htmx requests the whole page when it restores the history, although it sends HX-Request.
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _query_without(params: QueryDict, *names: str, **values: str) -> str:
    query = params.copy()
    for name in names:
        query.pop(name, None)
    for name, value in values.items():
        query[name] = value
    return query.urlencode()


def _sort_links(params: QueryDict, current: str) -> dict[str, dict[str, str]]:
    """Return, per sortable column, the query string that sorts by it and the current order."""
    links = {}
    for column in SORTABLE_COLUMNS:
        order = ""
        if current == column:
            order = "ascending"
        elif current == f"-{column}":
            order = "descending"
        target = f"-{column}" if order == "ascending" else column
        links[column] = {"query": _query_without(params, "page", sort=target), "order": order}
    return links


def _debtor_prefetch() -> Prefetch:
    roles = CaseParty.objects.filter(role=CaseParty.Role.DEBTOR).select_related("party")
    return Prefetch("case_parties", queryset=roles.order_by("id"), to_attr="debtor_roles")


def _mark_due(cases: Iterable[EnforcementCase], today: datetime.date) -> None:
    """Set ``due_state`` (overdue, soon or empty) and ``due_label`` on each case for the page."""
    soon_until = today + datetime.timedelta(days=SOON_DAYS)
    for case in cases:
        due = case.next_due_on
        state = ""
        if due is not None and not case.is_closed:
            if due < today:
                state = "overdue"
            elif due <= soon_until:
                state = "soon"
        case.due_state = state  # type: ignore[attr-defined]
        case.due_label = deadline_label(case.next_due_rule)  # type: ignore[attr-defined]
        roles = getattr(case, "debtor_roles", [])
        case.debtor_names = [role.party.name for role in roles[:DEBTOR_NAMES_SHOWN]]  # type: ignore[attr-defined]
        case.more_debtors = max(len(roles) - DEBTOR_NAMES_SHOWN, 0)  # type: ignore[attr-defined]


def _filter_options(user: User, case_filter: CaseFilter) -> dict[str, Any]:
    courts = scope.visible_courts(user).order_by("path")
    selected = None
    if case_filter.court_code:
        selected = courts.filter(code=case_filter.court_code).first()
    officer_court = selected or user.court
    return {
        # A court without a code, such as a cooperation zone's court, numbers no cases.
        "courts": courts.exclude(code__isnull=True)
        .exclude(code="")
        .only("id", "code", "name", "path"),
        "officers": case_officers(officer_court.pk),
        "officer_court": officer_court,
        "types": LIST_TYPE_CHOICES,
        "statuses": EnforcementCase.Status.choices,
        "due_choices": DUE_CHOICES,
    }


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Show the cases that the query parameters select, or the problems of parameters it cannot use.

    A list with a bad parameter shows its messages and no cases, not a list filtered by the
    other parameters only, which the reader would take for the filtered one.
    """
    user: User = request.user  # type: ignore[assignment]
    case_filter, problems = CaseFilter.parse(request.GET, user)
    page = None
    capped = False
    if not problems:
        cases = filter_cases(user, case_filter).prefetch_related(_debtor_prefetch())
        paginator = CappedPaginator(cases, PAGE_SIZE)
        try:
            page = page_of(paginator, request.GET)
        except InvalidQuery as error:
            problems = error.problems
        else:
            capped = paginator.capped
            _mark_due(page.object_list, services.today_in_china())
    if problems:
        logger.info(
            "Case list of user %s not shown, invalid parameters: %s",
            user.pk,
            ", ".join(problem.name for problem in problems),
        )
    context = {
        "page": page,
        "capped": capped,
        "count_cap": COUNT_CAP,
        "filter": case_filter,
        "filter_errors": problems,
        "query_without_errors": query_without(
            request.GET, {"page", *(problem.name for problem in problems)}
        ),
        "query": _query_without(request.GET, "page"),
        "sort_links": _sort_links(request.GET, case_filter.sort),
        "may_file": services.may_file_at(user, user.court),
        "may_import": importing.may_import(user),
        # The roles that query debtors may tick cases and query them all at once.
        "may_batch_query": user.has_role(
            Role.Code.CASE_OFFICER, Role.Code.COMMANDER, Role.Code.DUTY_OFFICER
        ),
        **_filter_options(user, case_filter),
    }
    template = "cases/_list_update.html" if _is_partial(request) else "cases/list.html"
    # htmx swaps in only 2xx responses, also when it restores the history, so its requests get
    # the problems with status 200.
    status = 400 if problems and not request.headers.get("HX-Request") else 200
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def deadline_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    today = services.today_in_china()
    watched = services.watched_deadline_cases(user, today=today, soon_days=SOON_DAYS)
    totals = watched.aggregate(
        overdue=Count("pk", filter=Q(next_due_on__lt=today)),
        soon=Count("pk", filter=Q(next_due_on__gte=today)),
    )
    rows = list(watched.prefetch_related(_debtor_prefetch())[: DEADLINE_ROWS + 1])
    shown = rows[:DEADLINE_ROWS]
    _mark_due(shown, today)
    for case in shown:
        days_left = (case.next_due_on - today).days  # type: ignore[operator]
        case.days_left = days_left  # type: ignore[attr-defined]
        case.days_overdue = -days_left  # type: ignore[attr-defined]
    groups = [
        (court, list(court_cases))
        for court, court_cases in itertools.groupby(shown, key=lambda case: case.court)
    ]
    return render(
        request,
        "cases/deadlines.html",
        {
            "groups": groups,
            "totals": totals,
            "truncated": len(rows) > DEADLINE_ROWS,
            "row_limit": DEADLINE_ROWS,
            "whole_scope": services.watches_whole_scope(user),
            "soon_days": SOON_DAYS,
        },
    )


# Detail and actions


def _case_in_scope(request: HttpRequest, pk: int) -> EnforcementCase:
    cases = scope.restrict(
        EnforcementCase.objects.select_related("court", "case_officer"), request.user
    )
    return get_object_or_404(cases, pk=pk)


def _party_rows(case: EnforcementCase, *, reveal: bool) -> dict[str, list[CaseParty]]:
    rows: dict[str, list[CaseParty]] = {CaseParty.Role.APPLICANT: [], CaseParty.Role.DEBTOR: []}
    for role in case.case_parties.select_related("party").order_by("id"):
        party = role.party
        number = party.document_number
        if number and not reveal:
            number = mask_id_number(number)
        party.shown_number = number  # type: ignore[attr-defined]
        rows.setdefault(role.role, []).append(role)
    return rows


def _deadline_rows(case: EnforcementCase) -> list[dict[str, Any]]:
    return [
        {
            "label": deadline_label(item.rule_id),
            "due_on": item.due_on,
            "done_on": item.done_on,
            "status": item.status,
            "status_label": DEADLINE_STATUS_LABELS[item.status],
            # A step a closed case no longer owes looks like one not yet due, not like a warning.
            "style": "open" if item.status == "not_applicable" else item.status,
        }
        for item in services.case_deadlines(case)
    ]


def _render_detail(
    request: HttpRequest,
    case: EnforcementCase,
    *,
    reveal: bool = False,
    forms: Mapping[str, BaseForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    parties = _party_rows(case, reveal=reveal)

    may_change = services.may_change_case(user, case) and not case.is_closed
    may_assign = services.may_assign_officer(user, case)
    forms = dict(forms or {})
    if may_change:
        forms.setdefault("step", StepForm())
        forms.setdefault("close", CloseForm(initial={"recovered_amount": case.recovered_amount}))
    if may_assign:
        forms.setdefault("assign", AssignForm(court_id=case.court_id))

    context = {
        "case": case,
        "implementing_types": IMPLEMENTING_TYPE_CODES,
        "applicants": parties[CaseParty.Role.APPLICANT],
        "debtors": parties[CaseParty.Role.DEBTOR],
        "revealed": reveal,
        "may_reveal": services.may_see_identity(user, case),
        "flow": case.flow.select_related("user").order_by("on", "id"),
        "deadlines": _deadline_rows(case),
        "may_change": may_change,
        "may_assign": may_assign,
        "step_form": forms.get("step"),
        "assign_form": forms.get("assign"),
        "close_form": forms.get("close"),
    }
    response = render(request, "cases/detail.html", context, status=status)
    if reveal:
        # A page with full identity numbers must not stay in a browser or proxy cache.
        patch_cache_control(response, no_store=True, private=True)
    return response


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _case_in_scope(request, pk))


@login_required
@require_POST
def case_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_in_scope(request, pk)
    if not services.may_see_identity(request.user, case):  # type: ignore[arg-type]
        raise PermissionDenied(
            _("Only the case officer, clerks of the court and bureau heads see full numbers.")
        )
    links = list(case.case_parties.select_related("party"))
    recorded = services.record_identity_read(case, links, purpose="case detail")
    logger.info("Full party data of case %s shown, %s audit records", case.pk, recorded)
    return _render_detail(request, case, reveal=True)


def copy_errors(
    error: ValidationError, form: BaseForm, renamed: Mapping[str, str] | None = None
) -> None:
    """Add the messages of a service's ``error`` to ``form``, next to the fields they name."""
    renamed = renamed or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, key_messages in error.message_dict.items():
        name = renamed.get(key, key)
        field = name if name in form.fields else None
        for message in key_messages:
            form.add_error(field, message)


def _case_action(
    request: HttpRequest, pk: int, form_name: str, form: BaseForm, run: Any, done: str
) -> HttpResponse:
    """Validate ``form``, call ``run(case, cleaned_data)`` and show the errors or the case."""
    case = _case_in_scope(request, pk)
    if form.is_valid():
        try:
            run(case, form.cleaned_data)
        except ValidationError as error:
            copy_errors(error, form, {"case_officer": "officer"})
        else:
            messages.success(request, done)
            return redirect("case-detail", pk=case.pk)
    # Reload the case: a failed service call may have changed the instance before rolling back.
    case = _case_in_scope(request, pk)
    return _render_detail(request, case, forms={form_name: form}, status=400)


@login_required
@require_POST
def case_step(request: HttpRequest, pk: int) -> HttpResponse:
    def run(case: EnforcementCase, data: dict[str, Any]) -> None:
        services.record_step(
            actor=request.user,  # type: ignore[arg-type]
            case=case,
            kind=data["kind"],
            on=data["on"],
            note=data["note"],
            extension_months=data["extension_months"],
            extension_days=data["extension_days"],
        )

    return _case_action(request, pk, "step", StepForm(request.POST), run, _("Step recorded."))


@login_required
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    court_id = _case_in_scope(request, pk).court_id

    def run(case: EnforcementCase, data: dict[str, Any]) -> None:
        services.assign_officer(
            actor=request.user,  # type: ignore[arg-type]
            case=case,
            officer=data["officer"],
            on=data["on"],
        )

    form = AssignForm(request.POST, court_id=court_id)
    return _case_action(request, pk, "assign", form, run, _("Case officer assigned."))


@login_required
@require_POST
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    def run(case: EnforcementCase, data: dict[str, Any]) -> None:
        services.close_case(
            actor=request.user,  # type: ignore[arg-type]
            case=case,
            mode=data["mode"],
            on=data["on"],
            recovered_amount=data["recovered_amount"],
        )

    return _case_action(request, pk, "close", CloseForm(request.POST), run, _("Case closed."))


# Filing


def _party_inputs(
    formset: BaseFormSet,
) -> tuple[list[services.PartyInput], list[int]]:
    """Return the filled rows of ``formset`` as service input, and each one's row index."""
    inputs, rows = [], []
    for index, form in enumerate(formset.forms):
        if form.has_changed() and not form.is_blank():
            inputs.append(form.to_input())
            rows.append(index)
    return inputs, rows


def _copy_filing_errors(
    error: ValidationError,
    form: CaseFilingForm,
    formsets: Mapping[str, BaseFormSet],
    rows: Mapping[str, list[int]],
    group_errors: dict[str, list[str]],
) -> None:
    """Show a filing error next to its field, its party row or its group of rows."""
    if not hasattr(error, "error_dict"):
        copy_errors(error, form)
        return
    for key, key_messages in error.message_dict.items():
        match = _PARTY_ERROR_KEY.match(key)
        if match is not None:
            group, index, name = match.group(1), int(match.group(2)), match.group(3)
            row_form = formsets[group].forms[rows[group][index]]
            field = name if name in row_form.fields else None
            for message in key_messages:
                row_form.add_error(field, message)
        elif key in formsets:
            group_errors[key].extend(key_messages)
        else:
            copy_errors(ValidationError({key: key_messages}), form)


@login_required
@submit_once
def case_create(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    court: Court = user.court
    if not services.may_file_at(user, court):
        raise PermissionDenied(_("Only case officers, clerks and bureau heads file cases."))
    data = request.POST if request.method == "POST" else None
    form = CaseFilingForm(data, court_id=court.pk)
    if data is None and user.has_role("case_officer"):
        form.initial["case_officer"] = user.pk
    formsets = {
        "applicants": PartyFormSet(data, prefix="applicants"),
        "debtors": PartyFormSet(data, prefix="debtors"),
    }
    group_errors: dict[str, list[str]] = {"applicants": [], "debtors": []}
    if data is not None:
        # Validate every part, so that the page shows all errors at once.
        parties_valid = [formset.is_valid() for formset in formsets.values()]
        if form.is_valid() and all(parties_valid):
            applicants, applicant_rows = _party_inputs(formsets["applicants"])
            debtors, debtor_rows = _party_inputs(formsets["debtors"])
            cleaned = form.cleaned_data
            try:
                case = services.file_case(
                    actor=user,
                    court=court,
                    filed_on=cleaned["filed_on"],
                    basis_kind=cleaned["basis_kind"],
                    applicants=applicants,
                    debtors=debtors,
                    claim_amount=cleaned["claim_amount"],
                    type_code=cleaned["type_code"],
                    basis_court=cleaned["basis_court"],
                    basis_document_number=cleaned["basis_document_number"],
                    case_officer=cleaned["case_officer"],
                )
            except ValidationError as error:
                rows = {"applicants": applicant_rows, "debtors": debtor_rows}
                _copy_filing_errors(error, form, formsets, rows, group_errors)
            else:
                messages.success(
                    request, _("Case %(number)s filed.") % {"number": case.case_number}
                )
                return redirect("case-detail", pk=case.pk)
    return render(
        request,
        "cases/new.html",
        {
            "form": form,
            "court": court,
            "party_groups": [
                ("applicants", _("Applicants"), formsets["applicants"], group_errors["applicants"]),
                ("debtors", _("Debtors"), formsets["debtors"], group_errors["debtors"]),
            ],
        },
        status=400 if data is not None else 200,
    )


def own_open_count(user: User, cap: int) -> int:
    """Count the open cases assigned to the user, stopping at ``cap``."""
    own = EnforcementCase.objects.filter(
        case_officer=user,
        status=EnforcementCase.Status.OPEN,
        court__in=scope.visible_courts(user),
    )
    return int(own.order_by().values("pk")[:cap].count())


def overdue_count(user: User, cap: int) -> int:
    """Count the overdue cases the user watches, stopping at ``cap``."""
    today = services.today_in_china()
    watched = services.watched_deadline_cases(user, today=today, soon_days=0)
    overdue: models.QuerySet[EnforcementCase] = watched.filter(next_due_on__lt=today)
    return int(overdue.order_by().values("pk")[:cap].count())
