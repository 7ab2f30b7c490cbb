"""The approval pages: lists, the forms per kind, the detail page and its step buttons."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from zhixing.approvals import services
from zhixing.approvals.models import Application, State
from zhixing.approvals.tests.conftest import DEBTOR_ID, NOW, exit_input, run_to

pytestmark = pytest.mark.django_db


def _client(client, user):
    """Log ``user`` in; the pages answer in English, which the assertions compare."""
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_form_drafts_exit_restriction(client, staff, case):
    response = _client(client, staff["officer0104"]).post(
        "/approvals/new/exit_restriction/",
        {
            "case_number": case.case_number,
            "person_document_type": "resident_id",
            "person_document_number": DEBTOR_ID,
            "reason": "有出境可能",
            "legal_basis": "",
            "period_months": "6",
            "period_start": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        },
    )
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/approvals/{application.pk}/"
    assert application.period_months == 6


def test_form_names_the_invalid_field(client, staff, case):
    response = _client(client, staff["officer0104"]).post(
        "/approvals/new/seizure_renewal/",
        {
            "case_number": "(2026)粤0104执9999号",
            "seized_property": "某房产",
            "previous_document_number": "（2023）粤0104执88号",
            "previous_start": "2023-12-20",
            "previous_end": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
            "reason": "即将届满",
            "period_months": "36",
        },
    )
    assert response.status_code == 400
    assert "no such case" in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.parametrize("kind", ["exit_restriction", "seizure_renewal"])
def test_form_refused_to_non_drafter(client, staff, kind):
    response = _client(client, staff["commander0104"]).get(f"/approvals/new/{kind}/")

    assert response.status_code == 403
    content = response.content.decode()
    assert "draft applications" in content
    assert "case officer, clerk, bureau head" in content.lower()
    assert 'name="case_number"' not in content


def test_refusal_joins_roles_with_chinese_comma(client, staff):
    client.force_login(staff["commander0104"])

    content = client.get("/approvals/new/exit_restriction/").content.decode()

    assert "承办人、书记员、执行局长" in content


def test_unknown_kind_is_not_found(client, staff):
    assert _client(client, staff["officer0104"]).get("/approvals/new/other/").status_code == 404


def test_lists_show_sent_and_received(client, staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    run_to(application, staff, State.SUBMITTED)
    page = _client(client, staff["officer0104"]).get("/approvals/").content.decode()
    assert f'data-testid="sent-{application.pk}"' in page
    client.force_login(staff["head00"])
    page = client.get("/approvals/").content.decode()
    assert f'data-testid="received-{application.pk}"' in page
    partial = client.get("/approvals/", headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<div id="approval-lists"')


def test_detail_shows_allowed_buttons_only(client, staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    page = _client(client, staff["head0104"]).get(f"/approvals/{application.pk}/").content.decode()
    assert 'data-testid="action-head_approve"' in page
    assert 'data-testid="action-submit"' not in page
    # The full ID number stays in the PDF; the page shows it masked.
    assert DEBTOR_ID not in page
    client.force_login(staff["officer0104"])
    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert 'data-testid="action-head_approve"' not in page


def test_step_button_takes_the_step(client, staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    response = _client(client, staff["head0104"]).post(
        f"/approvals/{application.pk}/step/", {"action": "head_approve", "comment": "同意"}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.HEAD_APPROVED


def test_refused_step_shows_the_reason(client, staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    response = _client(client, staff["officer0104"]).post(
        f"/approvals/{application.pk}/step/", {"action": "submit"}, follow=True
    )
    assert "submit is not possible now" in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.DRAFTED
