"""Errors of the measure form, and the warning before deducting more than the last known balance.

Each error names the value typed and what is accepted, in the page's language, and nothing is
stored. A deduction beyond the account's last known balance is not rejected: the form names
both figures and requires a confirmation, because balances change after a query.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from zhixing.measures import services
from zhixing.measures.forms import MeasureForm
from zhixing.measures.kinds import kinds_for
from zhixing.measures.models import ControlMeasure
from zhixing.measures.tests.conftest import ACCOUNT

pytestmark = pytest.mark.django_db

# ACCOUNT reports a balance of 15230.55 yuan.
OVER_BALANCE = "20000.00"


@pytest.fixture
def asset(case, debtors, make_asset):
    return make_asset(case, debtors[0], ACCOUNT)


def post_measure(officer, asset, language: str, **values: str):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(officer)
    return client.post(f"/measures/assets/{asset.pk}/new/", values)


def errors_of(response, field: str) -> list[str]:
    return list(response.context["form"].errors[field])


# (form values, field, English start, Chinese start)
ERRORS = [
    (
        {"kind": "freeze", "amount": "12345678901234567"},
        "amount",
        "Amount (yuan) “12345678901234567” has too many digits: at most 14 digits before the "
        "point and 2 after, e.g. 150000.00.",
        "金额（元）“12345678901234567”位数过多：最多 14 位整数、2 位小数，例如 150000.00。",
    ),
    (
        {"kind": "freeze", "amount": "1000", "start_date": "2026-13-01"},
        "start_date",
        "Start “2026-13-01” is not a date; use the form YYYY-MM-DD, e.g. 2026-03-15.",
        "起始日期“2026-13-01”不是日期：",
    ),
    (
        {"kind": "freeze", "amount": "1000", "period_months": "999"},
        "period_months",
        "Period “999” is not one of the choices; choose a number from 1 to ",
        "期限“999”不是可选项：请选择 1 至 ",
    ),
]


@pytest.mark.parametrize(("values", "field", "english", "chinese"), ERRORS)
def test_measure_error_in_english(officer, asset, values, field, english, chinese):
    response = post_measure(officer, asset, "en", **values)

    assert response.status_code == 400
    [message] = errors_of(response, field)
    assert message.startswith(english)
    assert not ControlMeasure.objects.exists()


@pytest.mark.parametrize(("values", "field", "english", "chinese"), ERRORS)
def test_measure_error_in_chinese(officer, asset, values, field, english, chinese):
    response = post_measure(officer, asset, "zh-hans", **values)

    [message] = errors_of(response, field)
    assert message.startswith(chinese)
    assert not ControlMeasure.objects.exists()


# The deduction beyond the last known balance


def measure_form(asset, **values: Any) -> MeasureForm:
    return MeasureForm(values, kinds=kinds_for(asset.record_type), max_months=12, asset=asset)


def test_deduction_over_balance_needs_confirmation(asset):
    form = measure_form(asset, kind="deduct", amount=OVER_BALANCE)

    assert not form.is_valid()
    [message] = form.errors["amount"]
    assert message.startswith(
        "20000.00 yuan is more than the last known balance of the account, 15230.55 yuan, as "
        "bank-icbc reported it on 2026-12-04."
    )
    assert "tick the confirmation below" in message
    assert form.over_balance
    assert not ControlMeasure.objects.exists()


def test_deduction_over_balance_warning_in_chinese(asset):
    with translation.override("zh-hans"):
        form = measure_form(asset, kind="deduct", amount=OVER_BALANCE)
        form.is_valid()
        [message] = form.errors["amount"]

    assert message.startswith(
        "20000.00 元超过该账户最近查询到的余额 15230.55 元（bank-icbc 于 2026-12-04 反馈）。"
    )


def test_confirmed_deduction_over_balance_is_sealed(officer, asset):
    form = measure_form(asset, kind="deduct", amount=OVER_BALANCE, confirm_over_balance="on")

    assert form.is_valid(), form.errors
    measure = services.request_measure(
        officer, asset, form.cleaned_data["kind"], amount=form.cleaned_data["amount"]
    )
    assert measure.amount == 20000


def test_deduction_within_balance_passes(asset):
    form = measure_form(asset, kind="deduct", amount="15230.55")

    assert form.is_valid(), form.errors
    assert not form.over_balance


def test_freeze_over_balance_passes(asset):
    # A freeze holds what arrives later up to its amount; the balance is no limit to it.
    form = measure_form(asset, kind="freeze", amount=OVER_BALANCE)

    assert form.is_valid(), form.errors


def test_newest_answer_gives_the_balance(case, debtors, make_asset, asset):
    newer = make_asset(case, debtors[0], {**ACCOUNT, "balance": "30000.00"})

    assert services.last_known_balance(asset) == newer
    assert measure_form(asset, kind="deduct", amount=OVER_BALANCE).is_valid()


def test_other_currency_is_not_compared(case, debtors, make_asset):
    dollars = make_asset(case, debtors[0], {**ACCOUNT, "currency": "USD", "balance": "10.00"})

    assert services.last_known_balance(dollars) is None
    assert measure_form(dollars, kind="deduct", amount=OVER_BALANCE).is_valid()


def test_page_warns_deduction_over_balance(officer, asset):
    response = post_measure(officer, asset, "en", kind="deduct", amount=OVER_BALANCE)

    assert "15230.55 yuan" in " ".join(errors_of(response, "amount"))
    page = response.content.decode()
    assert 'name="confirm_over_balance"' in page
    assert not ControlMeasure.objects.exists()
    confirmed = post_measure(
        officer, asset, "en", kind="deduct", amount=OVER_BALANCE, confirm_over_balance="on"
    )
    assert confirmed.status_code == 302
    assert ControlMeasure.objects.get().amount == 20000
