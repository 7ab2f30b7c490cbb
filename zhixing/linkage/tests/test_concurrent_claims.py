"""Two workers claiming at the same time on PostgreSQL never take the same item."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from zhixing.linkage import gateway
from zhixing.linkage.models import GatewayItem
from zhixing.linkage.tests.helpers import NOW

ITEMS = 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_claim_disjoint_items(make_agency, case, debtors):
    agency = make_agency(batch_size=7, concurrency=1000).agency
    GatewayItem.objects.bulk_create(
        GatewayItem(
            id=uuid.uuid4(),
            agency=agency,
            court_id=case.court_id,
            case=case,
            party=debtors[index % len(debtors)],
            category="bank_account",
            next_attempt_at=NOW,
            deadline=gateway.datetime.datetime(2027, 1, 1, tzinfo=gateway.datetime.UTC),
            created_at=NOW,
        )
        for index in range(ITEMS)
    )
    start = threading.Barrier(4)
    claimed: dict[str, list[uuid.UUID]] = {}
    errors: list[BaseException] = []

    def work(owner: str) -> None:
        mine: list[uuid.UUID] = []
        try:
            start.wait()
            while batches := gateway.form_batches(NOW, owner=owner):
                for batch in batches:
                    mine.extend(batch.items.filter(lease_owner=owner).values_list("pk", flat=True))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            claimed[owner] = mine
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{index}",)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    every = [item for items in claimed.values() for item in items]
    assert len(every) == ITEMS
    assert len(set(every)) == ITEMS
    assert sum(1 for items in claimed.values() if items) >= 2, "one worker took everything"
    assert GatewayItem.objects.filter(state=GatewayItem.State.PENDING).count() == 0
