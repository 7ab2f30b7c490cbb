"""Who may download an application's PDF, which prints the person's ID number in full.

The rule of sealed measure documents applies, widened to the staff who act on the application.
Denied users get 403 on the page and the API, no download link, and no audit record.
"""

from __future__ import annotations

import pytest

from zhixing.approvals import services
from zhixing.approvals.models import State
from zhixing.approvals.tests.conftest import NOW, exit_input, run_to
from zhixing.approvals.tests.test_api import api_client
from zhixing.audit.models import AuditRecord

pytestmark = pytest.mark.django_db

PDF_READ_TYPE = "approvals.application"


@pytest.fixture
def others(make_user, staff):
    """Staff of the courts involved whom the measures rule alone would not let read the PDF."""
    return {
        "police0104": make_user("police0104", "粤0104", "judicial_police"),
        "admin0104": make_user("admin0104", "粤0104", "administrator"),
        "officer0104b": make_user("officer0104b", "粤0104", "case_officer"),
        "duty00": make_user("duty00", "粤", "duty_officer"),
    }


@pytest.fixture
def submitted(staff, case):
    application = services.draft_exit_restriction(staff["officer0104"], exit_input(case), now=NOW)
    return run_to(application, staff, State.SUBMITTED)


def _pdf_reads():
    return AuditRecord.objects.filter(action="read_personal", object_type=PDF_READ_TYPE)


@pytest.mark.parametrize("name", ["police0104", "admin0104"])
def test_pdf_denied_to_police_and_administrator(client, others, submitted, name):
    user = others[name]
    client.force_login(user)
    api = api_client(user)
    page_path = f"/approvals/{submitted.pk}/"
    api_path = f"/api/v1/approvals/{submitted.pk}/"

    assert client.get(f"{page_path}pdf/").status_code == 403
    assert client.get(f"{page_path}pdf/0/").status_code == 403
    denied = api.get(f"{api_path}pdf/", HTTP_ACCEPT="application/pdf")
    assert denied.status_code == 403
    assert "prints identity numbers" in denied.json()["detail"]
    assert api.get(f"{api_path}pdf/0/").status_code == 403
    assert not services.may_read_pdf(user, submitted)
    assert not _pdf_reads().exists()


@pytest.mark.parametrize("name", ["police0104", "admin0104"])
def test_detail_hides_download_when_denied(client, others, submitted, name):
    user = others[name]
    client.force_login(user)

    page = client.get(f"/approvals/{submitted.pk}/")
    data = api_client(user).get(f"/api/v1/approvals/{submitted.pk}/").json()

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="pdf-download"' not in html
    assert f"/approvals/{submitted.pk}/pdf/" not in html
    assert 'data-testid="pdf-denied"' in html
    assert data["may_read_pdf"] is False
    assert [revision["download"] for revision in data["revisions"]] == [None, None, None]


@pytest.mark.parametrize("name", ["officer0104", "head00", "commander0104", "head01"])
def test_pdf_allowed_by_measures_rule(client, staff, submitted, name):
    user = staff[name]
    client.force_login(user)
    api = api_client(user)
    api_path = f"/api/v1/approvals/{submitted.pk}/"

    page = client.get(f"/approvals/{submitted.pk}/pdf/")
    current = api.get(f"{api_path}pdf/", HTTP_ACCEPT="application/pdf")
    draft = api.get(f"{api_path}pdf/0/", HTTP_ACCEPT="application/pdf")
    data = api.get(api_path).json()

    assert page.status_code == 200
    assert page.content.startswith(b"%PDF-")
    assert current.status_code == 200
    assert current.content == page.content
    assert draft.status_code == 200
    assert data["may_read_pdf"] is True
    assert all(revision["download"] for revision in data["revisions"])
    assert (
        'data-testid="pdf-download"' in client.get(f"/approvals/{submitted.pk}/").content.decode()
    )
    assert _pdf_reads().filter(user=user).count() == 3


def test_pdf_download_audited_as_personal_read(client, staff, submitted):
    client.force_login(staff["head01"])

    client.get(f"/approvals/{submitted.pk}/pdf/1/")

    record = _pdf_reads().get()
    assert record.user == staff["head01"]
    assert record.object_id == str(submitted.pk)
    assert record.detail["fields"] == ["pdf"]
    assert record.detail["purpose"] == "approval application"
    assert record.detail["case_id"] == submitted.case_id
    assert record.detail["revision"] == 1
    assert record.detail["personal_fields"] == ["person_name", "person_document_number"]
    assert not AuditRecord.objects.filter(action="export", object_type=PDF_READ_TYPE).exists()


def test_receiving_duty_officer_reads_once_due(staff, others, submitted):
    duty = others["duty00"]

    # A submitted application waits for the intermediate court; the high court may only comment.
    assert services.allowed_actions(duty, submitted) == ["comment"]
    assert not services.may_read_pdf(duty, submitted)

    services.review(staff["head01"], submitted, comment="同意上报", now=NOW)
    assert services.allowed_actions(duty, submitted) == ["receive", "comment"]
    assert services.may_read_pdf(duty, submitted)

    services.receive(duty, submitted, now=NOW)
    assert services.may_read_pdf(duty, submitted)
    assert api_client(duty).get(f"/api/v1/approvals/{submitted.pk}/pdf/").status_code == 200


def test_commenting_alone_gives_no_access(staff, others, submitted):
    officer = others["officer0104b"]

    services.add_comment(officer, submitted, "请尽快审核。", now=NOW)

    assert not services.may_read_pdf(officer, submitted)
    assert api_client(officer).get(f"/api/v1/approvals/{submitted.pk}/pdf/").status_code == 403


def test_other_officer_drafter_reads(staff, others, case):
    drafter = others["officer0104b"]

    application = services.draft_exit_restriction(drafter, exit_input(case), now=NOW)

    assert case.case_officer_id != drafter.pk
    assert services.may_read_pdf(drafter, application)
    assert not services.may_read_pdf(others["police0104"], application)


def test_inactive_user_may_not_read(staff, submitted):
    head = staff["head0104"]
    head.is_active = False
    head.save()

    assert not services.may_read_pdf(head, submitted)
