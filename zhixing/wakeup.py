"""Queue messages that wake the Celery workers after a commit, when a broker is configured."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# Task names, as the tasks modules register them.
GATEWAY_TASK = "zhixing.linkage.gateway_pass"
IMPORT_JOBS_TASK = "zhixing.cases.run_import_jobs"
# A wake-up message that waited this long is dropped: the periodic pass has run by then.
WAKE_EXPIRES_SECONDS = 60


def broker_configured() -> bool:
    """Return whether background work runs under Celery (a broker URL is set)."""
    return bool(settings.CELERY_BROKER_URL)


def wake(task_name: str) -> None:
    """Queue task ``task_name`` once the current transaction commits, if a broker is set.

    A failed send is logged and ignored, because the periodic pass finds the work in the
    database anyway, and the user's request must not fail over a wake-up message.
    """
    if not broker_configured():
        return

    def send() -> None:
        from zhixing.celery import app

        try:
            app.send_task(task_name, expires=WAKE_EXPIRES_SECONDS, retry=False)
        except Exception as error:
            logger.warning(
                "Could not queue task %s; the periodic pass runs it: %s", task_name, error
            )

    transaction.on_commit(send)
