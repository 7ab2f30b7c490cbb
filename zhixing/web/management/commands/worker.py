"""``zhixing worker [--once]``: run background jobs (case imports) from the job table."""

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhixing.cases import jobs
from zhixing.heap import freeze_startup_objects

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run queued background jobs (case imports); poll for new ones every second."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run the jobs that can be claimed now, then exit.",
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=jobs.POLL_SECONDS,
            help="Seconds between looks at the job table when it is empty (default 1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            count = jobs.run_pending()
            self.stdout.write(f"Ran {count} job(s).")
            return
        stop = threading.Event()

        def request_stop(signum: int, frame: object) -> None:
            logger.info("Worker received signal %s; stopping after the current job", signum)
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        freeze_startup_objects()
        self.stdout.write("Worker running (Ctrl+C stops it after the current job)")
        jobs.run_worker(stop, poll_seconds=options["poll"])
