import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.audit.context import Actor, acting_as
from zhixing.cases import bench
from zhixing.linkage import bench as gateway_bench


class Command(BaseCommand):
    help = (
        "Benchmark the case database (`bench cases --cases N`) or the agency gateway "
        "(`bench gateway --items N`) on the configured database and print one JSON line of "
        "results (see docs/benchmarks.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subject", choices=["cases", "gateway"], help="What to benchmark.")
        parser.add_argument("--cases", type=int, help="cases: number of cases to load.")
        parser.add_argument(
            "--items", type=int, help="gateway: items to send through the batched run."
        )
        parser.add_argument("--seed", type=int, default=1, help="Seed of the synthetic data.")
        parser.add_argument(
            "--samples", type=int, default=200, help="cases: timed runs of each search."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="gateway: batch size of the batched run (default 1000, the protocol's maximum).",
        )
        parser.add_argument(
            "--unbatched-items",
            type=int,
            default=gateway_bench.DEFAULT_UNBATCHED_ITEMS,
            help="gateway: items of the run with batch size 1 (default "
            f"{gateway_bench.DEFAULT_UNBATCHED_ITEMS}; 0 skips it).",
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="gateway: gateway worker processes (default 2)."
        )
        parser.add_argument(
            "--delay-ms",
            type=int,
            default=0,
            help="gateway: the simulator's answer delay per item in ms (default 0).",
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="Keep what the run loaded; by default the run removes what it added.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(text: str) -> None:
            print(text, file=sys.stderr, flush=True)

        with acting_as(Actor(user=None, client_address="", channel="cli")):
            try:
                if options["subject"] == "cases":
                    if options["cases"] is None:
                        raise CommandError("bench cases needs --cases N")
                    result = bench.run(
                        cases=options["cases"],
                        seed=options["seed"],
                        samples=options["samples"],
                        keep=options["keep"],
                        progress=progress,
                    )
                else:
                    if options["items"] is None:
                        raise CommandError("bench gateway needs --items N")
                    result = gateway_bench.run(
                        items=options["items"],
                        batch_size=options["batch_size"],
                        unbatched_items=options["unbatched_items"],
                        workers=options["workers"],
                        delay_ms=options["delay_ms"],
                        seed=options["seed"],
                        keep=options["keep"],
                        progress=progress,
                    )
            except (ValueError, bench.CleanupError, gateway_bench.BenchError) as error:
                raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(result, ensure_ascii=False))
