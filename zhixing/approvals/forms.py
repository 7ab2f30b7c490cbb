"""Forms of the approval pages: one per kind of application, and the step form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from zhixing.approvals import seizures, services
from zhixing.cases.models import DOCUMENT_TYPE_CHOICES
from zhixing.courts.models import User
from zhixing.form_errors import NamedErrorsMixin
from zhixing.measures.masking import shown_asset_label
from zhixing.measures.models import ControlMeasure

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_PERSON_DOCUMENTS = [
    choice
    for choice in DOCUMENT_TYPE_CHOICES
    if choice[0] not in ("uscc", "organization_code", "business_registration")
]


class ExitRestrictionForm(NamedErrorsMixin, forms.Form):
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


class SeizureRenewalForm(NamedErrorsMixin, forms.Form):
    case_number = forms.CharField(
        label=_("Case number"),
        max_length=64,
        help_text=_("An open case of your court, e.g. (2026)粤0104执1234号."),
    )
    # An integer, not a model choice, so that the service names what is wrong with a value.
    measure = forms.IntegerField(
        label=_("Seizure renewed"),
        required=False,
        widget=forms.Select,
        help_text=_(
            "A seizure in force of the case. The fields of the seizure left empty below are "
            "taken from its record, and executing the approved application renews it."
        ),
    )
    seized_property = forms.CharField(
        label=_("Seized property"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_(
            "Location and certificate number of the real estate, or the vehicle. Required "
            "unless you choose the seizure above."
        ),
    )
    previous_document_number = forms.CharField(
        label=_("Document number of the seizure"), max_length=100, required=False
    )
    previous_start = forms.DateField(label=_("Seizure starts"), widget=_DATE, required=False)
    previous_end = forms.DateField(label=_("Seizure ends"), widget=_DATE, required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}))
    legal_basis = forms.CharField(
        label=_("Legal basis"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    period_months = forms.IntegerField(
        label=_("Renewal period (months)"),
        min_value=services.SEIZURE_RENEWAL_MONTHS[0],
        max_value=services.SEIZURE_RENEWAL_MONTHS[1],
        initial=36,
        help_text=_(
            "At most the period of the seizure: 3 years for real estate, 2 years for a vehicle."
        ),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str | int, str]] = [("", str(_("None: type the seizure in below")))]
        for measure in seizures.seizures_to_renew(user):
            choices.append((measure.pk, seizure_choice_label(measure)))
        self.fields["measure"].widget.choices = choices  # type: ignore[attr-defined]

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
            measure_id=data["measure"],
        )


def seizure_choice_label(measure: ControlMeasure) -> str:
    """Return how the form lists a seizure: id, case, kind, asset and the last day.

    The location of a person's real estate is masked, as on the measure pages.
    """
    return _("#%(id)s · %(case)s · %(kind)s · %(asset)s · ends %(end)s") % {
        "id": measure.pk,
        "case": measure.case.case_number,
        "kind": measure.get_kind_display(),
        "asset": shown_asset_label(measure) or "—",
        "end": measure.end_date.isoformat() if measure.end_date else "—",
    }


class StepForm(NamedErrorsMixin, forms.Form):
    action = forms.ChoiceField(choices=[(action, action) for action in services.Action.ALL])
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
