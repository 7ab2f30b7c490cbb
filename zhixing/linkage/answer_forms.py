"""Forms in which staff type an agency's paper answer, one form per record of the protocol.

Each record form has the fields of one record type of the gateway protocol and turns its
cleaned values into that record, in the protocol's formats: money, areas and tonnages as
strings with two decimals, shares as decimal fractions, dates as ``2025-06-30`` and instants
with their offset. :class:`AnswerEntry` gathers the found / not found choice and the record
forms of a query's category. :class:`MeasureAnswerEntry` does the same for a control measure,
whose answer has one record of the item's action (``docs/protocol.md`` section 8).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django import forms
from django.core.validators import RegexValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhixing.form_errors import NamedErrorsMixin
from zhixing.linkage.models import Action, Category

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


class RecordForm(NamedErrorsMixin, forms.Form):
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


class StatusForm(NamedErrorsMixin, forms.Form):
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


# Control measures

# Asset types whose identifying field is an account: deposits, frozen and deducted up to an
# amount. An answer names them by ``account_number`` and any other asset by ``identifier``.
DEPOSIT_ASSET_TYPES = frozenset(
    {"bank_account", "provident_fund", "payment_account", "online_payment", "securities"}
)
SHARE_ASSET_TYPES = frozenset({"shareholding", "business"})
# The asset type of each category's records, for an item whose measure names no asset type.
CATEGORY_ASSET_TYPES: dict[str, str] = {
    Category.BANK_ACCOUNT: "bank_account",
    Category.PROVIDENT_FUND: "provident_fund",
    Category.ONLINE_PAYMENT: "payment_account",
    Category.SECURITIES: "securities",
    Category.REAL_ESTATE: "real_estate",
    Category.LAND: "real_estate",
    Category.VEHICLE: "vehicle",
    Category.SHIP: "ship",
    Category.BUSINESS_REGISTRATION: "shareholding",
}
ASSET_TYPE_LABELS = {
    "bank_account": _("Bank account"),
    "provident_fund": _("Provident fund account"),
    "payment_account": _("Payment account"),
    "online_payment": _("Payment account"),
    "securities": _("Securities account"),
    "real_estate": _("Real estate"),
    "land": _("Land"),
    "vehicle": _("Vehicle"),
    "ship": _("Ship"),
    "shareholding": _("Shareholding"),
    "business": _("Shareholding"),
}
# Actions whose answer carries the period the agency registered.
PERIOD_ACTIONS = frozenset({Action.FREEZE, Action.SEIZE, Action.RENEW, Action.RESTRICT_EXIT})
# Actions whose answer carries the queue position (轮候) of the new freeze or seizure.
QUEUE_ACTIONS = frozenset({Action.FREEZE, Action.SEIZE})
RESULT_CHOICES = [
    ("done", _("Done: applied as requested")),
    ("partial", _("Partial: applied in part")),
    ("rejected", _("Rejected: not applied")),
]
# The protocol's limit on the length of a record's reason.
MAX_REASON_CHARS = 500


def _parse_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _parse_date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RequestedMeasure:
    """The request of a measure item: its action and the item's ``measure``.

    The values are those of the batch message that went to the agency, so pages and forms show
    the request as the agency received it. ``asset_type`` and the rest are None when the
    message names none, as for an exit restriction, or when the item's measure is missing.
    """

    action: str
    category: str
    asset_type: str | None = None
    identifier: str | None = None
    amount: Decimal | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    reference: str | None = None

    @classmethod
    def from_message(cls, action: str, category: str, measure: Any) -> RequestedMeasure:
        """Read an item's ``measure`` object, or an empty request from anything else."""
        if not isinstance(measure, dict):
            return cls(action=action, category=category)
        asset_type = measure.get("asset_type")
        identifier = measure.get("identifier")
        reference = measure.get("reference")
        return cls(
            action=action,
            category=category,
            asset_type=str(asset_type) if asset_type else None,
            identifier=str(identifier) if identifier else None,
            amount=_parse_decimal(measure.get("amount")),
            start=_parse_date(measure.get("start")),
            end=_parse_date(measure.get("end")),
            reference=str(reference) if reference else None,
        )

    @property
    def asset_kind(self) -> str | None:
        """The asset type, or the one of the item's category when the measure names none."""
        if self.action == Action.RESTRICT_EXIT:
            return None
        return self.asset_type or CATEGORY_ASSET_TYPES.get(self.category)

    @property
    def asset_label(self) -> Any:
        kind = self.asset_kind
        return ASSET_TYPE_LABELS.get(kind, kind) if kind else ""

    @property
    def asset_field(self) -> str | None:
        """The answer record's field that names the asset, or None for an exit restriction."""
        if self.action == Action.DEDUCT:
            return "account_number"
        kind = self.asset_kind
        if kind is None:
            return None
        return "account_number" if kind in DEPOSIT_ASSET_TYPES else "identifier"

    @property
    def is_deposit(self) -> bool:
        return self.asset_field == "account_number"

    @property
    def identifier_is_personal(self) -> bool:
        """Whether the identifier is an account number, which pages show masked."""
        return self.is_deposit and bool(self.identifier)

    @property
    def amount_field(self) -> str | None:
        """The answer record's field of money applied, or None for an action without one."""
        if self.action == Action.DEDUCT:
            return "deducted_amount"
        if self.is_deposit and self.action in (Action.FREEZE, Action.RENEW):
            return "frozen_amount"
        return None

    @property
    def needs_amount(self) -> bool:
        """Whether the answer must say how much money the agency froze or deducted."""
        return self.action in (Action.FREEZE, Action.DEDUCT) and self.amount_field is not None


