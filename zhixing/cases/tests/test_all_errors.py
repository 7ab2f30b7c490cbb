"""Filing reports every problem of the case and its parties at once, and stores nothing then."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from zhixing.cases import services
from zhixing.cases.models import CaseParty, CaseSequence, EnforcementCase, Party
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.cases.tests.test_api import _new_case, api_client
from zhixing.cases.tests.test_views import _filing_data, _nothing_saved, _today, client_for

GOOD_ID = make_resident_id("440106", "19800303", 5)
# The same number with a wrong check digit.
BAD_ID = GOOD_ID[:-1] + ("1" if GOOD_ID[-1] != "1" else "2")
# A well-formed credit code whose check character is wrong.
BAD_USCC = "91440101MA59ABCD1X"


def _file(court, **overrides):
    values = {
        "actor": None,
        "court": court,
        "filed_on": datetime.date(2026, 11, 2),
        "basis_kind": "judgment",
        "applicants": [PartyInput(name="广州某某贸易有限公司", kind="organisation")],
        "debtors": [PartyInput(name="王五", document_number=GOOD_ID)],
        "claim_amount": "120000.50",
    }
    values.update(overrides)
    return services.file_case(**values)


def _error_of(court, **overrides) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        _file(court, **overrides)
    return caught.value.message_dict


@pytest.mark.django_db
def test_file_case_reports_every_problem(courts):
    errors = _error_of(
        courts["粤0104"],
        filed_on=services.today_in_china() + datetime.timedelta(days=3),
        applicants=[PartyInput(name="赵六", document_number=BAD_ID)],
        debtors=[
            PartyInput(name="王五", document_number=GOOD_ID),
            PartyInput(name="广州某某有限公司", kind="organisation", document_number=BAD_USCC),
        ],
        type_code="执异",
        basis_kind="verdict",
        claim_amount="-5",
    )

    assert set(errors) == {
        "filed_on",
        "type_code",
        "basis_kind",
        "claim_amount",
        "applicants[0].document_number",
        "debtors[1].document_number",
    }
    assert "in the future" in errors["filed_on"][0]
    assert "cannot be negative" in errors["claim_amount"][0]
    assert not EnforcementCase.objects.exists()
    assert not Party.objects.exists()


@pytest.mark.django_db
def test_failed_filing_uses_no_number(courts):
    _error_of(
        courts["粤0104"],
        applicants=[PartyInput(name="赵六", document_number=BAD_ID)],
        claim_amount="1.234",
    )

    assert not CaseSequence.objects.exists()
    assert _file(courts["粤0104"]).case_number == "(2026)粤0104执1号"


@pytest.mark.django_db
def test_missing_parties_and_officer_reported_together(courts, make_user):
    clerk = make_user("clerk", "粤0104", "clerk")

    errors = _error_of(courts["粤0104"], applicants=[], debtors=[], case_officer=clerk)

    assert set(errors) == {"applicants", "debtors", "case_officer"}


@pytest.mark.django_db
def test_party_reports_name_and_number(courts):
    errors = _error_of(
        courts["粤0104"],
        debtors=[PartyInput(name=" ", document_number=BAD_ID), PartyInput(name="甲" * 201)],
    )

    assert set(errors) == {
        "debtors[0].name",
        "debtors[0].document_number",
        "debtors[1].name",
    }
    assert "missing" in errors["debtors[0].name"][0]
    assert "201 characters" in errors["debtors[1].name"][0]


@pytest.mark.django_db
def test_unknown_kind_skips_document_guess(courts):
    errors = _error_of(
        courts["粤0104"], debtors=[PartyInput(name="王五", kind="robot", document_number=BAD_ID)]
    )

    assert set(errors) == {"debtors[0].kind"}


@pytest.mark.django_db
def test_known_number_under_other_name_rejected(courts):
    _file(courts["粤0104"])

    errors = _error_of(
        courts["粤0104"],
        debtors=[PartyInput(name="王小五", document_number=GOOD_ID)],
        claim_amount="abc",
    )

    assert set(errors) == {"debtors[0].name", "claim_amount"}
    assert "registered under the name 王五" in errors["debtors[0].name"][0]
    assert EnforcementCase.objects.count() == 1


@pytest.mark.django_db
def test_one_new_number_under_two_names_rejected(courts):
    errors = _error_of(
        courts["粤0104"],
        applicants=[PartyInput(name="王五", document_number=GOOD_ID)],
        debtors=[PartyInput(name="王小五", document_number=GOOD_ID)],
    )

    assert set(errors) == {"debtors[0].name"}
    assert "another party with a different name" in errors["debtors[0].name"][0]
    assert not Party.objects.exists()


@pytest.mark.django_db
def test_one_new_number_twice_is_one_party(courts):
    case = _file(
        courts["粤0104"],
        debtors=[
            PartyInput(name="王五", document_number=GOOD_ID),
            PartyInput(name="王 五", document_number=GOOD_ID),
        ],
    )

    assert Party.objects.filter(document_number=GOOD_ID).count() == 1
    assert CaseParty.objects.filter(case=case, role="debtor").count() == 1


@pytest.mark.django_db
def test_filing_form_shows_every_error(courts, make_user):
    client = client_for(make_user("officer", "粤0104"))
    data = _filing_data(
        filed_on=(_today() + datetime.timedelta(days=2)).isoformat(),
        **{
            "applicants-0-name": "赵六",
            "applicants-0-kind": "person",
            "applicants-0-document_number": BAD_ID,
            "debtors-1-name": "广州某某有限公司",
            "debtors-1-kind": "organisation",
            "debtors-1-document_type": "uscc",
            "debtors-1-document_number": BAD_USCC,
        },
    )

    response = client.post("/cases/new/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_filed_on-error"' in page
    assert 'id="id_applicants-0-document_number-error"' in page
    assert 'id="id_debtors-1-document_number-error"' in page
    assert 'id="id_debtors-0-document_number-error"' not in page
    assert _nothing_saved()


@pytest.mark.django_db
def test_api_filing_reports_every_error(courts, make_user):
    client = api_client(make_user("officer", "粤0104"))
    body = _new_case(
        filed_on=(_today() + datetime.timedelta(days=1)).isoformat(),
        applicants=[{"name": "赵六", "document_number": BAD_ID}],
        debtors=[
            {"name": "钱七", "document_number": GOOD_ID},
            {"name": "广州某某有限公司", "kind": "organisation", "document_number": BAD_USCC},
        ],
    )

    response = client.post("/api/v1/cases/", body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {
        "filed_on",
        "applicants[0].document_number",
        "debtors[1].document_number",
    }
    assert BAD_ID not in str(errors)
    assert not EnforcementCase.objects.exists()
    assert not Party.objects.exists()
    assert not CaseSequence.objects.exists()


@pytest.mark.django_db
def test_party_stored_meanwhile_is_rechecked(courts, monkeypatch):
    allocate = services.allocate_sequence

    def allocate_after_other_filing(*args):
        # A concurrent filing stores the same new debtor under another name first.
        Party.objects.create(name="王小五", document_type="resident_id", document_number=GOOD_ID)
        return allocate(*args)

    monkeypatch.setattr(services, "allocate_sequence", allocate_after_other_filing)

    errors = _error_of(courts["粤0104"])

    assert set(errors) == {"debtors[0].name"}
    assert not EnforcementCase.objects.exists()


@pytest.mark.django_db
def test_party_stored_meanwhile_is_reused(courts, monkeypatch):
    allocate = services.allocate_sequence

    def allocate_after_other_filing(*args):
        Party.objects.create(name="王五", document_type="resident_id", document_number=GOOD_ID)
        return allocate(*args)

    monkeypatch.setattr(services, "allocate_sequence", allocate_after_other_filing)

    case = _file(courts["粤0104"])

    assert Party.objects.filter(document_number=GOOD_ID).count() == 1
    assert case.parties.filter(document_number=GOOD_ID).exists()
