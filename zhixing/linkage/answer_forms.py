"""Forms in which staff type an agency's paper answer, one form per record of the protocol.

Each record form has the fields of one record type of the gateway protocol and turns its
cleaned values into that record, in the protocol's formats: money, areas and tonnages as
strings with two decimals, shares as decimal fractions, dates as ``2025-06-30`` and instants
with their offset. :class:`AnswerEntry` gathers the found / not found choice and the record
forms of an item's category.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.core.validators import RegexValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhixing.linkage.models import Category

# Maximum records of one type in one answer. More would be a typing mistake.
MAX_RECORDS = 50

DATE_MESSAGES = {"invalid": _("Enter a date such as 2025-06-30.")}
INSTANT_MESSAGES = {"invalid": _("Enter a date and time such as 2025-06-30 14:05.")}
MONEY_MESSAGES = {
    "invalid": _("Enter an amount in yuan, such as 15230.55."),
    "max_decimal_places": _("Enter at most two decimal places, such as 15230.55."),
    "min_value": _("%(value)s is negative; enter %(limit_value)s or more."),
}

CREDIT_CODE = RegexValidator(
    r"^[0-9A-HJ-NPQRTUWXY]{18}$",
    _(
        "Enter the 18-character unified social credit code: digits and capital letters "
        "except I, O, S, V and Z. Compare it with the paper answer."
    ),
)
ACCOUNT_NUMBER = RegexValidator(
    r"^[0-9A-Za-z-]{6,40}$",
    _("Enter 6 to 40 digits, letters or hyphens, without spaces, as on the paper answer."),
)
CURRENCY = RegexValidator(r"^[A-Z]{3}$", _("Enter a three-letter currency code, such as CNY."))
VIN = RegexValidator(
    r"^[A-HJ-NPR-Z0-9]{17}$",
    _("Enter the 17-character VIN: digits and capital letters except I, O and Q."),
)


class UpperCaseField(forms.CharField):
    """A code typed in any case and with spaces, stored in capitals without spaces."""

    def to_python(self, value: Any) -> str:
        return re.sub(r"\s+", "", str(super().to_python(value))).upper()


class MoneyField(forms.DecimalField):
    """An amount in yuan; the protocol writes it as a string with two decimals."""

    def __init__(self, *, label: Any, min_value: Decimal | None = Decimal("0"), **kwargs: Any):
        super().__init__(
            label=label,
            max_digits=16,
            decimal_places=2,
            min_value=min_value,
            error_messages=MONEY_MESSAGES,
            widget=forms.NumberInput(attrs={"step": "0.01"}),
            **kwargs,
        )


class ShareField(forms.DecimalField):
    """A share of ownership as a fraction from 0 to 1, such as ``0.5`` for half."""

    def __init__(self, *, label: Any) -> None:
        super().__init__(
            label=label,
            min_value=Decimal("0"),
            max_value=Decimal("1"),
            max_digits=7,
            decimal_places=6,
            help_text=_("A fraction from 0 to 1, such as 0.5 for half."),
            error_messages={
                "invalid": _("Enter the share as a fraction, such as 0.5 for half."),
                "min_value": _("%(value)s is negative; enter a fraction from 0 to 1."),
                "max_value": _("%(value)s is more than the whole; enter a fraction from 0 to 1."),
            },
            widget=forms.NumberInput(attrs={"step": "any"}),
        )


class SeizuresField(forms.CharField):
    """Seizures already registered on a property, one per line, parsed into protocol objects.

    A line is ``court | case number | since | until``, with dates like ``2025-06-30`` and an
    empty ``until`` for a seizure without an end.
    """

    def __init__(self, *, label: Any) -> None:
        super().__init__(
            label=label,
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_(
                "One seizure per line: court | case number | since | until, such as "
                "广州市天河区人民法院 | (2025)粤0106执100号 | 2025-03-01 | 2028-02-29. "
                "Leave until empty for a seizure without an end, and the box empty for none."
            ),
        )

    def clean(self, value: Any) -> list[dict[str, Any]]:  # type: ignore[override]
        text = super().clean(value)
        seizures = []
        for number, line in enumerate(str(text).splitlines(), start=1):
            if not line.strip():
                continue
            # Chinese input methods type the full-width bar U+FF5C, which separates as well.
            parts = [part.strip() for part in re.split("[|\uff5c]", line)]
            if len(parts) == 3:
                parts.append("")
            if len(parts) != 4 or not all(parts[:3]):
                raise forms.ValidationError(
                    _(
                        "Line %(line)s, %(text)s, needs a court, a case number and a start "
                        "date, separated by |."
                    ),
                    params={"line": number, "text": line.strip()},
                )
            court, case_number, since, until = parts
            seizures.append(
                {
                    "court": court,
                    "case_number": case_number,
                    "since": self._date(number, since),
                    "until": self._date(number, until) if until else None,
                }
            )
        return seizures

    @staticmethod
    def _date(line: int, text: str) -> str:
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            raise forms.ValidationError(
                _("Line %(line)s: %(text)s is not a date; write dates such as 2025-06-30."),
                params={"line": line, "text": text},
            ) from None


def _text(label: Any, *, required: bool = True, max_length: int = 300) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=max_length)


def _date(label: Any, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        error_messages=DATE_MESSAGES,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _instant(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        error_messages=INSTANT_MESSAGES,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Local time (Asia/Shanghai)."),
    )


def _choice(*, label: Any, choices: list[tuple[str, Any]]) -> forms.ChoiceField:
    # The empty first option keeps an untouched extra record empty, so it is left out.
    return forms.ChoiceField(label=label, choices=[("", "---------"), *choices])


def _protocol_value(field: forms.Field, value: Any) -> Any:
    """Return ``value`` of ``field`` in the protocol's format, or None for an empty value."""
    if value is None or value == "":
        return None
    if isinstance(field, ShareField):
        return format(value.normalize(), "f")
    if isinstance(field, forms.DecimalField):
        return f"{value:.2f}"
    if isinstance(field, forms.DateTimeField):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(field, forms.DateField):
        return value.isoformat()
    return value


