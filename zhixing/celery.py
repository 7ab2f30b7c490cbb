"""The Celery application of production workers: ``celery -A zhixing worker``.

Tasks live in the apps' ``tasks`` modules. Each runs the same loop that the embedded mode runs
in threads, so a task repeated after a crash finds the work already done or leased.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

from zhixing.heap import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhixing.settings")

app = Celery("zhixing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
@worker_process_init.connect
def _freeze_startup_objects(**_kwargs: object) -> None:
    """Freeze the start-up objects in the worker and in each pool process."""
    freeze_startup_objects()


@app.task(name="zhixing.timers")
def run_timers() -> dict[str, int]:
    """Run the apps' periodic checks whose interval has passed (see ``zhixing.timers``)."""
    from zhixing import timers

    return timers.run_due()
