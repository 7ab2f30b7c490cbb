"""Fixtures of the inquiry tests: a case officer's case with two debtors, and a few agencies."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.linkage.models import Agency


@pytest.fixture
def officer(make_user: Callable[..., Any]) -> Any:
    return make_user("officer", "粤0104", "case_officer")


@pytest.fixture
def file_case(courts: dict[str, Any], officer: Any) -> Callable[..., EnforcementCase]:
    def file(court_code: str = "粤0104", *, first: int = 1, type_code: str = "执", **values: Any):
        return case_services.file_case(
            actor=None,
            court=courts[court_code],
            filed_on=datetime.date(2026, 11, 2),
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
            case_officer=values.get("case_officer", officer if court_code == "粤0104" else None),
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
        ("bank-icbc", Agency.Kind.BANK, ["bank_account"]),
        ("bank-gzcb", Agency.Kind.BANK, ["bank_account"]),
        ("housing-gd", Agency.Kind.HOUSING, ["real_estate"]),
        ("police-gd", Agency.Kind.POLICE, ["household", "temporary_residence"]),
    ]
    created = {
        code: Agency.objects.create(
            code=code,
            name=code,
            kind=kind,
            categories=categories,
            base_url=f"http://127.0.0.1:9/agencies/{code}",
        )
        for code, kind, categories in rows
    }
    Agency.objects.create(
        code="bank-off",
        name="bank-off",
        kind=Agency.Kind.BANK,
        categories=["bank_account"],
        active=False,
    )
    return created