class RecordForm(forms.Form):
    """One record of an answer. Subclasses declare the fields of one record type."""

    record_type: ClassVar[str]
    # Names this form's formset on the page; two forms of one category need different names.
    key: ClassVar[str]
    title: ClassVar[Any]
    fixed: ClassVar[dict[str, Any]] = {}

    def record(self) -> dict[str, Any]:
        """Return the protocol's record of the cleaned values."""
        record: dict[str, Any] = {"type": self.record_type, **self.fixed}
        for name, field in self.fields.items():
            record[name] = _protocol_value(field, self.cleaned_data.get(name))
        return record


class HouseholdForm(RecordForm):
    record_type = key = "household"
    title = _("Household registration")
    address = _text(_("Registered address"))
    registered_at = _date(_("Registered on"))
    authority = _text(_("Registration authority"))


class ResidenceForm(RecordForm):
    record_type = key = "residence"
    title = _("Residence")
    address = _text(_("Address"))
    since = _date(_("Since"))
    until = _date(_("Until"), required=False)


class HotelStayForm(RecordForm):
    record_type = "travel"
    key = "hotel"
    title = _("Hotel stay")
    fixed = {"kind": "hotel"}
    place = _text(_("Hotel"))
    at = _instant(_("Checked in"))


class BorderCrossingForm(RecordForm):
    record_type = "travel"
    key = "crossing"
    title = _("Exit or entry")
    kind = _choice(label=_("Direction"), choices=[("exit", _("Exit")), ("entry", _("Entry"))])
    port = _text(_("Port"))
    at = _instant(_("Crossed at"))


class ShareholdingForm(RecordForm):
    record_type = key = "shareholding"
    title = _("Shareholding")
    company = _text(_("Company"))
    credit_code = UpperCaseField(label=_("Credit code"), validators=[CREDIT_CODE])
    share = ShareField(label=_("Share"))
    capital = MoneyField(label=_("Capital contribution (yuan)"))


class BusinessRoleForm(RecordForm):
    record_type = key = "business"
    title = _("Business role")
    company = _text(_("Company"))
    credit_code = UpperCaseField(label=_("Credit code"), validators=[CREDIT_CODE])
    role = _choice(
        label=_("Role"),
        choices=[
            ("legal_representative", _("Legal representative")),
            ("director", _("Director")),
            ("supervisor", _("Supervisor")),
            ("manager", _("Manager")),
            ("other", _("Other")),
        ],
    )


