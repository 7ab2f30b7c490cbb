"""``zhixing reports route``: the courts that a new report would reach at once."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.courts.models import Court
from zhixing.reports import services
from zhixing.reports.models import Kind, Severity


class Command(BaseCommand):
    help = "Key-information reports from the command line."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        route = commands.add_parser(
            "route",
            help="Print the courts a new report would reach at once, by the platform's rules.",
        )
        route.add_argument("--from", dest="court", required=True, help="Reporting court code.")
        route.add_argument("--kind", required=True, help=f"One of {', '.join(Kind.values)}.")
        route.add_argument(
            "--severity", required=True, help=f"One of {', '.join(Severity.values)}."
        )
        route.add_argument(
            "--json", action="store_true", help='Print {"recipients": [court codes]}.'
        )

    def handle(self, *args: Any, **options: Any) -> None:
        court = Court.objects.filter(code=options["court"]).first()
        if court is None:
            raise CommandError(
                f"No court has the code {options['court']!r}; `zhixing courts` lists the codes."
            )
        try:
            recipients = services.route(court, options["kind"], options["severity"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        codes = [recipient.code for recipient, _route in recipients]
        if options["json"]:
            self.stdout.write(json.dumps({"recipients": codes}, ensure_ascii=False))
            return
        if not recipients:
            self.stdout.write(f"{court.name}: no court above it in the province.")
        for recipient, route_name in recipients:
            self.stdout.write(f"{recipient.code}\t{recipient.name}\t{route_name}")
