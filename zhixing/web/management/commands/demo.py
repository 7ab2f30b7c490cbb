from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.audit.context import Actor, acting_as
from zhixing.cases import demo_data
from zhixing.cases.models import EnforcementCase
from zhixing.courts.models import Court
from zhixing.web import demo


class Command(BaseCommand):
    help = "Prepare the demo database (courts, demo accounts and cases) and start the application."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="Prepare the data, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MODE == "production":
            raise CommandError("The demo cannot run in production mode; unset ZHIXING_MODE.")
        call_command("migrate", interactive=False, verbosity=0)
        with acting_as(Actor(user=None, client_address="", channel="cli")):
            call_command("loadcourts")
            accounts = demo.create_demo_accounts()
            # Only a demo without cases gets them, so a second start changes nothing.
            existing = EnforcementCase.objects.count()
            generated = demo_data.generate_demo_cases() if existing == 0 else None
        self.stdout.write(f"{Court.objects.count()} courts loaded.")
        if generated is not None:
            self.stdout.write(
                f"{generated.cases} demo cases generated "
                f"({generated.parties} parties, {generated.seconds:.1f} s)."
            )
        else:
            self.stdout.write(f"{existing} cases already in the demo; none generated.")
        self.stdout.write(f"Demo logins (password {demo.DEMO_PASSWORD}):")
        for account in accounts:
            court = Court.objects.get(code=account.court_code)
            roles = ", ".join(account.roles)
            self.stdout.write(f"  {account.username:<14} {court.name} ({roles})")
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"])
