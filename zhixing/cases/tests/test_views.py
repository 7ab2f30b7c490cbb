"""Case pages: list and search, scope across tiers, detail and reveal, filing, deadlines."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from zhixing.audit.models import AuditRecord
from zhixing.cases import search, services
from zhixing.cases.identity import mask_id_number
from zhixing.cases.models import CaseParty, CaseSequence, EnforcementCase, FlowNode, Party
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.cases.tests.test_services import store_measure
from zhixing.courts.services import load_courts

# Tiers of the fixture tree and the courts visible to each, as in the courts app's scope tests.
TIERS = ["粤", "粤01", "粤03", "粤0104", "粤0105", "粤0303"]
VISIBLE = {
    "粤": set(TIERS),
    "粤01": {"粤01", "粤0104", "粤0105"},
    "粤03": {"粤03", "粤0303"},
    "粤0104": {"粤0104"},
    "粤0105": {"粤0105"},
    "粤0303": {"粤0303"},
}
MATRIX = [(viewer, owner) for viewer in TIERS for owner in TIERS]

ZHANG_ID = make_resident_id("440104", "19850101", 1)
LI_ID = make_resident_id("440105", "19900202", 2)


def _today() -> datetime.date:
    return services.today_in_china()


def file_case(
    court, *, debtor="张三", debtor_id=ZHANG_ID, days_ago=0, officer=None, notice=False, **extra
):
    """File a case ``days_ago`` days back; ``notice`` records the enforcement notice too.

    With an officer and the notice sent, the next deadline is the asset investigation, a month
    after filing. Without the notice it falls 3 days after filing, without an officer 7 days.
    """
    values = {
        "actor": None,
        "court": court,
        "filed_on": _today() - datetime.timedelta(days=days_ago),
        "basis_kind": "judgment",
        "applicants": [PartyInput(name="广州某某贸易有限公司", kind="organisation")],
        "debtors": [PartyInput(name=debtor, document_number=debtor_id, phone="13800138000")],
        "claim_amount": "120000.50",
        "basis_court": court.name,
        "basis_document_number": f"({_today().year})粤0104民初100号",
        "case_officer": officer,
    }
    values.update(extra)
    case = services.file_case(**values)
    if notice:
        services.record_step(actor=None, case=case, kind="notice_sent", on=case.filed_on)
    return case


def client_for(user) -> Client:
    # English pages, so that Django's own messages match the assertions.
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def listed_numbers(response) -> set[str]:
    return set(re.findall(r'data-testid="case-link">([^<]+)<', response.content.decode()))


# Services added for these pages


@pytest.mark.django_db
def test_may_assign_officer_roles(courts, make_user):
    case = file_case(courts["粤0104"])
    assert services.may_assign_officer(make_user("head", "粤0104", "bureau_head"), case)
    assert services.may_assign_officer(make_user("clerk", "粤0104", "clerk"), case)
    assert not services.may_assign_officer(make_user("officer", "粤0104"), case)
    assert not services.may_assign_officer(make_user("head01", "粤01", "bureau_head"), case)


@pytest.mark.django_db
def test_watched_cases_officer_and_head(courts, make_user):
    officer = make_user("officer", "粤0104")
    other = make_user("other", "粤0104")
    head = make_user("head01", "粤01", "bureau_head")
    own = file_case(courts["粤0104"], days_ago=30, officer=officer)
    colleague = file_case(courts["粤0104"], days_ago=30, officer=other)
    sibling = file_case(courts["粤0303"], days_ago=30)
    later = file_case(courts["粤0104"], officer=officer, notice=True)
    assert set(services.watched_deadline_cases(officer)) == {own}
    assert set(services.watched_deadline_cases(head)) == {own, colleague}
    commander = make_user("cmd", "粤01", "commander")
    assert set(services.watched_deadline_cases(commander)) == {own, colleague}
    assert sibling in services.watched_deadline_cases(make_user("cmd_high", "粤", "commander"))
    assert later.next_due_on > _today() + datetime.timedelta(days=7)


# List and search


@pytest.mark.django_db
def test_list_search_by_number_id_and_name(courts, make_user):
    zhang = file_case(courts["粤0104"])
    li = file_case(courts["粤0104"], debtor="李四", debtor_id=LI_ID)
    client = client_for(make_user("officer", "粤0104"))

    assert listed_numbers(client.get("/cases/", {"q": zhang.case_number})) == {zhang.case_number}
    # Full-width brackets, as in court documents, find the same case.
    full_width = zhang.case_number.replace("(", "（").replace(")", "）")
    assert listed_numbers(client.get("/cases/", {"q": full_width})) == {zhang.case_number}
    assert listed_numbers(client.get("/cases/", {"q": LI_ID})) == {li.case_number}
    assert listed_numbers(client.get("/cases/", {"q": LI_ID.lower()})) == {li.case_number}
    assert listed_numbers(client.get("/cases/", {"q": "李"})) == {li.case_number}
    assert listed_numbers(client.get("/cases/", {"q": "王五"})) == set()


@pytest.mark.postgres
@pytest.mark.django_db
def test_id_lookup_reads_document_index(courts):
    """A party looked up by ID number alone is found through the unique document index.

    The ID search of the case list relies on it. The index is partial (it leaves out blank
    numbers), so PostgreSQL uses it only when it can prove from the query that the number is
    not blank, as it can for the literal value that Django sends.
    """
    file_case(courts["粤0104"], debtor="李四", debtor_id=LI_ID)
    parties = Party.objects.filter(document_number=LI_ID)
    with connection.cursor() as cursor:
        # On a table this small a scan would win; forbid it to see whether the index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = parties.explain()

    assert "party_unique_document" in plan, plan


@pytest.mark.django_db
def test_list_queries_fixed_without_passwords(courts, make_user):
    officer = make_user("officer", "粤0104")
    client = client_for(officer)
    file_case(courts["粤0104"], officer=officer)
    # The first request of a session writes more than later ones.
    client.get("/cases/")
    with CaptureQueriesContext(connection) as one_case:
        client.get("/cases/")
    for index in range(3):
        file_case(courts["粤0104"], debtor=f"李{index}", debtor_id="", officer=officer)
    with CaptureQueriesContext(connection) as four_cases:
        client.get("/cases/")

    assert len(four_cases) == len(one_case)
    case_queries = [query["sql"] for query in four_cases if "cases_enforcementcase" in query["sql"]]
    assert case_queries
    assert not any("password" in sql for sql in case_queries)


@pytest.mark.django_db
def test_list_never_shows_full_numbers(courts, make_user):
    file_case(courts["粤0104"])
    client = client_for(make_user("officer", "粤0104"))
    page = client.get("/cases/", {"q": ZHANG_ID}).content.decode()
    # The search box and the links of the page repeat the search text; the table must not.
    table = page[page.index("<tbody>") :]
    assert "张三" in table
    assert ZHANG_ID not in table
    assert "13800138000" not in page


@pytest.mark.django_db
def test_list_filters(courts, make_user):
    officer = make_user("officer", "粤0104")
    overdue = file_case(courts["粤0104"], days_ago=30)
    soon = file_case(courts["粤0104"], days_ago=3)
    assigned = file_case(courts["粤0104"], officer=officer, notice=True)
    resumed = file_case(courts["粤0104"], type_code="执恢", officer=officer, notice=True)
    closed = file_case(courts["粤0104"], officer=officer)
    services.close_case(actor=None, case=closed, mode="completed", on=_today())
    below = file_case(courts["粤0105"])
    client = client_for(make_user("head01", "粤01", "bureau_head"))

    def numbers(**params):
        return listed_numbers(client.get("/cases/", params))

    assert numbers(due="overdue") == {overdue.case_number}
    assert numbers(due="soon") == {soon.case_number, below.case_number}
    assert numbers(type="执恢") == {resumed.case_number}
    assert numbers(status="closed") == {closed.case_number}
    assert numbers(officer=str(officer.pk)) == {
        assigned.case_number,
        resumed.case_number,
        closed.case_number,
    }
    assert numbers(court="粤0105") == {below.case_number}
    assert numbers(court="粤01", lower="0") == set()
    assert len(numbers(court="粤01", lower=["0", "1"])) == 6
    # A court outside the scope is rejected with an error, and no case is listed.
    assert numbers(court="粤0303") == set()


@pytest.mark.django_db
def test_list_sort_and_pages(courts, make_user):
    for days in range(3):
        file_case(courts["粤0104"], days_ago=days, claim_amount=str(1000 * (days + 1)))
    client = client_for(make_user("officer", "粤0104"))
    page = client.get("/cases/", {"sort": "amount"}).content.decode()
    amounts = re.findall(r'<td class="number">([\d,]+\.\d\d)</td>\s*<td class="number">0.00', page)
    assert amounts == ["1,000.00", "2,000.00", "3,000.00"]
    assert 'aria-sort="ascending"' in page
    assert "3 cases match." in page


@pytest.mark.django_db
def test_list_htmx_returns_results_only(courts, make_user):
    case = file_case(courts["粤0104"])
    client = client_for(make_user("officer", "粤0104"))
    response = client.get("/cases/", {"q": "张"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body
    assert case.case_number in body
    assert 'hx-swap-oob="true"' in body
    assert "HX-Request" in response["Vary"]
    restore = client.get(
        "/cases/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


@pytest.mark.django_db
def test_list_count_is_capped(courts, make_user, monkeypatch):
    from zhixing.cases import views

    monkeypatch.setattr(views, "COUNT_CAP", 2)
    for _ in range(3):
        file_case(courts["粤0104"])
    page = client_for(make_user("officer", "粤0104")).get("/cases/").content.decode()
    assert "More than 2 cases match" in page


@pytest.mark.django_db
@pytest.mark.parametrize(("viewer", "owner"), MATRIX)
def test_case_scope_matrix(courts, make_user, viewer, owner):
    case = file_case(courts[owner], debtor=f"债务人{owner}")
    client = client_for(make_user("viewer", viewer, "bureau_head"))
    expected = owner in VISIBLE[viewer]
    assert client.get(f"/cases/{case.pk}/").status_code == (200 if expected else 404)
    assert (case.case_number in listed_numbers(client.get("/cases/"))) is expected
    found = listed_numbers(client.get("/cases/", {"q": f"债务人{owner}"}))
    assert (case.case_number in found) is expected
    by_number = listed_numbers(client.get("/cases/", {"q": case.case_number}))
    assert (case.case_number in by_number) is expected
    reveal = client.post(f"/cases/{case.pk}/reveal/")
    assert reveal.status_code == (200 if expected else 404)
    step = client.post(f"/cases/{case.pk}/steps/", {"step-kind": "notice_sent"})
    assert step.status_code != 404 if expected else step.status_code == 404


@pytest.mark.django_db
def test_list_requires_login(courts):
    response = Client().get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# Detail and reveal


@pytest.mark.django_db
def test_detail_masks_numbers(courts, make_user):
    officer = make_user("officer", "粤0104")
    case = file_case(courts["粤0104"], officer=officer)
    page = client_for(officer).get(f"/cases/{case.pk}/").content.decode()
    assert mask_id_number(ZHANG_ID) in page
    assert ZHANG_ID not in page
    assert "13800138000" not in page
    assert 'data-testid="reveal"' in page
    assert "Handling period" in page
    assert "Filed" in page


@pytest.mark.django_db
def test_reveal_shows_number_and_audits(courts, make_user):
    officer = make_user("officer", "粤0104")
    case = file_case(courts["粤0104"], officer=officer)
    debtor = Party.objects.get(document_number=ZHANG_ID)
    client = client_for(officer)
    response = client.post(f"/cases/{case.pk}/reveal/")
    page = response.content.decode()
    assert response.status_code == 200
    assert ZHANG_ID in page
    assert "13800138000" in page
    assert "no-store" in response["Cache-Control"]
    records = AuditRecord.objects.filter(
        action="read_personal", object_type="cases.party", object_id=str(debtor.pk)
    )
    assert records.count() == 1
    record = records.get()
    assert record.user == officer
    assert record.detail["case_number"] == case.case_number
    assert record.detail["fields"] == ["document_number", "phone"]
    assert record.subject_court_path == courts["粤0104"].path
    assert ZHANG_ID not in str(record.detail)
    # Each full view is recorded again.
    client.post(f"/cases/{case.pk}/reveal/")
    assert records.count() == 2
    # Reading the page normally records nothing.
    client.get(f"/cases/{case.pk}/")
    assert records.count() == 2


@pytest.mark.django_db
def test_reveal_needs_identity_right(courts, make_user):
    case = file_case(courts["粤0104"])
    colleague = make_user("colleague", "粤0104")
    client = client_for(colleague)
    assert 'data-testid="reveal"' not in client.get(f"/cases/{case.pk}/").content.decode()
    assert client.post(f"/cases/{case.pk}/reveal/").status_code == 403
    assert client.get(f"/cases/{case.pk}/reveal/").status_code == 405
    assert not AuditRecord.objects.filter(action="read_personal").exists()
    head01 = client_for(make_user("head01", "粤01", "bureau_head"))
    assert ZHANG_ID in head01.post(f"/cases/{case.pk}/reveal/").content.decode()


# Actions on the detail page


@pytest.mark.django_db
def test_action_forms_by_role(courts, make_user):
    officer = make_user("officer", "粤0104")
    case = file_case(courts["粤0104"], officer=officer)
    own = client_for(officer).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="step-form"' in own
    assert 'data-testid="close-form"' in own
    assert 'data-testid="assign-form"' not in own
    head = client_for(make_user("head", "粤0104", "bureau_head")).get(f"/cases/{case.pk}/")
    assert 'data-testid="assign-form"' in head.content.decode()
    upper = client_for(make_user("head01", "粤01", "bureau_head")).get(f"/cases/{case.pk}/")
    assert 'data-testid="step-form"' not in upper.content.decode()
    assert "Actions" not in upper.content.decode()


@pytest.mark.django_db
def test_record_step_and_errors(courts, make_user):
    officer = make_user("officer", "粤0104")
    case = file_case(courts["粤0104"], officer=officer, days_ago=5)
    client = client_for(officer)
    today = _today().isoformat()
    response = client.post(
        f"/cases/{case.pk}/steps/", {"step-kind": "notice_sent", "step-on": today}
    )
    assert response.status_code == 302
    assert case.flow.filter(kind=FlowNode.Kind.NOTICE_SENT).exists()
    too_early = (case.filed_on - datetime.timedelta(days=1)).isoformat()
    response = client.post(
        f"/cases/{case.pk}/steps/", {"step-kind": "online_query", "step-on": too_early}
    )
    assert response.status_code == 400
    assert 'id="id_step-on-error"' in response.content.decode()
    assert not case.flow.filter(kind=FlowNode.Kind.ONLINE_QUERY).exists()
    extension = client.post(
        f"/cases/{case.pk}/steps/", {"step-kind": "extension_approved", "step-on": today}
    )
    assert "Give the months or days approved." in extension.content.decode()
    outsider = client_for(make_user("colleague", "粤0104"))
    denied = outsider.post(
        f"/cases/{case.pk}/steps/", {"step-kind": "online_query", "step-on": today}
    )
    assert denied.status_code == 403


@pytest.mark.django_db
def test_assign_and_close(courts, make_user):
    officer = make_user("officer", "粤0104")
    head = make_user("head", "粤0104", "bureau_head")
    case = file_case(courts["粤0104"])
    client = client_for(head)
    today = _today().isoformat()
    response = client.post(
        f"/cases/{case.pk}/assign/", {"assign-officer": officer.pk, "assign-on": today}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.case_officer == officer
    wrong = client.post(
        f"/cases/{case.pk}/assign/", {"assign-officer": head.pk, "assign-on": today}
    )
    assert wrong.status_code == 400
    assert (
        f"Case officer “{head.pk}” is not one of the choices; choose one from the list."
        in wrong.content.decode()
    )
    close = client_for(officer).post(
        f"/cases/{case.pk}/close/",
        {"close-mode": "completed", "close-on": today, "close-recovered_amount": "120000.50"},
    )
    assert close.status_code == 302
    case.refresh_from_db()
    assert case.is_closed
    assert case.recovered_amount == case.claim_amount
    again = client_for(officer).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="close-form"' not in again


# Filing


def _filing_data(**overrides):
    data = {
        "type_code": "执",
        "filed_on": _today().isoformat(),
        "basis_kind": "judgment",
        "basis_court": "广州市越秀区人民法院",
        "basis_document_number": "(2026)粤0104民初100号",
        "claim_amount": "5000.00",
        "case_officer": "",
    }
    for prefix in ("applicants", "debtors"):
        data[f"{prefix}-TOTAL_FORMS"] = "3"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for row in range(3):
            data[f"{prefix}-{row}-kind"] = "person"
    data["applicants-0-name"] = "广州某某银行股份有限公司"
    data["applicants-0-kind"] = "organisation"
    data["debtors-0-name"] = "王五"
    data["debtors-0-document_number"] = make_resident_id("440106", "19800303", 5)
    data.update(overrides)
    return data


def _nothing_saved() -> bool:
    return (
        not EnforcementCase.objects.exists()
        and not Party.objects.exists()
        and not CaseSequence.objects.filter(last_sequence__gt=0).exists()
    )


@pytest.mark.django_db
def test_filing_form_files_case(courts, make_user):
    officer = make_user("officer", "粤0104")
    client = client_for(officer)
    form = client.get("/cases/new/").content.decode()
    assert 'name="debtors-2-name"' in form
    response = client.post("/cases/new/", _filing_data(case_officer=str(officer.pk)))
    assert response.status_code == 302
    case = EnforcementCase.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.case_number == f"({_today().year})粤0104执1号"
    assert case.case_officer == officer
    roles = {(role.role, role.party.name) for role in CaseParty.objects.select_related("party")}
    assert roles == {("applicant", "广州某某银行股份有限公司"), ("debtor", "王五")}


@pytest.mark.django_db
def test_filing_errors_keep_nothing(courts, make_user):
    client = client_for(make_user("officer", "粤0104"))
    # The second debtor's number fails its check digit; the first one is valid.
    bad_id = make_resident_id("440106", "19800303", 5)[:-1] + "0"
    if bad_id == make_resident_id("440106", "19800303", 5):
        bad_id = bad_id[:-1] + "1"
    data = _filing_data(**{"debtors-1-name": "赵六", "debtors-1-document_number": bad_id})
    response = client.post("/cases/new/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_debtors-1-document_number-error"' in page
    assert "check" in page
    assert _nothing_saved()


@pytest.mark.django_db
def test_filing_needs_parties_and_valid_amount(courts, make_user):
    client = client_for(make_user("officer", "粤0104"))
    no_debtor = client.post(
        "/cases/new/", _filing_data(**{"debtors-0-name": "", "debtors-0-document_number": ""})
    )
    assert no_debtor.status_code == 400
    assert 'data-testid="debtors-error"' in no_debtor.content.decode()
    bad_amount = client.post("/cases/new/", _filing_data(claim_amount="12,5x"))
    assert 'id="id_claim_amount-error"' in bad_amount.content.decode()
    future = (_today() + datetime.timedelta(days=2)).isoformat()
    in_future = client.post("/cases/new/", _filing_data(filed_on=future))
    assert 'id="id_filed_on-error"' in in_future.content.decode()
    nameless = client.post("/cases/new/", _filing_data(**{"debtors-1-document_number": LI_ID}))
    assert 'id="id_debtors-1-name-error"' in nameless.content.decode()
    assert _nothing_saved()


@pytest.mark.django_db
def test_filing_credit_code_needs_confirmation(courts, make_user):
    client = client_for(make_user("officer", "粤0104"))
    # A well-formed credit code whose check character is wrong.
    code = "91440101MA59ABCD1X"
    row = {
        "debtors-0-name": "广州某某有限公司",
        "debtors-0-kind": "organisation",
        "debtors-0-document_type": "uscc",
        "debtors-0-document_number": code,
    }
    first = client.post("/cases/new/", _filing_data(**row))
    assert 'id="id_debtors-0-document_number-error"' in first.content.decode()
    assert _nothing_saved()
    confirmed = client.post("/cases/new/", _filing_data(**row, **{"debtors-0-confirmed": "on"}))
    assert confirmed.status_code == 302
    assert Party.objects.get(document_number=code).needs_confirmation


@pytest.mark.django_db
def test_filing_only_for_filing_roles(courts, make_user):
    assert client_for(make_user("cmd", "粤0104", "commander")).get("/cases/new/").status_code == 403
    police = client_for(make_user("police", "粤0104", "judicial_police"))
    assert police.post("/cases/new/", _filing_data()).status_code == 403
    assert _nothing_saved()


# Deadlines page and navigation


@pytest.mark.django_db
def test_deadlines_page_groups_by_court(courts, make_user):
    officer = make_user("officer", "粤0104")
    own_overdue = file_case(courts["粤0104"], days_ago=30, officer=officer)
    unassigned = file_case(courts["粤0105"], days_ago=3)
    sibling = file_case(courts["粤0303"], days_ago=30)
    file_case(courts["粤0104"], officer=officer, notice=True)

    own = client_for(officer).get("/cases/deadlines/").content.decode()
    assert own_overdue.case_number in own
    assert unassigned.case_number not in own

    head = client_for(make_user("head01", "粤01", "bureau_head")).get("/cases/deadlines/")
    page = head.content.decode()
    assert own_overdue.case_number in page
    assert unassigned.case_number in page
    assert sibling.case_number not in page
    groups = re.findall(r'data-testid="deadline-group" data-court-code="([^"]+)"', page)
    assert groups == ["粤0104", "粤0105"]
    assert "1 overdue" in page
    assert "1 due soon" in page


@pytest.mark.django_db
def test_nav_shows_overdue_badge(courts, make_user):
    officer = make_user("officer", "粤0104")
    client = client_for(officer)
    assert 'data-testid="nav-overdue"' not in client.get("/").content.decode()
    file_case(courts["粤0104"], days_ago=30, officer=officer)
    home = client.get("/").content.decode()
    assert 'data-testid="nav-cases"' in home
    assert re.search(r'data-testid="nav-overdue"[^>]*>1</a>', home)


# Closing with measures in force, links, deadlines of closed cases, sorting, number search


@pytest.mark.django_db
def test_close_page_shows_measures_in_force(courts, make_user):
    officer = make_user("officer", "粤0104", "case_officer")
    case = file_case(courts["粤0104"], officer=officer)
    freeze = store_measure(case, officer)
    response = client_for(officer).post(
        f"/cases/{case.pk}/close/",
        {
            "close-mode": "completed",
            "close-on": _today().isoformat(),
            "close-recovered_amount": "77",
        },
    )
    assert response.status_code == 400
    form = response.context["close_form"]
    assert f"Freeze deposits #{freeze.pk}" in " ".join(form.errors["mode"])
    page = response.content.decode()
    assert "Release them first" in page
    assert 'value="77"' in page
    assert 'value="completed" selected' in page
    case.refresh_from_db()
    assert not case.is_closed


@pytest.mark.django_db
def test_close_api_shows_measures_in_force(courts, make_user):
    officer = make_user("officer", "粤0104", "case_officer")
    case = file_case(courts["粤0104"], officer=officer)
    freeze = store_measure(case, officer)
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(officer)
    response = api.post(
        f"/api/v1/cases/{case.pk}/close/",
        {"mode": "terminated", "on": _today().isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert f"Freeze deposits #{freeze.pk}" in " ".join(response.json()["mode"])


@pytest.mark.django_db
def test_list_links_export_with_filters(courts, make_user):
    file_case(courts["粤0104"])
    page = client_for(make_user("officer", "粤0104")).get(
        "/cases/", {"status": "open", "q": "张三"}
    )
    html = page.content.decode()
    match = re.search(r'href="(/cases/export\.xlsx[^"]*)" data-testid="export-cases"', html)
    assert match is not None
    assert "status=open" in match.group(1)
    assert "q=%E5%BC%A0%E4%B8%89" in match.group(1)
    assert 'data-testid="import-cases"' not in html


@pytest.mark.django_db
def test_list_links_import_for_importers(courts, make_user):
    html = client_for(make_user("clerk", "粤0104", "clerk")).get("/cases/").content.decode()
    assert (
        'href="/cases/import/" role="button" class="secondary outline" data-testid="import-cases"'
        in html
    )


@pytest.mark.django_db
def test_closed_case_page_shows_no_live_deadlines(courts, make_user):
    officer = make_user("officer", "粤0104", "case_officer")
    case = file_case(courts["粤0104"], days_ago=40)
    services.close_case(actor=None, case=case, mode="withdrawn", on=_today())
    client = client_for(officer)
    detail = client.get(f"/cases/{case.pk}/").content.decode()
    table = detail[detail.index('data-testid="deadlines"') :].split("</table>")[0]
    assert "Overdue" not in table
    assert "Due soon" not in table
    assert 'data-status="overdue"' not in table
    assert 'data-status="not_applicable"' in table
    assert "Not applicable: the case is closed" in table
    listing = client.get("/cases/").content.decode()
    assert 'class="tag overdue"' not in listing
    assert 'class="tag soon"' not in listing


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["due", "-due"])
def test_due_sort_puts_cases_without_deadline_last(courts, make_user, sort):
    early = file_case(courts["粤0104"], days_ago=10)
    late = file_case(courts["粤0104"], days_ago=2)
    closed = file_case(courts["粤0104"], days_ago=5)
    services.close_case(actor=None, case=closed, mode="withdrawn", on=_today())
    page = client_for(make_user("officer", "粤0104")).get("/cases/", {"sort": sort})
    numbers = re.findall(r'data-testid="case-link">([^<]+)<', page.content.decode())
    dated = [early.case_number, late.case_number]
    assert numbers[:2] == (dated if sort == "due" else dated[::-1])
    assert numbers[2] == closed.case_number


@pytest.mark.django_db
def test_list_search_by_partial_number(courts, make_user):
    year = _today().year
    cases = [file_case(courts["粤0104"]) for _ in range(16)]
    sixteenth = cases[15]
    assert sixteenth.case_number == f"({year})粤0104执16号"
    other_court = file_case(courts["粤0105"])
    client = client_for(make_user("officer", "粤01"))

    def found(text: str) -> set[str]:
        return listed_numbers(client.get("/cases/", {"q": text}))

    assert found("粤0104执16号") == {sixteenth.case_number}
    assert found("粤0104执16") == {sixteenth.case_number}
    assert found(f"({year})粤0104执16") == {sixteenth.case_number}
    assert found(f"（{year}）粤0104执16") == {sixteenth.case_number}
    assert found(f"({year})粤0104执1") == {cases[0].case_number}
    prefix = found(f"({year})粤0104执")
    assert prefix == {case.case_number for case in cases}
    assert other_court.case_number not in prefix
    assert found("粤0104执17号") == set()


@pytest.mark.django_db
def test_list_search_by_type_and_sequence(courts, make_user):
    cases = [file_case(courts["粤0104"]) for _ in range(11)]
    other_court = file_case(courts["粤0105"])
    client = client_for(make_user("officer", "粤01"))

    def found(text: str) -> set[str]:
        return listed_numbers(client.get("/cases/", {"q": text}))

    # Each court in scope numbers its own cases, so both first cases have sequence 1.
    assert found("执1号") == {cases[0].case_number, other_court.case_number}
    assert found("执11号") == {cases[10].case_number}
    assert found("执11") == {cases[10].case_number}
    assert found("执恢11号") == set()
    only_0105 = client_for(make_user("officer0105", "粤0105"))
    assert listed_numbers(only_0105.get("/cases/", {"q": "执1号"})) == {other_court.case_number}


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("text", ["粤0104执16号", "(2026)粤0104执"])
def test_partial_number_reads_number_index(courts, text):
    """A number without its year, or a prefix of one, is found through an index on the number.

    The year-less number is an IN list of full numbers, and the prefix a LIKE that the
    varchar_pattern_ops index, which Django adds on PostgreSQL for the unique column, serves.
    """
    file_case(courts["粤0104"])
    cases = EnforcementCase.objects.filter(search._text_condition(text, _today())).order_by()
    with connection.cursor() as cursor:
        # On a table this small a scan would win; forbid it to see whether an index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = cases.explain()

    assert "Index" in plan, plan
    assert "case_number" in plan, plan


@pytest.mark.postgres
@pytest.mark.django_db
def test_type_and_sequence_read_unique_index(courts):
    """A type and sequence alone are found through an index of the court's cases, not a scan.

    On a table this small the planner may take another index that leads with the court.
    """
    file_case(courts["粤0104"])
    condition = search._text_condition("执16号", _today())
    cases = EnforcementCase.objects.filter(condition, court=courts["粤0104"]).order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = cases.explain()

    assert "Index" in plan, plan
    assert "court_id" in plan, plan


@pytest.mark.django_db
def test_court_filter_leaves_out_courts_without_code(courts, make_user):
    load_courts(
        [
            {
                "code": "",
                "name": "横琴粤澳深度合作区人民法院",
                "level": "basic",
                "parent_code": "粤04",
            },
            {
                "code": "粤04",
                "name": "珠海市中级人民法院",
                "level": "intermediate",
                "parent_code": "粤",
            },
        ]
    )
    page = client_for(make_user("commander", "粤", "commander")).get("/cases/").content.decode()

    assert "横琴粤澳深度合作区人民法院" not in page
    assert 'value="None"' not in page
    assert 'value="粤04"' in page
