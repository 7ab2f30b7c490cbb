"""Assets that control measures apply to, the holds on them, and how query records show them.

A hold is a freeze or seizure in force on one asset. Holds come from two sources. The first
is the simulator's own `measures` table. The second is the synthetic records themselves: an
account in state `frozen`, a vehicle in state `seized` or a home with `existing_seizures` is
under measures of other courts that were there before the simulator started. Those synthetic
holds are derived from the record every time and are never stored, so they cannot be released.

Holds on one asset take precedence in a fixed order: synthetic holds first, then the
simulator's measures in the order they were applied. Money of a deposit goes to the freezes
greedily in that order, each taking what is left up to its limit. Releasing or ending a freeze
therefore passes its money to the next freezes in line (a queued freeze, 轮候冻结, takes effect
that way), and a seizure moves up the queue when an earlier one ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from agency_simulator.population import BASE_DATE, SEIZING_COURTS, seeded_random

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclasses.dataclass(frozen=True)
class AssetType:
    """A record type that measures apply to.

    `identifying_field` is the record field that `measure.identifier` names. Deposits have a
    `balance_field` with money that freezes hold and deductions transfer; other assets are
    held whole.
    """

    record_type: str
    identifying_field: str
    balance_field: str | None = None

    @property
    def is_deposit(self) -> bool:
        return self.balance_field is not None


ASSET_TYPES: dict[str, AssetType] = {
    "bank_account": AssetType("bank_account", "account_number", "balance"),
    "provident_fund": AssetType("provident_fund", "account", "balance"),
    "payment_account": AssetType("payment_account", "account", "balance"),
    "securities": AssetType("securities", "account", "holdings_value"),
    "real_estate": AssetType("real_estate", "certificate_number"),
    "vehicle": AssetType("vehicle", "plate"),
    "ship": AssetType("ship", "registration_number"),
    "shareholding": AssetType("shareholding", "credit_code"),
}
# Category names that courts may send as `measure.asset_type` in place of the record type.
TYPE_ALIASES = {
    "online_payment": "payment_account",
    "land": "real_estate",
    "business": "shareholding",
}
# The record type of the assets that a query of each category reports.
CATEGORY_ASSET_TYPES = {
    "bank_account": "bank_account",
    "provident_fund": "provident_fund",
    "online_payment": "payment_account",
    "securities": "securities",
    "real_estate": "real_estate",
    "land": "real_estate",
    "vehicle": "vehicle",
    "ship": "ship",
    "business_registration": "shareholding",
}
# The asset types each action that creates a hold applies to. Shares are frozen (冻结股权)
# or seized; both hold the whole stake.
FREEZABLE = frozenset({"bank_account", "provident_fund", "payment_account", "securities"})
APPLICABLE = {
    "freeze": FREEZABLE | {"shareholding"},
    "deduct": FREEZABLE,
    "seize": frozenset({"real_estate", "vehicle", "ship", "shareholding"}),
}
# Record states in which nothing can be frozen or seized, so the agency returns not_found.
UNUSABLE_STATES = {"bank_account": "closed", "vehicle": "scrapped"}


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


@dataclasses.dataclass(frozen=True)
class Hold:
    """A freeze or seizure in force on an asset.

    `measure_id` is None for a synthetic hold. `limit` is the money a freeze of a deposit may
    hold (after deductions from it); whole-asset holds have none.
    """

    action: str
    court: str
    case_number: str
    start: date | None
    end: date | None
    limit: Decimal | None = None
    measure_id: int | None = None
    item_id: str | None = None
    synthetic_entry: dict[str, Any] | None = None

    def seizure_entry(self) -> dict[str, Any]:
        """Return the hold as an `existing_seizures` entry of a query record."""
        if self.synthetic_entry is not None:
            return dict(self.synthetic_entry)
        return {
            "court": self.court,
            "case_number": self.case_number,
            "since": self.start.isoformat() if self.start else None,
            "until": self.end.isoformat() if self.end else None,
        }


def original_balance(asset_type: AssetType, record: dict[str, Any]) -> Decimal:
    """Return the balance a deposit record was generated with."""
    assert asset_type.balance_field is not None
    return Decimal(str(record.get(asset_type.balance_field) or "0")).quantize(CENT)


def synthetic_holds(record: dict[str, Any], today: date) -> list[Hold]:
    """Return the holds of other courts that a generated record shows and that are in force.

    An account in state `frozen` is held whole and a vehicle in state `seized` is seized, both
    without an end. Entries of `existing_seizures` hold a home until their `until` date.
    """
    record_type = record.get("type")
    holds: list[Hold] = []
    if record_type == "real_estate":
        for entry in record.get("existing_seizures") or []:
            until = date.fromisoformat(entry["until"]) if entry.get("until") else None
            if until is not None and until < today:
                continue
            since = date.fromisoformat(entry["since"]) if entry.get("since") else None
            holds.append(
                Hold(
                    action="seize",
                    court=entry.get("court", ""),
                    case_number=entry.get("case_number", ""),
                    start=since,
                    end=until,
                    synthetic_entry=entry,
                )
            )
        return holds
    if (record_type, record.get("state")) in (("bank_account", "frozen"), ("vehicle", "seized")):
        asset_type = ASSET_TYPES[str(record_type)]
        identifier = str(record.get(asset_type.identifying_field, ""))
        rng = seeded_random(identifier, "synthetic hold")
        court_code, court_name = rng.choice(SEIZING_COURTS)
        since = BASE_DATE - timedelta(days=rng.randint(30, 700))
        limit = original_balance(asset_type, record) if asset_type.is_deposit else None
        action = "freeze" if asset_type.is_deposit else "seize"
        holds.append(
            Hold(
                action=action,
                court=court_name,
                case_number=f"({since.year}){court_code}执{rng.randint(1, 9999)}号",
                start=since,
                end=None,
                limit=limit,
            )
        )
    return holds


def allocate(balance: Decimal, holds: Iterable[Hold]) -> list[Decimal]:
    """Return the money each freeze holds: what is left of `balance`, in order, up to its limit."""
    left = max(balance, ZERO)
    held = []
    for hold in holds:
        amount = min(hold.limit, left) if hold.limit is not None else ZERO
        held.append(amount)
        left -= amount
    return held


def present(
    record: dict[str, Any], balance: Decimal | None, stored: list[Hold], today: date
) -> dict[str, Any]:
    """Return a query record as the agency shows it today, with its balance and holds.

    `record` is the generated record, `balance` the current balance of a deposit (None for the
    generated one) and `stored` the simulator's holds in force on the asset, oldest first.
    Deposits under a freeze get `frozen_amount`, and a bank account the state `frozen`. Homes
    list their holds in force in `existing_seizures`. Vehicles under a seizure get the state
    `seized`; vehicles, ships and shares with holds list them in `existing_seizures` as well.
    """
    asset_type = ASSET_TYPES.get(str(record.get("type")))
    if asset_type is None:
        return record
    holds = synthetic_holds(record, today) + stored
    if not holds and record.get("type") != "real_estate" and balance is None:
        return record
    # A shallow copy is enough: nested values are replaced, never changed in place.
    shown = dict(record)
    if asset_type.balance_field is not None:
        current = balance if balance is not None else original_balance(asset_type, record)
        shown[asset_type.balance_field] = money(current)
        if holds:
            shown["frozen_amount"] = money(sum(allocate(current, holds), ZERO))
            if asset_type.record_type == "bank_account":
                shown["state"] = "frozen"
        return shown
    if asset_type.record_type == "real_estate" or holds:
        shown["existing_seizures"] = [hold.seizure_entry() for hold in holds]
    if asset_type.record_type == "vehicle" and holds:
        shown["state"] = "seized"
    return shown
