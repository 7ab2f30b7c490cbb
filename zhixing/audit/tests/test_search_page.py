"""The audit page: invalid searches, readable object types and details, and local times."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import translation

from zhixing.audit import display
from zhixing.audit import services as audit
from zhixing.audit.context import Actor, acting_as
from zhixing.audit.models import AuditRecord
from zhixing.cases.identity import mask_id_number
from zhixing.cases.tests.test_views import ZHANG_ID, file_case
from zhixing.courts import services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def table_of(response) -> str:
    page = response.content.decode()
    return page[page.index('data-testid="audit-table"') :]


@pytest.fixture
def head(make_user):
    return make_user("head", "粤0104", "bureau_head")


@pytest.fixture
def renamed(make_user, head):
    """A user renamed and given a new phone number by ``head``."""
    user = make_user("auditee", "粤0104", phone="13900001111")
    with acting_as(Actor(user=head, client_address="127.0.0.1", channel="web")):
        services.update_user(actor=None, user=user, full_name="新名字", phone="13900002222")
    return user


# Invalid searches


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2026-13-01"}, "“2026-13-01” is not a date; use the form YYYY-MM-DD"),
        ({"until": "yesterday"}, "“yesterday” is not a date; use the form YYYY-MM-DD"),
        ({"court_code": "XYZ"}, "No court with the code “XYZ” is in your scope"),
        ({"court_code": "粤0105"}, "No court with the code “粤0105” is in your scope"),
        ({"action": "bogus"}, "“bogus” is not an action of the audit trail"),
        ({"object_type": "user"}, "“user” is not an object type of the audit trail"),
        ({"page": "abc"}, "Page “abc” does not exist; use a whole number from 1 to 1."),
        ({"page": "3"}, "Page “3” does not exist; use a whole number from 1 to 1."),
    ],
)
def test_invalid_search_shows_no_records(renamed, head, params, message):
    response = client_for(head).get("/audit/", params)
    page = response.content.decode()

    assert response.status_code == 400
    assert 'data-testid="audit-errors"' in page
    assert message in page
    assert 'data-testid="audit-table"' not in page
    assert "新名字" not in page


@pytest.mark.django_db
def test_invalid_search_names_field(renamed, head):
    page = client_for(head).get("/audit/", {"since": "2026-13-01"}).content.decode()
    errors = page[page.index('data-testid="audit-errors"') :]

    assert "From (since): “2026-13-01” is not a date" in errors


@pytest.mark.django_db
def test_invalid_search_partial_is_200(renamed, head):
    response = client_for(head).get("/audit/", {"since": "x"}, headers={"HX-Request": "true"})
    body = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in body
    assert "“x” is not a date" in body
    assert "新名字" not in body


@pytest.mark.django_db
def test_valid_search_filters(renamed, head):
    client = client_for(head)
    today = datetime.datetime.now(SHANGHAI).date().isoformat()

    by_type = client.get("/audit/", {"object_type": "courts.user", "action": "update"})
    by_court = client.get("/audit/", {"court_code": "粤0104", "since": today, "until": today})
    other_type = client.get("/audit/", {"object_type": "cases.enforcementcase"})

    assert by_type.status_code == 200
    assert "新名字" in table_of(by_type)
    assert "新名字" in table_of(by_court)
    assert "新名字" not in table_of(other_type)


# Readable rows


@pytest.mark.django_db
def test_object_type_shown_by_verbose_name(renamed, head):
    english = table_of(client_for(head).get("/audit/", {"action": "update"}))
    chinese = table_of(client_for(head, "zh-hans").get("/audit/", {"action": "update"}))

    assert '<span title="courts.user">User</span>' in english
    assert '<span title="courts.user">用户</span>' in chinese
    assert re.search(r">\s*courts\.user", english) is None


@pytest.mark.django_db
def test_changes_shown_as_field_lines(renamed, head):
    table = table_of(client_for(head).get("/audit/", {"action": "update"}))

    assert "<dt>Full name</dt><dd>auditee → 新名字</dd>" in table
    assert "<dt>Phone</dt><dd>changed; the values are not recorded</dd>" in table
    assert "13900002222" not in table
    assert "13900001111" not in table
    assert "{&#x27;" not in table
    assert "&#x27;changes&#x27;" not in table


@pytest.mark.django_db
def test_role_change_shown_by_labels(make_user, head):
    user = make_user("roles", "粤0104", "clerk")
    services.update_user(actor=None, user=user, role_codes=["clerk", "case_officer"])

    table = table_of(client_for(head).get("/audit/", {"object_type": "courts.user"}))

    assert "<dt>Relation</dt><dd>Roles</dd><dt>Added</dt><dd>Case officer</dd>" in table


@pytest.mark.django_db
def test_times_in_configured_zone(make_user, head):
    subject = make_user("subject", "粤0104")
    with acting_as(Actor(user=head, client_address="127.0.0.1", channel="web")):
        entry = audit.record(
            audit.Action.UPDATE,
            subject,
            detail={"changes": {"reminded_at": [None, "2026-12-04 08:31:01.250000+00:00"]}},
        )
    table = table_of(client_for(head).get("/audit/", {"action": "update"}))

    local = entry.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    utc = entry.at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert f">{local}</time>" in table
    assert f">{utc}</time>" not in table
    assert "<dd>— → 2026-12-04 16:31:01</dd>" in table


@pytest.mark.django_db
def test_export_filter_stays_masked(courts, head):
    file_case(courts["粤0104"])
    client = client_for(head)
    client.get("/cases/export.xlsx", {"q": ZHANG_ID})

    table = table_of(client.get("/audit/", {"action": "export"}))

    assert "<dt>Filter</dt><dd>q=" + mask_id_number(ZHANG_ID) + "</dd>" in table
    assert ZHANG_ID not in table
    assert "<dt>Numbers masked</dt>" in table
    assert '<span title="cases.enforcementcase">Enforcement case</span>' in table


# Display helpers


def test_object_type_labels():
    with translation.override("en"):
        assert display.object_type_label("cases.enforcementcase") == "Enforcement case"
        assert display.object_type_label("reports.analysis") == (
            "Analysis of key-information reports"
        )
        assert display.object_type_label("gone.model") == "gone.model"
        assert display.object_type_label("nodot") == "nodot"


@pytest.mark.django_db
def test_detail_lines_of_events(make_user):
    user = make_user("someone", "粤0104")
    entry = AuditRecord(
        object_type="linkage.gatewayitem",
        detail={
            "purpose": "asset summary",
            "event": "gateway_item_expired",
            "force": True,
            "party_ids": [3, 5],
            "unknown_key": "kept",
        },
        user=user,
    )

    with translation.override("en"):
        lines = [(line.label, line.text) for line in display.detail_lines(entry)]

    assert lines == [
        ("Event", "Request to the agency ended: Expired"),
        ("Purpose", "Asset summary of a case"),
        ("Party ids", "3, 5"),
        ("Queried again", "yes"),
        ("unknown_key", "kept"),
    ]


def test_object_type_choices_cover_models():
    codes = dict(display.object_type_choices())

    assert "cases.enforcementcase" in codes
    assert "reports.analysis" in codes
    assert "audit.auditrecord" not in codes
