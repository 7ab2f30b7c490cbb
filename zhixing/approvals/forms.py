"""Forms of the approval pages: one per kind of application, and the step form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing.approvals import services
from zhixing.cases.models import DOCUMENT_TYPE_CHOICES

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_PERSON_DOCUMENTS = [
    choice
    for choice in DOCUMENT_TYPE_CHOICES
    if choice[0] not in ("uscc", "organization_code", "business_registration")
]


class ExitRestrictionForm(forms.Form):
    case_number = forms.CharField(
        label=_("Case number"),
        max_length=64,
        help_text=_("An open case of your court, e.g. (2026)粤0104执1234号."),
    )
    person_document_type = forms.ChoiceField(
        label=_("Identity document of the debtor"), choices=_PERSON_DOCUMENTS
    )
    person_document_number = forms.CharField(
        label=_("Document number"),
        max_length=32,
        help_text=_("The person must be a debtor of the case."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}))
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_("The laws and articles that the restriction rests on."),
    )
    period_months = forms.IntegerField(
        label=_("Period (months)"),
        min_value=services.EXIT_RESTRICTION_MONTHS[0],
        max_value=services.EXIT_RESTRICTION_MONTHS[1],
        initial=6,
        help_text=_("From 3 months to 5 years; renew before it ends, or it lapses."),
    )
    period_start = forms.DateField(label=_("Period starts"), widget=_DATE)

    def to_input(self) -> services.ExitRestrictionInput:
        data = self.cleaned_data
        return services.ExitRestrictionInput(
            case_number=data["case_number"],
            person_document_type=data["person_document_type"],
            person_document_number=data["person_document_number"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
            period_months=data["period_months"],
            period_start=data["period_start"],
        )


class SeizureRenewalForm(forms.Form):
    case_number = forms.CharField(
        label=_("Case number"),
        max_length=64,
        help_text=_("An open case of your court, e.g. (2026)粤0104执1234号."),
    )
    seized_property = forms.CharField(
        label=_("Seized property"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Location and certificate number of the real estate, or the vehicle."),
    )
    previous_document_number = forms.CharField(
        label=_("Document number of the seizure"), max_length=100
    )
    previous_start = forms.DateField(label=_("Seizure starts"), widget=_DATE)
    previous_end = forms.DateField(label=_("Seizure ends"), widget=_DATE)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}))
    legal_basis = forms.CharField(
        label=_("Legal basis"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    period_months = forms.IntegerField(
        label=_("Renewal period (months)"),
        min_value=services.SEIZURE_RENEWAL_MONTHS[0],
        max_value=services.SEIZURE_RENEWAL_MONTHS[1],
        initial=36,
        help_text=_("At most the period of the seizure: 3 years for real estate."),
    )

    def to_input(self) -> services.SeizureRenewalInput:
        data = self.cleaned_data
        return services.SeizureRenewalInput(
            case_number=data["case_number"],
            seized_property=data["seized_property"],
            previous_document_number=data["previous_document_number"],
            previous_start=data["previous_start"],
            previous_end=data["previous_end"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
            period_months=data["period_months"],
        )


class StepForm(forms.Form):
    action = forms.ChoiceField(choices=[(action, action) for action in services.Action.ALL])
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
