"""The masked home on measure pages, its reveal, the list parameters and the 405 page."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

from zhixing.audit.models import AuditRecord
from zhixing.cases import services as case_services
from zhixing.courts import services as court_services
from zhixing.events.models import Event
from zhixing.measures import services
from zhixing.measures.tests.conftest import HOME, answer_step

pytestmark = pytest.mark.django_db

STREET = "中山五路"
HUGE = "9" * 5000


def client_for(user, **extra) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False, **extra)
    client.force_login(user)
    return client


def api_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


@pytest.fixture
def home(case, debtors, make_asset):
    return make_asset(case, debtors[0], HOME, agency="housing-gd", category="real_estate")


@pytest.fixture
def seizure(officer, home):
    return services.request_measure(officer, home, "seize_real_estate")


def reads(measure):
    return AuditRecord.objects.filter(
        action="read_personal", object_type="measures.controlmeasure", object_id=str(measure.pk)
    )


# Personal data


def test_no_address_in_events_audit_logs(officer, seizure, caplog):
    caplog.set_level(logging.DEBUG)
    answer_step(seizure.steps.get(), {"type": "seize", "result": "done"})
    client_for(officer).post(f"/measures/{seizure.pk}/reveal/")
    api_for(officer).get(f"/api/v1/measures/{seizure.pk}/", {"reveal": "1"})

    events = " ".join(str(row) for row in Event.objects.values())
    audit = " ".join(f"{r.object_repr} {r.detail}" for r in AuditRecord.objects.all())
    assert STREET not in events
    assert STREET not in audit
    assert STREET not in caplog.text


def test_closing_refusal_masks_home(officer, case, seizure):
    answer_step(seizure.steps.get(), {"type": "seize", "result": "done"})
    response = api_for(officer).post(
        f"/api/v1/cases/{case.pk}/close/",
        {"mode": "completed", "on": case_services.today_in_china().isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "广州市越秀区****" in response.content.decode()
    assert STREET not in response.content.decode()


@pytest.mark.parametrize(
    ("username", "court", "role", "status"),
    [
        ("clerk0105", "粤0105", "clerk", 404),
        ("head0105", "粤0105", "bureau_head", 404),
        ("commander00", "粤", "commander", 403),
        ("clerk00", "粤", "clerk", 403),
        ("head00", "粤", "bureau_head", 200),
    ],
)
def test_api_reveal_by_court_and_role(make_user, seizure, username, court, role, status):
    user = make_user(username, court, role)
    response = api_for(user).get(f"/api/v1/measures/{seizure.pk}/", {"reveal": "1"})
    assert response.status_code == status
    assert (STREET in response.content.decode()) is (status == 200)
    assert reads(seizure).count() == (1 if status == 200 else 0)


def test_api_list_ignores_reveal(officer, seizure):
    response = api_for(officer).get("/api/v1/measures/", {"reveal": "1"})
    assert response.status_code == 200
    assert STREET not in response.content.decode()


def test_reveal_by_get_is_405_page(officer, seizure):
    client = client_for(officer)
    response = client.get(f"/measures/{seizure.pk}/reveal/", HTTP_ACCEPT="text/html")
    head = client.head(f"/measures/{seizure.pk}/reveal/", HTTP_ACCEPT="text/html")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert STREET not in response.content.decode()
    assert head.status_code == 405
    assert head.content == b""
    assert not reads(seizure).exists()


def test_405_page_back_link_is_not_open_redirect(officer, seizure):
    client = client_for(officer)
    path = f"/measures/{seizure.pk}/reveal/"
    for referer in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example/",
        "javascript:alert(1)",
        "http://testserver@evil.example/",
        "http:///evil.example/",
    ):
        page = client.get(path, HTTP_ACCEPT="text/html", HTTP_REFERER=referer).content.decode()
        assert "evil.example" not in page, referer
        assert "javascript:" not in page, referer


# List parameters that should get 400, not 500


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "-1"},
        {"limit": "0"},
        {"limit": "１０"},
        {"offset": "\x00"},
    ],
)
def test_api_bad_paging_is_400(officer, seizure, params):
    response = api_for(officer).get("/api/v1/measures/", params)
    assert response.status_code == 400, (params, response.status_code)


def test_api_huge_paging_numbers(officer, seizure):
    huge_limit = api_for(officer).get("/api/v1/measures/", {"limit": HUGE})
    huge_offset = api_for(officer).get("/api/v1/measures/", {"offset": HUGE})

    assert huge_limit.status_code == 200
    assert len(huge_limit.json()["results"]) == 1
    assert huge_offset.status_code == 200
    assert huge_offset.json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"court": HUGE},
        {"court": "٣"},
        {"court": "\x00"},
        {"page": HUGE},
        {"page": "0"},
        {"page": "-1"},
        {"page": "٣"},
        {"page": "1e3"},
        {"page": "\x00"},
        {"kind": "x" * 100000},
    ],
)
def test_list_bad_params_are_400(officer, seizure, params):
    response = client_for(officer).get("/measures/", params)
    assert response.status_code == 400, (params, response.status_code)


def test_list_page_one_unicode_digit(officer, seizure):
    """A page number in full-width or Arabic-Indic digits: shown as page 1 or rejected, not 500."""
    for value in ("١", "１", "1_0", " 1 "):
        response = client_for(officer).get("/measures/", {"page": value})
        assert response.status_code in (200, 400), (value, response.status_code)


def test_list_repeated_params(officer, seizure):
    response = client_for(officer).get("/measures/?state=bogus&state=requested&page=x&page=1")
    assert response.status_code == 200, response.status_code


def test_list_own_select_values_accepted(officer, seizure, courts):
    client = client_for(officer)
    for court in courts.values():
        if court.code in ("粤0104",):
            response = client.get("/measures/", {"court": str(court.pk)})
            assert response.status_code == 200


def test_htmx_bad_params_200(officer, seizure):
    response = client_for(officer).get("/measures/", {"page": "abc"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200


@pytest.mark.parametrize("params", [{"offset": "1" + "0" * 30}, {"limit": "1" + "0" * 30}])
def test_api_big_paging_not_500(officer, seizure, params):
    response = api_for(officer).get("/api/v1/measures/", params)
    assert response.status_code in (200, 400), (params, response.status_code)


def test_api_reveal_names_bad_value(officer, seizure):
    response = api_for(officer).get(f"/api/v1/measures/{seizure.pk}/", {"reveal": "true"})

    assert response.status_code == 400
    assert "true" in response.json()["reveal"][0]
