"""``zhixing loadagencies [--file F] [--keys DIR] [--base-url URL] [--connection-only]``.

Loads the agency registry.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.linkage import services


class Command(BaseCommand):
    help = "Load the linkage agencies file; loading it twice changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            default=services.AGENCIES_FILE,
            help="JSON file of agencies (default: the demo agencies shipped with Zhixing).",
        )
        parser.add_argument(
            "--keys",
            type=Path,
            help="Folder of agency public keys named {code}.pem, e.g. exported by the simulator.",
        )
        parser.add_argument(
            "--base-url",
            help="Base URL for every agency; {code} becomes the agency's code.",
        )
        parser.add_argument(
            "--connection-only",
            action="store_true",
            help="Update only the base URL and public key of agencies that exist, keeping the "
            "settings administrators changed; create missing agencies in full.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keys_dir = options["keys"]
        if keys_dir is not None and not keys_dir.is_dir():
            raise CommandError(f"--keys {keys_dir} is not a folder; pass the folder of .pem files.")
        try:
            result = services.load_agencies_file(
                options["file"],
                keys_dir=keys_dir,
                base_url=options["base_url"],
                connection_only=options["connection_only"],
            )
        except services.AgencyDataError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Agencies: {len(result.created)} created, {len(result.updated)} updated, "
            f"{result.unchanged} unchanged."
        )
        if result.kept_manual:
            self.stdout.write(
                f"Kept manual because typed answers are awaited: {', '.join(result.kept_manual)}."
            )
