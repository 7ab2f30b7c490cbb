"""A measure request reports every problem of its input at once, and stores nothing then."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from zhixing.events.models import Event
from zhixing.linkage.models import GatewayItem
from zhixing.measures import services
from zhixing.measures.models import ControlMeasure, FurtherNumberSequence, MeasureDocument
from zhixing.measures.tests.conftest import ACCOUNT, client_for
from zhixing.measures.tests.test_api import api_client, freeze_body


@pytest.fixture
def asset(case, debtors, make_asset):
    return make_asset(case, debtors[0], ACCOUNT)


def _assert_nothing_stored(items_before: int) -> None:
    assert not ControlMeasure.objects.exists()
    assert not MeasureDocument.objects.exists()
    assert not FurtherNumberSequence.objects.filter(last_number__gt=0).exists()
    assert GatewayItem.objects.count() == items_before
    assert not Event.objects.filter(kind__startswith="measures.").exists()


def test_request_reports_amount_start_and_period(officer, asset):
    items_before = GatewayItem.objects.count()

    with pytest.raises(ValidationError) as caught:
        services.request_measure(
            officer,
            asset,
            "freeze",
            amount="1.234",
            start_date=asset.case.filed_on,
            period_months=13,
        )

    errors = caught.value.message_dict
    assert set(errors) == {"amount", "start_date", "period_months"}
    assert "two decimals" in errors["amount"][0]
    assert "13 months is invalid" in errors["period_months"][0]
    _assert_nothing_stored(items_before)


def test_request_reports_closed_case_and_amount_owed(officer, asset):
    case = asset.case
    case.status = case.Status.CLOSED
    case.closing_mode = case.ClosingMode.COMPLETED
    case.closed_on = case.filed_on
    case.save(update_fields=["status", "closing_mode", "closed_on"])

    with pytest.raises(ValidationError) as caught:
        services.request_measure(officer, asset, "freeze", amount="100000.01")

    errors = caught.value.message_dict
    assert set(errors) == {"case", "amount"}
    assert "not open" in errors["case"][0]
    assert "still owed" in errors["amount"][0]


def test_unknown_kind_skips_kind_checks(officer, asset):
    with pytest.raises(ValidationError) as caught:
        services.request_measure(officer, asset, "confiscate", amount="abc", period_months=99)

    assert set(caught.value.message_dict) == {"kind"}


def test_form_shows_every_error(officer, asset):
    items_before = GatewayItem.objects.count()

    response = client_for(officer).post(
        f"/measures/assets/{asset.pk}/new/",
        {"kind": "freeze", "amount": "200000.00", "start_date": "2020-01-01"},
    )

    page = response.content.decode()
    assert 'id="id_amount-error"' in page
    assert 'id="id_start_date-error"' in page
    _assert_nothing_stored(items_before)


def test_api_reports_every_error(officer, asset):
    items_before = GatewayItem.objects.count()
    body = freeze_body(asset, amount="-5", period_months=13, start_date="2020-01-01")

    response = api_client(officer).post("/api/v1/measures/", body, format="json")

    assert response.status_code == 400, response.content
    errors = response.json()
    assert set(errors) == {"amount", "start_date", "period_months"}
    assert "-5 is invalid" in errors["amount"][0]
    assert "2020-01-01 is invalid" in errors["start_date"][0]
    _assert_nothing_stored(items_before)
