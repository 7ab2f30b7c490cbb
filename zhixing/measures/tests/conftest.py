"""Fixtures of the measure tests: a case with two debtors, agencies that accept measures, and
asset records stored the way the inquiry app stores them, from answers to real queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.inquiry import services as inquiry
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import gateway
from zhixing.linkage.models import Agency, GatewayItem

CONTROL_ACTIONS = ["query", "freeze", "renew", "release", "deduct", "seize"]

ACCOUNT = {
    "type": "bank_account",
    "bank": "中国工商银行",
    "account_number": "6212261234567890123",
    "balance": "15230.55",
    "currency": "CNY",
    "account_type": "debit",
    "state": "normal",
}
HOME = {
    "type": "real_estate",
    "location": "广州市越秀区中山五路1号",
    "certificate_number": "粤(2020)广州市不动产权第0000001号",
    "area": "89.50",
    "share": "1",
    "use": "residential",
    "existing_seizures": [],
}
CAR = {
    "type": "vehicle",
    "plate": "粤A12345",
    "model": "比亚迪 秦",
    "vin": "LGXC16DF0N0000001",
    "registered_at": "2021-05-01",
    "state": "normal",
}


@pytest.fixture
def officer(make_user: Callable[..., Any]) -> Any:
    return make_user("officer", "粤0104", "case_officer")


@pytest.fixture
def file_case(courts: dict[str, Any], officer: Any) -> Callable[..., EnforcementCase]:
    def file(
        court_code: str = "粤0104",
        *,
        first: int = 1,
        filed_on: datetime.date = datetime.date(2026, 11, 2),
        type_code: str = "执",
    ) -> EnforcementCase:
        return case_services.file_case(
            actor=None,
            court=courts[court_code],
            filed_on=filed_on,
            basis_kind=EnforcementCase.BasisKind.JUDGMENT,
            applicants=[PartyInput(name="申请人公司", kind="organisation")],
            debtors=[
                PartyInput(
                    name=f"债务人{index}",
                    document_type="resident_id",
                    document_number=make_resident_id("440104", "19850101", index),
                )
                for index in (first, first + 1)
            ],
            claim_amount="100000.00",
            type_code=type_code,
            basis_court="广州市越秀区人民法院",
            basis_document_number="（2025）粤0104民初5678号",
            case_officer=officer if court_code == "粤0104" else None,
        )

    return file


@pytest.fixture
def case(file_case: Callable[..., EnforcementCase]) -> EnforcementCase:
    return file_case()


@pytest.fixture
def debtors(case: EnforcementCase) -> list[Any]:
    return list(case.parties.filter(case_roles__role="debtor").order_by("case_roles__id"))


@pytest.fixture
def agencies(db: None) -> dict[str, Agency]:
    rows = [
        ("bank-icbc", Agency.Kind.BANK, ["bank_account"], CONTROL_ACTIONS),
        (
            "housing-gd",
            Agency.Kind.HOUSING,
            ["real_estate"],
            ["query", "seize", "renew", "release"],
        ),
        (
            "traffic-gd",
            Agency.Kind.TRAFFIC_POLICE,
            ["vehicle"],
            ["query", "seize", "renew", "release"],
        ),
        ("bank-queryonly", Agency.Kind.BANK, ["bank_account"], ["query"]),
    ]
    return {
        code: Agency.objects.create(
            code=code,
            name=code,
            kind=kind,
            categories=categories,
            actions=actions,
            base_url=f"http://127.0.0.1:9/agencies/{code}",
        )
        for code, kind, categories, actions in rows
    }


def found(item_id: Any, *records: dict[str, Any], status: str = "found") -> dict[str, Any]:
    return {
        "item_id": str(item_id),
        "status": status,
        "answered_at": "2026-12-04T16:31:01+08:00",
        "records": list(records),
    }


@pytest.fixture
def make_asset(officer: Any, agencies: dict[str, Agency]) -> Callable[..., AssetRecord]:
    """Query the debtor and store an answer with ``record``; return its asset record."""

    def make(
        case: EnforcementCase,
        party: Any,
        record: dict[str, Any],
        *,
        agency: str = "bank-icbc",
        category: str = "bank_account",
        actor: Any = None,
        now: datetime.datetime | None = None,
    ) -> AssetRecord:
        result = inquiry.request_query(
            actor or case.case_officer or officer,
            case,
            [party],
            [category],
            force=True,
            reason="test",
            now=now,
        )
        item = next(item for item in result.queued if item.agency.code == agency)
        gateway.apply_answers(item.agency, [found(item.pk, record)], now=now)
        return AssetRecord.objects.filter(item=item).get()

    return make


def client_for(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def answer_step(step: Any, *records: dict[str, Any], status: str = "found") -> None:
    """Store the agency's answer to ``step``'s gateway item, as the gateway does."""
    item = GatewayItem.objects.get(pk=step.item_id)
    gateway.apply_answers(item.agency, [found(step.item_id, *records, status=status)])
