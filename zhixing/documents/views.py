"""Pages where administrators edit the document templates, preview them and restore versions.

Everyone but administrators gets 403. Previews render with the made-up data of
:mod:`zhixing.documents.samples` and the administrator's own court. They show no personal data,
so the audit trail does not record them. It records every saved version, through its signal.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhixing.cases.views import copy_errors
from zhixing.courts.models import User
from zhixing.documents import services
from zhixing.documents.forms import TemplateForm
from zhixing.documents.kinds import DocumentKind
from zhixing.documents.models import DocumentTemplate
from zhixing.documents.rendering import DocumentTemplateError, render_source
from zhixing.documents.samples import sample_context

logger = logging.getLogger(__name__)


def _require_manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not services.may_manage_templates(user):
        raise PermissionDenied(services.TEMPLATE_MANAGERS_ONLY)
    return user


def _kind(code: str) -> DocumentKind:
    if code not in DocumentKind.values:
        raise Http404(_("No document kind has the code %(code)s.") % {"code": code})
    return DocumentKind(code)


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    """List every document kind with the version of its template in use."""
    _require_manager(request)
    active = {
        template.code: template
        for template in DocumentTemplate.objects.filter(active=True).select_related("updated_by")
    }
    rows = [{"kind": kind, "template": active.get(kind.value)} for kind in DocumentKind]
    return render(request, "documents/template_list.html", {"rows": rows})


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    # The pages' policy has object-src 'none', which can keep a browser's PDF viewer from
    # showing the document. A PDF carries no script of ours, so PDF responses go without the
    # policy: django-csp 4.0's middleware skips responses with this flag, as @csp_exempt() sets.
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response


def _preview(request: HttpRequest, user: User, code: str, title: str, body: str) -> HttpResponse:
    try:
        document = render_source(
            title, body, sample_context(user.court, code), author=user.court.name
        )
    except DocumentTemplateError as error:
        return render(
            request,
            "documents/preview_error.html",
            {"kind": DocumentKind(code), "error": error},
            status=400,
        )
    return _pdf_response(document.pdf, f"{code}-preview.pdf")


@login_required
def template_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Show the version in use in an editor; saving stores a new version after checking it."""
    user = _require_manager(request)
    kind = _kind(code)
    current = DocumentTemplate.objects.active(code)
    initial = {"title": current.title, "body": current.body}
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            template = services.save_version(user, code, data["title"], data["body"], data["note"])
        except ValidationError as error:
            copy_errors(error, form)
        else:
            messages.success(
                request,
                _("Version %(version)s of %(kind)s saved and in use.")
                % {"version": template.version, "kind": kind.label},
            )
            return redirect("document-template-edit", code=code)
    return render(
        request,
        "documents/template_edit.html",
        {"form": form, "kind": kind, "current": current},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def template_preview(request: HttpRequest, code: str) -> HttpResponse:
    """Render the text in the editor, saved or not, with sample data, as a PDF shown inline."""
    user = _require_manager(request)
    _kind(code)
    form = TemplateForm(request.POST)
    title = request.POST.get("title", "")
    body = request.POST.get("body", "")
    if not form.is_valid() and ("title" in form.errors or "body" in form.errors):
        messages_by_field = form.errors.get_json_data()
        error = DocumentTemplateError(
            " ".join(
                item["message"]
                for field in ("title", "body")
                for item in messages_by_field.get(field, [])
            )
        )
        return render(
            request,
            "documents/preview_error.html",
            {"kind": DocumentKind(code), "error": error},
            status=400,
        )
    return _preview(request, user, code, title, body)


@login_required
def template_history(request: HttpRequest, code: str) -> HttpResponse:
    """List every version of a template, the newest first."""
    _require_manager(request)
    kind = _kind(code)
    versions = DocumentTemplate.objects.filter(code=code).select_related("updated_by")
    return render(request, "documents/template_history.html", {"kind": kind, "versions": versions})


def _version(code: str, version: int) -> DocumentTemplate:
    _kind(code)
    return get_object_or_404(DocumentTemplate, code=code, version=version)


@login_required
def version_detail(request: HttpRequest, code: str, version: int) -> HttpResponse:
    """Show the text of one version, with its preview and a button to restore it."""
    _require_manager(request)
    template = _version(code, version)
    return render(
        request,
        "documents/version_detail.html",
        {"kind": DocumentKind(code), "template": template},
    )


@login_required
def version_preview(request: HttpRequest, code: str, version: int) -> HttpResponse:
    user = _require_manager(request)
    template = _version(code, version)
    return _preview(request, user, code, template.title, template.body)


@login_required
@require_POST
def version_restore(request: HttpRequest, code: str, version: int) -> HttpResponse:
    """Store an earlier version's text as the new version in use."""
    user = _require_manager(request)
    template = _version(code, version)
    try:
        restored = services.restore_version(user, template)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("document-template-version", code=code, version=version)
    messages.success(
        request,
        _("Version %(old)s restored as version %(new)s.")
        % {"old": template.version, "new": restored.version},
    )
    return redirect("document-template-edit", code=code)
