"""``zhixing verify-pdf FILE``: print a JSON verdict on the signatures of a PDF."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhixing.esign import verification

# Exit codes: 0 when every signature is valid, 1 when one is not (or there are none), 2 when
# the file cannot be read as a PDF.
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


class Command(BaseCommand):
    help = (
        "Verify the seals and signatures of a PDF and print one JSON object with `valid` and "
        "`signatures`. Exits 0 only if the document has signatures and every one is valid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as error:
            self._finish({"valid": False, "signatures": [], "error": f"{path}: {error.strerror}"})
            raise SystemExit(EXIT_UNREADABLE) from error
        try:
            report = verification.verify_pdf(data, name=str(path))
        except verification.InvalidDocument as error:
            self._finish({"valid": False, "signatures": [], "error": str(error)})
            raise SystemExit(EXIT_UNREADABLE) from error
        self._finish(report.as_dict())
        if not report.valid:
            raise SystemExit(EXIT_INVALID)

    def _finish(self, result: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        self.stdout.flush()