def _asset_field(kind: str | None) -> forms.CharField:
    """Return the field of an asset's identifier, checked as the query record of ``kind`` is."""
    if kind == "bank_account":
        field: forms.CharField = UpperCaseField(
            label=_("Account number"), validators=[ACCOUNT_NUMBER]
        )
    elif kind in ("provident_fund", "securities"):
        field = UpperCaseField(label=_("Account"), max_length=40)
    elif kind in ("payment_account", "online_payment"):
        # Payment accounts are often phone numbers or e-mail addresses, kept as typed.
        field = _text(_("Account"), max_length=100)
    elif kind in ("real_estate", "land"):
        field = _text(_("Certificate number"), max_length=100)
    elif kind == "vehicle":
        field = UpperCaseField(label=_("Plate"), max_length=20)
    elif kind == "ship":
        field = UpperCaseField(label=_("Registration number"), max_length=40)
    elif kind in SHARE_ASSET_TYPES:
        field = UpperCaseField(label=_("Company's credit code"), validators=[CREDIT_CODE])
    else:
        field = _text(_("Asset identifier"), max_length=100)
    field.help_text = _(
        "Prefilled from the request; change it only if the agency's answer names another."
    )
    field.error_messages["required"] = _(
        "Enter the asset that the agency's answer names; without a change it is the one of "
        "the request."
    )
    return field


