"""Forming batches: by size, by window, per court, within service hours and concurrency."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from zhixing.cases.models import EnforcementCase
from zhixing.linkage import gateway
from zhixing.linkage.models import GatewayBatch, GatewayItem
from zhixing.linkage.tests.helpers import NOW

State = GatewayItem.State


def test_full_batch_forms_before_window(bank, enqueue):
    enqueue(bank.agency, 7)

    batches = gateway.form_batches(NOW, owner="w1")

    # Batch size 3: two full batches leave one item to wait for its window.
    assert [batch.items.count() for batch in batches] == [3, 3]
    assert GatewayItem.objects.filter(state=State.PENDING).count() == 1
    assert GatewayItem.objects.filter(state=State.SENT, lease_owner="w1").count() == 6


def test_partial_batch_waits_for_window(bank, enqueue):
    enqueue(bank.agency, 2)

    early = gateway.form_batches(NOW + datetime.timedelta(seconds=4), owner="w1")
    late = gateway.form_batches(NOW + datetime.timedelta(seconds=5), owner="w1")

    assert early == []
    assert len(late) == 1
    assert late[0].items.count() == 2


def test_form_batches_twice_claims_nothing_more(bank, enqueue):
    enqueue(bank.agency, 3)

    first = gateway.form_batches(NOW, owner="w1")
    second = gateway.form_batches(NOW, owner="w2")

    assert len(first) == 1
    assert second == []
    assert GatewayBatch.objects.count() == 1


def test_batch_per_court(bank, enqueue, courts, case, debtors):
    enqueue(bank.agency, 3)
    other = GatewayItem.objects.first()
    GatewayItem.objects.filter(pk=other.pk).update(court=courts["粤0105"])

    batches = gateway.form_batches(NOW + datetime.timedelta(seconds=5), owner="w1")

    assert sorted(batch.court.code for batch in batches) == ["粤0104", "粤0105"]


def test_outside_service_hours_no_batch(make_agency, enqueue):
    agency = make_agency(
        "land-gd",
        service_start=datetime.time(11, 0),
        service_end=datetime.time(17, 0),
    ).agency
    enqueue(agency, 3)

    # NOW is 10:00 in Asia/Shanghai.
    assert gateway.form_batches(NOW, owner="w1") == []
    assert len(gateway.form_batches(NOW + datetime.timedelta(hours=1), owner="w1")) == 1


def test_concurrency_limits_batches(make_agency, enqueue):
    agency = make_agency(concurrency=1).agency
    enqueue(agency, 6)

    first = gateway.form_batches(NOW, owner="w1")
    second = gateway.form_batches(NOW, owner="w1")

    assert len(first) == 1
    assert second == []


def test_inactive_agency_no_batch(bank, enqueue):
    enqueue(bank.agency, 3)
    bank.agency.active = False
    bank.agency.save()

    assert gateway.form_batches(NOW, owner="w1") == []


def test_enqueue_same_item_id_once(bank, case, debtors):
    request = gateway.ItemRequest(
        agency=bank.agency,
        case=case,
        party=debtors[0],
        category="bank_account",
        item_id=GatewayItem._meta.pk.default(),
    )

    gateway.enqueue([request], now=NOW)
    gateway.enqueue([request], now=NOW)

    assert GatewayItem.objects.count() == 1


def test_enqueue_sets_deadline_per_action(bank, enqueue):
    (item,) = enqueue(bank.agency, 1)

    assert item.deadline == NOW + datetime.timedelta(hours=72)
    assert item.court.code == "粤0104"
    assert item.state == State.PENDING


def test_enqueue_rejects_applicant(bank, case):
    applicant = case.parties.get(case_roles__role="applicant")
    request = gateway.ItemRequest(
        agency=bank.agency, case=case, party=applicant, category="bank_account"
    )

    with pytest.raises(ValidationError) as error:
        gateway.enqueue([request], now=NOW)

    assert "party" in error.value.message_dict
    assert GatewayItem.objects.count() == 0


def test_enqueue_rejects_category_not_served(bank, case, debtors):
    request = gateway.ItemRequest(
        agency=bank.agency, case=case, party=debtors[0], category="vehicle"
    )

    with pytest.raises(ValidationError) as error:
        gateway.enqueue([request], now=NOW)

    assert "category" in error.value.message_dict


def test_enqueue_rejects_closed_case(bank, case, debtors):
    EnforcementCase.objects.filter(pk=case.pk).update(
        status="closed", closing_mode="completed", closed_on=datetime.date(2026, 12, 1)
    )
    case.refresh_from_db()
    request = gateway.ItemRequest(
        agency=bank.agency, case=case, party=debtors[0], category="bank_account"
    )

    with pytest.raises(ValidationError) as error:
        gateway.enqueue([request], now=NOW)

    assert "case" in error.value.message_dict


@pytest.fixture
def mixed_items(make_agency, case, debtors):
    """Five queries and five freezes at a bank that batches ten items."""
    agency = make_agency(batch_size=10, actions=["query", "freeze"]).agency
    requests = [
        gateway.ItemRequest(agency=agency, case=case, party=party, category="bank_account")
        for party in debtors[:5]
    ]
    requests += [
        gateway.ItemRequest(
            agency=agency, case=case, party=party, category="bank_account", action="freeze"
        )
        for party in debtors[:5]
    ]
    gateway.enqueue(requests, now=NOW)
    return agency


def measures_per_batch(batches):
    return [(batch.items.count(), batch.items.exclude(action="query").count()) for batch in batches]


def test_batch_caps_measure_items(mixed_items, monkeypatch):
    monkeypatch.setattr(gateway, "MAX_MEASURE_ITEMS", 2)

    batches = gateway.form_batches(NOW + datetime.timedelta(seconds=5), owner="w1")

    assert measures_per_batch(batches) == [(7, 2), (2, 2), (1, 1)]
    assert GatewayItem.objects.filter(state=State.PENDING).count() == 0


def test_batch_sent_again_keeps_measures(mixed_items, monkeypatch):
    monkeypatch.setattr(gateway, "MAX_MEASURE_ITEMS", 4)
    first = gateway.form_batches(NOW + datetime.timedelta(seconds=5), owner="w1")[0]
    # The send failed in passing: the items wait to go out again under the same batch id.
    first.items.update(state=State.PENDING, lease_until=None, lease_owner="")
    monkeypatch.setattr(gateway, "MAX_MEASURE_ITEMS", 2)

    again = gateway.form_batches(NOW + datetime.timedelta(seconds=6), owner="w2")

    assert again[0].pk == first.pk
    assert measures_per_batch(again[:1]) == [(9, 4)]


def test_units_read_only_a_sample_of_a_backlog(bank, enqueue, monkeypatch):
    monkeypatch.setattr(gateway, "UNIT_SAMPLE_BATCHES", 2)
    enqueue(bank.agency, 10)

    (unit,) = gateway._due_units(bank.agency, NOW)

    # Batch size 3: two batches' worth of the ten items are read and counted.
    assert unit.count == 6
    assert unit.batch_id is None


def test_form_batches_backlog_beyond_the_sample(bank, enqueue, monkeypatch):
    monkeypatch.setattr(gateway, "UNIT_SAMPLE_BATCHES", 1)
    enqueue(bank.agency, 7)

    sizes = []
    for _ in range(4):
        sizes += [batch.items.count() for batch in gateway.form_batches(NOW, owner="w1")]

    # Two full batches go out, one per pass; the last item waits for its window.
    assert sizes == [3, 3]
    late = gateway.form_batches(NOW + datetime.timedelta(seconds=5), owner="w1")
    assert [batch.items.count() for batch in late] == [1]


def test_agencies_with_due_items_leave_out_waiting_ones(make_agency, bank, enqueue):
    waiting = make_agency("land-gd").agency
    enqueue(bank.agency, 1)
    (later,) = enqueue(waiting, 1)
    GatewayItem.objects.filter(pk=later.pk).update(
        next_attempt_at=NOW + datetime.timedelta(minutes=1)
    )

    due = gateway._agencies_with_due_items(type(bank.agency).objects.all(), NOW)

    assert [agency.pk for agency in due] == [bank.agency.pk]
