"""A second exit restriction of the same person in the same case while the first is open."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from zhixing.approvals import services
from zhixing.approvals.models import Application
from zhixing.approvals.tests.conftest import DEBTOR01_ID, NOW, exit_input, run_to


def test_second_draft_rejected_while_open(case, staff):
    first = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    with pytest.raises(ValidationError) as raised:
        services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    message = raised.value.message_dict["person_document_number"][0]
    assert f"Application #{first.pk}" in message
    assert "黄志强" in message
    assert case.case_number in message
    assert "Drafted" in message
    assert Application.objects.filter(case=case).count() == 1


def test_second_draft_rejected_when_approved(case, staff):
    first = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    run_to(first, staff, "approved")

    with pytest.raises(ValidationError) as raised:
        services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    assert f"Application #{first.pk}" in raised.value.message_dict["person_document_number"][0]


def test_second_draft_allowed_after_rejection(case, staff):
    first = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    run_to(first, staff, "submitted")
    services.reject(staff["head01"], first, comment="理由不充分", now=NOW)

    second = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    assert second.pk != first.pk


def test_other_case_not_blocked(case, case01, staff):
    services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)

    other = services.draft_exit_restriction(
        staff["officer01"],
        exit_input(case01, person_document_number=DEBTOR01_ID),
        now=NOW,
    )

    assert other.case == case01


def test_draft_page_shows_open_application(case, staff, client):
    first = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    client.force_login(staff["officer0104"])
    data = exit_input(case)
    form = {
        "case_number": data.case_number,
        "person_document_type": data.person_document_type,
        "person_document_number": data.person_document_number,
        "reason": data.reason,
        "legal_basis": data.legal_basis,
        "period_months": data.period_months,
        "period_start": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
    }

    response = client.post("/approvals/new/exit_restriction/", form, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert f"Application #{first.pk}" in response.content.decode()
