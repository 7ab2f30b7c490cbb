"""``zhixing documents sample --court CODE --out FILE``: write a sealed sample document.

It lives in the esign app because it needs both apps: the documents app renders the sample
assistance notice and draws the seal image, and this app seals it where the template placed
the seal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.audit.context import Actor, acting_as
from zhixing.courts.models import Court
from zhixing.esign import signing


class Command(BaseCommand):
    help = "Work with legal documents."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        sample = commands.add_parser(
            "sample",
            help="Write a sample assistance notice of the court, with made-up data, sealed "
            "with the court's seal.",
        )
        sample.add_argument(
            "--court", metavar="CODE", required=True, help="Court code, e.g. 粤0104."
        )
        sample.add_argument("--out", type=Path, metavar="FILE", required=True, help="PDF to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        from zhixing.documents import rendering, samples

        court = Court.objects.filter(code=options["court"]).first()
        if court is None:
            raise CommandError(
                f"Court {options['court']!r} not found; `zhixing courts` lists the court codes."
            )
        try:
            rendered = rendering.render(samples.SAMPLE_TEMPLATE, samples.sample_context(court))
        except (rendering.DocumentTemplateError, LookupError) as error:
            raise CommandError(f"The sample document cannot be rendered: {error}") from error
        page, x1, y1, x2, y2 = rendered.seal_box
        with acting_as(Actor(user=None, client_address="", channel="cli")):
            try:
                sealed = signing.seal_pdf(
                    rendered.pdf,
                    court=court,
                    box=(x1, y1, x2, y2),
                    page=page,
                    reason="Sample document",
                )
            except (signing.SealingError, ValidationError) as error:
                raise CommandError(str(error)) from error
        options["out"].write_bytes(sealed)
        self.stdout.write(f"Wrote a sealed sample document of {court.name} to {options['out']}.")
