"""Asset records on the pages: protocol codes as labels, dates as dates, amounts with their
currency and identifiers masked where they are personal data."""

from __future__ import annotations

import pytest
from django.utils import translation

from zhixing.cases.models import Party
from zhixing.inquiry.display import code_label, currency_unit, label_assets, masks_identifier
from zhixing.inquiry.models import AssetRecord


def shown(record_type: str, raw: dict, **columns) -> AssetRecord:
    asset = AssetRecord(record_type=record_type, raw=raw, **columns)
    label_assets([asset])
    return asset


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_account_codes_become_labels():
    asset = shown(
        "bank_account",
        {"state": "frozen", "account_type": "corporate_basic"},
        status="frozen",
        description="corporate_basic",
    )

    assert asset.shown_status == "Frozen"
    assert asset.shown_description == "Corporate basic account"


def test_real_estate_use_area_and_share():
    asset = shown(
        "real_estate",
        {"use": "office", "area": "1628.52", "share": "0.5", "existing_seizures": [{}]},
        status="seized",
    )

    assert asset.shown_status == "Seized"
    assert asset.shown_description == "Office · 1628.52 m² · share 0.5"


def test_family_shows_spouse_and_children():
    asset = shown("family", {"spouse_name": "郭涵", "children": 0}, description="0")

    assert asset.shown_description == "spouse 郭涵 · children: 0"


def test_travel_kind_and_local_time():
    hotel = shown("travel", {"kind": "hotel", "at": "2025-01-12T03:29:00+00:00"})
    crossing = shown("travel", {"kind": "exit", "at": "2025-03-14T08:00:00+08:00"})

    assert hotel.shown_status == "Hotel stay"
    assert hotel.shown_description == "2025-01-12 11:29"
    assert crossing.shown_status == "Exit"


def test_business_role_label():
    asset = shown("business", {"role": "legal_representative"}, description="legal_representative")

    assert asset.shown_description == "Legal representative"


def test_unknown_code_shown_as_is():
    assert code_label("vehicle", "state", "towed_away") == "towed_away"


def test_chinese_labels():
    with translation.override("zh-hans"):
        asset = shown("bank_account", {"state": "normal", "account_type": "debit"})

    assert asset.shown_status == "正常"
    assert asset.shown_description != "debit"


@pytest.mark.parametrize(
    ("code", "english", "chinese"),
    [
        ("CNY", "yuan", "元"),
        ("", "yuan", "元"),
        ("USD", "USD", "美元"),
        ("hkd", "HKD", "港元"),
        ("MOP", "MOP", "澳门元"),
        ("CHF", "CHF", "CHF"),
    ],
)
def test_currency_unit(code, english, chinese):
    assert currency_unit(code) == english
    with translation.override("zh-hans"):
        assert currency_unit(code) == chinese


def test_amount_unit_set_on_assets():
    account = shown("bank_account", {}, currency="USD")
    contribution = shown("employment", {})

    assert account.amount_unit == "USD"
    assert contribution.amount_unit == "yuan"


@pytest.mark.parametrize(
    ("record_type", "party_kind", "masked"),
    [
        ("bank_account", Party.Kind.ORGANISATION, True),
        ("payment_account", Party.Kind.PERSON, True),
        ("tax", Party.Kind.PERSON, True),
        ("tax", Party.Kind.ORGANISATION, True),
        ("organisation", Party.Kind.ORGANISATION, True),
        ("shareholding", Party.Kind.PERSON, False),
        ("business", Party.Kind.PERSON, False),
        ("employment", Party.Kind.PERSON, False),
    ],
)
def test_masks_identifier(record_type, party_kind, masked):
    asset = AssetRecord(record_type=record_type, party=Party(kind=party_kind), raw={})

    assert masks_identifier(asset) is masked
