"""Freezes and deductions are limited to the amount still owed in the case (no 超标的冻结)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from zhixing.cases.models import EnforcementCase
from zhixing.measures import services
from zhixing.measures.models import ControlMeasure
from zhixing.measures.tests.conftest import ACCOUNT, answer_step

CHINA = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=CHINA)
OTHER_ACCOUNT = {**ACCOUNT, "account_number": "6222021234567890999", "bank": "中国建设银行"}


def request(officer, asset, kind, amount):
    return services.request_measure(officer, asset, kind, amount=amount, now=NOW)


def set_amounts(case, claim, recovered="0.00"):
    EnforcementCase.objects.filter(pk=case.pk).update(
        claim_amount=Decimal(claim), recovered_amount=Decimal(recovered)
    )
    case.refresh_from_db()


def amount_error(officer, asset, kind, amount):
    with pytest.raises(ValidationError) as raised:
        request(officer, asset, kind, amount)
    return raised.value.message_dict["amount"][0]


def test_freeze_beyond_claim_rejected(officer, case, debtors, make_asset):
    set_amounts(case, "52628.00")
    asset = make_asset(case, debtors[0], ACCOUNT)

    message = amount_error(officer, asset, "freeze", "99999999.00")

    assert "99999999.00 yuan" in message
    assert "52628.00 yuan still owed" in message
    assert "claim 52628.00" in message
    assert "recovered 0.00" in message
    assert "0.00 held by other freezes" in message
    assert not ControlMeasure.objects.exists()


def test_freeze_of_amount_owed_accepted(officer, case, debtors, make_asset):
    set_amounts(case, "52628.00")
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = request(officer, asset, "freeze", "52628.00")

    assert measure.amount == Decimal("52628.00")


def test_recovered_amount_lowers_limit(officer, case, debtors, make_asset):
    set_amounts(case, "100000.00", recovered="70000.00")
    asset = make_asset(case, debtors[0], ACCOUNT)

    message = amount_error(officer, asset, "deduct", "30000.01")

    assert "30000.00 yuan still owed" in message
    assert "recovered 70000.00" in message
    assert request(officer, asset, "deduct", "30000.00").amount == Decimal("30000.00")


def test_other_freezes_lower_limit(officer, case, debtors, make_asset):
    first = make_asset(case, debtors[0], ACCOUNT)
    second = make_asset(case, debtors[1], OTHER_ACCOUNT)
    request(officer, first, "freeze", "60000.00")

    message = amount_error(officer, second, "freeze", "40000.01")

    assert "40000.00 yuan still owed" in message
    assert "60000.00 held by other freezes" in message
    assert request(officer, second, "freeze", "40000.00").amount == Decimal("40000.00")


def test_frozen_amount_reported_counts(officer, case, debtors, make_asset):
    first = make_asset(case, debtors[0], ACCOUNT)
    second = make_asset(case, debtors[1], OTHER_ACCOUNT)
    frozen = request(officer, first, "freeze", "60000.00")
    answer_step(frozen.steps.get(), {"type": "freeze", "frozen_amount": "15230.55"})
    services.sync_gateway_states()

    measure = request(officer, second, "freeze", "84769.45")

    assert measure.amount == Decimal("84769.45")


def test_released_freeze_not_counted(officer, case, debtors, make_asset):
    first = make_asset(case, debtors[0], ACCOUNT)
    second = make_asset(case, debtors[1], OTHER_ACCOUNT)
    frozen = request(officer, first, "freeze", "100000.00")
    ControlMeasure.objects.filter(pk=frozen.pk).update(state=ControlMeasure.State.RELEASED)

    assert request(officer, second, "freeze", "100000.00").amount == Decimal("100000.00")


def test_deduction_of_frozen_account_accepted(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    request(officer, asset, "freeze", "100000.00")

    deduction = request(officer, asset, "deduct", "100000.00")

    assert deduction.amount == Decimal("100000.00")


def test_pending_deduction_counts(officer, case, debtors, make_asset):
    first = make_asset(case, debtors[0], ACCOUNT)
    second = make_asset(case, debtors[1], OTHER_ACCOUNT)
    request(officer, first, "deduct", "100000.00")

    message = amount_error(officer, second, "freeze", "1.00")

    assert "0.00 yuan still owed" in message
    assert "100000.00 held by other freezes and deductions" in message
    assert "Nothing is left to freeze or deduct" in message
