import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing.audit.models import AuditRecord

# The audit trail starts with the platform; these bounds keep date arithmetic in range.
EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2099, 12, 31)


class AuditSearchForm(forms.Form):
    username = forms.CharField(label=_("User name"), required=False)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Any action")), *AuditRecord.Action.choices],
    )
    object_type = forms.CharField(label=_("Object type"), required=False)
    object_id = forms.CharField(label=_("Object ID"), required=False)
    court_code = forms.CharField(label=_("Court code"), required=False)
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def _clean_day(self, name: str) -> datetime.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not (EARLIEST_DAY <= day <= LATEST_DAY):
            raise forms.ValidationError(
                _("%(day)s is out of range; choose a date from %(first)s to %(last)s.")
                % {"day": day, "first": EARLIEST_DAY, "last": LATEST_DAY}
            )
        return day

    def clean_since(self) -> datetime.date | None:
        return self._clean_day("since")

    def clean_until(self) -> datetime.date | None:
        return self._clean_day("until")

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date; swap them."))
        return data
