"""The page parameter of the manual batch list: a bad value is reported, not ignored."""

from __future__ import annotations

import pytest

from zhixing.linkage.models import GatewayBatch
from zhixing.linkage.tests.test_pages import clerk, client_for, land, sent  # noqa: F401 (fixtures)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "2", "1.5"])
def test_batch_list_rejects_bad_page(sent, clerk, value):  # noqa: F811
    batch = GatewayBatch.objects.get()

    response = client_for(clerk).get("/agencies/manual/", {"page": value})
    page = response.content.decode()

    assert response.status_code == 400
    assert str(batch.pk)[:8] not in page
    assert 'data-testid="manual-batches"' not in page
    assert f"Page “{value}” does not exist; use a whole number from 1 to 1." in page
    assert 'href="/agencies/manual/" data-testid="drop-invalid-values">Show the first page<' in page


def test_batch_list_first_page_by_number(sent, clerk):  # noqa: F811
    batch = GatewayBatch.objects.get()

    response = client_for(clerk).get("/agencies/manual/", {"page": "1"})

    assert response.status_code == 200
    assert str(batch.pk)[:8] in response.content.decode()


def test_batch_list_empty_has_one_page(clerk):  # noqa: F811
    client = client_for(clerk)

    empty = client.get("/agencies/manual/", {"page": "1"})
    past_end = client.get("/agencies/manual/", {"page": "2"})

    assert empty.status_code == 200
    assert "No manual requests wait for an answer." in empty.content.decode()
    assert past_end.status_code == 400
