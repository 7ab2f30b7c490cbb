"""Periodic checks of the apps (escalations, supervision, expiry watches) and their runner.

An app registers a check in its ``AppConfig.ready()`` with :func:`register`. A check takes the
current time and returns how many things it changed. It must be idempotent, because several
runners may call it at once and a crash may repeat it: each change is guarded by the state
it expects, as the gateway's steps are.

In the embedded mode a daemon thread of the web process calls :func:`run_due` every few
seconds. Under Celery the beat schedule queues the ``zhixing.timers`` task, which calls it.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

TICK_SECONDS = 5.0


@dataclass
class Timer:
    """A registered periodic check and when it last ran in this process."""

    name: str
    check: Callable[[datetime.datetime], int]
    every: datetime.timedelta
    last_run: datetime.datetime | None = None


_timers: dict[str, Timer] = {}
_lock = threading.Lock()


def register(name: str, check: Callable[[datetime.datetime], int], *, every_seconds: float) -> None:
    """Run ``check(now)`` at most every ``every_seconds``; registering a name again replaces it."""
    with _lock:
        _timers[name] = Timer(name, check, datetime.timedelta(seconds=every_seconds))


def registered() -> list[str]:
    with _lock:
        return sorted(_timers)


def run_due(now: datetime.datetime | None = None, *, force: bool = False) -> dict[str, int]:
    """Run the checks whose interval has passed (all of them with ``force``); return counts.

    A failing check is logged and the others still run.
    """
    now = now or timezone.now()
    with _lock:
        due = [
            timer
            for timer in _timers.values()
            if force or timer.last_run is None or now - timer.last_run >= timer.every
        ]
        for timer in due:
            timer.last_run = now
    results: dict[str, int] = {}
    for timer in due:
        try:
            results[timer.name] = timer.check(now)
        except Exception:
            logger.exception(
                "Periodic check %s failed; it runs again at its next interval", timer.name
            )
    changed = {name: count for name, count in results.items() if count}
    if changed:
        logger.info("Periodic checks changed: %s", changed)
    return results


def run_forever(stop: threading.Event, *, tick_seconds: float = TICK_SECONDS) -> None:
    """Call :func:`run_due` every ``tick_seconds`` until ``stop`` is set."""
    logger.info("Periodic checks started: %s", ", ".join(registered()) or "none")
    while not stop.is_set():
        close_old_connections()
        try:
            run_due()
        finally:
            close_old_connections()
        stop.wait(tick_seconds)
    logger.info("Periodic checks stopped")
