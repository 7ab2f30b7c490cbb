"""A known document filed under another name: rejected only where the filer sees its party.

Rejecting it everywhere would let any filer learn whether an ID number is known, and try names
until the filing passes. A filer who sees no case of the registered party gets the answer of
an unknown number instead, and the party is stored as a further name variant.
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections

from zhixing.cases import services
from zhixing.cases.case_numbers import parse_case_number
from zhixing.cases.importing import CaseRow, ImportParty, upsert_case
from zhixing.cases.models import CaseParty, Party
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id

NUMBER = make_resident_id("440106", "19800303", 5)
FILED_ON = datetime.date(2026, 11, 2)


def _file(court, actor, name, *, number=NUMBER):
    return services.file_case(
        actor=actor,
        court=court,
        filed_on=FILED_ON,
        basis_kind="judgment",
        applicants=[PartyInput(name="广州某某贸易有限公司", kind="organisation")],
        debtors=[PartyInput(name=name, document_number=number)],
        claim_amount="1000.00",
    )


def _debtor(case) -> Party:
    return CaseParty.objects.get(case=case, role=CaseParty.Role.DEBTOR).party


@pytest.fixture
def registered(courts, make_user):
    """王五 registered by a filing at 粤0104 (Guangzhou)."""
    officer = make_user("gz_officer", "粤0104")
    return _file(courts["粤0104"], officer, "王五")


@pytest.mark.django_db
def test_outside_scope_new_variant(courts, make_user, registered):
    shenzhen = make_user("sz_officer", "粤0303")

    case = _file(courts["粤0303"], shenzhen, "王小五")

    variant = _debtor(case)
    assert (variant.name, variant.name_variant) == ("王小五", 1)
    assert variant.document_number == NUMBER
    original = _debtor(registered)
    assert (original.name, original.name_variant) == ("王五", 0)
    assert variant.pk != original.pk


@pytest.mark.django_db
def test_outside_scope_like_unknown_number(courts, make_user, registered):
    shenzhen = make_user("sz_officer", "粤0303")
    unknown = make_resident_id("440304", "19900101", 7)

    known_case = _file(courts["粤0303"], shenzhen, "王小五")
    unknown_case = _file(courts["粤0303"], shenzhen, "王小五", number=unknown)

    # Same outcome, and nothing on the filer's case names the registered party.
    for case in (known_case, unknown_case):
        names = set(CaseParty.objects.filter(case=case).values_list("party__name", flat=True))
        assert names == {"王小五", "广州某某贸易有限公司"}


@pytest.mark.django_db
def test_in_scope_names_registered_name(courts, make_user, registered):
    colleague = make_user("gz_clerk", "粤0104", "clerk")

    with pytest.raises(ValidationError) as caught:
        _file(courts["粤0104"], colleague, "王小五")

    messages = caught.value.message_dict["debtors[0].name"]
    assert messages == [
        "This document number is registered under the name 王五; check the name and the number."
    ]
    assert Party.objects.filter(document_number=NUMBER).count() == 1


@pytest.mark.django_db
def test_court_above_in_scope(courts, make_user, registered):
    intermediate = make_user("zy_head", "粤01", "bureau_head")

    with pytest.raises(ValidationError):
        _file(courts["粤01"], intermediate, "王小五")


@pytest.mark.django_db
def test_same_name_other_spacing_reused(courts, make_user, registered):
    shenzhen = make_user("sz_officer", "粤0303")

    case = _file(courts["粤0303"], shenzhen, " 王 五 ")

    assert _debtor(case).pk == _debtor(registered).pk


@pytest.mark.django_db
def test_variant_name_reused(courts, make_user, registered):
    shenzhen = make_user("sz_officer", "粤0303")
    foshan = make_user("fs_officer", "粤0105")
    first = _file(courts["粤0303"], shenzhen, "王小五")

    again = _file(courts["粤0303"], shenzhen, "王小五")
    third_name = _file(courts["粤0105"], foshan, "王大五")

    assert _debtor(again).pk == _debtor(first).pk
    assert _debtor(third_name).name_variant == 2


@pytest.mark.django_db
def test_in_scope_variant_named(courts, make_user, registered):
    shenzhen = make_user("sz_officer", "粤0303")
    _file(courts["粤0303"], shenzhen, "王小五")
    shenzhen_clerk = make_user("sz_clerk", "粤0303", "clerk")

    with pytest.raises(ValidationError) as caught:
        _file(courts["粤0303"], shenzhen_clerk, "王大五")

    assert "under the name 王小五;" in caught.value.message_dict["debtors[0].name"][0]


@pytest.mark.django_db
def test_import_outside_scope_new_variant(courts, make_user, registered):
    importer = make_user("sz_clerk", "粤0303", "clerk")
    row = CaseRow(
        row=2,
        number=parse_case_number("(2026)粤0303执9号"),
        court=courts["粤0303"],
        filed_on=FILED_ON,
        basis_kind="judgment",
        applicants=(ImportParty(PartyInput(name="深圳某某有限公司", kind="organisation")),),
        debtors=(ImportParty(PartyInput(name="王小五", document_number=NUMBER)),),
        claim_amount=Decimal("1000.00"),
    )

    upsert_case(importer, row)

    names = dict(Party.objects.filter(document_number=NUMBER).values_list("name_variant", "name"))
    assert names == {0: "王五", 1: "王小五"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("names", "variants"),
    [(("王小五", "王大五"), [1, 2]), (("王小五", "王小五"), [1, 1])],
    ids=["two new names", "one new name"],
)
def test_concurrent_filings_of_one_number(courts, make_user, names, variants):
    """Two filings at two courts that bring a new name for one number at the same time."""
    _file(courts["粤0104"], make_user("gz_officer", "粤0104"), "王五")
    officers = [make_user("sz_officer", "粤0303"), make_user("fs_officer", "粤0105")]

    def file(index: int) -> Party:
        try:
            return _debtor(_file(officers[index].court, officers[index], names[index]))
        finally:
            close_old_connections()

    with ThreadPoolExecutor(2) as pool:
        parties = list(pool.map(file, range(2)))

    assert sorted(party.name_variant for party in parties) == variants
    assert Party.objects.filter(document_number=NUMBER).count() == len(set(names)) + 1
