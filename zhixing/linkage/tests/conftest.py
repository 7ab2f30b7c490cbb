"""Fixtures of the gateway tests: agencies with key pairs, a case with debtors, a fake agency."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.linkage import gateway
from zhixing.linkage.models import Agency
from zhixing.linkage.tests.helpers import NOW, AgencyKeys, FakeAgency


@pytest.fixture
def make_agency(db: None) -> Callable[..., AgencyKeys]:
    def make(code: str = "bank-icbc", **values: Any) -> AgencyKeys:
        private_key = Ed25519PrivateKey.generate()
        public_pem = (
            private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        defaults: dict[str, Any] = {
            "name": code,
            "kind": Agency.Kind.BANK,
            "categories": ["bank_account"],
            "base_url": f"http://127.0.0.1:8100/agencies/{code}",
            "public_key_pem": public_pem,
            "batch_size": 3,
            "batch_window_seconds": 5,
            "rate_limit": 1000.0,
            "concurrency": 10,
        }
        agency = Agency.objects.create(code=code, **{**defaults, **values})
        return AgencyKeys(agency=agency, private_key=private_key)

    return make


@pytest.fixture
def bank(make_agency: Callable[..., AgencyKeys]) -> AgencyKeys:
    return make_agency()


@pytest.fixture
def case(courts: dict[str, Any]) -> EnforcementCase:
    debtors = [
        PartyInput(
            name=f"债务人{index}",
            document_type="resident_id",
            document_number=make_resident_id("440104", "19850101", index),
        )
        for index in range(1, 8)
    ]
    return case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=debtors,
        claim_amount="100000.00",
    )


@pytest.fixture
def debtors(case: EnforcementCase) -> list[Any]:
    return list(case.parties.filter(case_roles__role="debtor").order_by("pk"))


@pytest.fixture
def enqueue(case: EnforcementCase, debtors: list[Any]) -> Callable[..., list[Any]]:
    """Queue one item per debtor (up to ``count``) for an agency at a given time."""

    def queue(agency: Agency, count: int, now: datetime.datetime = NOW) -> list[Any]:
        requests = [
            gateway.ItemRequest(
                agency=agency, case=case, party=party, category=agency.categories[0]
            )
            for party in debtors[:count]
        ]
        return gateway.enqueue(requests, now=now)

    return queue


@pytest.fixture
def fake_agency() -> FakeAgency:
    return FakeAgency()
