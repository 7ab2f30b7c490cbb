"""Celery task of the case imports: the same job loop that ``zhixing worker`` runs."""

from __future__ import annotations

from celery import shared_task

from zhixing import wakeup
from zhixing.cases import jobs


@shared_task(name=wakeup.IMPORT_JOBS_TASK)
def run_import_jobs() -> int:
    """Run every import job that can be claimed now; return how many ran."""
    return jobs.run_pending()
