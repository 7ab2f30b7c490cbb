"""The verification page and the public PKI files: the CRL and the root certificate."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from zhixing.esign import services, uploads, verification
from zhixing.esign.forms import VerifyForm

logger = logging.getLogger(__name__)

# Verifiers fetch the CRL often; it stays valid for days, so an hour of caching is safe.
CRL_CACHE_SECONDS = 3600


@require_GET
def crl(request: HttpRequest) -> HttpResponse:
    """Serve the root CA's current CRL (DER), the distribution point named in certificates."""
    response = HttpResponse(services.current_crl(), content_type="application/pkix-crl")
    response["Cache-Control"] = f"public, max-age={CRL_CACHE_SECONDS}"
    return response


@require_GET
def root_certificate(request: HttpRequest) -> HttpResponse:
    """Serve the root CA certificate in PEM, for verifiers to install as trusted."""
    root = services.ensure_root()
    response = HttpResponse(root.certificate_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="zhixing-root-ca.pem"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    report = None
    file_name = ""
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            file_name = upload.name
            try:
                report = uploads.verify_upload(upload)
            except verification.InvalidDocument as error:
                form.add_error("file", str(error))
    else:
        form = VerifyForm()
    status = 400 if form.errors else 200
    context = {"form": form, "report": report, "file_name": file_name}
    return render(request, "esign/verify.html", context, status=status)
