"""Celery tasks of the gateway: passes of the same loop that ``zhixing gateway-worker`` runs."""

from __future__ import annotations

import logging
import os
import socket
import time

from celery import shared_task

from zhixing import wakeup
from zhixing.linkage.worker import run_gateway_once

logger = logging.getLogger(__name__)

# One task runs passes while they find work, for at most this long, then leaves the rest to
# the next message or tick, so that one busy task cannot hold a worker slot for ever.
PASS_BUDGET_SECONDS = 30.0


@shared_task(name=wakeup.GATEWAY_TASK)
def gateway_pass() -> int:
    """Run gateway passes until one finds nothing to do or the budget is spent.

    Returns the number of passes. Several workers may run it at once, because every step of a
    pass claims its rows with a lease.
    """
    owner = f"{socket.gethostname()}:{os.getpid()}:celery"
    started = time.monotonic()
    passes = 0
    while True:
        result = run_gateway_once(owner=owner)
        passes += 1
        if not result.busy or time.monotonic() - started > PASS_BUDGET_SECONDS:
            return passes
