"""Showing asset records in the user's language: the protocol's codes as labels, dates as dates.

Records keep the agencies' codes (``frozen``, ``debit``, ``legal_representative`` …) in their
typed columns. The labels come from the choices of the manual answer forms, which list the
protocol's codes with their labels, so the pages and the forms name a code alike. A code that
no form lists is shown as it came. Amounts are shown with their currency, and identifiers masked
where they are personal data.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from functools import cache
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from zhixing.cases.models import Party
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage.answer_forms import CATEGORY_FORMS, HotelStayForm

# Names of the currencies that Chinese accounts are commonly held in, by ISO 4217 code. The
# English pages show the code, and the Chinese pages the currency's Chinese name. Only bank
# account records carry a currency in the protocol, so the amounts of other records are yuan.
CURRENCY_UNITS = {
    "CNY": gettext_lazy("yuan"),
    "USD": pgettext_lazy("currency", "USD"),
    "HKD": pgettext_lazy("currency", "HKD"),
    "MOP": pgettext_lazy("currency", "MOP"),
    "TWD": pgettext_lazy("currency", "TWD"),
    "EUR": pgettext_lazy("currency", "EUR"),
    "GBP": pgettext_lazy("currency", "GBP"),
    "JPY": pgettext_lazy("currency", "JPY"),
}


@cache
def _choices() -> dict[tuple[str, str], dict[str, Any]]:
    """Return the labels of the codes of each (record type, field) that has a list of codes."""
    labels: dict[tuple[str, str], dict[str, Any]] = {}
    for form_classes in CATEGORY_FORMS.values():
        for form_class in form_classes:
            for name, field in form_class.base_fields.items():
                if isinstance(field, forms.ChoiceField):
                    codes = labels.setdefault((form_class.record_type, name), {})
                    choices: list[tuple[Any, Any]] = list(field.choices)  # type: ignore[arg-type]
                    codes.update((str(code), label) for code, label in choices if code)
    return labels


def code_label(record_type: str, field: str, code: Any) -> str:
    """Return the label of ``code`` in ``field`` of a record, or the code itself if unknown."""
    text = "" if code is None else str(code)
    label = _choices().get((record_type, field), {}).get(text)
    return str(label) if label is not None else text


def _instant(value: Any) -> str:
    """Return an ISO instant as local ``YYYY-MM-DD HH:MM``, or the text as it came."""
    text = "" if value is None else str(value)
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


def _status(asset: AssetRecord, raw: dict[str, Any]) -> str:
    kind = asset.record_type
    if kind in ("bank_account", "vehicle"):
        return code_label(kind, "state", raw.get("state", asset.status))
    if kind == "real_estate":
        return _("Seized") if asset.status else ""
    if kind == "travel":
        if raw.get("kind") == "hotel":
            return str(HotelStayForm.title)
        return code_label(kind, "kind", raw.get("kind", asset.status))
    return asset.status


def _description(asset: AssetRecord, raw: dict[str, Any]) -> str:
    kind = asset.record_type
    if kind == "bank_account":
        return code_label(kind, "account_type", raw.get("account_type", asset.description))
    if kind == "real_estate":
        parts = [code_label(kind, "use", raw.get("use")) if raw.get("use") else ""]
        if raw.get("area") not in (None, ""):
            parts.append(f"{raw['area']} m²")
        if raw.get("share") not in (None, ""):
            parts.append(_("share %(share)s") % {"share": raw["share"]})
        return " · ".join(part for part in parts if part)
    if kind == "business":
        return code_label(kind, "role", raw.get("role", asset.description))
    if kind == "travel":
        return _instant(raw.get("at", asset.description))
    if kind == "family":
        parts = []
        if raw.get("spouse_name"):
            parts.append(_("spouse %(name)s") % {"name": raw["spouse_name"]})
        if raw.get("children") not in (None, ""):
            parts.append(_("children: %(count)s") % {"count": raw["children"]})
        return " · ".join(parts)
    return asset.description


def currency_unit(code: str) -> str:
    """Return the unit shown after an amount in currency ``code``, such as 元 for CNY.

    An empty code is yuan, and a code without a translated name is shown as it came.
    """
    code = code.strip().upper() or "CNY"
    unit = CURRENCY_UNITS.get(code)
    return str(unit) if unit is not None else code


def masks_identifier(asset: AssetRecord) -> bool:
    """Return whether the page masks the asset's identifier until the user reveals it.

    Account numbers are masked, and so is the debtor's own document number wherever a row
    repeats it: a person's taxpayer ID (their ID number) and an organisation's credit code in
    its tax and business-register records. The case pages mask a party's document number in
    the same way. Other companies named in a row (an employer, a company of a shareholding)
    are not parties of the case and are shown in full.
    """
    if asset.record_type == AssetRecord.Type.ORGANISATION:
        return True
    return asset.identifier_is_personal


# Records whose location is where a person lives, stays or owns a home.
PERSONAL_LOCATION_TYPES = frozenset({"residence", "household", "travel", "real_estate"})


def masks_location(asset: AssetRecord) -> bool:
    """Return whether the page masks the asset's location until the user reveals it.

    A natural person's addresses and whereabouts are personal data. An organisation's
    registered address and the location of its property are business-register facts.
    """
    return asset.record_type in PERSONAL_LOCATION_TYPES and asset.party.kind == Party.Kind.PERSON


def label_assets(assets: Iterable[AssetRecord]) -> None:
    """Set ``shown_status``, ``shown_description``, ``amount_unit`` and ``sort_key`` of each asset.

    ``sort_key`` is the time of a whereabouts record, by which the page lists them newest
    first, and empty for other records.
    """
    for asset in assets:
        raw = asset.raw if isinstance(asset.raw, dict) else {}
        asset.shown_status = _status(asset, raw)  # type: ignore[attr-defined]
        asset.shown_description = _description(asset, raw)  # type: ignore[attr-defined]
        asset.amount_unit = currency_unit(asset.currency)  # type: ignore[attr-defined]
        moment = str(raw.get("at", "")) if asset.record_type == "travel" else ""
        asset.sort_key = moment  # type: ignore[attr-defined]
