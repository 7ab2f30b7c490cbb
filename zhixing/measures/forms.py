"""Forms of the measure pages; the services check every rule again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zhixing.form_errors import NamedErrorsMixin
from zhixing.inquiry.models import AssetRecord
from zhixing.measures import services
from zhixing.measures.kinds import SPECS, MeasureKind


def _month_choices(maximum: int) -> list[tuple[int, str]]:
    return [
        (months, ngettext("%(months)s month", "%(months)s months", months) % {"months": months})
        for months in range(1, maximum + 1)
    ]


class MeasureForm(NamedErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Measure"))
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        max_digits=16,
        decimal_places=2,
        required=False,
        help_text=_("Deposits only: the limit of the freeze, or the amount to deduct."),
    )
    start_date = forms.DateField(
        label=_("Start"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: today. At most 30 days ahead."),
    )
    period_months = forms.TypedChoiceField(
        label=_("Period"), coerce=int, required=False, empty_value=None
    )
    confirm_over_balance = forms.BooleanField(
        label=_("Deduct more than the last known balance"),
        required=False,
        help_text=_(
            "Tick only if the account may hold more by now, for example after a new deposit."
        ),
    )

    def __init__(
        self,
        *args: Any,
        kinds: list[MeasureKind],
        max_months: int,
        asset: AssetRecord | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # With the asset known, a deduction beyond the account's last known balance needs the
        # officer's confirmation. The page shows the box only after the form has warned.
        self.asset = asset
        self.over_balance = False
        if asset is None or MeasureKind.DEDUCT not in kinds:
            del self.fields["confirm_over_balance"]
        kind_field: Any = self.fields["kind"]
        kind_field.choices = [(kind.value, kind.label) for kind in kinds]
        period_field: Any = self.fields["period_months"]
        period_field.choices = [("", _("The maximum")), *_month_choices(max_months)]
        # Kinds of measure limited to an amount. The page hides the amount for the other kinds.
        self.amount_kinds = [kind.value for kind in kinds if SPECS[kind].needs_amount]
        if not self.amount_kinds:
            del self.fields["amount"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.asset is None or data.get("confirm_over_balance"):
            return data
        record = services.balance_exceeded(self.asset, data.get("kind", ""), data.get("amount"))
        if record is not None:
            self.over_balance = True
            self.add_error(
                "amount",
                _(
                    "%(amount)s yuan is more than the last known balance of the account, "
                    "%(balance)s yuan, as %(agency)s reported it on %(day)s. Balances change: to "
                    "deduct this amount anyway, tick the confirmation below and submit again; "
                    "otherwise enter at most %(balance)s yuan."
                )
                % {
                    "amount": f"{data['amount']:.2f}",
                    "balance": f"{record.amount:.2f}",
                    "agency": record.agency.name,
                    "day": timezone.localtime(record.answered_at).date().isoformat(),
                },
            )
        return data


class RenewForm(NamedErrorsMixin, forms.Form):
    period_months = forms.TypedChoiceField(label=_("Renewal period"), coerce=int)

    def __init__(self, *args: Any, max_months: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        period_field: Any = self.fields["period_months"]
        period_field.choices = _month_choices(max_months)
        period_field.initial = max_months


class ReleaseForm(NamedErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for the release"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: the debtor paid in full, or the court approved a substitute."),
    )


class DecisionForm(NamedErrorsMixin, forms.Form):
    """A bureau head's decision on the request awaiting approval that ``step`` names."""

    step = forms.IntegerField(widget=forms.HiddenInput)
    # The page sends the decision as the value of the button that the bureau head pressed.
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(
        label=_("Comment"),
        max_length=services.DECISION_NOTE_MAX_CHARS,
        required=False,
        help_text=_("Required when you reject the request: the requester is told this reason."),
    )
