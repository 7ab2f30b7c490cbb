"""``zhixing import-cases FILE --as USER [--valid-rows]``: import cases from .xlsx or .csv.

For data migrations run by an administrator on the server. The import runs as the named staff
account, with that account's scope and permissions, and prints the row report.
"""

import json
import logging
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.audit.context import Actor, acting_as
from zhixing.cases import importing
from zhixing.courts.models import User

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Import enforcement cases from an .xlsx or .csv file in the documented layout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The .xlsx or .csv file.")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            help="User name of the clerk or bureau head the import runs as.",
        )
        parser.add_argument(
            "--valid-rows",
            action="store_true",
            help="Store the valid rows and report the others (default: all or nothing).",
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {options['username']!r}")
        try:
            with acting_as(Actor(user=user, client_address="", channel="cli")):
                result = importing.import_file(user, path, all_or_nothing=not options["valid_rows"])
        except (importing.ImportFileError, PermissionDenied) as error:
            raise CommandError(str(error)) from error
        report = {
            "rows": result.total_rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "skipped": result.skipped,
            "stored": result.stored,
            "warnings": result.warnings,
            "errors": [error.as_dict() for error in result.errors],
        }
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(
                f"{result.total_rows} rows: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged, {result.rejected} rejected"
            )
            for warning in result.warnings:
                self.stdout.write(f"warning: {warning}")
            for rejected in result.errors:
                self.stdout.write(f"row {rejected.row} {rejected.column}: {rejected.message}")
            if not result.stored:
                self.stdout.write("Nothing was stored (all-or-nothing mode).")
        if result.errors and not result.stored:
            raise CommandError("import rejected; nothing stored")