class BankAccountForm(RecordForm):
    record_type = key = "bank_account"
    title = _("Bank account")
    bank = _text(_("Bank"))
    account_number = UpperCaseField(label=_("Account number"), validators=[ACCOUNT_NUMBER])
    # Credit card accounts may owe money, so the balance may be negative.
    balance = MoneyField(label=_("Balance"), min_value=None)
    currency = UpperCaseField(
        label=_("Currency"), initial="CNY", max_length=3, validators=[CURRENCY]
    )
    account_type = _choice(
        label=_("Account type"),
        choices=[
            ("debit", _("Debit card")),
            ("savings", _("Savings")),
            ("credit", _("Credit card")),
            ("corporate_basic", _("Corporate basic account")),
            ("corporate_general", _("Corporate general account")),
        ],
    )
    state = _choice(
        label=_("Account state"),
        choices=[
            ("normal", _("Normal")),
            ("dormant", _("Dormant")),
            ("frozen", _("Frozen")),
            ("closed", pgettext_lazy("account", "Closed")),
        ],
    )


class RealEstateForm(RecordForm):
    record_type = key = "real_estate"
    title = _("Real estate")
    location = _text(_("Location"))
    certificate_number = _text(_("Certificate number"), max_length=100)
    area = forms.DecimalField(
        label=_("Area (m²)"),
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        error_messages={
            "invalid": _("Enter the area in square metres, such as 89.50."),
            "min_value": _("%(value)s is negative; enter the area in square metres."),
        },
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    share = ShareField(label=_("Share"))
    use = _choice(
        label=_("Use"),
        choices=[
            ("residential", _("Residential")),
            ("commercial", _("Commercial")),
            ("office", _("Office")),
            ("industrial", _("Industrial")),
            ("parking", _("Parking")),
            ("homestead", _("Homestead")),
            ("other", _("Other")),
        ],
    )
    existing_seizures = SeizuresField(label=_("Existing seizures"))

    def record(self) -> dict[str, Any]:
        record = super().record()
        # The protocol always carries the list, empty when nothing is seized.
        record["existing_seizures"] = self.cleaned_data.get("existing_seizures") or []
        return record


class TaxForm(RecordForm):
    record_type = key = "tax"
    title = _("Tax record")
    taxpayer_id = UpperCaseField(label=_("Taxpayer number"), max_length=40)
    last_filing = _date(_("Last filing"), required=False)
    arrears = MoneyField(label=_("Tax arrears (yuan)"))


class EmploymentForm(RecordForm):
    record_type = key = "employment"
    title = _("Employment")
    employer = _text(_("Employer"))
    credit_code = UpperCaseField(label=_("Employer's credit code"), validators=[CREDIT_CODE])
    monthly_contribution = MoneyField(label=_("Monthly contribution (yuan)"))
    since = _date(_("Since"))


class FamilyForm(RecordForm):
    record_type = key = "family"
    title = _("Family")
    spouse_name = _text(_("Spouse"), required=False, max_length=100)
    children = forms.IntegerField(
        label=_("Children"),
        min_value=0,
        max_value=99,
        error_messages={
            "invalid": _("Enter the number of children, such as 2."),
            "min_value": _("%(value)s is negative; enter 0 or more."),
            "max_value": _("%(value)s is too large; enter the number of children."),
        },
    )


class OrganisationForm(RecordForm):
    record_type = key = "organisation"
    title = _("Organisation")
    name = _text(_("Name"))
    credit_code = UpperCaseField(label=_("Credit code"), validators=[CREDIT_CODE])
    legal_representative = _text(_("Legal representative"), max_length=100)
    address = _text(_("Address"))


class VehicleForm(RecordForm):
    record_type = key = "vehicle"
    title = _("Vehicle")
    plate = UpperCaseField(label=_("Plate"), max_length=20)
    model = _text(_("Model"), max_length=100)
    vin = UpperCaseField(label=_("VIN"), validators=[VIN])
    registered_at = _date(_("Registered on"))
    state = _choice(
        label=_("Vehicle state"),
        choices=[
            ("normal", _("Normal")),
            ("mortgaged", _("Mortgaged")),
            ("seized", _("Seized")),
            ("scrapped", _("Scrapped")),
            ("stolen", _("Stolen")),
        ],
    )


class SecuritiesForm(RecordForm):
    record_type = key = "securities"
    title = _("Securities account")
    account = UpperCaseField(label=_("Account"), max_length=40)
    holdings_value = MoneyField(label=_("Value of holdings (yuan)"))


class ProvidentFundForm(RecordForm):
    record_type = key = "provident_fund"
    title = _("Provident fund account")
    account = UpperCaseField(label=_("Account"), max_length=40)
    balance = MoneyField(label=_("Balance"))


class PaymentAccountForm(RecordForm):
    record_type = key = "payment_account"
    title = _("Payment account")
    platform = _text(_("Platform"), max_length=100)
    # Payment accounts are often phone numbers or e-mail addresses, kept as typed.
    account = _text(_("Account"), max_length=100)
    balance = MoneyField(label=_("Balance"))


class ShipForm(RecordForm):
    record_type = key = "ship"
    title = _("Ship")
    name = _text(_("Ship name"), max_length=100)
    registration_number = UpperCaseField(label=_("Registration number"), max_length=40)
    tonnage = forms.DecimalField(
        label=_("Tonnage"),
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=2,
        error_messages={
            "invalid": _("Enter the tonnage, such as 1200.00."),
            "min_value": _("%(value)s is negative; enter the tonnage."),
        },
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )


# The record forms of each category, as the protocol's table of categories and records has them.
CATEGORY_FORMS: dict[str, list[type[RecordForm]]] = {
    Category.HOUSEHOLD: [HouseholdForm],
    Category.TEMPORARY_RESIDENCE: [ResidenceForm],
    Category.HOTEL_LODGING: [HotelStayForm],
    Category.EXIT_ENTRY: [BorderCrossingForm],
    Category.BUSINESS_REGISTRATION: [ShareholdingForm, BusinessRoleForm],
    Category.BANK_ACCOUNT: [BankAccountForm],
    Category.LAND: [RealEstateForm],
    Category.REAL_ESTATE: [RealEstateForm],
    Category.TAX: [TaxForm],
    Category.SOCIAL_SECURITY: [EmploymentForm],
    Category.FAMILY_PLANNING: [FamilyForm],
    Category.CREDIT_CODE: [OrganisationForm],
    Category.VEHICLE: [VehicleForm],
    Category.SECURITIES: [SecuritiesForm],
    Category.PROVIDENT_FUND: [ProvidentFundForm],
    Category.ONLINE_PAYMENT: [PaymentAccountForm],
    Category.SHIP: [ShipForm],
}


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Answer"),
        choices=[("found", _("Found")), ("not_found", _("Not found"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the agency found anything.")},
    )


class AnswerEntry:
    """The found / not found choice and one formset of records per record form of a category.

    Pass ``add_record`` (a record form's key) to show one more empty record of that kind; the
    data typed so far stays in the page.
    """

    def __init__(
        self, category: str, data: QueryDict | None = None, *, add_record: str = ""
    ) -> None:
        self.status = StatusForm(data)
        self.formsets: list[forms.BaseFormSet[RecordForm]] = []
        for form_class in CATEGORY_FORMS[category]:
            formset_class = forms.formset_factory(
                form_class, extra=1, max_num=MAX_RECORDS, validate_max=True
            )
            prefix = form_class.key
            bound = data
            if data is not None and add_record == prefix:
                bound = data.copy()
                total = f"{prefix}-TOTAL_FORMS"
                try:
                    count = int(bound.get(total, "1"))
                except ValueError:
                    count = 1
                bound[total] = str(min(count + 1, MAX_RECORDS))
            formset = formset_class(bound, prefix=prefix)
            formset.title = form_class.title  # type: ignore[attr-defined]
            formset.key = prefix  # type: ignore[attr-defined]
            self.formsets.append(formset)

    def _filled_forms(self) -> Iterator[RecordForm]:
        for formset in self.formsets:
            for form in formset.forms:
                if form.has_changed():
                    yield form

    def is_valid(self) -> bool:
        """Check the choice and the records together, attaching each error to its own form."""
        valid = self.status.is_valid()
        # Every formset is checked, not only up to the first invalid one, so all errors show.
        formsets_valid = [formset.is_valid() for formset in self.formsets]
        valid = all(formsets_valid) and valid
        status = self.status.cleaned_data.get("status") if self.status.is_bound else None
        filled = any(True for _form in self._filled_forms())
        if status == "not_found" and filled:
            self.status.add_error(
                "status",
                _("You chose not found but entered records; clear them or choose found."),
            )
            valid = False
        if status == "found" and not filled:
            self.status.add_error(
                "status", _("Enter at least one record for a found answer, or choose not found.")
            )
            valid = False
        return valid

    @property
    def status_value(self) -> str:
        return str(self.status.cleaned_data["status"])

    def records(self) -> list[dict[str, Any]]:
        """Return the protocol's records of the filled forms, in page order."""
        return [form.record() for form in self._filled_forms()]
