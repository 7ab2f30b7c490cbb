import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from zhixing import wakeup
from zhixing.heap import freeze_startup_objects
from zhixing.web import processes

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the web application with uvicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8000, help="TCP port to listen on.")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not run the background jobs and the agency gateway in this process"
            " (production runs them under Celery; see docs/deploy.md).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(f"Zhixing is running at http://{shown_host}:{port}/ (Ctrl+C stops it)")
        logger.info("Starting web server on %s:%s (mode %s)", host, port, settings.MODE)
        freeze_startup_objects()
        if (
            not options["no_worker"]
            and settings.MODE != "production"
            and not wakeup.broker_configured()
        ):
            # One machine, no broker: this process also runs the queued background jobs and
            # the agency gateway, each in a daemon thread. With a broker, Celery runs them.
            processes.start_background_workers()
        processes.web_server(host, port).run()
        logger.info("Web server stopped")
