"""Asset records on the pages: protocol codes shown as labels, dates as dates."""

from __future__ import annotations

import pytest
from django.utils import translation

from zhixing.inquiry.display import code_label, label_assets
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
