"""Forms of the command pages. The services check the rules; the forms parse the input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing import attachments
from zhixing.courts.models import Court
from zhixing.form_errors import NamedErrorsMixin

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files; the service checks each one's type and size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": attachments.allowed_extensions()})
        )
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _("Photos (.jpg, .png), videos (.mp4, .mov) and documents (.pdf, .docx, .xlsx)."),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


def deadline_field(label: str | Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=DATETIME_INPUT_FORMATS,
        help_text=_("Date and time in Beijing time."),
    )


class OrderForm(NamedErrorsMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    task = forms.CharField(
        label=_("Task"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the receiving courts must do, and what their reply must contain."),
    )
    deadline = deadline_field(_("Reply by"))
    recipients = forms.ModelMultipleChoiceField(
        label=_("Receiving courts"),
        queryset=Court.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one receiving court.")},
    )
    skip_level = forms.BooleanField(label=_("Skip-level order"), required=False)
    skip_level_reason = forms.CharField(
        label=_("Reason for the skip-level order"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_(
            "Orders go to direct subordinates. Give the reason why this one goes further down; "
            "the audit trail records it."
        ),
    )
    case_numbers = forms.CharField(
        label=_("Linked cases"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("One case number per line, of cases in your scope."),
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args: Any, court: Court, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        below = Court.objects.filter(path__startswith=court.path).exclude(pk=court.pk)
        self.fields["recipients"].queryset = below  # type: ignore[attr-defined]


class ReplyForm(NamedErrorsMixin, forms.Form):
    text = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What your court did and found; the issuing court reads it."),
    )
    attachments = MultipleFileField(label=_("Attachments"))


class PassDownForm(NamedErrorsMixin, forms.Form):
    courts = forms.ModelMultipleChoiceField(
        label=_("Pass down to"),
        queryset=Court.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one court to pass the order down to.")},
    )
    deadline = deadline_field(_("Reply by"))
    note = forms.CharField(
        label=_("Note for the courts"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("What your court adds to the order, such as who does what."),
    )

    def __init__(self, *args: Any, court: Court, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["courts"].queryset = court.children.order_by("path")  # type: ignore[attr-defined]
