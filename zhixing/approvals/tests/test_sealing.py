"""Signatures on the application's PDF: each revision adds one and every revision verifies."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from zhixing.approvals import services
from zhixing.approvals.models import State
from zhixing.approvals.tests.conftest import NOW, exit_input, run_to
from zhixing.esign import verification
from zhixing.esign.services import current_officer_certificate, revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    return run_to(application, staff, State.APPROVED)


def test_every_signed_revision_verifies(approved):
    revisions = list(approved.revisions.order_by("number"))
    draft = bytes(revisions[0].pdf)
    assert verification.verify_pdf(draft).signatures == []
    for revision in revisions[1:]:
        report = verification.verify_pdf(bytes(revision.pdf))
        assert report.valid, report.as_dict()
        assert len(report.signatures) == revision.number


def test_each_revision_extends_the_one_before(approved):
    revisions = [bytes(revision.pdf) for revision in approved.revisions.order_by("number")]
    for earlier, later in itertools.pairwise(revisions):
        assert later.startswith(earlier)


def test_two_court_seals_on_approved_pdf(approved):
    final = bytes(approved.revisions.order_by("-number").first().pdf)
    report = verification.verify_pdf(final)
    assert report.valid
    head, applying, deciding = report.signatures
    assert head.field.startswith("Approval")
    assert head.court_code == "粤0104"
    assert applying.field.startswith("Seal")
    assert applying.court_code == "粤0104"
    assert deciding.field.startswith("Seal")
    assert deciding.court_code == "粤"
    assert all(signature.valid for signature in report.signatures)


def test_approval_step_names_its_revision(approved):
    step = approved.steps.get(kind="approved")
    assert step.revision.number == 3
    assert step.actor.username == "head00"
    assert verification.verify_pdf(bytes(step.revision.pdf)).valid


def test_head_without_certificate_gets_clear_error(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    revoke(current_officer_certificate(staff["head0104"]))
    with pytest.raises(ValidationError, match="zhixing pki issue --user head0104"):
        services.approve_as_head(staff["head0104"], application, now=NOW)
    assert application.state == State.DRAFTED
    assert application.revisions.count() == 1
