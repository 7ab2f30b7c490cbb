"""Background import jobs: queueing an uploaded file, claiming it with a lease, running it.

The database is the queue. A worker claims the oldest queued job, or a running job whose lease
ran out because its worker died, by setting ``state=running`` and a new ``lease_until``. On
PostgreSQL the candidate row is locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` so that
several workers never wait on each other, and on SQLite (one writer at a time) an ``UPDATE``
guarded by the state it read is enough. While the job runs, every progress write extends the
lease. Running a job again after a crash gives the same cases, because every row is an
idempotent upsert (:func:`zhixing.cases.importing.upsert_case`).

``zhixing worker`` runs :func:`run_worker` in its own process; ``zhixing serve`` in the
embedded mode calls :func:`start_background_worker`, which runs the same loop in a daemon
thread of the web process, so a single machine needs no separate worker.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhixing import wakeup
from zhixing.audit.context import Actor, acting_as
from zhixing.cases import importing
from zhixing.cases.job_models import ImportJob
from zhixing.courts.models import User

logger = logging.getLogger(__name__)

State = ImportJob.State

LEASE = datetime.timedelta(minutes=5)
# NOTE: an estimate, not a measurement. The all-or-nothing store pass is one transaction that
# writes no progress, so its lease is extended by this much per row before it starts.
STORE_TIME_PER_ROW = datetime.timedelta(milliseconds=20)
MAX_ATTEMPTS = 3
POLL_SECONDS = 1.0
UPLOAD_FOLDER = "imports"

_worker_thread: threading.Thread | None = None
_worker_stop = threading.Event()
_worker_lock = threading.Lock()


def upload_dir() -> Path:
    folder = Path(settings.DATA_DIR) / UPLOAD_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def create_job(
    *, user: User, data: bytes, name: str, mode: str, client_address: str = ""
) -> ImportJob:
    """Store an uploaded file under the data directory and queue a job for it.

    Raises :class:`importing.ImportFileError` for a file that is neither .xlsx nor .csv, and
    ``PermissionDenied`` when the user may not import.
    """
    if not importing.may_import(user):
        raise PermissionDenied(_("Only clerks and bureau heads import cases."))
    suffix = importing.file_suffix(name)
    if mode not in ImportJob.Mode.values:
        raise ValueError(f"unknown import mode {mode!r}")
    stored = upload_dir() / f"{uuid.uuid4().hex}{suffix}"
    stored.write_bytes(data)
    stored.chmod(0o600)
    job = ImportJob.objects.create(
        user=user,
        court=user.court,
        client_address=client_address,
        # The worker writes the report in the uploader's language, not in its own default.
        language=translation.get_language() or "",
        file_path=stored.name,
        original_name=Path(name).name[:255],
        mode=mode,
    )
    logger.info("Queued import job %s (%s bytes) for user %s", job.pk, len(data), user.pk)
    wakeup.wake(wakeup.IMPORT_JOBS_TASK)
    return job


def job_path(job: ImportJob) -> Path:
    return upload_dir() / job.file_path


def _claimable(now: datetime.datetime) -> Q:
    return Q(state=State.QUEUED) | Q(state=State.RUNNING, lease_until__lt=now)


def claim_job(job_id: int | None = None) -> ImportJob | None:
    """Claim the oldest claimable job (or the given one) for this worker; None if there is none.

    A claimed job has ``state=running``, a fresh lease and one more attempt. A job that has
    used up its attempts is marked failed instead of being claimed again.
    """
    now = timezone.now()
    candidates = ImportJob.objects.filter(_claimable(now)).order_by("created_at", "id")
    if job_id is not None:
        candidates = candidates.filter(pk=job_id)
    while True:
        if connection.vendor == "postgresql":
            with transaction.atomic():
                job = candidates.select_for_update(skip_locked=True).first()
                if job is None:
                    return None
                claimed = _take(job, now)
        else:
            job = candidates.first()
            if job is None:
                return None
            with transaction.atomic():
                claimed = _take(job, now)
        if claimed is not None:
            return claimed


def _take(job: ImportJob, now: datetime.datetime) -> ImportJob | None:
    """Mark ``job`` as claimed if it is still claimable; return it, or None if taken."""
    if job.attempts >= MAX_ATTEMPTS:
        ImportJob.objects.filter(pk=job.pk, attempts=job.attempts).filter(_claimable(now)).update(
            state=State.FAILED,
            failure=f"Gave up after {job.attempts} attempts; the worker stopped each time.",
            finished_at=now,
            lease_until=None,
        )
        logger.error("Import job %s failed after %s attempts", job.pk, job.attempts)
        return None
    taken = (
        ImportJob.objects.filter(pk=job.pk, attempts=job.attempts)
        .filter(_claimable(now))
        .update(state=State.RUNNING, lease_until=now + LEASE, attempts=job.attempts + 1)
    )
    if not taken:
        return None
    job.refresh_from_db()
    return job


def run_job(job: ImportJob) -> ImportJob:
    """Run a claimed job to its end and store the outcome on it."""
    logger.info("Running import job %s (attempt %s)", job.pk, job.attempts)
    actor = Actor(user=job.user, client_address=job.client_address, channel="web")
    path = job_path(job)

    def progress(processed: int, result: importing.ImportResult) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            total_rows=result.total_rows,
            processed_rows=processed,
            rejected_count=result.rejected,
            lease_until=timezone.now() + LEASE + STORE_TIME_PER_ROW * result.total_rows,
        )

    language = translation.override(job.language) if job.language else contextlib.nullcontext()
    with language:
        _import(job, actor, path, progress)
    job.refresh_from_db()
    return job


def _import(
    job: ImportJob,
    actor: Actor,
    path: Path,
    progress: Callable[[int, importing.ImportResult], None],
) -> None:
    """Import the job's file and store the outcome on the job."""
    try:
        with acting_as(actor):
            result = importing.import_file(
                job.user,
                path,
                name=job.original_name,
                all_or_nothing=job.mode == ImportJob.Mode.ALL_OR_NOTHING,
                progress=progress,
            )
    except (importing.ImportFileError, PermissionDenied) as error:
        logger.info("Import job %s failed, its file is invalid: %s", job.pk, error)
        _finish(job, state=State.FAILED, failure=str(error))
    except Exception:
        # The lease runs out and another attempt follows; the rows stored so far are
        # upserted again harmlessly.
        logger.exception("Import job %s stopped with an error", job.pk)
        raise
    else:
        _finish(
            job,
            state=State.DONE,
            total_rows=result.total_rows,
            processed_rows=2 * result.total_rows,
            created_count=result.created,
            updated_count=result.updated,
            unchanged_count=result.unchanged,
            rejected_count=result.rejected,
            errors=[error.as_dict() for error in result.errors],
            warnings=result.warnings,
        )


