import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.audit.context import Actor, acting_as
from zhixing.cases import bench


class Command(BaseCommand):
    help = (
        "Load N synthetic cases into the configured database, time the case searches and print "
        "one JSON line of results (see docs/benchmarks.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subject", choices=["cases"], help="What to benchmark.")
        parser.add_argument("--cases", type=int, required=True, help="Number of cases to load.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the synthetic data.")
        parser.add_argument(
            "--samples", type=int, default=200, help="Timed runs of each search (default 200)."
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="Keep the loaded cases; by default the run removes what it added.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(text: str) -> None:
            print(text, file=sys.stderr, flush=True)

        with acting_as(Actor(user=None, client_address="", channel="cli")):
            try:
                result = bench.run(
                    cases=options["cases"],
                    seed=options["seed"],
                    samples=options["samples"],
                    keep=options["keep"],
                    progress=progress,
                )
            except ValueError as error:
                raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(result, ensure_ascii=False))
