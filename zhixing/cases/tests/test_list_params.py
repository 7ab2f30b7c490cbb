"""Bad filter and page values of the case list, the case API and the export.

Each is rejected with a message that names the parameter, the value and what is accepted, and
the list shows no cases rather than a list filtered by the other values only.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from zhixing.audit.models import AuditRecord
from zhixing.cases import services
from zhixing.cases.tests.test_views import ZHANG_ID, _today, client_for, file_case, listed_numbers
from zhixing.web.tests.test_api_schema import _matches, _schema

# Parameter, bad value, and the part of the message that names the accepted values.
BAD_VALUES = [
    ("court", "XYZ", "choose a court from the list"),
    ("court", "粤0303", "choose a court from the list"),
    ("lower", "2", "use one of 0 (only that court), 1 (that court and the courts below it)"),
    ("type", "民初", "use one of 执 (Enforcement), 执他 (Other enforcement)"),
    ("status", "bogus", "use one of open (Open), suspended (Suspended), closed (Closed)"),
    ("officer", "abc", "choose a case officer from the list"),
    ("officer", "999999", "choose a case officer from the list"),
    ("officer", "99999999999999999999", "choose a case officer from the list"),
    ("due", "late", "use one of overdue (Overdue), soon (Due within 7 days)"),
    ("sort", "name", "use one of filed, -filed"),
]


@pytest.fixture
def head01(make_user):
    return make_user("head01", "粤01", "bureau_head")


@pytest.fixture
def cases(courts):
    return [file_case(courts["粤0104"]), file_case(courts["粤0105"], debtor="李四", debtor_id="")]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "value", "accepted"), BAD_VALUES)
def test_list_rejects_bad_value(cases, head01, name, value, accepted):
    response = client_for(head01).get("/cases/", {name: value, "q": "张三"})
    page = response.content.decode()

    assert response.status_code == 400
    assert listed_numbers(response) == set()
    assert 'data-testid="filter-errors"' in page
    assert f"({name}): " in page
    assert f"“{value}”" in page
    assert accepted in page
    assert 'data-testid="export-cases"' not in page


@pytest.mark.django_db
def test_list_names_every_bad_value(cases, head01):
    response = client_for(head01).get("/cases/", {"status": "bogus", "due": "late", "page": "x"})
    problems = response.context["filter_errors"]

    assert [problem.name for problem in problems] == ["status", "due"]
    assert [problem.value for problem in problems] == ["bogus", "late"]


@pytest.mark.django_db
def test_list_link_drops_bad_values(cases, head01):
    response = client_for(head01).get("/cases/", {"status": "bogus", "q": "张三", "page": "2"})

    assert response.context["query_without_errors"] == "q=%E5%BC%A0%E4%B8%89"


@pytest.mark.django_db
def test_list_rejects_bad_page(cases, head01):
    client = client_for(head01)

    for value in ("abc", "0", "2", "-1", "1.5"):
        response = client.get("/cases/", {"page": value})
        page = response.content.decode()
        assert response.status_code == 400, value
        assert f"Page “{value}” does not exist; use a whole number from 1 to 1." in page
        assert listed_numbers(response) == set()
    assert len(listed_numbers(client.get("/cases/", {"page": "1"}))) == 2


@pytest.mark.django_db
def test_list_partial_shows_errors_with_200(cases, head01):
    response = client_for(head01).get("/cases/", {"status": "bogus"}, headers={"HX-Request": "1"})
    body = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in body
    assert "Status (status): “bogus” is not valid" in body
    assert listed_numbers(response) == set()


@pytest.mark.django_db
def test_list_empty_values_mean_no_filter(cases, head01):
    params = dict.fromkeys(("q", "court", "lower", "type", "status", "officer", "due"), "")
    response = client_for(head01).get("/cases/", {**params, "sort": "", "page": ""})

    assert response.status_code == 200
    assert listed_numbers(response) == {case.case_number for case in cases}


@pytest.mark.django_db
def test_list_accepts_imported_type(cases, head01):
    response = client_for(head01).get("/cases/", {"type": "执异"})

    assert response.status_code == 200
    assert listed_numbers(response) == set()
    assert '<option value="执异" selected>' in response.content.decode()


@pytest.mark.django_db
def test_list_officer_filter_scope(courts, make_user, head01):
    officer = make_user("officer", "粤0104")
    case = file_case(courts["粤0104"], officer=officer)
    outsider = make_user("outsider", "粤0303")
    client = client_for(head01)

    assert listed_numbers(client.get("/cases/", {"officer": officer.pk})) == {case.case_number}
    assert client.get("/cases/", {"officer": outsider.pk}).status_code == 400
    # An officer who moved to a court outside the scope still has the cases in it.
    officer.court = courts["粤0303"]
    officer.save()
    moved = client.get("/cases/", {"officer": officer.pk})
    assert moved.status_code == 200
    assert listed_numbers(moved) == {case.case_number}


# API


@pytest.mark.django_db
def test_api_rejects_bad_filters(cases, head01):
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(head01)

    response = api.get("/api/v1/cases/", {"court": "XYZ", "status": "bogus", "q": "张三"})
    body = response.json()

    assert response.status_code == 400
    assert set(body) == {"court", "status"}
    assert "“XYZ”" in body["court"][0]
    assert body["status"] == [
        "Status (status): “bogus” is not valid; use one of open (Open), "
        "suspended (Suspended), closed (Closed), or leave it empty."
    ]


@pytest.mark.django_db
def test_api_rejects_bad_limit_and_offset(cases, head01):
    api = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    api.force_authenticate(head01)

    response = api.get("/api/v1/cases/", {"limit": "ten", "offset": "-5"})
    body = response.json()

    assert response.status_code == 400
    assert body["limit"] == [
        "limit: “ten” is not a number of items; use a whole number from 1 to 1000."
    ]
    assert body["offset"] == ["offset: “-5” is not a position; use a whole number from 0 upwards."]
    assert api.get("/api/v1/cases/", {"limit": "0"}).status_code == 400


@pytest.mark.django_db
def test_api_valid_filters_and_pages(cases, head01):
    api = APIClient()
    api.force_authenticate(head01)
    services.close_case(actor=None, case=cases[0], mode="completed", on=_today())

    closed = api.get("/api/v1/cases/", {"status": "closed", "limit": "1", "offset": "0"})
    large = api.get("/api/v1/cases/", {"limit": "5000"})

    assert closed.status_code == 200
    assert [case["case_number"] for case in closed.json()["results"]] == [cases[0].case_number]
    assert large.status_code == 200
    assert large.json()["count"] == 2


# Export


@pytest.mark.django_db
def test_export_rejects_bad_filter(cases, head01):
    exports_before = AuditRecord.objects.filter(action="export").count()

    response = client_for(head01).get("/cases/export.xlsx", {"status": "bogus", "q": ZHANG_ID})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Status (status): “bogus” is not valid" in response.content.decode()
    assert AuditRecord.objects.filter(action="export").count() == exports_before


@pytest.mark.django_db
def test_api_schema_lists_400(cases, head01):
    api = APIClient()
    api.force_authenticate(head01)
    document = api.get("/api/openapi.json").json()
    operation = document["paths"]["/api/v1/cases/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}

    body = api.get("/api/v1/cases/", {"status": "bogus"}).json()

    assert "400" in operation["responses"]
    assert _matches(body, _schema(operation, 400), document)
    assert "执异" in parameters["type"]["schema"]["enum"]
    assert "400" in document["paths"]["/api/v1/parties/"]["get"]["responses"]


@pytest.mark.django_db
def test_api_lists_choices_with_chinese_brackets(cases, head01):
    api = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    api.force_authenticate(head01)

    body = api.get("/api/v1/cases/", {"status": "bogus"}).json()

    assert "open（" in body["status"][0]
    assert "open (" not in body["status"][0]
