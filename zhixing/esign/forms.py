"""The upload form of the verification page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing.form_errors import NamedErrorsMixin

# The largest PDF accepted for verification, in bytes; sealed court documents are far smaller.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class VerifyForm(NamedErrorsMixin, forms.Form):
    file = forms.FileField(
        label=_("Signed PDF document"),
        help_text=_("A PDF file of up to 50 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
