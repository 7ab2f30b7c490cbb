"""The whole freeze flow with the agency simulator as a real process.

An officer queries a debtor's bank accounts, freezes one of them with a sealed notice, the
bank's answer records what it froze, the expiry watch warns before the end, the freeze is
renewed and finally released. The simulator keeps the account's balance and measures, which
its admin endpoint shows, and the court's records must agree with them.
"""

from __future__ import annotations

import datetime
import json
import urllib.request
from decimal import Decimal

import pytest
from django.utils import timezone

from zhixing.events.models import Event
from zhixing.inquiry import services as inquiry
from zhixing.inquiry.models import AssetRecord
from zhixing.inquiry.tests.test_simulator_path import (  # noqa: F401 (fixtures)
    run_until_answered,
    simulator,
)
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.linkage.services import load_agencies_file
from zhixing.measures import services
from zhixing.measures.kinds import MeasureKind
from zhixing.measures.models import ControlMeasure, MeasureStep

pytestmark = pytest.mark.django_db

ANSWER_TIMEOUT_S = 30
BANK = "bank-icbc"


def simulator_measures(url: str, agency: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/admin/measures?agency={agency}", timeout=5) as response:  # noqa: S310 - loopback URL of the test's simulator
        return json.loads(response.read())["measures"]


@pytest.fixture
def bank(simulator, monkeypatch):  # noqa: F811
    url, folder = simulator
    monkeypatch.delenv("ZHIXING_GATEWAY_CALLBACK_URL", raising=False)
    load_agencies_file(keys_dir=folder / "agency-keys", base_url=f"{url}/agencies/{{code}}")
    Agency.objects.exclude(code=BANK).update(active=False)
    Agency.objects.update(
        batch_window_seconds=0,
        poll_interval_seconds=0,
        rate_limit=1000,
        service_start=None,
        service_end=None,
        service_days=[1, 2, 3, 4, 5, 6, 7],
    )
    return url


def found_account(officer, case, debtor) -> AssetRecord:
    inquiry.request_query(officer, case, [debtor], ["bank_account"])
    run_until_answered(ANSWER_TIMEOUT_S)
    accounts = AssetRecord.objects.filter(
        case=case, party=debtor, record_type="bank_account", agency__code=BANK
    ).exclude(amount=None)
    account = accounts.order_by("-amount").first()
    assert account is not None, list(GatewayItem.objects.values_list("state", "last_error"))
    return account


def test_freeze_renew_release_against_the_simulator(bank, officer, case, debtors):
    account = found_account(officer, case, debtors[0])
    balance = account.amount
    limit = (balance + Decimal("1000.00")).quantize(Decimal("0.01"))

    # The freeze requests more than the balance, so the bank freezes what there is. It lasts
    # 6 months, so its renewal window, the last 6 months, is open today.
    measure = services.request_measure(
        officer, account, MeasureKind.FREEZE, amount=limit, period_months=6
    )
    run_until_answered(ANSWER_TIMEOUT_S)
    measure.refresh_from_db()
    assert measure.state == ControlMeasure.State.PARTLY_IN_FORCE, measure.outcome_note
    assert measure.actual_amount == balance
    held = [
        row
        for row in simulator_measures(bank, BANK)
        if row["item_id"] == str(measure.steps.get().item_id)
    ]
    assert len(held) == 1
    assert Decimal(held[0]["frozen_amount"]) == balance
    assert held[0]["state"] == "active"

    # The expiry watch warns the officer 30 days before the end.
    warn_at = timezone.make_aware(
        datetime.datetime.combine(measure.end_date - datetime.timedelta(days=29), datetime.time(9))
    )
    assert services.check_expiries(warn_at) >= 1
    assert Event.objects.filter(kind="measures.expiring", user=officer).exists()

    # Renewed before the end for the same period: the bank moves the end. The renewal is made
    # today, because the gateway sends items only once their time has come.
    old_end = measure.end_date
    renewal = services.renew_measure(officer, measure, period_months=6)
    run_until_answered(ANSWER_TIMEOUT_S)
    renewal.refresh_from_db()
    measure.refresh_from_db()
    assert renewal.state == MeasureStep.State.DONE, renewal.note
    assert measure.end_date > old_end
    assert measure.renewals == 1

    # Released: the bank lifts the freeze and the money is available again.
    release = services.release_measure(officer, measure, reason="被执行人已履行")
    run_until_answered(ANSWER_TIMEOUT_S)
    release.refresh_from_db()
    measure.refresh_from_db()
    assert release.state == MeasureStep.State.DONE, release.note
    assert measure.state == ControlMeasure.State.RELEASED
    held = [
        row
        for row in simulator_measures(bank, BANK)
        if row["item_id"] == str(measure.steps.order_by("created_at").first().item_id)
    ]
    assert held[0]["state"] == "released"

    # Every request went out with its sealed notice, and every item was answered.
    states = set(GatewayItem.objects.values_list("state", flat=True))
    assert states == {GatewayItem.State.ANSWERED}
