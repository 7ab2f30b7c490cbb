"""``zhixing gateway-worker [--once]``: send queued agency requests and collect answers."""

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhixing.heap import freeze_startup_objects
from zhixing.linkage import worker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the agency gateway: form and send batches, poll answers, expire and sweep items."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one pass, then exit.")
        parser.add_argument(
            "--poll",
            type=float,
            default=worker.POLL_SECONDS,
            help="Seconds to rest after a pass that found nothing to do (default 1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            result = worker.run_gateway_once()
            self.stdout.write(
                f"Swept {result.swept}, expired {result.expired}, sent {result.batches} "
                f"batch(es) with {result.acknowledged} acknowledged item(s), stored "
                f"{result.answered} answer(s)."
            )
            return
        stop = threading.Event()

        def request_stop(signum: int, frame: object) -> None:
            logger.info("Gateway worker received signal %s; stopping after this pass", signum)
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        freeze_startup_objects()
        self.stdout.write("Gateway worker running (Ctrl+C stops it after the current pass)")
        worker.run_gateway_worker(stop, poll_seconds=options["poll"])
