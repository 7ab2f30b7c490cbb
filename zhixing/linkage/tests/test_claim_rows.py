"""Sending a batch on the rows its claim returned, and reading the items again when unsure."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhixing.linkage import gateway
from zhixing.linkage.models import GatewayItem
from zhixing.linkage.tests.helpers import FakeAgency

State = GatewayItem.State


def _sent_entries(fake: FakeAgency) -> list[dict]:
    (request,) = fake.requests
    return json.loads(request.content)["items"]


@pytest.mark.postgres
def test_claim_rows_build_message(bank, enqueue, courts):
    now = timezone.now()
    items = enqueue(bank.agency, 3, now=now)
    (batch,) = gateway.form_batches(now, owner="w1")
    expected = gateway.batch_message(
        batch, list(GatewayItem.objects.filter(batch=batch).select_related("case", "party"))
    )["items"]
    fake = FakeAgency()

    with CaptureQueriesContext(connection) as queries:
        result = gateway.dispatch_batch(batch, fake.adapter(), owner="w1")

    assert result.acknowledged == 3
    # Items queued at the same moment come in either order.
    assert sorted(_sent_entries(fake), key=str) == sorted(expected, key=str)
    assert {entry["item_id"] for entry in expected} == {str(item.pk) for item in items}
    assert expected[0]["subject"]["document_number"]
    # The items were not read again: no query selected the party's document number.
    assert not [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and "document_number" in query["sql"]
    ]


@pytest.mark.postgres
def test_claim_rows_in_creation_order(bank, enqueue, courts, debtors):
    now = timezone.now()
    enqueue(bank.agency, 3, now=now)
    # The first queued item is created last, so the claim's order alone would not give it.
    first = GatewayItem.objects.order_by("pk").first()
    GatewayItem.objects.filter(pk=first.pk).update(created_at=now + datetime.timedelta(seconds=1))
    (batch,) = gateway.form_batches(now, owner="w1")

    assert [row[0] for row in batch.claimed_rows] == list(
        GatewayItem.objects.filter(batch=batch)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


@pytest.mark.postgres
def test_reread_near_lease_end(bank, enqueue, courts):
    now = timezone.now()
    enqueue(bank.agency, 3, now=now)
    (batch,) = gateway.form_batches(now, owner="w1")
    # Another worker took the items over after a lapsed lease, as far as the database says;
    # this worker's copy of the batch has less time left than the margin.
    GatewayItem.objects.update(lease_owner="w2")
    batch.lease_until = timezone.now() + gateway.CLAIM_MARGIN / 2
    fake = FakeAgency()

    result = gateway.dispatch_batch(batch, fake.adapter(), owner="w1")

    assert fake.requests == []
    assert result.acknowledged == 0


@pytest.mark.postgres
def test_reread_for_other_owner(bank, enqueue, courts):
    now = timezone.now()
    enqueue(bank.agency, 3, now=now)
    (batch,) = gateway.form_batches(now, owner="w1")
    fake = FakeAgency()

    gateway.dispatch_batch(batch, fake.adapter(), owner="w2")

    assert fake.requests == []
    assert GatewayItem.objects.filter(state=State.SENT, lease_owner="w1").count() == 3


def test_claim_rows_used_once(bank, enqueue, courts):
    now = timezone.now()
    enqueue(bank.agency, 3, now=now)
    (batch,) = gateway.form_batches(now, owner="w1")
    fake = FakeAgency()

    gateway.dispatch_batch(batch, fake.adapter(), owner="w1")
    second = gateway.dispatch_batch(batch, fake.adapter(), owner="w1")

    assert len(fake.requests) == 1
    assert second.acknowledged == 0
    assert batch.claimed_rows is None
