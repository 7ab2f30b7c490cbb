"""``zhixing parse-case-number TEXT [--json]``: split a case number (案号) into its parts.

Django finds commands by file name and imports them with ``importlib``, which accepts the
hyphen that a Python ``import`` statement would not.
"""

import json
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from zhixing.cases.case_numbers import CaseNumber, CaseNumberError, court_name, parse_case_number

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Parse a case number (案号) and print its parts, as a summary or as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", help="The case number, e.g. (2016)粤01执恢44号之一.")
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print one JSON object. On a parse error the object has the keys error and part.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            number = parse_case_number(options["text"])
        except CaseNumberError as error:
            if options["json"]:
                payload = {"error": str(error), "part": error.part}
                self.stdout.write(json.dumps(payload, ensure_ascii=False))
            raise CommandError(f"invalid case number: {error} (part: {error.part})") from error

        name = self._look_up_court_name(number)
        if options["json"]:
            self.stdout.write(json.dumps(self._as_dict(number, name), ensure_ascii=False))
            return
        self._write_summary(number, name)

    def _look_up_court_name(self, number: CaseNumber) -> str | None:
        # Parsing needs no database, so a database without the courts table (not migrated yet)
        # leaves the court name unknown instead of failing the command.
        try:
            return court_name(number)
        except DatabaseError as error:
            logger.warning(
                "Court lookup for %s failed: %s. Run `zhixing migrate` and `zhixing loadcourts` "
                "to create the courts table.",
                number.court_code,
                error,
            )
            return None

    @staticmethod
    def _as_dict(number: CaseNumber, name: str | None) -> dict[str, Any]:
        return {
            "year": number.year,
            "court_code": number.court_code,
            "specialised_code": number.specialised_code,
            "type_code": number.type_code,
            "sequence": number.sequence,
            "suffix": number.suffix,
            "legacy": number.legacy,
            "legacy_court_abbreviation": number.legacy_court_abbreviation,
            "legacy_type": number.legacy_type,
            "is_enforcement": number.is_enforcement,
            "is_implementing": number.is_implementing,
            "type_name": number.type_name,
            "formatted": number.format(),
            "court_name": name,
        }

    def _write_summary(self, number: CaseNumber, name: str | None) -> None:
        lines = [f"Case number:      {number.format()}", f"Year:             {number.year}"]
        if number.legacy:
            lines += [
                "Format:           legacy (before 2016)",
                f"Court:            {number.legacy_court_abbreviation}",
                f"Type word:        {number.legacy_type}",
            ]
        else:
            lines.append(f"Court code:       {number.court_code} ({name or 'court not in table'})")
            if number.specialised_code:
                lines.append(f"Specialised code: {number.specialised_code}")
            lines.append(f"Type code:        {number.type_code} ({number.type_name})")
        lines += [
            f"Sequence:         {number.sequence}",
            f"Suffix:           {number.suffix or '-'}",
            f"Enforcement:      {'yes' if number.is_enforcement else 'no'}",
            f"Implementing:     {'yes' if number.is_implementing else 'no'}",
        ]
        for line in lines:
            self.stdout.write(line)
