"""Pages of key-information reports: the report list, the form, and a report's timeline.

Reports are read through :func:`services.visible_reports`: those of courts in the user's
scope and those delivered to the user's court. Anything else returns 404, like a missing one.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixing import attachments
from zhixing.audit import services as audit
from zhixing.courts.models import User
from zhixing.reports import analysis, services
from zhixing.reports.forms import AnalysisForm, InstructionForm, ReplyForm, ReportForm
from zhixing.reports.models import (
    Instruction,
    ReportAttachment,
    ReportDelivery,
    SituationReport,
)
from zhixing.web.once import submit_once

logger = logging.getLogger(__name__)

LIST_ROWS = 100


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _thread(request: HttpRequest, pk: int) -> SituationReport:
    user: User = request.user  # type: ignore[assignment]
    report = get_object_or_404(
        services.visible_reports(user).select_related("court", "reported_by", "first_report"),
        pk=pk,
    )
    return report.thread_root


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for key, key_messages in error.message_dict.items():
            for message in key_messages:
                form.add_error(key if key in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    """Show the reports the user's court received from below and those it sent up."""
    user: User = request.user  # type: ignore[assignment]
    received = list(
        ReportDelivery.objects.filter(court_id=user.court_id, report__stage="first")
        .select_related("report__court")
        .order_by(
            # Unacknowledged first, newest first within each group.
            "-report__created_at"
        )[:LIST_ROWS]
    )
    received.sort(key=lambda delivery: delivery.acknowledged_at is not None)
    sent = list(
        SituationReport.objects.filter(court_id=user.court_id, stage="first")
        .prefetch_related("deliveries__court")
        .order_by("-created_at")[:LIST_ROWS]
    )
    context = {
        "received": received,
        "sent": sent,
        "may_report": services.may_report(user),
        "unacknowledged": sum(1 for delivery in received if delivery.acknowledged_at is None),
    }
    template = "reports/_lists.html" if _is_partial(request) else "reports/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _report_input(form: ReportForm) -> services.ReportInput:
    data = form.cleaned_data
    return services.ReportInput(
        kind=data["kind"],
        severity=data["severity"],
        title=data["title"],
        occurred_at=data["occurred_at"],
        place=data["place"],
        narrative=data["narrative"],
        people_involved=data["people_involved"],
        measures_taken=data["measures_taken"],
        case_numbers=data["case_numbers"].splitlines(),
        files=data["uploads"],
    )


def _submit(
    request: HttpRequest, form: ReportForm, *, follows: SituationReport | None, final: bool
) -> SituationReport | None:
    user: User = request.user  # type: ignore[assignment]
    try:
        return services.submit_report(user, _report_input(form), follows=follows, final=final)
    except PermissionDenied as error:
        form.add_error(None, str(error))
    except ValidationError as error:
        _add_errors(form, error)
    return None


