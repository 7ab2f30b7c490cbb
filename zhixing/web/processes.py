"""The processes of one Zhixing machine: web server, background workers, agency simulator.

Outside production, ``zhixing serve`` and ``zhixing demo`` run the background work in daemon
threads of the web process: the import-job worker and the agency gateway loop. ``zhixing
demo`` also starts the agency simulator as a child process and stops it with the demo.
Production runs ``zhixing worker`` and ``zhixing gateway-worker`` as processes of their own
(``docs/deploy.md``).
"""

from __future__ import annotations

import ctypes
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import uvicorn

logger = logging.getLogger(__name__)

SIMULATOR_READY_SECONDS = 60.0
SIMULATOR_STOP_SECONDS = 10.0
WORKER_STOP_SECONDS = 5.0

_gateway_lock = threading.Lock()
_gateway_stop = threading.Event()
_gateway_thread: threading.Thread | None = None


def start_gateway_thread() -> threading.Thread:
    """Start the gateway loop in a daemon thread of this process (once); return the thread."""
    from zhixing.linkage.worker import run_gateway_worker

    global _gateway_thread
    with _gateway_lock:
        if _gateway_thread is None or not _gateway_thread.is_alive():
            _gateway_stop.clear()
            _gateway_thread = threading.Thread(
                target=run_gateway_worker,
                args=(_gateway_stop,),
                name="zhixing-gateway-worker",
                daemon=True,
            )
            _gateway_thread.start()
        return _gateway_thread


def stop_gateway_thread(timeout: float = WORKER_STOP_SECONDS) -> None:
    """Ask the gateway thread to stop after its current pass, and wait up to ``timeout``."""
    with _gateway_lock:
        thread = _gateway_thread
        _gateway_stop.set()
    if thread is not None:
        thread.join(timeout)


_timers_stop = threading.Event()
_timers_thread: threading.Thread | None = None


def start_timers_thread() -> threading.Thread:
    """Run the apps' periodic checks in a daemon thread of this process (once)."""
    from zhixing import timers

    global _timers_thread
    with _gateway_lock:
        if _timers_thread is None or not _timers_thread.is_alive():
            _timers_stop.clear()
            _timers_thread = threading.Thread(
                target=timers.run_forever,
                args=(_timers_stop,),
                name="zhixing-timers",
                daemon=True,
            )
            _timers_thread.start()
        return _timers_thread


def start_background_workers() -> None:
    """Run the import-job worker, the gateway loop and the periodic checks in daemon threads."""
    from zhixing.cases.jobs import start_background_worker

    start_background_worker()
    start_gateway_thread()
    start_timers_thread()


def stop_background_workers(timeout: float = WORKER_STOP_SECONDS) -> None:
    """Stop the background threads; each gets up to ``timeout`` seconds to finish."""
    from zhixing.cases.jobs import stop_background_worker

    _timers_stop.set()
    stop_gateway_thread(timeout)
    stop_background_worker(timeout)
    if _timers_thread is not None:
        _timers_thread.join(timeout)


