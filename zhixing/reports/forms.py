"""Forms of the report pages."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing import attachments
from zhixing.form_errors import NamedErrorsMixin
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


class ReportForm(NamedErrorsMixin, forms.Form):
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


class InstructionForm(NamedErrorsMixin, forms.Form):
    text = forms.CharField(label=_("Instruction"), widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(NamedErrorsMixin, forms.Form):
    reply = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


# The analysis covers this many days up to today when no dates are given.
DEFAULT_ANALYSIS_DAYS = 30


class AnalysisForm(NamedErrorsMixin, forms.Form):
    """The period and filters of the analysis page; dates and step left out take defaults.

    A missing or empty end date is today, a missing or empty start date lies
    ``DEFAULT_ANALYSIS_DAYS`` days before the end (both included), and the trend goes by day
    unless the query sets another step. Only values that are given and invalid are errors.
    """

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

    def __init__(
        self, data: Mapping[str, Any] | None = None, *, today: datetime.date, **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", self.default_period(today))
        super().__init__(self._with_defaults(data, today) if data is not None else None, **kwargs)

    @staticmethod
    def default_period(today: datetime.date, end: datetime.date | None = None) -> dict[str, Any]:
        """Return the default start, end and step, ending at ``end`` or else ``today``."""
        end = end or today
        return {
            "start": end - datetime.timedelta(days=DEFAULT_ANALYSIS_DAYS - 1),
            "end": end,
            "bucket": "day",
        }

    @classmethod
    def _with_defaults(cls, data: Mapping[str, Any], today: datetime.date) -> Any:
        """Return a copy of the query ``data`` with the missing or empty period fields filled."""
        filled = data.copy()  # type: ignore[attr-defined]
        end = None
        if filled.get("end"):
            try:
                end = cls.base_fields["end"].clean(filled["end"])
            except forms.ValidationError:
                # The end field reports the invalid value, so the start default counts from today.
                end = None
        defaults = cls.default_period(today, end)
        if not filled.get("start"):
            filled["start"] = defaults["start"].isoformat()
        if not filled.get("end"):
            filled["end"] = defaults["end"].isoformat()
        if not filled.get("bucket"):
            filled["bucket"] = defaults["bucket"]
        return filled

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
