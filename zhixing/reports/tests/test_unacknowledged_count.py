"""The home page's count of reports that wait for the receiving court's acknowledgement."""

from __future__ import annotations

import datetime

import pytest

from zhixing.reports import services
from zhixing.reports.tests.conftest import report_input

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)


def test_count_until_acknowledged(staff):
    report = services.submit_report(staff["粤0104"], report_input(), now=NOW)
    services.submit_report(staff["粤0104"], report_input(title="第二份要情"), now=NOW)

    assert services.unacknowledged_count(staff["粤01"], 100) == 2
    assert services.unacknowledged_count(staff["粤01"], 1) == 1
    # The sender and a sibling court have nothing to acknowledge.
    assert services.unacknowledged_count(staff["粤0104"], 100) == 0
    assert services.unacknowledged_count(staff["粤03"], 100) == 0

    services.acknowledge(staff["粤01"], report, now=NOW + datetime.timedelta(minutes=1))

    assert services.unacknowledged_count(staff["粤01"], 100) == 1
