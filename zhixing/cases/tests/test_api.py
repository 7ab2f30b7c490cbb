"""REST API of cases and parties: scope, masking and audited reveal, filing, steps, errors."""

from __future__ import annotations

import datetime
import json

import pytest
from rest_framework.test import APIClient

from zhixing.audit.models import AuditRecord
from zhixing.cases.identity import mask_id_number
from zhixing.cases.models import EnforcementCase, Party
from zhixing.cases.tests.factories import make_resident_id
from zhixing.cases.tests.test_views import LI_ID, MATRIX, VISIBLE, ZHANG_ID, _today, file_case
from zhixing.courts import services as court_services


def api_client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


def _new_case(**overrides):
    data = {
        "basis_kind": "judgment",
        "basis_court": "广州市越秀区人民法院",
        "basis_document_number": "(2026)粤0104民初7号",
        "claim_amount": "8800.00",
        "applicants": [{"name": "广州某某银行股份有限公司", "kind": "organisation"}],
        "debtors": [{"name": "钱七", "document_number": make_resident_id("440106", "19790505", 7)}],
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_openapi_lists_case_paths(make_user):
    response = api_client(make_user("reader", "粤0104")).get("/api/openapi.json")
    paths = json.loads(response.content)["paths"]
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/cases/{id}/steps/",
        "/api/v1/cases/{id}/assign/",
        "/api/v1/cases/{id}/close/",
        "/api/v1/parties/",
        "/api/v1/parties/{id}/",
    ):
        assert path in paths, path
    parameters = {item["name"] for item in paths["/api/v1/cases/"]["get"]["parameters"]}
    assert {"q", "court", "lower", "type", "status", "officer", "due", "sort"} <= parameters
    reveal = {item["name"] for item in paths["/api/v1/cases/{id}/"]["get"]["parameters"]}
    assert "reveal" in reveal


@pytest.mark.django_db
@pytest.mark.parametrize(("viewer", "owner"), MATRIX)
def test_api_case_scope_matrix(courts, make_user, viewer, owner):
    case = file_case(courts[owner])
    client = api_client(make_user("viewer", viewer, "bureau_head"))
    expected = owner in VISIBLE[viewer]
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == (200 if expected else 404)
    listed = {row["id"] for row in client.get("/api/v1/cases/").json()["results"]}
    assert (case.pk in listed) is expected
    found = {row["id"] for row in client.get("/api/v1/cases/", {"q": ZHANG_ID}).json()["results"]}
    assert (case.pk in found) is expected
    party = Party.objects.get(document_number=ZHANG_ID)
    assert client.get(f"/api/v1/parties/{party.pk}/").status_code == (200 if expected else 404)
    step = client.post(f"/api/v1/cases/{case.pk}/steps/", {"kind": "notice_sent"})
    assert (step.status_code == 404) is not expected


@pytest.mark.django_db
def test_api_list_filters_and_masks(courts, make_user):
    overdue = file_case(courts["粤0104"], days_ago=30)
    other = file_case(courts["粤0105"], debtor="李四", debtor_id=LI_ID)
    client = api_client(make_user("head01", "粤01", "bureau_head"))
    body = client.get("/api/v1/cases/", {"due": "overdue"}).json()
    assert [row["id"] for row in body["results"]] == [overdue.pk]
    assert body["count"] == 1
    assert body["count_capped"] is False
    by_name = client.get("/api/v1/cases/", {"q": "李四"}).json()["results"]
    assert [row["id"] for row in by_name] == [other.pk]
    debtor = next(row for row in by_name[0]["parties"] if row["role"] == "debtor")
    assert debtor["document_number"] == mask_id_number(LI_ID)
    assert debtor["name"] == "李四"
    assert LI_ID not in json.dumps(client.get("/api/v1/cases/").json())


@pytest.mark.django_db
def test_api_reveal_is_audited(courts, make_user):
    officer = make_user("officer", "粤0104")
    case = file_case(courts["粤0104"], officer=officer)
    client = api_client(officer)
    masked = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert ZHANG_ID not in json.dumps(masked)
    assert not AuditRecord.objects.filter(action="read_personal").exists()
    revealed = client.get(f"/api/v1/cases/{case.pk}/", {"reveal": "1"}).json()
    numbers = {row["document_number"] for row in revealed["parties"]}
    assert ZHANG_ID in numbers
    record = AuditRecord.objects.get(action="read_personal")
    assert record.object_type == "cases.party"
    assert record.object_id == str(Party.objects.get(document_number=ZHANG_ID).pk)
    assert record.detail["purpose"] == "api"
    assert record.detail["fields"] == ["document_number"]
    assert record.channel == "api"
    assert ZHANG_ID not in json.dumps(record.detail)


