"""Background import jobs: claiming with a lease, the worker command and the import pages."""

from __future__ import annotations

import datetime
import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from zhixing.audit.models import AuditRecord
from zhixing.cases import importing, jobs
from zhixing.cases.job_models import ImportJob
from zhixing.cases.models import EnforcementCase
from zhixing.cases.tests.test_import import messy_rows, write_messy
from zhixing.courts.models import Role

URLS = "zhixing.urls"


@pytest.fixture
def client():
    # These tests match English messages; the pages' default language is Chinese.
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def clerk(make_user):
    return make_user("clerk01", "粤01", "clerk")


@pytest.fixture
def officer(make_user):
    user = make_user("liguan", "粤0104", "case_officer")
    user.full_name = "李官"
    user.save()
    return user


def _queue(user, tmp_path, mode=ImportJob.Mode.VALID_ROWS, rows=None):
    source = write_messy(tmp_path / "messy.xlsx", rows)
    return jobs.create_job(user=user, data=source.read_bytes(), name="台账.xlsx", mode=mode)


@pytest.mark.django_db
def test_worker_once_runs_queued_job(tmp_path, clerk, officer, settings):
    settings.DATA_DIR = tmp_path / "data"
    job = _queue(clerk, tmp_path)
    stored = jobs.job_path(job)
    assert stored.exists()
    assert stored.parent == tmp_path / "data" / "imports"

    call_command("worker", "--once")

    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert (job.total_rows, job.created_count, job.rejected_count) == (7, 4, 3)
    assert job.processed_rows == 2 * job.total_rows
    assert {error["row"] for error in job.errors} == {7, 8, 9}
    assert job.attempts == 1
    assert job.lease_until is None
    assert not stored.exists()
    assert EnforcementCase.objects.count() == 4


@pytest.mark.django_db
def test_job_audit_names_the_uploader(tmp_path, clerk, officer, settings):
    settings.DATA_DIR = tmp_path / "data"
    _queue(clerk, tmp_path)
    call_command("worker", "--once")
    created = AuditRecord.objects.filter(action="create", object_type="cases.enforcementcase")
    assert created.count() == 4
    assert set(created.values_list("username", flat=True)) == {"clerk01"}


@pytest.mark.django_db
def test_expired_lease_is_claimed_again(tmp_path, clerk, officer, settings):
    settings.DATA_DIR = tmp_path / "data"
    job = _queue(clerk, tmp_path)
    claimed = jobs.claim_job()
    assert claimed.pk == job.pk
    assert claimed.state == ImportJob.State.RUNNING
    # A second worker finds nothing while the lease holds.
    assert jobs.claim_job() is None
    # The first worker stored some rows and died; its lease runs out.
    rows = [values for values in messy_rows() if values is not None][:2]
    importing.import_file(clerk, write_messy(tmp_path / "part.xlsx", rows), all_or_nothing=False)
    ImportJob.objects.filter(pk=job.pk).update(
        lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )

    call_command("worker", "--once")

    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert job.attempts == 2
    assert (job.created_count, job.unchanged_count) == (2, 2)
    assert EnforcementCase.objects.count() == 4


@pytest.mark.django_db
def test_job_fails_after_max_attempts(tmp_path, clerk, settings):
    settings.DATA_DIR = tmp_path / "data"
    job = _queue(clerk, tmp_path)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.RUNNING,
        attempts=jobs.MAX_ATTEMPTS,
        lease_until=timezone.now() - datetime.timedelta(seconds=1),
    )
    assert jobs.claim_job() is None
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert "3 attempts" in job.failure


@pytest.mark.django_db
def test_unreadable_file_fails_the_job(tmp_path, clerk, settings):
    settings.DATA_DIR = tmp_path / "data"
    job = jobs.create_job(
        user=clerk, data=b"not a workbook", name="x.xlsx", mode=ImportJob.Mode.VALID_ROWS
    )
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    assert "cannot be read" in job.failure


@pytest.mark.django_db
def test_all_or_nothing_job_stores_nothing(tmp_path, clerk, officer, settings):
    settings.DATA_DIR = tmp_path / "data"
    job = _queue(clerk, tmp_path, mode=ImportJob.Mode.ALL_OR_NOTHING)
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert job.rejected_count == 3
    assert job.created_count == 0
    assert EnforcementCase.objects.count() == 0


@pytest.fixture
def roles_present(transactional_db):
    """Restore the roles of the data migration, which another transactional test may flush."""
    for code in Role.Code:
        Role.objects.get_or_create(code=code)


