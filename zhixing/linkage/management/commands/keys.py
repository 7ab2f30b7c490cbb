"""``zhixing keys export DIR``: write each court's gateway public key as ``{code}.pem``."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhixing.linkage import keys


class Command(BaseCommand):
    help = "Manage the courts' gateway signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        export = commands.add_parser(
            "export",
            help="Write each court's public key to DIR/{code}.pem, generating missing key pairs.",
        )
        export.add_argument("folder", type=Path, metavar="DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        written = keys.export_public_keys(options["folder"])
        self.stdout.write(f"Wrote {len(written)} public key(s) to {options['folder']}.")
