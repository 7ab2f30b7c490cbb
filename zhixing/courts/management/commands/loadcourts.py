from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.courts import services


class Command(BaseCommand):
    help = "Load the court reference file; loading it twice changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            default=services.COURTS_FILE,
            help="JSON file of courts (default: the Guangdong file shipped with Zhixing).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = services.load_courts_file(options["file"])
        except services.CourtDataError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Courts: {len(result.created)} created, {len(result.updated)} updated, "
            f"{result.unchanged} unchanged."
        )
