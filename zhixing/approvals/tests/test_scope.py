"""Scope: the courts involved see an application and its PDF; siblings never do."""

from __future__ import annotations

import pytest

from zhixing.approvals import services
from zhixing.approvals.models import State
from zhixing.approvals.tests.conftest import NOW, exit_input, run_to
from zhixing.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    return run_to(application, staff, State.SUBMITTED)


def _client(client, user):
    client.force_login(user)
    return client


def test_visible_to_own_and_upper_courts(submitted, staff):
    for name in ("officer0104", "head01", "head00"):
        assert list(services.visible_applications(staff[name])) == [submitted]


def test_siblings_never_see(submitted, staff):
    for name in ("officer0105", "head0105", "head03"):
        assert not services.visible_applications(staff[name]).exists()
        assert not services.received_by(staff[name]).exists()


def test_received_lists_only_after_submission(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    assert not services.received_by(staff["head01"]).exists()
    run_to(application, staff, State.SUBMITTED)
    assert list(services.received_by(staff["head01"])) == [application]
    assert list(services.received_by(staff["head00"])) == [application]


@pytest.mark.parametrize("path", ["", "pdf/", "pdf/0/"])
def test_sibling_pages_are_not_found(client, submitted, staff, path):
    response = _client(client, staff["head0105"]).get(f"/approvals/{submitted.pk}/{path}")
    assert response.status_code == 404


def test_sibling_cannot_take_a_step(client, submitted, staff):
    response = _client(client, staff["head03"]).post(
        f"/approvals/{submitted.pk}/step/", {"action": "review", "comment": "同意"}
    )
    assert response.status_code == 404
    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_pdf_download_is_audited(client, submitted, staff):
    response = _client(client, staff["head00"]).get(f"/approvals/{submitted.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    record = AuditRecord.objects.filter(
        action="read_personal", object_type="approvals.application"
    ).get()
    assert record.object_id == str(submitted.pk)
    assert record.detail["revision"] == 2
    assert record.user.username == "head00"
