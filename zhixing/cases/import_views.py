"""Pages of the case import: upload with a mode, template download, progress and row report.

A file of up to :data:`importing.SYNCHRONOUS_ROW_LIMIT` rows is imported in the request. A
longer one is queued for the worker, and its page polls the progress every second with htmx.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from zhixing.audit.middleware import client_address
from zhixing.cases import importing, jobs
from zhixing.cases.exporting import XLSX_CONTENT_TYPE, build_template
from zhixing.cases.job_models import ImportJob
from zhixing.courts.models import User
from zhixing.form_errors import NamedErrorsMixin

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
RECENT_JOBS = 10


class ImportForm(NamedErrorsMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("When some rows are rejected"),
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        try:
            importing.file_suffix(upload.name)
        except importing.ImportFileError as error:
            raise forms.ValidationError(str(error)) from error
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB; split it into several files.")
                % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


def _importer(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not importing.may_import(user):
        raise PermissionDenied(_("Only clerks and bureau heads import cases."))
    return user


def _own_job(request: HttpRequest, pk: int) -> ImportJob:
    user: User = request.user  # type: ignore[assignment]
    job = ImportJob.objects.filter(pk=pk, user=user).first()
    if job is None:
        raise Http404(_("No import of yours has this number."))
    return job


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Show the upload form and the user's recent imports; start an import on POST."""
    user = _importer(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = jobs.create_job(
            user=user,
            data=upload.read(),
            name=upload.name,
            mode=form.cleaned_data["mode"],
            client_address=client_address(request),
        )
        rows = importing.estimate_rows(jobs.job_path(job), job.original_name)
        if rows is not None and rows <= importing.SYNCHRONOUS_ROW_LIMIT:
            jobs.process_job_now(job)
        return redirect("case-import-job", pk=job.pk)
    recent = ImportJob.objects.filter(user=user)[:RECENT_JOBS]
    context = {"form": form, "recent": recent, "row_limit": importing.SYNCHRONOUS_ROW_LIMIT}
    return render(request, "cases/import_page.html", context)


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """Download the import template (.xlsx with an example row and a 说明 sheet)."""
    response = HttpResponse(build_template(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="case-import-template.xlsx"'
    return response


def _job_context(job: ImportJob) -> dict[str, object]:
    return {"job": job, "errors": importing.rows_for_errors(job.errors)}


@login_required
@require_GET
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an import's progress while it runs and its row report when it is done."""
    job = _own_job(request, pk)
    return render(request, "cases/import_job.html", _job_context(job))


@login_required
@require_GET
def import_job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the progress fragment that the job page polls; the report once the job is done."""
    job = _own_job(request, pk)
    return render(request, "cases/import_progress.html", _job_context(job))
