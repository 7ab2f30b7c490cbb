"""``zhixing demo``: prepare the demo data, then run the web server, the background workers
and the agency simulator together until Ctrl+C or SIGTERM stops them all."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.audit.context import Actor, acting_as
from zhixing.cases import demo_data
from zhixing.cases.models import EnforcementCase
from zhixing.courts.models import Court
from zhixing.heap import freeze_startup_objects
from zhixing.web import demo, processes


class Command(BaseCommand):
    help = (
        "Prepare the demo database (courts, demo accounts and cases), then run the web server,"
        " the background workers and the agency simulator until Ctrl+C stops them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address of the web server.")
        parser.add_argument("--port", type=int, default=8000, help="Port of the web server.")
        parser.add_argument(
            "--simulator-port",
            type=int,
            default=8100,
            help="Port of the agency simulator on 127.0.0.1 (default 8100; 0 picks a free one).",
        )
        parser.add_argument(
            "--no-simulator",
            action="store_true",
            help="Do not start the agency simulator or point the agencies at it.",
        )
        parser.add_argument("--no-serve", action="store_true", help="Prepare the data, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MODE == "production":
            raise CommandError("The demo cannot run in production mode; unset ZHIXING_MODE.")
        accounts = self.prepare_data()
        if options["no_serve"]:
            self.print_logins(accounts)
            return
        self.run_everything(accounts, options)

    def prepare_data(self) -> list[demo.DemoAccount]:
        call_command("migrate", interactive=False, verbosity=0)
        with acting_as(Actor(user=None, client_address="", channel="cli")):
            call_command("loadcourts")
            accounts = demo.create_demo_accounts()
            certificates = demo.issue_demo_certificates()
            # Only a demo without cases gets them, so a second start changes nothing.
            existing = EnforcementCase.objects.count()
            generated = demo_data.generate_demo_cases() if existing == 0 else None
            activity = demo.create_demo_activity()
        self.stdout.write(f"{Court.objects.count()} courts loaded.")
        if generated is not None:
            self.stdout.write(
                f"{generated.cases} demo cases generated "
                f"({generated.parties} parties, {generated.seconds:.1f} s)."
            )
        else:
            self.stdout.write(f"{existing} cases already in the demo; none generated.")
        if certificates:
            self.stdout.write(
                f"{certificates} seal and signing certificates issued to the demo's courts and "
                "bureau heads."
            )
        if activity:
            self.stdout.write("Demo reports and an order added for the command centers.")
        return accounts

    def print_logins(self, accounts: list[demo.DemoAccount]) -> None:
        self.stdout.write(f"Demo logins (password {demo.DEMO_PASSWORD}):")
        for account in accounts:
            court = Court.objects.get(code=account.court_code)
            roles = ", ".join(account.roles)
            self.stdout.write(f"  {account.username:<14} {court.name} ({roles})")

    def run_everything(self, accounts: list[demo.DemoAccount], options: dict[str, Any]) -> None:
        supervisor = processes.Supervisor()
        supervisor.install_signal_handlers()
        simulator = None
        try:
            if not options["no_simulator"]:
                simulator = self.start_simulator(options["simulator_port"], supervisor)
            freeze_startup_objects()
            # The embedded mode: the workers are threads of this process, as in `serve`.
            processes.start_background_workers()
            host, port = options["host"], options["port"]
            shown_host = f"[{host}]" if ":" in host else host
            self.print_logins(accounts)
            self.stdout.write(f"Zhixing is running at http://{shown_host}:{port}/")
            if simulator is not None:
                self.stdout.write(
                    f"Agency simulator ({simulator.agencies} agencies) at {simulator.url}/"
                )
            self.stdout.write("Ctrl+C stops the web server, the workers and the simulator.")
            self.stdout.flush()
            supervisor.serve(processes.web_server(host, port), simulator)
        finally:
            processes.stop_background_workers()
            if simulator is not None:
                simulator.stop()
        if (code := supervisor.simulator_exit) is not None:
            raise CommandError(
                f"The agency simulator stopped unexpectedly (exit code {code});"
                " the demo stopped too."
            )
        self.stdout.write("Demo stopped.")

    def start_simulator(
        self, port: int, supervisor: processes.Supervisor
    ) -> processes.SimulatorProcess:
        # The batch-file agencies of the agencies file have their folders in DATA_DIR/exchange.
        simulator = processes.SimulatorProcess(
            settings.DATA_DIR / "simulator",
            port,
            arguments=["--exchange-dir", str(settings.DATA_DIR / "exchange")],
        )
        # The simulator verifies each court's signature with these public keys.
        call_command("keys", "export", str(simulator.court_keys))
        self.stdout.write(f"Starting the agency simulator on 127.0.0.1:{port}")
        try:
            simulator.start(supervisor.stop)
        except processes.SimulatorError as error:
            raise CommandError(str(error)) from error
        try:
            # The gateway sends to the simulator and trusts its agencies' keys.
            # Agencies of an earlier start keep what administrators changed in them.
            call_command(
                "loadagencies",
                keys=simulator.agency_keys,
                base_url=simulator.url + "/agencies/{code}",
                connection_only=True,
            )
        except BaseException:
            simulator.stop()
            raise
        return simulator
