"""The demo's accounts can take an exit restriction through every step, with their certificates."""

from __future__ import annotations

import datetime

import pytest

from zhixing.approvals import services
from zhixing.approvals.models import State
from zhixing.approvals.tests.conftest import NOW, TODAY, exit_input
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.courts.models import Court, Role, User
from zhixing.esign import services as esign
from zhixing.esign import verification
from zhixing.esign.models import Certificate
from zhixing.web import demo

pytestmark = pytest.mark.django_db

DEMO_DEBTOR_ID = make_resident_id("440104", "19880808", 317)


@pytest.fixture
def demo_users(courts, templates, settings) -> dict[str, User]:
    # Sealing must not depend on certificates issued on first use.
    settings.ESIGN_AUTO_ISSUE = False
    demo.create_demo_accounts()
    demo.issue_demo_certificates()
    names = [account.username for account in demo.DEMO_ACCOUNTS]
    return {user.username: user for user in User.objects.filter(username__in=names)}


def test_demo_signers_have_certificates(demo_users):
    heads = [user for user in demo_users.values() if user.has_role(Role.Code.BUREAU_HEAD)]

    assert {user.username for user in heads} >= {"yx_head", "hz_head", "gz_head", "gd_head"}
    for user in heads:
        assert esign.current_officer_certificate(user) is not None, user.username
    for court in Court.objects.filter(staff__in=demo_users.values()).distinct():
        assert esign.current_seal_certificate(court) is not None, court.code


def test_demo_accounts_have_distinct_phones(demo_users):
    phones = [user.phone for user in demo_users.values()]

    assert all(phones)
    assert len(set(phones)) == len(phones)


def test_demo_certificates_issued_once(demo_users):
    before = sorted(Certificate.objects.values_list("fingerprint", flat=True))

    again = demo.issue_demo_certificates()

    assert again == 0
    assert sorted(Certificate.objects.values_list("fingerprint", flat=True)) == before


def test_demo_exit_restriction_runs_every_step(courts, demo_users):
    users = demo_users
    case = case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        basis_court="广州市越秀区人民法院",
        basis_document_number="（2025）粤0104民初4321号",
        applicants=[PartyInput(name="陈明", kind="person")],
        debtors=[
            PartyInput(name="周建国", document_type="resident_id", document_number=DEMO_DEBTOR_ID)
        ],
        claim_amount="120000.00",
        case_officer=users["yx_officer"],
    )
    data = exit_input(case, person_document_number=DEMO_DEBTOR_ID, period_start=TODAY)
    application = services.draft_exit_restriction(users["yx_officer"], data, now=NOW)

    services.approve_as_head(users["yx_head"], application, comment="同意", now=NOW)
    services.seal(users["yx_officer"], application, now=NOW)
    services.submit(users["yx_officer"], application, now=NOW)
    services.review(users["gz_head"], application, comment="同意上报", now=NOW)
    services.receive(users["gd_commander"], application, now=NOW)
    services.approve(users["gd_head"], application, comment="同意", now=NOW)
    # The test has no border-control agency, so the handover is described in the comment.
    services.execute(
        users["gd_commander"], application, comment="已将盖章文书送交省公安厅。", now=NOW
    )

    assert application.state == State.EXECUTED
    report = verification.verify_pdf(bytes(services.current_revision(application).pdf))
    assert report.valid, report.as_dict()
    assert len(report.signatures) == 3
