"""Forms of the case pages: filing a case, and the steps, assignment and closing of a case.

The forms check the shape of the input only. The rules (which numbers are valid, who may file,
which dates are allowed) live in :mod:`zhixing.cases.services`, whose errors the views copy
next to the fields they name.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from zhixing.cases import services
from zhixing.cases.models import (
    DOCUMENT_TYPE_CHOICES,
    ENFORCEMENT_TYPE_LABELS,
    EnforcementCase,
    FlowNode,
    Party,
)
from zhixing.courts.models import Role, User
from zhixing.form_errors import NamedErrorsMixin

# Number of party rows per role on the filing form; blank rows are ignored.
PARTY_ROWS = 3

# The implementing types, which are filed here, labelled as on the case list.
TYPE_CHOICES = [
    (code, format_lazy("{code} — {label}", code=code, label=ENFORCEMENT_TYPE_LABELS[code]))
    for code in ("执", "执恢", "执保")
]

# Steps that the step form records; filing and closing have their own actions, and an officer
# is assigned through the assignment form.
STEP_CHOICES = [
    (kind.value, kind.label)
    for kind in FlowNode.Kind
    if kind not in {FlowNode.Kind.FILED, FlowNode.Kind.CLOSED, FlowNode.Kind.OFFICER_ASSIGNED}
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        return obj.full_name or obj.username


def case_officers(court_id: int) -> Any:
    """Return the active case officers of one court, by name."""
    return User.objects.filter(
        court_id=court_id, is_active=True, roles__code=Role.Code.CASE_OFFICER
    ).order_by("full_name", "username")


class CaseFilingForm(NamedErrorsMixin, forms.Form):
    """The case itself: number type, filing date, enforcement basis, amount and officer."""

    type_code = forms.ChoiceField(label=_("Case type"), choices=TYPE_CHOICES, initial="执")
    filed_on = forms.DateField(label=_("Filing date"), widget=DateInput())
    basis_kind = forms.ChoiceField(
        label=_("Kind of enforcement basis"), choices=EnforcementCase.BasisKind.choices
    )
    basis_court = forms.CharField(
        label=_("Issuing court or body"),
        max_length=100,
        required=False,
        help_text=_("The court or arbitration commission that issued the basis."),
    )
    basis_document_number = forms.CharField(
        label=_("Basis document number"),
        max_length=100,
        required=False,
        help_text=_("For example (2026)粤0104民初100号."),
    )
    claim_amount = forms.DecimalField(
        label=_("Claim amount (yuan)"),
        min_value=0,
        max_digits=16,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )
    case_officer = OfficerChoiceField(
        label=_("Case officer"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Not assigned yet"),
    )

    def __init__(self, *args: Any, court_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case_officer"].queryset = case_officers(court_id)  # type: ignore[attr-defined]
        self.fields["filed_on"].initial = services.today_in_china()


class PartyForm(NamedErrorsMixin, forms.Form):
    """One applicant or debtor row of the filing form. A row without a name is ignored."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    # The initial kind lets the formset tell an untouched row from a filled one.
    kind = forms.ChoiceField(label=_("Kind"), choices=Party.Kind.choices, initial=Party.Kind.PERSON)
    document_type = forms.ChoiceField(
        label=_("Document type"),
        choices=[("", _("By kind: resident ID or credit code")), *DOCUMENT_TYPE_CHOICES],
        required=False,
    )
    document_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    confirmed = forms.BooleanField(
        label=_("Credit code confirmed against the business licence"),
        required=False,
        help_text=_(
            "Tick only after comparing a credit code that fails its check character with the "
            "business licence."
        ),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(name) for name in ("name", "document_number", "address", "phone"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("name", "").strip() and any(
            data.get(name) for name in ("document_number", "address", "phone")
        ):
            self.add_error("name", _("Enter the party's name, or clear the row."))
        return data

    def to_input(self) -> services.PartyInput:
        data = self.cleaned_data
        return services.PartyInput(
            name=data["name"],
            kind=data["kind"],
            document_type=data["document_type"],
            document_number=data["document_number"],
            confirmed=data["confirmed"],
            address=data["address"],
            phone=data["phone"],
        )


PartyFormSet = forms.formset_factory(PartyForm, extra=PARTY_ROWS, max_num=PARTY_ROWS)


class StepForm(NamedErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Step"), choices=STEP_CHOICES)
    on = forms.DateField(label=_("Date"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    extension_months = forms.IntegerField(
        label=_("Extension (months)"),
        min_value=1,
        max_value=24,
        required=False,
        help_text=_("Only for an approved extension: the months approved."),
    )
    extension_days = forms.IntegerField(
        label=_("Extension (days)"),
        min_value=1,
        max_value=365,
        required=False,
        help_text=_("Only for an approved extension: the days approved."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "step")
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = services.today_in_china()


class AssignForm(NamedErrorsMixin, forms.Form):
    officer = OfficerChoiceField(label=_("Case officer"), queryset=User.objects.none())
    on = forms.DateField(label=_("Date"), widget=DateInput())

    def __init__(self, *args: Any, court_id: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "assign")
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = case_officers(court_id)  # type: ignore[attr-defined]
        self.fields["on"].initial = services.today_in_china()


class CloseForm(NamedErrorsMixin, forms.Form):
    mode = forms.ChoiceField(label=_("Closing mode"), choices=EnforcementCase.ClosingMode.choices)
    on = forms.DateField(label=_("Closing date"), widget=DateInput())
    recovered_amount = forms.DecimalField(
        label=_("Recovered amount (yuan)"),
        min_value=0,
        max_digits=16,
        decimal_places=2,
        required=False,
        help_text=_("Leave empty to keep the amount recorded so far."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "close")
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = services.today_in_china()