@login_required
@submit_once
def report_new(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not services.may_report(user):
        raise PermissionDenied(
            _("Only command center, enforcement and judicial police staff report.")
        )
    posted = request.method == "POST"
    form = ReportForm(
        data=request.POST if posted else None,
        files=request.FILES if posted else None,
        initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if request.method == "POST" and form.is_valid():
        report = _submit(request, form, follows=None, final=False)
        if report is not None:
            messages.success(
                request,
                _("Report sent to %(count)s command center(s).")
                % {"count": report.deliveries.count()},
            )
            return redirect("report-detail", pk=report.pk)
    return render(
        request,
        "reports/new.html",
        {"form": form, "follows": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@submit_once
def report_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    root = _thread(request, pk)
    final = request.GET.get("final") == "1" or request.POST.get("final") == "1"
    posted = request.method == "POST"
    form = ReportForm(
        data=request.POST if posted else None,
        files=request.FILES if posted else None,
        initial={
            "kind": root.kind,
            "severity": root.severity,
            "title": root.title,
            "place": root.place,
            "occurred_at": timezone.localtime(root.occurred_at),
        },
    )
    if request.method == "POST" and form.is_valid():
        report = _submit(request, form, follows=root, final=final)
        if report is not None:
            messages.success(request, _("%(stage)s sent.") % {"stage": report.get_stage_display()})
            return redirect("report-detail", pk=root.pk)
    return render(
        request,
        "reports/new.html",
        {"form": form, "follows": root, "final": final},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    root = _thread(request, pk)
    services.mark_received(user, root)

    reports = [
        root,
        *root.later_reports.select_related("court", "reported_by").order_by("created_at"),
    ]
    deliveries = list(root.deliveries.select_related("court", "acknowledged_by"))
    own = next((delivery for delivery in deliveries if delivery.court_id == user.court_id), None)
    thread_ids = [report.pk for report in reports]
    own_open = ReportDelivery.objects.filter(
        report_id__in=thread_ids, court_id=user.court_id, acknowledged_at__isnull=True
    ).exists()

    instructions = list(
        root.instructions.select_related("court", "author").prefetch_related("receipts__court")
    )
    for instruction in instructions:
        instruction.own_receipt = next(  # type: ignore[attr-defined]
            (
                receipt
                for receipt in instruction.receipts.all()
                if receipt.court_id == user.court_id
            ),
            None,
        )
    commands_own = own is not None and services.may_command(user, own.court)

    context = {
        "root": root,
        "reports": reports,
        "deliveries": deliveries,
        "own": own,
        "may_acknowledge": commands_own and own_open,
        "may_forward": commands_own
        and own is not None
        and own.court.parent_id is not None
        and not any(delivery.court_id == own.court.parent_id for delivery in deliveries),
        "may_instruct": user.court is not None
        and services.may_command(user, user.court)
        and root.court.is_within(user.court)
        and root.court_id != user.court_id,
        "may_follow_up": root.court_id == user.court_id
        and services.may_report(user)
        and not any(report.stage == "final" for report in reports),
        "may_answer": user.court is not None and services.may_command(user, user.court),
        "instructions": instructions,
        "timeline": services.timeline(root),
        "attachments": ReportAttachment.objects.filter(report_id__in=thread_ids).order_by("id"),
        "instruction_form": InstructionForm(),
        "reply_form": ReplyForm(),
    }
    template = "reports/_detail.html" if _is_partial(request) else "reports/detail.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def report_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    root = _thread(request, pk)
    services.acknowledge(request.user, root)  # type: ignore[arg-type]
    messages.success(request, _("Receipt acknowledged."))
    return redirect("report-detail", pk=root.pk)


@login_required
@require_POST
def report_forward(request: HttpRequest, pk: int) -> HttpResponse:
    root = _thread(request, pk)
    try:
        delivery = services.forward(request.user, root)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Forwarded to %(court)s.") % {"court": delivery.court.name})
    return redirect("report-detail", pk=root.pk)


@login_required
@require_POST
def report_instruct(request: HttpRequest, pk: int) -> HttpResponse:
    root = _thread(request, pk)
    form = InstructionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the instruction."))
        return redirect("report-detail", pk=root.pk)
    services.instruct(request.user, root, form.cleaned_data["text"])  # type: ignore[arg-type]
    messages.success(request, _("Instruction sent."))
    return redirect("report-detail", pk=root.pk)


@login_required
@require_POST
def instruction_answer(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    visible = services.visible_reports(user)
    instruction = get_object_or_404(
        Instruction.objects.filter(
            Q(report__in=visible) | Q(receipts__court_id=user.court_id)
        ).distinct(),
        pk=pk,
    )
    form = ReplyForm(request.POST)
    form.is_valid()
    try:
        services.answer_instruction(user, instruction, reply=form.cleaned_data.get("reply", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Instruction answered."))
    return redirect("report-detail", pk=instruction.report_id)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    user: User = request.user  # type: ignore[assignment]
    attachment = get_object_or_404(
        ReportAttachment.objects.filter(report__in=services.visible_reports(user)), pk=pk
    )
    try:
        path = attachments.path_of(attachment.stored_name)
        handle = path.open("rb")
    except (ValueError, OSError) as error:
        logger.error("Attachment %s of report %s is missing: %s", pk, attachment.report_id, error)
        raise Http404("The file is missing.") from error
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _analysis_period(request: HttpRequest) -> tuple[AnalysisForm, analysis.Period | None]:
    today = timezone.localdate()
    form = AnalysisForm(request.GET or None, today=today)
    if not request.GET:
        default = AnalysisForm.default_period(today)
        return form, analysis.Period(start=default["start"], end=default["end"])
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, analysis.Period(
        start=data["start"],
        end=data["end"],
        bucket=data["bucket"],
        kind=data["kind"],
        severity=data["severity"],
    )


@login_required
def report_analysis(request: HttpRequest) -> HttpResponse:
    """Show counts and trends of the reports in the user's scope, with a map by city."""
    user: User = request.user  # type: ignore[assignment]
    form, period = _analysis_period(request)
    result = analysis.analyse(user, period) if period is not None else None
    return render(
        request,
        "reports/analysis.html",
        {
            "form": form,
            "result": result,
            "chart_data": result.chart_data() if result is not None else None,
            "export_query": request.GET.urlencode(),
        },
        status=400 if period is None else 200,
    )


@login_required
def report_analysis_export(request: HttpRequest) -> HttpResponse:
    """Download the analysis of the chosen period as an .xlsx workbook (audited)."""
    user: User = request.user  # type: ignore[assignment]
    form, period = _analysis_period(request)
    if period is None:
        messages.error(request, " ".join(str(error) for error in form.errors.values()))
        return redirect("report-analysis")
    result = analysis.analyse(user, period)
    audit.record(
        audit.Action.EXPORT,
        object_type="reports.analysis",
        detail={
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "kind": period.kind,
            "severity": period.severity,
            "reports": result.total,
        },
    )
    response = HttpResponse(analysis.workbook(result), content_type=XLSX_CONTENT_TYPE)
    name = f"reports-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