def _finish(job: ImportJob, **values: object) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now(), lease_until=None, **values
    )
    try:
        job_path(job).unlink(missing_ok=True)
    except OSError:
        logger.warning("Could not delete the file of import job %s", job.pk)
    logger.info("Import job %s finished: %s", job.pk, values.get("state"))


def process_job_now(job: ImportJob) -> ImportJob:
    """Claim and run one job in the calling thread (the web request does this for small files).

    If a worker claimed it first, the job is returned unchanged.
    """
    claimed = claim_job(job.pk)
    if claimed is None:
        job.refresh_from_db()
        return job
    return run_job(claimed)


def run_pending() -> int:
    """Run every claimable job, one after another; return how many ran."""
    count = 0
    while (job := claim_job()) is not None:
        try:
            run_job(job)
        except Exception:  # logged in run_job; the lease brings the job back
            logger.warning("Import job %s will be retried after its lease", job.pk)
        count += 1
    return count


def run_worker(stop: threading.Event, *, poll_seconds: float = POLL_SECONDS) -> None:
    """Run jobs until ``stop`` is set, polling the table every ``poll_seconds``."""
    logger.info("Import worker started")
    while not stop.is_set():
        close_old_connections()
        try:
            ran = run_pending()
        except Exception:
            logger.exception("Import worker loop failed; trying again")
            ran = 0
        finally:
            close_old_connections()
        if not ran:
            stop.wait(poll_seconds)
    logger.info("Import worker stopped")


def start_background_worker() -> threading.Thread:
    """Start the worker loop in a daemon thread of this process (once); return the thread.

    For ``zhixing serve`` in the embedded mode, where no separate worker runs.
    """
    global _worker_thread
    with _worker_lock:
        if _worker_thread is None or not _worker_thread.is_alive():
            _worker_stop.clear()
            _worker_thread = threading.Thread(
                target=run_worker, args=(_worker_stop,), name="zhixing-import-worker", daemon=True
            )
            _worker_thread.start()
        return _worker_thread


def stop_background_worker(timeout: float = 10.0) -> None:
    """Ask the background worker thread to stop after its current job, and wait for it."""
    with _worker_lock:
        thread = _worker_thread
        _worker_stop.set()
    if thread is not None:
        thread.join(timeout)
