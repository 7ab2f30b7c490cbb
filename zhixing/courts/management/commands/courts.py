import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zhixing.courts.models import Court


class Command(BaseCommand):
    help = "List all courts, as a table or as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print a JSON list of courts.")

    def handle(self, *args: Any, **options: Any) -> None:
        courts = Court.objects.select_related("parent").order_by("path")
        rows = [
            {
                "code": court.code,
                "code_status": court.code_status,
                "name": court.name,
                "short_name": court.short_name,
                "name_en": court.name_en,
                "level": court.level,
                "parent_code": court.parent.code if court.parent else None,
                "parent_name": court.parent.name if court.parent else None,
                "division_code": court.division_code,
            }
            for court in courts
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{'code':<8} {'parent':<8} {'level':<26} name")
        for row in rows:
            self.stdout.write(
                f"{row['code'] or '-':<8} {row['parent_code'] or '-':<8} {row['level']:<26} "
                f"{row['name']}"
            )
        self.stdout.write(f"{len(rows)} courts")
