"""Forms of the report pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing import attachments
from zhixing.reports.models import Kind, Severity


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files; the service checks each one's type and size."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": attachments.allowed_extensions()})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=Severity.choices,
        help_text=_(
            "Major and especially major reports reach every command center above at once. "
            "Violent resistance, mass incidents and staff casualties are at least major."
        ),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    occurred_at = forms.DateTimeField(
        label=_("Time of the event"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    place = forms.CharField(label=_("Place"), max_length=200)
    narrative = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 5}))
    people_involved = forms.CharField(
        label=_("People involved"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    measures_taken = forms.CharField(
        label=_("Measures taken"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    case_numbers = forms.CharField(
        label=_("Linked cases"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("One case number per line."),
    )
    uploads = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Photos (.jpg, .png), videos (.mp4, .mov) and documents (.pdf, .docx, .xlsx)."),
    )


class InstructionForm(forms.Form):
    text = forms.CharField(label=_("Instruction"), widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class AnalysisForm(forms.Form):
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    bucket = forms.ChoiceField(
        label=_("Trend by"),
        choices=[("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
        initial="day",
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All kinds")), *Kind.choices], required=False
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", _("All severities")), *Severity.choices], required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(
                    _("The end date %(end)s lies before the start date; swap them.") % {"end": end}
                )
            if (end - start).days > 3 * 366:
                raise forms.ValidationError(_("Choose a period of at most three years."))
        return data
