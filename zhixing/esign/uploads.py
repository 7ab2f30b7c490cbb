"""Reading an uploaded PDF for verification, shared by the page and the API."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from zhixing.esign import verification
from zhixing.esign.forms import MAX_UPLOAD_BYTES


def verify_upload(upload: UploadedFile) -> verification.VerificationReport:
    """Verify an uploaded PDF; raise :class:`verification.InvalidDocument` naming the file."""
    name = upload.name or _("The uploaded file")
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise verification.InvalidDocument(
            _("%(name)s is larger than 50 MB; upload the signed PDF document alone.")
            % {"name": name}
        )
    return verification.verify_pdf(upload.read(), name=name)
