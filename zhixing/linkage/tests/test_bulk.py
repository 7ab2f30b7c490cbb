"""The set-based SQL of the gateway's hot paths: id lists and COPY inserts on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction

from zhixing.linkage import bulk, gateway
from zhixing.linkage.models import GatewayItem
from zhixing.linkage.tests.helpers import NOW


def _request(agency, case, party, item_id: uuid.UUID) -> gateway.ItemRequest:
    return gateway.ItemRequest(
        agency=agency, case=case, party=party, category="bank_account", item_id=item_id
    )


def test_in_list_selects_listed_ids(bank, case, debtors):
    ids = [uuid.uuid4() for _ in range(3)]
    gateway.enqueue([_request(bank.agency, case, debtors[0], item_id) for item_id in ids], now=NOW)
    field = GatewayItem._meta.get_field("id")

    condition, params = bulk.in_list("id", ids[:2], field)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {GatewayItem._meta.db_table} WHERE {condition}", params)
        found = {gateway._as_uuid(row[0]) for row in cursor.fetchall()}

    assert found == set(ids[:2])


def test_in_list_of_no_ids_selects_nothing(bank, case, debtors):
    gateway.enqueue([_request(bank.agency, case, debtors[0], uuid.uuid4())], now=NOW)
    field = GatewayItem._meta.get_field("id")

    condition, params = bulk.in_list("id", [], field)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {GatewayItem._meta.db_table} WHERE {condition}", params)
        rows = cursor.fetchall()

    assert rows == []


@pytest.mark.postgres
def test_copy_insert_skips_existing_rows(bank, case, debtors):
    existing = uuid.uuid4()
    gateway.enqueue([_request(bank.agency, case, debtors[0], existing)], now=NOW)
    new = [uuid.uuid4(), uuid.uuid4()]

    # The second enqueue copies one existing and two new items: the COPY fails on the
    # existing key, and the fallback stores the new ones only.
    items = gateway.enqueue(
        [_request(bank.agency, case, debtors[0], item_id) for item_id in [existing, *new]],
        now=NOW,
    )

    assert {item.pk for item in items} == {existing, *new}
    assert GatewayItem.objects.count() == 3


@pytest.mark.postgres
def test_copy_insert_reports_all_new(bank, case, debtors):
    rows = []
    for _ in range(2):
        values = {
            **gateway._NEW_ITEM,
            "id": uuid.uuid4(),
            "agency_id": bank.agency.pk,
            "court_id": case.court_id,
            "case_id": case.pk,
            "party_id": debtors[0].pk,
            "category": "bank_account",
            "action": "query",
            "next_attempt_at": NOW,
            "deadline": NOW,
            "created_at": NOW,
            "updated_at": NOW,
        }
        rows.append([values[name] for name in gateway._ITEM_COLUMNS])

    with transaction.atomic():
        all_new = bulk.copy_insert(GatewayItem._meta.db_table, gateway._ITEM_COLUMNS, rows)

    assert all_new is True
    assert GatewayItem.objects.count() == 2
