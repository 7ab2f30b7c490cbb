"""The form in which administrators edit a document template."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing.form_errors import NamedErrorsMixin


class TemplateForm(NamedErrorsMixin, forms.Form):
    title = forms.CharField(
        label=_("Document title"),
        max_length=100,
        help_text=_("Printed as the title, available in the text as {{ title }}."),
    )
    body = forms.CharField(
        label=_("Template text"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 28, "class": "template-body", "spellcheck": "false"}),
    )
    note = forms.CharField(
        label=_("Change note"),
        max_length=300,
        required=False,
        help_text=_("What changed and why; shown in the version history."),
    )
