"""A result file whose records field is longer than the csv module's default field limit."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

import pytest

from zhixing.linkage.adapters import batchfile
from zhixing.linkage.models import GatewayItem
from zhixing.linkage.tests.helpers import NOW
from zhixing.linkage.tests.test_batchfile import (  # noqa: F401 (fixtures)
    drop,
    found,
    inbox,
    registry,
    result_file,
    sent,
)

# The csv module's default field size limit, in characters.
DEFAULT_FIELD_LIMIT = 131_072
ACCOUNTS = 1_200


@pytest.fixture
def default_field_limit() -> Iterator[None]:
    """Read with the csv module's default limit, as a worker process that imports nothing else.

    Importing the agency simulator, as other tests of this run do, raises the limit for the
    whole process.
    """
    previous = csv.field_size_limit(DEFAULT_FIELD_LIMIT)
    yield
    csv.field_size_limit(previous)


def many_accounts(item: GatewayItem) -> dict:
    answer = found(item)
    account = answer["records"][0]
    answer["records"] = [
        {**account, "account_number": f"6222021{number:012d}"} for number in range(ACCOUNTS)
    ]
    return answer


def test_long_records_field_read(registry, sent, case, default_field_limit):  # noqa: F811
    answer = many_accounts(sent[0])
    field_length = len(json.dumps(answer["records"], ensure_ascii=False))
    assert field_length > DEFAULT_FIELD_LIMIT
    path = drop(registry.agency, "long.csv", result_file(registry, [answer]))

    stored = batchfile.read_inbox(registry.agency, now=NOW)

    item = GatewayItem.objects.get(pk=sent[0].pk)
    assert stored == 1
    assert item.state == GatewayItem.State.ANSWERED
    assert len(item.answer["records"]) == ACCOUNTS
    assert not path.exists()
    assert (inbox(registry.agency) / "done" / "long.csv").exists()
    assert not (inbox(registry.agency) / "quarantine").exists()


def test_field_limit_only_raised(default_field_limit):
    batchfile.allow_fields_up_to_file_size()
    assert csv.field_size_limit() == batchfile.MAX_FILE_BYTES

    higher = batchfile.MAX_FILE_BYTES * 2
    csv.field_size_limit(higher)
    batchfile.allow_fields_up_to_file_size()
    assert csv.field_size_limit() == higher