class MeasureStatusForm(NamedErrorsMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("Answer"),
        choices=[
            ("found", _("Found: the agency answered with the outcome below")),
            (
                "not_found",
                _("Not found: nothing to apply the request to, such as a closed account"),
            ),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the agency found what the request names.")},
    )


class MeasureRecordForm(NamedErrorsMixin, forms.Form):
    """The one record of an answer to a control measure: the outcome of the item's action.

    The fields follow the protocol's record of the action. The asset is ``account_number`` for
    deposits, ``identifier`` for other assets and absent for an exit restriction. Then come the
    money frozen or deducted, the registered period, the queue position, the release date, the
    result and the reason. The asset and the period start with the values of the request, so
    staff change only what the agency's paper answer gives differently.
    """

    def __init__(
        self, requested: RequestedMeasure, data: QueryDict | None = None, **kwargs: Any
    ) -> None:
        initial: dict[str, Any] = {}
        if requested.asset_field and requested.identifier:
            initial[requested.asset_field] = requested.identifier
        if requested.action in PERIOD_ACTIONS:
            initial.update(start=requested.start, end=requested.end)
        kwargs.setdefault("prefix", requested.action)
        super().__init__(data, initial=initial, **kwargs)
        self.requested = requested

        self.fields["result"] = forms.ChoiceField(
            label=_("Result"),
            choices=RESULT_CHOICES,
            widget=forms.RadioSelect,
            error_messages={
                "required": _("Choose the result the agency reported: done, partial or rejected.")
            },
        )
        self._add_asset_fields(requested)
        self._add_date_fields(requested)
        self.fields["reason"] = forms.CharField(
            label=_("Reason or note"),
            required=False,
            max_length=MAX_REASON_CHARS,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_("Required when the agency rejected the request; at most 500 characters."),
            error_messages={
                "max_length": _(
                    "The reason has %(show_value)d characters; shorten it to at most "
                    "%(limit_value)d."
                )
            },
        )

    def _add_date_fields(self, requested: RequestedMeasure) -> None:
        """Add the period, the queue position and the release date that the action reports."""
        if requested.action in PERIOD_ACTIONS:
            self.fields["start"] = _date(_("Period start"), required=False)
            self.fields["end"] = _date(_("Period end"), required=False)
            self.fields["start"].help_text = _(
                "As the agency registered it; prefilled with the period of the request."
            )
        if requested.action in QUEUE_ACTIONS:
            self.fields["queue_position"] = forms.IntegerField(
                label=_("Queue position"),
                required=False,
                min_value=0,
                # More than 9999 earlier measures on one asset would be a typing mistake.
                max_value=9999,
                help_text=_("Earlier freezes or seizures of the asset that come first; 0 if none."),
                error_messages={
                    "invalid": _("Enter the queue position as a whole number, such as 0."),
                    "min_value": _("%(value)s is negative; enter 0 or more."),
                    "max_value": _("%(value)s is too large; enter the queue position."),
                },
            )
        if requested.action == Action.RELEASE:
            self.fields["released_on"] = _date(_("Released on"), required=False)

    def _add_asset_fields(self, requested: RequestedMeasure) -> None:
        asset = requested.asset_field
        if asset is not None:
            # A deduction without a measure still names an account, checked as a bank's.
            kind = requested.asset_kind or "bank_account"
            self.fields[asset] = _asset_field(kind)
        amount = requested.amount_field
        if amount is None:
            return
        if amount == "deducted_amount":
            label = _("Amount deducted (yuan)")
        else:
            label = _("Amount frozen (yuan)")
        help_text: Any = _("What the agency reports, such as 15230.55.")
        if requested.amount is not None:
            help_text = _(
                "What the agency reports; the request asked for at most %(amount)s yuan."
            ) % {"amount": f"{requested.amount:.2f}"}
        self.fields[amount] = MoneyField(label=label, required=False, help_text=help_text)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        result = data.get("result")
        if not result:
            return data
        rejected = result == "rejected"
        if rejected and not data.get("reason"):
            self.add_error(
                "reason",
                _("Enter the reason the agency gave for rejecting the request."),
            )
        if not rejected:
            self._check_applied(data)
        self._check_period(data)
        self._check_amount(data, str(result))
        return data

    def _check_applied(self, data: dict[str, Any]) -> None:
        """Require what the protocol requires of a measure that the agency applied."""
        missing = {
            "start": _("Enter the start of the period the agency registered."),
            "end": _("Enter the end of the period the agency registered."),
            "queue_position": _(
                "Enter the queue position the agency reported, 0 if no earlier measure comes first."
            ),
            "released_on": _("Enter the date on which the agency released the asset."),
        }
        for name, message in missing.items():
            if name in self.fields and name not in self.errors and data.get(name) is None:
                self.add_error(name, message)

    def _check_period(self, data: dict[str, Any]) -> None:
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end < start:
            self.add_error(
                "end",
                _(
                    "The end %(end)s lies before the start %(start)s; compare both dates "
                    "with the answer."
                )
                % {"end": end.isoformat(), "start": start.isoformat()},
            )

    def _check_amount(self, data: dict[str, Any], result: str) -> None:
        name = self.requested.amount_field
        if name is None or name in self.errors:
            return
        amount = data.get(name)
        if amount is None:
            if self.requested.needs_amount and result != "rejected":
                self.add_error(name, _("Enter the amount the agency reports, such as 15230.55."))
            return
        limit = self.requested.amount
        if result == "rejected" and amount > 0:
            self.add_error(
                name,
                _("A rejected request applied nothing: enter 0.00, or choose partial or done."),
            )
        elif limit is not None and amount > limit:
            self.add_error(
                name,
                _("%(amount)s is more than the %(limit)s asked; compare it with the answer.")
                % {"amount": f"{amount:.2f}", "limit": f"{limit:.2f}"},
            )
        elif (
            result == "done"
            and limit is not None
            and amount < limit
            and "result" not in self.errors
        ):
            self.add_error(
                "result",
                _(
                    "The agency applied %(amount)s of the %(limit)s asked, which is partial: "
                    "choose partial, or correct the amount."
                )
                % {"amount": f"{amount:.2f}", "limit": f"{limit:.2f}"},
            )

    def record(self) -> dict[str, Any]:
        """Return the protocol's record of the cleaned values, without the empty fields."""
        record: dict[str, Any] = {"type": self.requested.action}
        for name, field in self.fields.items():
            value = _protocol_value(field, self.cleaned_data.get(name))
            if value is not None:
                record[name] = value
        amount = self.requested.amount_field
        if amount is not None and self.requested.needs_amount and amount not in record:
            # A rejected record of deposits carries 0.00 as the amount applied.
            record[amount] = "0.00"
        return record


class MeasureAnswerEntry:
    """The found / not found choice and the one record of an answer to a control measure.

    It has the attributes and methods of :class:`AnswerEntry` that the page uses, so the page
    stores both the same way.
    """

    def __init__(self, requested: RequestedMeasure, data: QueryDict | None = None) -> None:
        self.requested = requested
        self.status = MeasureStatusForm(data)
        self.record_form = MeasureRecordForm(requested, data)
        # The record's errors stay hidden when the answer is not found, which ignores the record.
        self.record_quiet = False

    def is_valid(self) -> bool:
        valid = self.status.is_valid()
        status = self.status.cleaned_data.get("status") if valid else None
        if status == "not_found":
            self.record_quiet = True
            if self.record_form.has_changed():
                self.status.add_error(
                    "status",
                    _(
                        "You chose not found but filled in an outcome; clear the outcome or "
                        "choose found."
                    ),
                )
                valid = False
            return valid
        return self.record_form.is_valid() and valid

    @property
    def status_value(self) -> str:
        return str(self.status.cleaned_data["status"])

    def records(self) -> list[dict[str, Any]]:
        """Return the one record of a found answer, or no record for not found."""
        if self.status_value != "found":
            return []
        return [self.record_form.record()]