@pytest.mark.django_db
def test_api_deadline_labels_follow_language(courts, make_user):
    officer = make_user("officer", "粤0104")
    case = file_case(courts["粤0104"], officer=officer)
    client = api_client(officer)

    english = client.get(f"/api/v1/cases/{case.pk}/").json()["deadlines"]
    chinese = client.get(f"/api/v1/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    handling = next(item for item in english if item["rule_id"] == "handling_period")
    handling_zh = next(
        item for item in chinese["deadlines"] if item["rule_id"] == "handling_period"
    )
    assert handling["label"] != handling_zh["label"]
    assert any("\u4e00" <= character <= "\u9fff" for character in handling_zh["label"])


@pytest.mark.django_db
def test_api_reveal_needs_identity_right(courts, make_user):
    case = file_case(courts["粤0104"])
    client = api_client(make_user("colleague", "粤0104"))
    response = client.get(f"/api/v1/cases/{case.pk}/", {"reveal": "1"})
    assert response.status_code == 403
    assert not AuditRecord.objects.filter(action="read_personal").exists()


@pytest.mark.django_db
def test_api_parties_are_masked(courts, make_user):
    case = file_case(courts["粤0104"])
    file_case(courts["粤0303"], debtor="李四", debtor_id=LI_ID)
    client = api_client(make_user("officer", "粤0104"))
    rows = client.get("/api/v1/parties/").json()["results"]
    names = {row["name"] for row in rows}
    assert names == {"张三", "广州某某贸易有限公司"}
    zhang = next(row for row in rows if row["name"] == "张三")
    assert zhang["document_number"] == mask_id_number(ZHANG_ID)
    assert zhang["cases"] == [{"id": case.pk, "case_number": case.case_number, "role": "debtor"}]
    assert client.get("/api/v1/parties/", {"name": "张"}).json()["count"] == 1


@pytest.mark.django_db
def test_api_files_case(courts, make_user):
    officer = make_user("officer", "粤0104")
    response = api_client(officer).post(
        "/api/v1/cases/", _new_case(case_officer=officer.pk), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["case_number"] == f"({_today().year})粤0104执1号"
    assert body["court"] == "粤0104"
    assert body["case_officer"] == officer.pk
    assert body["claim_amount"] == "8800.00"
    assert {row["role"] for row in body["parties"]} == {"applicant", "debtor"}
    assert [node["kind"] for node in body["flow"]] == ["filed", "officer_assigned"]
    assert any(item["rule_id"] == "handling_period" for item in body["deadlines"])


@pytest.mark.django_db
def test_api_filing_errors_name_fields(courts, make_user):
    client = api_client(make_user("officer", "粤0104"))
    bad = make_resident_id("440106", "19790505", 7)
    bad = bad[:-1] + ("1" if bad[-1] != "1" else "2")
    debtors = [
        {"name": "钱七", "document_number": make_resident_id("440106", "19790505", 7)},
        {"name": "孙八", "document_number": bad},
    ]
    response = client.post("/api/v1/cases/", _new_case(debtors=debtors), format="json")
    assert response.status_code == 400
    assert "debtors[1].document_number" in response.json()
    assert bad not in json.dumps(response.json())
    missing = client.post("/api/v1/cases/", _new_case(debtors=[]), format="json")
    assert missing.status_code == 400
    assert "debtors" in missing.json()
    amount = client.post("/api/v1/cases/", _new_case(claim_amount="-1"), format="json")
    assert "claim_amount" in amount.json()
    future = (_today() + datetime.timedelta(days=1)).isoformat()
    late = client.post("/api/v1/cases/", _new_case(filed_on=future), format="json")
    assert "filed_on" in late.json()
    assert not EnforcementCase.objects.exists()
    assert not Party.objects.exists()


@pytest.mark.django_db
def test_api_filing_permissions(courts, make_user):
    commander = api_client(make_user("cmd", "粤0104", "commander"))
    assert commander.post("/api/v1/cases/", _new_case(), format="json").status_code == 403
    head01 = api_client(make_user("head01", "粤01", "bureau_head"))
    below = head01.post("/api/v1/cases/", _new_case(court="粤0104"), format="json")
    assert below.status_code == 403
    assert not EnforcementCase.objects.exists()


@pytest.mark.django_db
def test_api_steps_assign_and_close(courts, make_user):
    officer = make_user("officer", "粤0104")
    clerk = make_user("clerk", "粤0104", "clerk")
    case = file_case(courts["粤0104"], days_ago=2)
    today = _today().isoformat()
    assigned = api_client(clerk).post(
        f"/api/v1/cases/{case.pk}/assign/", {"case_officer": officer.pk, "on": today}
    )
    assert assigned.status_code == 200
    assert assigned.json()["case_officer"] == officer.pk
    client = api_client(officer)
    step = client.post(f"/api/v1/cases/{case.pk}/steps/", {"kind": "notice_sent", "on": today})
    assert step.status_code == 200
    assert "notice_sent" in [node["kind"] for node in step.json()["flow"]]
    wrong = client.post(f"/api/v1/cases/{case.pk}/steps/", {"kind": "closed", "on": today})
    assert wrong.status_code == 400
    assert "kind" in wrong.json()
    extension = client.post(
        f"/api/v1/cases/{case.pk}/steps/", {"kind": "extension_approved", "on": today}
    )
    assert "extension_months" in extension.json()
    not_clerk = client.post(
        f"/api/v1/cases/{case.pk}/assign/", {"case_officer": officer.pk, "on": today}
    )
    assert not_clerk.status_code == 403
    closed = client.post(
        f"/api/v1/cases/{case.pk}/close/",
        {"mode": "terminated_without_assets", "on": today, "recovered_amount": "100.00"},
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["recovered_amount"] == "100.00"
    again = client.post(f"/api/v1/cases/{case.pk}/close/", {"mode": "completed", "on": today})
    assert again.status_code == 400
    assert "mode" in again.json()
