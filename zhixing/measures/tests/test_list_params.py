"""Query parameters of the measure and expiry lists: bad values are reported, not ignored."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from zhixing.measures import services, views
from zhixing.measures.tests.conftest import ACCOUNT, answer_step, client_for

HUGE_ID = "9" * 30


@pytest.fixture
def measure(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    measure = services.request_measure(officer, asset, "freeze", amount="50000.00")
    answer_step(measure.steps.get(), {"type": "freeze", "frozen_amount": "50000.00"})
    services.sync_gateway_states()
    measure.refresh_from_db()
    return measure


def listed(response, measure) -> bool:
    return f'data-testid="measure-{measure.pk}"' in response.content.decode()


# Measure list


@pytest.mark.django_db
def test_list_rejects_bad_state_and_kind(officer, measure):
    response = client_for(officer).get("/measures/", {"state": "bogus", "kind": "melt"})
    page = response.content.decode()

    assert response.status_code == 400
    assert not listed(response, measure)
    assert (
        "State (state): “bogus” is not valid; use one of awaiting_approval (Awaiting "
        "approval), not_approved (Not approved), requested (Requested), "
        "sent (Sent to the agency), in_force (In force), partly_in_force (Partly in force), "
        "rejected (Rejected), expired (Expired), released (Released), or leave it empty."
    ) in page
    assert "Measure (kind): “melt” is not valid; use one of freeze (Freeze deposits)," in page


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["XYZ", "-1", "0", "1.5", HUGE_ID])
def test_list_rejects_bad_court(officer, measure, value):
    response = client_for(officer).get("/measures/", {"court": value})

    assert response.status_code == 400
    assert not listed(response, measure)
    assert (
        f"Court (court): no court with the id “{value}” is in your scope; choose a court from "
        "the list or leave it empty."
    ) in response.content.decode()


@pytest.mark.django_db
def test_list_rejects_court_outside_scope(officer, measure, courts):
    response = client_for(officer).get("/measures/", {"court": courts["粤0105"].pk})

    assert response.status_code == 400
    assert f"no court with the id “{courts['粤0105'].pk}” is in your scope" in (
        response.content.decode()
    )


@pytest.mark.django_db
def test_list_valid_filters_still_filter(officer, measure, courts):
    client = client_for(officer)
    court = courts["粤0104"].pk

    matching = client.get("/measures/", {"court": court, "kind": "freeze", "state": "in_force"})
    other_kind = client.get("/measures/", {"kind": "deduct"})

    assert measure.state == "in_force"
    assert matching.status_code == 200
    assert listed(matching, measure)
    assert other_kind.status_code == 200
    assert not listed(other_kind, measure)


@pytest.mark.django_db
def test_list_empty_values_mean_no_filter(officer, measure):
    response = client_for(officer).get(
        "/measures/", {"court": "", "kind": "", "state": "", "page": ""}
    )

    assert response.status_code == 200
    assert listed(response, measure)


@pytest.mark.django_db
def test_list_keeps_valid_values_in_form(officer, measure):
    response = client_for(officer).get("/measures/", {"kind": "freeze", "state": "bogus"})
    page = response.content.decode()

    assert response.status_code == 400
    assert '<option value="freeze" selected>' in page
    assert 'data-testid="drop-invalid-values">Show the list without these values<' in page
    assert 'href="/measures/?kind=freeze"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "0", "-1", "2", "1.5"])
def test_list_rejects_bad_page(officer, measure, value):
    response = client_for(officer).get("/measures/", {"page": value})

    assert response.status_code == 400
    assert not listed(response, measure)
    assert (
        f"Page “{value}” does not exist; use a whole number from 1 to 1."
        in response.content.decode()
    )


@pytest.mark.django_db
def test_list_pages_keep_filters(officer, case, debtors, make_asset, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    for index, debtor in enumerate(debtors):
        account = {**ACCOUNT, "account_number": f"62122612345678901{index:02d}"}
        asset = make_asset(case, debtor, account)
        services.request_measure(officer, asset, "freeze", amount="1000.00")
    client = client_for(officer)

    first = client.get("/measures/", {"kind": "freeze"})
    second = client.get("/measures/", {"kind": "freeze", "page": "2"})
    past_end = client.get("/measures/", {"kind": "freeze", "page": "3"})

    assert first.status_code == 200
    assert 'href="?kind=freeze&amp;page=2"' in first.content.decode()
    assert second.status_code == 200
    assert past_end.status_code == 400
    assert "Page “3” does not exist; use a whole number from 1 to 2." in (past_end.content.decode())


@pytest.mark.django_db
def test_list_htmx_errors_get_200(officer, measure):
    response = client_for(officer).get("/measures/", {"state": "x"}, headers={"HX-Request": "1"})

    assert response.status_code == 200
    assert "State (state): “x” is not valid" in response.content.decode()
    assert not listed(response, measure)


# Expiry list


@pytest.fixture
def ending_soon(measure):
    measure.end_date = timezone.localdate() + datetime.timedelta(days=10)
    measure.save()
    return measure


def expiring_listed(response, measure) -> bool:
    return f'data-testid="expiring-{measure.pk}"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["45", "abc", "-7", "30.0"])
def test_expiring_rejects_bad_days(officer, ending_soon, value):
    response = client_for(officer).get("/measures/expiring/", {"days": value})
    page = response.content.decode()

    assert response.status_code == 400
    assert not expiring_listed(response, ending_soon)
    assert 'data-testid="no-expiries"' not in page
    assert (
        f"Expiry window (days): “{value}” is not valid; use one of 7, 15, 30, 60, 90, "
        "or leave it empty."
    ) in page
    assert 'href="/measures/expiring/" data-testid="drop-invalid-values"' in page
    assert "Show the expiries of the next 30 days" in page


@pytest.mark.django_db
def test_expiring_valid_windows(officer, ending_soon):
    client = client_for(officer)

    default = client.get("/measures/expiring/")
    empty = client.get("/measures/expiring/", {"days": ""})
    week = client.get("/measures/expiring/", {"days": "7"})

    assert default.status_code == 200
    assert expiring_listed(default, ending_soon)
    assert empty.status_code == 200
    assert expiring_listed(empty, ending_soon)
    assert week.status_code == 200
    assert not expiring_listed(week, ending_soon)
    assert 'data-testid="no-expiries"' in week.content.decode()
