"""``zhixing keys export DIR``: write what agencies need to verify the courts' signatures."""

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
            help=f"Write the CA certificates that the courts' seal certificates chain to, in PEM, "
            f"to DIR/{keys.TRUST_FILE_NAME} (the agency simulator's --trust-root) and, with "
            f"ZHIXING_GATEWAY_SIGNATURE=sm2, each court's SM2 public key to "
            f"DIR/{{code}}{keys.SM2_KEY_SUFFIX}, generating missing key pairs.",
        )
        export.add_argument("folder", type=Path, metavar="DIR")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = options["folder"]
        written = keys.export_public_keys(folder)
        sm2_keys = sum(1 for path in written if path.suffix == keys.SM2_KEY_SUFFIX)
        self.stdout.write(
            f"Wrote the CA certificates to {folder / keys.TRUST_FILE_NAME} and {sm2_keys} SM2 "
            f"public key(s) to {folder}."
        )
