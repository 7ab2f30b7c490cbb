"""The kinds of control measure: which assets each applies to, its action and its documents."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhixing.linkage.models import Action
from zhixing.measures.rules import PropertyClass


class MeasureKind(models.TextChoices):
    FREEZE = "freeze", _("Freeze deposits")
    DEDUCT = "deduct", _("Deduct deposits")
    SEIZE_REAL_ESTATE = "seize_real_estate", _("Seize real estate")
    SEIZE_VEHICLE = "seize_vehicle", _("Seize a vehicle")
    DISTRAIN = "distrain", _("Distrain movable property")


@dataclass(frozen=True)
class KindSpec:
    """The needs of a kind of measure: assets, period class, gateway action and template codes.

    ``property_class`` is None for a deduction, which has no period and is neither renewed
    nor released. ``verb`` is the Chinese verb of the measure in documents (冻结, 查封, 扣押).
    """

    record_types: frozenset[str]
    property_class: str | None
    action: str
    ruling: str
    notice: str
    renew_notice: str | None
    release_notice: str | None
    verb: str
    # Deposits are frozen or deducted up to an amount in yuan; other property is taken whole.
    needs_amount: bool = False

    @property
    def has_period(self) -> bool:
        return self.property_class is not None


# Deposits: bank accounts, and housing provident fund accounts, whose balances the fund
# centres keep at banks.
# NOTE: a provident fund freeze takes the one-year period of bank deposits, because the rules
# on periods name bank deposits only.
DEPOSIT_TYPES = frozenset({"bank_account", "provident_fund"})

# Codes without a template of the documents app are rendered from the texts of
# zhixing.measures.fallback_texts (see zhixing.measures.documents).

SPECS: dict[str, KindSpec] = {
    MeasureKind.FREEZE: KindSpec(
        record_types=DEPOSIT_TYPES,
        property_class=PropertyClass.DEPOSIT,
        action=Action.FREEZE,
        ruling="ruling_freeze",
        notice="assistance_notice_freeze",
        renew_notice="assistance_notice_renew_freeze",
        release_notice="assistance_notice_release_freeze",
        verb="冻结",
        needs_amount=True,
    ),
    MeasureKind.DEDUCT: KindSpec(
        record_types=DEPOSIT_TYPES,
        property_class=None,
        action=Action.DEDUCT,
        ruling="ruling_deduct",
        notice="assistance_notice_deduct",
        renew_notice=None,
        release_notice=None,
        verb="扣划",
        needs_amount=True,
    ),
    MeasureKind.SEIZE_REAL_ESTATE: KindSpec(
        record_types=frozenset({"real_estate"}),
        property_class=PropertyClass.REAL_ESTATE,
        action=Action.SEIZE,
        ruling="ruling_seize",
        notice="assistance_notice_seize_real_estate",
        renew_notice="assistance_notice_renew_seizure",
        release_notice="assistance_notice_release_real_estate",
        verb="查封",
    ),
    MeasureKind.SEIZE_VEHICLE: KindSpec(
        record_types=frozenset({"vehicle"}),
        property_class=PropertyClass.MOVABLE,
        action=Action.SEIZE,
        ruling="ruling_seize_vehicle",
        notice="assistance_notice_seize_vehicle",
        renew_notice="assistance_notice_renew_seizure",
        release_notice="assistance_notice_release_vehicle",
        verb="查封",
    ),
    MeasureKind.DISTRAIN: KindSpec(
        record_types=frozenset({"vehicle", "ship"}),
        property_class=PropertyClass.MOVABLE,
        action=Action.SEIZE,
        ruling="ruling_distrain",
        notice="assistance_notice_distrain",
        renew_notice="assistance_notice_renew_seizure",
        release_notice="assistance_notice_release_distraint",
        verb="扣押",
    ),
}

# Asset record types that some measure applies to.
MEASURABLE_TYPES = frozenset(t for spec in SPECS.values() for t in spec.record_types)


def kinds_for(record_type: str) -> list[MeasureKind]:
    """Return the kinds of measure that apply to an asset record of ``record_type``."""
    return [MeasureKind(kind) for kind, spec in SPECS.items() if record_type in spec.record_types]
