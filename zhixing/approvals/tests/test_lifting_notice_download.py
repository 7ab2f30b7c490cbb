"""Downloading the sealed notice lifting an exit restriction (解除限制出境通知书) from the page.

The notice prints the person's ID number in full, as the application's PDF does. So the staff
who may download that PDF may download the notice, and each download is audited as a read of
personal data. The others get 403 and no download link.
"""

from __future__ import annotations

import logging

import pytest

from zhixing.approvals import services
from zhixing.approvals.models import LiftingNotice, State
from zhixing.approvals.tests.conftest import DEBTOR_ID, NOW, exit_input, run_to
from zhixing.approvals.tests.test_api import api_client
from zhixing.approvals.tests.test_lifting import LIFT_REASON, restriction
from zhixing.approvals.tests.test_lifting_release import registered_restriction
from zhixing.audit.models import AuditRecord

pytestmark = pytest.mark.django_db

DEBTOR_NAME = "黄志强"


@pytest.fixture
def lifted(staff, case, police):
    """Return an exit restriction lifted through the gateway, which stored a sealed notice."""
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    assert LiftingNotice.objects.filter(application=application).exists()
    return application


@pytest.fixture
def police_officer(make_user, staff):
    """A judicial police officer of the applying court, who may view the application but not
    download its PDF."""
    return make_user("police0104", "粤0104", "judicial_police")


def _notice_path(application) -> str:
    return f"/approvals/{application.pk}/lifting-notice/"


def _notice_reads():
    return AuditRecord.objects.filter(
        action="read_personal", detail__purpose="lifting notice"
    ).order_by("pk")


@pytest.mark.parametrize("name", ["commander00", "officer0104", "commander0104", "head01"])
def test_allowed_staff_download_notice(client, staff, lifted, name):
    user = staff[name]
    client.force_login(user)
    notice = LiftingNotice.objects.get(application=lifted)

    response = client.get(_notice_path(lifted))

    assert response.status_code == 200
    assert response.content == bytes(notice.pdf)
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="application-{lifted.pk}-lifting-notice.pdf"'
    )
    assert response["Cache-Control"] == "no-store"
    [record] = _notice_reads()
    assert record.user == user
    assert record.object_type == "approvals.application"
    assert record.object_id == str(lifted.pk)


def test_download_audited_as_personal_read(client, staff, lifted):
    client.force_login(staff["officer0104"])
    notice = LiftingNotice.objects.get(application=lifted)

    client.get(_notice_path(lifted))
    client.get(_notice_path(lifted))

    records = list(_notice_reads())
    assert len(records) == 2
    assert records[0].detail == {
        "fields": ["pdf"],
        "purpose": "lifting notice",
        "case_id": lifted.case_id,
        "application_id": lifted.pk,
        "sha256": notice.sha256,
        "personal_fields": ["person_name", "person_document_number"],
    }
    # The audit trail names the fields read, never their values.
    assert DEBTOR_ID not in str(records[0].detail)
    assert DEBTOR_NAME not in str(records[0].detail)


def test_download_logged_without_personal_data(client, staff, lifted, caplog):
    client.force_login(staff["officer0104"])

    with caplog.at_level(logging.INFO, logger="zhixing.approvals.services"):
        client.get(_notice_path(lifted))

    messages = [
        record.getMessage()
        for record in caplog.records
        if record.name == "zhixing.approvals.services"
    ]
    assert any(f"Lifting notice of application {lifted.pk}" in text for text in messages)
    assert not any(DEBTOR_ID in text or DEBTOR_NAME in text for text in messages)


def test_no_pdf_rights_gets_403(client, police_officer, lifted):
    client.force_login(police_officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = client.get(_notice_path(lifted))

    assert not services.may_read_pdf(police_officer, lifted)
    assert response.status_code == 403
    assert "prints identity numbers" in response.content.decode()
    assert not _notice_reads().exists()


def test_other_court_gets_404(client, staff, lifted):
    client.force_login(staff["officer0105"])

    assert client.get(_notice_path(lifted)).status_code == 404
    assert not _notice_reads().exists()


def test_anonymous_redirected_to_login(client, lifted):
    response = client.get(_notice_path(lifted))

    assert response.status_code == 302
    assert "login" in response["Location"]
    assert not _notice_reads().exists()


def test_lifted_by_hand_gets_404(client, staff, case):
    application = restriction(staff, case)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    client.force_login(staff["officer0104"])

    assert application.state == State.LIFTED
    assert client.get(_notice_path(application)).status_code == 404
    assert not _notice_reads().exists()


def test_not_lifted_gets_404(client, staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    run_to(application, staff, State.SUBMITTED)
    client.force_login(staff["officer0104"])

    assert client.get(_notice_path(application)).status_code == 404
    assert not _notice_reads().exists()


def test_post_not_allowed(client, staff, lifted):
    client.force_login(staff["officer0104"])

    assert client.post(_notice_path(lifted)).status_code == 405
    assert not _notice_reads().exists()


# The application's page


def test_page_links_notice_when_allowed(client, staff, lifted):
    client.force_login(staff["officer0104"])
    notice = LiftingNotice.objects.get(application=lifted)

    html = client.get(f"/approvals/{lifted.pk}/").content.decode()

    assert 'data-testid="lifting-notice"' in html
    assert 'data-testid="lifting-notice-download"' in html
    assert f'href="{_notice_path(lifted)}"' in html
    assert notice.sha256[:14] in html
    # Showing the page reads no personal data of the notice.
    assert not _notice_reads().exists()


def test_page_hides_link_without_pdf_rights(client, police_officer, lifted):
    client.force_login(police_officer)
    notice = LiftingNotice.objects.get(application=lifted)

    html = client.get(f"/approvals/{lifted.pk}/").content.decode()

    assert 'data-testid="lifting-notice"' in html
    assert notice.sha256[:14] in html
    assert 'data-testid="lifting-notice-download"' not in html
    assert _notice_path(lifted) not in html


def test_page_without_notice_has_no_link(client, staff, case):
    application = restriction(staff, case)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    client.force_login(staff["officer0104"])

    html = client.get(f"/approvals/{application.pk}/").content.decode()

    assert 'data-testid="lifting-notice"' not in html
    assert _notice_path(application) not in html


def _api_notice_path(application) -> str:
    return f"/api/v1/approvals/{application.pk}/lifting-notice/"


def test_api_download_of_notice(staff, lifted):
    notice = LiftingNotice.objects.get(application=lifted)

    response = api_client(staff["officer0104"]).get(_api_notice_path(lifted))

    assert response.status_code == 200
    assert response.content == bytes(notice.pdf)
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    [record] = _notice_reads()
    assert record.user == staff["officer0104"]


def test_api_download_of_notice_denied_without_pdf_rights(police_officer, lifted):
    response = api_client(police_officer).get(_api_notice_path(lifted))

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert not _notice_reads().exists()


def test_api_download_of_notice_missing(staff, case):
    application = restriction(staff, case)

    response = api_client(staff["officer0104"]).get(_api_notice_path(application))

    assert response.status_code == 404
    assert "no lifting notice" in response.json()["detail"]
