import getpass
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.audit.context import Actor, acting_as
from zhixing.courts import services
from zhixing.courts.models import Court, Role


class Command(BaseCommand):
    help = (
        "Create a staff account for a court. The password is read from standard input with "
        "--password-stdin, or asked for on a terminal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--court", required=True, help="Court code, e.g. 粤0104.")
        parser.add_argument(
            "--role",
            action="append",
            required=True,
            choices=Role.Code.values,
            help="Role of the user; repeat for several roles.",
        )
        parser.add_argument("--full-name", default="", help="Name shown in pages.")
        parser.add_argument("--phone", default="")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )
        parser.add_argument(
            "--no-password",
            action="store_true",
            help="Create the account without a usable password (set one later).",
        )

    def _password(self, options: dict[str, Any]) -> str | None:
        if options["no_password"]:
            return None
        if options["password_stdin"]:
            return sys.stdin.readline().rstrip("\n")
        if not sys.stdin.isatty():
            raise CommandError("No password given; use --password-stdin or --no-password.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ; run the command again.")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            court = Court.objects.get(code=options["court"])
        except Court.DoesNotExist as error:
            raise CommandError(
                f"Court code {options['court']!r} not found; `zhixing courts` lists the codes."
            ) from error
        password = self._password(options)
        try:
            with acting_as(Actor(user=None, client_address="", channel="cli")):
                user = services.create_user(
                    actor=None,
                    court=court,
                    username=options["username"],
                    full_name=options["full_name"] or options["username"],
                    role_codes=options["role"],
                    password=password,
                    phone=options["phone"],
                )
        except ValidationError as error:
            messages = (
                "; ".join(
                    f"{name}: {' '.join(errors)}" for name, errors in error.message_dict.items()
                )
                if hasattr(error, "error_dict")
                else " ".join(error.messages)
            )
            raise CommandError(messages) from error
        self.stdout.write(f"Created user {user.username} at {court.name} ({court.code}).")
