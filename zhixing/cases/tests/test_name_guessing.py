"""Attacks on the name variants of a party: guessing names, and races of new names.

A filer outside the scope of a registered party gets what an unknown number gives, so that
filing reveals neither whether the number is known nor the name behind it.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from zhixing.cases import services
from zhixing.cases.models import Party
from zhixing.cases.tests.factories import make_resident_id
from zhixing.cases.tests.test_name_variants import NUMBER, _debtor, _file

UNKNOWN = make_resident_id("440304", "19900101", 7)


def _outcome(court, actor, name, number) -> str:
    try:
        _file(court, actor, name, number=number)
    except ValidationError as error:
        return "rejected: " + " ".join(error.message_dict["debtors[0].name"])
    return "filed"


@pytest.fixture
def registered(courts, make_user):
    """王五 registered by a filing at 粤0104 (Guangzhou)."""
    return _file(courts["粤0104"], make_user("gz_officer", "粤0104"), "王五")


@pytest.mark.django_db
def test_name_guess_after_dummy_like_unknown(courts, make_user, registered):
    """Check that a name guess after a made-up name is rejected as for an unknown number.

    For an unknown number the second filing is rejected naming the made-up name. For a number
    registered elsewhere as 王五 the guess 王五 is filed, so wrong guesses are rejected and the
    right one passes: the name behind the number is found without any case being written.
    """
    shenzhen = make_user("sz_officer", "粤0303")
    court = courts["粤0303"]
    _file(court, shenzhen, "假名", number=UNKNOWN)
    _file(court, shenzhen, "假名", number=NUMBER)

    unknown = _outcome(court, shenzhen, "王五", UNKNOWN)
    known = _outcome(court, shenzhen, "王五", NUMBER)

    assert unknown.startswith("rejected")
    assert known == unknown


@pytest.mark.django_db
def test_registered_name_outside_scope_one_row(courts, make_user, registered):
    """Check that an outsider who enters the registered name gets the registered party.

    One person stays one row. The filer can tell from the party's older id that the name was
    right, but only once per court: afterwards the court sees a party of the number, and any
    other name is rejected naming that party.
    """
    shenzhen = make_user("sz_officer", "粤0303")
    court = courts["粤0303"]

    party = _debtor(_file(court, shenzhen, "王 五"))

    assert party.pk == _debtor(registered).pk
    assert _outcome(court, shenzhen, "王小五", NUMBER).startswith("rejected")


@pytest.mark.django_db
def test_store_party_outlasts_concurrent_names(courts, make_user, registered, monkeypatch):
    """Three other filings that each store a new name for the number between this filing's
    match and its insert, as four filings at four courts at once do on PostgreSQL.

    On a live server on PostgreSQL, 3 of 8 such filings (4 names at 8 courts) returned 500
    (IntegrityError on party_unique_document) after STORE_PARTY_ATTEMPTS.
    """
    real_match = services._match_registered
    competitors = iter(["甲某", "乙某", "丙某"])

    def match_then_lose_race(checked, viewer):
        matched = real_match(checked, viewer)
        name = next(competitors, None)
        if matched.stored is None and name is not None:
            Party.objects.create(
                kind=Party.Kind.PERSON,
                name=name,
                document_type=matched.document_type,
                document_number=matched.document_number,
                name_variant=matched.name_variant,
            )
        return matched

    monkeypatch.setattr(services, "_match_registered", match_then_lose_race)
    shenzhen = make_user("sz_officer", "粤0303")

    case = _file(courts["粤0303"], shenzhen, "王小五")

    assert _debtor(case).name == "王小五"