def web_server(host: str, port: int) -> uvicorn.Server:
    """Return a uvicorn server for the Zhixing application; ``run()`` serves until stopped."""
    config = uvicorn.Config(
        "zhixing.asgi:application",
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


class SimulatorError(Exception):
    """Raised when the agency simulator does not start."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """On Linux, have the kernel send SIGTERM to the simulator if the demo dies without
    stopping it (e.g. on SIGKILL)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class SimulatorProcess:
    """The agency simulator as a child process, with its database and keys in ``folder``.

    ``folder/court-keys`` holds what ``zhixing keys export`` writes there: the courts' SM2
    public keys and ``platform-ca.crt``, the CA certificates that the courts' seal certificates
    chain to, which the simulator gets as ``--trust-root``. The simulator reads the folder
    again when a signer is unknown and the trust file again when it changes, so both may be
    written after :meth:`start` too. It writes its agencies' public keys to
    ``folder/agency-keys``. ``arguments`` are added to the simulator's command line, e.g.
    ``["--agencies", FILE]``.
    """

    folder: Path
    port: int
    host: str = "127.0.0.1"
    arguments: list[str] = field(default_factory=list)
    # Where the simulator's standard output goes (a file object); None inherits ours.
    stdout: IO[bytes] | IO[str] | None = None
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    agencies: int = 0

    @property
    def court_keys(self) -> Path:
        return self.folder / "court-keys"

    @property
    def trust_file(self) -> Path:
        from zhixing.linkage.keys import TRUST_FILE_NAME

        return self.court_keys / TRUST_FILE_NAME

    @property
    def agency_keys(self) -> Path:
        return self.folder / "agency-keys"

    @property
    def ready_file(self) -> Path:
        return self.folder / "ready.json"

    def start(self, stop: threading.Event, timeout: float = SIMULATOR_READY_SECONDS) -> None:
        """Start the simulator and wait until it accepts requests.

        Raises :class:`SimulatorError` when it exits, does not become ready within
        ``timeout`` seconds, or ``stop`` is set while waiting; the process is then stopped.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "agency_simulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--db",
            str(self.folder / "simulator.sqlite3"),
            "--keys",
            str(self.court_keys),
            "--trust-root",
            str(self.trust_file),
            "--export-keys",
            str(self.agency_keys),
            "--ready-file",
            str(self.ready_file),
            "--always-open",
            "--log-level",
            "warning",
            *self.arguments,
        ]
        # A session of its own: Ctrl+C in the terminal reaches the demo only, which then
        # stops the simulator itself, in order.
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, start_new_session=True, preexec_fn=_die_with_parent, stdout=self.stdout
        )
        deadline = time.monotonic() + timeout
        while not self.ready_file.exists():
            if self.process.poll() is not None:
                raise SimulatorError(
                    f"The agency simulator exited with code {self.process.returncode} "
                    "before it was ready."
                )
            if stop.is_set():
                self.stop()
                raise SimulatorError("Stopped while the agency simulator was starting.")
            if time.monotonic() > deadline:
                self.stop()
                raise SimulatorError(f"The agency simulator was not ready within {timeout:.0f} s.")
            time.sleep(0.1)
        ready = json.loads(self.ready_file.read_text(encoding="utf-8"))
        self.url = str(ready["url"])
        self.agencies = int(ready["agencies"])

    def exit_code(self) -> int | None:
        """Return the exit code once the process has ended, else None."""
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = SIMULATOR_STOP_SECONDS) -> None:
        """Terminate the simulator, wait up to ``timeout`` seconds, then kill it."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("The agency simulator did not stop within %.0f s; killing it", timeout)
            process.kill()
            process.wait(timeout)


class Supervisor:
    """Supervisor of the web server in the main thread, until a signal or a dead simulator.

    SIGINT and SIGTERM set :attr:`stop`. While uvicorn serves, it handles them itself, and
    when it returns it raises them again for these handlers, so the demo still cleans up.
    """

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.signal_received: int | None = None
        self.simulator_exit: int | None = None

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, frame: object) -> None:
            self.signal_received = signum
            self.stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

    def serve(self, server: uvicorn.Server, simulator: SimulatorProcess | None) -> None:
        """Run ``server`` until a signal arrives or the simulator exits."""
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.2):
                if simulator is not None and (code := simulator.exit_code()) is not None:
                    self.simulator_exit = code
                    server.should_exit = True
                    return
                if self.stop.is_set():
                    # A signal that came before uvicorn took over the handlers.
                    server.should_exit = True
                    return

        watcher = threading.Thread(target=watch, name="zhixing-demo-watch", daemon=True)
        watcher.start()
        try:
            if not self.stop.is_set():
                server.run()
        finally:
            done.set()
            watcher.join()
