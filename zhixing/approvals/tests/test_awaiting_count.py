"""The home page's count of applications on which a user may take the next step."""

from __future__ import annotations

import pytest

from zhixing.approvals import services
from zhixing.approvals.tests.conftest import NOW, exit_input, renewal_input, run_to

pytestmark = pytest.mark.django_db


def test_count_follows_the_step_owed(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    # Drafted: the bureau head of the applying court signs next; no one above acts yet.
    assert services.awaiting_count(staff["head0104"], 100) == 1
    assert services.awaiting_count(staff["head01"], 100) == 0
    assert services.awaiting_count(staff["head0105"], 100) == 0

    run_to(application, staff, "submitted")

    # Submitted: the intermediate court reviews; the applying court waits.
    assert services.awaiting_count(staff["head0104"], 100) == 0
    assert services.awaiting_count(staff["head01"], 100) == 1


def test_count_stops_at_cap(staff, case):
    services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    services.draft_seizure_renewal(staff["officer0104"], renewal_input(case), now=NOW)

    assert services.awaiting_count(staff["head0104"], 1) == 1
    assert services.awaiting_count(staff["head0104"], 100) == 2


def test_rejected_application_is_not_counted(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    run_to(application, staff, "submitted")
    services.reject(staff["head01"], application, comment="材料不全", now=NOW)

    assert services.awaiting_count(staff["head01"], 100) == 0
    assert services.awaiting_count(staff["head0104"], 100) == 0
