"""Search page of the audit trail, limited to the searcher's data scope."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixing.audit.display import audit_row
from zhixing.audit.forms import AuditSearchForm
from zhixing.audit.models import AuditRecord
from zhixing.audit.objects import describe, object_descriptions
from zhixing.courts import scope
from zhixing.courts.models import User
from zhixing.query_params import InvalidQuery, page_of

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _search(records: QuerySet[AuditRecord], data: dict[str, Any]) -> QuerySet[AuditRecord]:
    """Return the records that match the cleaned values of the search form."""
    if data["username"]:
        records = records.filter(username__icontains=data["username"])
    if data["action"]:
        records = records.filter(action=data["action"])
    if data["object_type"]:
        records = records.filter(object_type=data["object_type"])
    if data["object_id"]:
        records = records.filter(object_id=data["object_id"])
    court = data["court_code"]
    if court is not None:
        records = records.filter(
            Q(actor_court_path__startswith=court.path)
            | Q(subject_court_path__startswith=court.path)
        )
    if data["since"]:
        records = records.filter(at__gte=_day_start(data["since"]))
    if data["until"]:
        records = records.filter(at__lt=_day_start(data["until"] + datetime.timedelta(days=1)))
    return records


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    """Show the audit records in scope that the search selects, or why the search is invalid.

    An invalid search shows its errors and no records, because records filtered by the valid
    fields only would pass for the search's result.
    """
    user: User = request.user  # type: ignore[assignment]
    if not scope.may_read_audit(user):
        raise PermissionDenied(
            _("Only bureau heads, commanders and administrators read the audit trail.")
        )
    form = AuditSearchForm(request.GET or None, user=user)
    records: QuerySet[AuditRecord] = AuditRecord.objects.filter(scope.audit_scope(user))
    records = records.select_related("court")
    valid = form.is_valid() if form.is_bound else True
    page = None
    page_errors: list[str] = []
    if valid:
        if form.is_bound:
            records = _search(records, form.cleaned_data)
        paginator = Paginator(records.order_by("-at", "-id"), PAGE_SIZE)
        try:
            page = page_of(paginator, request.GET)
        except InvalidQuery as error:
            page_errors = [problem.message for problem in error.problems]
    if page is None:
        logger.info(
            "Audit search of user %s not shown, invalid fields: %s",
            user.pk,
            ", ".join([*form.errors, *(["page"] if page_errors else [])]),
        )
    htmx = bool(request.headers.get("HX-Request"))
    template = "audit/_rows.html" if htmx else "audit/search.html"
    query = request.GET.copy()
    query.pop("page", None)
    records_shown = list(page) if page is not None else []
    descriptions = object_descriptions(records_shown)
    context = {
        "form": form,
        "page": page,
        "rows": [audit_row(record, describe(record, descriptions)) for record in records_shown],
        "page_errors": page_errors,
        "query": query.urlencode(),
    }
    # htmx swaps in only 2xx responses, so its requests get the errors with status 200.
    status = 400 if page is None and not htmx else 200
    return render(request, template, context, status=status)