@pytest.mark.django_db(transaction=True)
def test_background_worker_thread_runs_jobs(roles_present, tmp_path, clerk, officer, settings):
    settings.DATA_DIR = tmp_path / "data"
    job = _queue(clerk, tmp_path)
    thread = jobs.start_background_worker()
    try:
        assert jobs.start_background_worker() is thread
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            time.sleep(0.1)
    finally:
        jobs.stop_background_worker()
    assert job.state == ImportJob.State.DONE
    assert not thread.is_alive()


# The import pages


@pytest.mark.django_db
@pytest.mark.urls(URLS)
def test_import_page_small_file_imports_at_once(client, tmp_path, clerk, officer, settings):
    settings.DATA_DIR = tmp_path / "data"
    client.force_login(clerk)
    page = client.get("/cases/import/")
    assert page.status_code == 200
    assert b'name="mode"' in page.content
    source = write_messy(tmp_path / "messy.xlsx")
    with source.open("rb") as handle:
        response = client.post(
            "/cases/import/", {"file": handle, "mode": ImportJob.Mode.VALID_ROWS}
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/import/{job.pk}/"
    assert job.state == ImportJob.State.DONE
    report = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-errors"' in report
    assert "被执行人证件号码" in report
    assert "outside your courts" in report
    assert "hx-trigger" not in report
    assert EnforcementCase.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.urls(URLS)
def test_import_page_large_file_polls_progress(
    client, tmp_path, clerk, officer, settings, monkeypatch
):
    settings.DATA_DIR = tmp_path / "data"
    monkeypatch.setattr(importing, "SYNCHRONOUS_ROW_LIMIT", 2)
    client.force_login(clerk)
    source = write_messy(tmp_path / "messy.xlsx")
    with source.open("rb") as handle:
        response = client.post(
            "/cases/import/", {"file": handle, "mode": ImportJob.Mode.ALL_OR_NOTHING}
        )
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page
    assert 'hx-trigger="every 1s"' in page
    assert f'hx-get="/cases/import/{job.pk}/progress/"' in page

    call_command("worker", "--once")

    fragment = client.get(f"/cases/import/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in fragment
    assert "nothing was stored" in fragment
    assert EnforcementCase.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.urls(URLS)
def test_import_page_rejects_other_formats(client, tmp_path, clerk, settings):
    settings.DATA_DIR = tmp_path / "data"
    client.force_login(clerk)
    (tmp_path / "cases.xls").write_bytes(b"old excel")
    with (tmp_path / "cases.xls").open("rb") as handle:
        response = client.post("/cases/import/", {"file": handle, "mode": "valid_rows"})
    assert response.status_code == 200
    assert "neither .xlsx nor .csv" in response.content.decode()
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.urls(URLS)
def test_import_pages_need_clerk_and_own_job(client, tmp_path, clerk, officer, make_user, settings):
    settings.DATA_DIR = tmp_path / "data"
    client.force_login(officer)
    assert client.get("/cases/import/").status_code == 403
    job = _queue(clerk, tmp_path)
    other = make_user("clerk02", "粤01", "clerk")
    client.force_login(other)
    assert client.get(f"/cases/import/{job.pk}/").status_code == 404
    assert client.get(f"/cases/import/{job.pk}/progress/").status_code == 404


@pytest.mark.django_db
@pytest.mark.urls(URLS)
def test_template_download(client, clerk):
    client.force_login(clerk)
    response = client.get("/cases/import/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response.content[:2] == b"PK"


def _report_of_job_queued_in(language, tmp_path, clerk):
    with translation.override(language):
        job = _queue(clerk, tmp_path)
    # The worker's own language is the other one.
    with translation.override("zh-hans" if language == "en" else "en"):
        call_command("worker", "--once")
    job.refresh_from_db()
    assert job.language == language
    return [error["message"] for error in job.errors]


@pytest.mark.django_db
def test_job_report_in_the_uploaders_language(tmp_path, clerk, officer, settings):
    settings.DATA_DIR = tmp_path / "data"
    english = _report_of_job_queued_in("en", tmp_path, clerk)
    EnforcementCase.objects.all().delete()
    chinese = _report_of_job_queued_in("zh-hans", tmp_path, clerk)

    assert len(english) == len(chinese) == 3
    assert english != chinese
    with translation.override("en"):
        expected = [
            error.message
            for error in importing.import_file(
                clerk, write_messy(tmp_path / "again.xlsx"), name="again.xlsx", all_or_nothing=True
            ).errors
        ]
    assert english == expected
