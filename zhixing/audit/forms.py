import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing.audit.display import object_type_choices
from zhixing.audit.models import AuditRecord
from zhixing.courts import scope
from zhixing.courts.models import Court, User
from zhixing.form_errors import NamedErrorsMixin

# The audit trail starts with the platform; these bounds keep date arithmetic in range.
EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2099, 12, 31)


class DayField(forms.DateField):
    """A date field whose error names the value it cannot read and the format to use."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    default_error_messages = {
        "invalid": _("“%(value)s” is not a date; use the form YYYY-MM-DD, such as 2026-12-01."),
    }

    def to_python(self, value: Any) -> datetime.date | None:
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": value}
            ) from error


class AuditSearchForm(NamedErrorsMixin, forms.Form):
    """Filters of the audit page. Each value must be one the trail can match, or empty."""

    username = forms.CharField(label=_("User name"), required=False)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("Any action")), *AuditRecord.Action.choices],
        error_messages={
            "invalid_choice": _("“%(value)s” is not an action of the audit trail; choose one.")
        },
    )
    object_type = forms.ChoiceField(
        label=_("Object type"),
        required=False,
        error_messages={
            "invalid_choice": _("“%(value)s” is not an object type of the audit trail; choose one.")
        },
    )
    object_id = forms.CharField(label=_("Object ID"), required=False)
    court_code = forms.CharField(label=_("Court code"), required=False)
    since = DayField(label=_("From"), required=False)
    until = DayField(label=_("To"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["object_type"].choices = [  # type: ignore[attr-defined]
            ("", _("Any object type")),
            *object_type_choices(),
        ]

    def clean_court_code(self) -> Court | None:
        """Return the court of the code, which must lie in the searcher's scope."""
        code = self.cleaned_data.get("court_code", "").strip()
        if not code:
            return None
        court = Court.objects.filter(code=code).first()
        if court is None or not scope.court_in_scope(self.user, court):
            raise forms.ValidationError(
                _("No court with the code “%(code)s” is in your scope; check the code."),
                params={"code": code},
            )
        return court

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
