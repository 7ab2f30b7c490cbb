"""Real processes for the gateway's reliability tests.

The agency simulator, ``zhixing gateway-worker`` processes and a private PostgreSQL cluster
are started here as separate programs, so that the tests can kill, stop and restart them the
way an operator or a crash would. Everything listens on 127.0.0.1 only, on ports picked at
start, and is stopped by the fixture that started it.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

from zhixing.linkage import keys

ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
# Where Debian installs the PostgreSQL server programs, one folder per major version.
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
POSTGRES_OS_USER = "postgres"


def wait_until(
    condition: Callable[[], Any], timeout_s: float, what: str, *, interval_s: float = 0.1
) -> Any:
    """Return the first true value of ``condition()``, or fail naming ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signum)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return f"({path} is missing)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class SimulatorProcess:
    """The agency simulator as a process, with its loopback admin API.

    Court public keys and the trust file ``platform-ca.crt`` (``keys.export_public_keys``) are
    read from ``folder / "court-keys"`` (the simulator looks at the folder, and whether the trust
    file changed, at most once a second), and the agencies' keys are written to
    ``folder / "agency-keys"`` at start.
    """

    def __init__(self, folder: Path, *arguments: str) -> None:
        self.folder = folder
        self.arguments = arguments
        self.log_path = folder / "simulator.log"
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._admin: httpx.Client | None = None

    @property
    def court_keys(self) -> Path:
        return self.folder / "court-keys"

    @property
    def trust_file(self) -> Path:
        return self.court_keys / keys.TRUST_FILE_NAME

    @property
    def agency_keys(self) -> Path:
        return self.folder / "agency-keys"

    def start(self) -> SimulatorProcess:
        ready = self.folder / "simulator-ready.json"
        self.court_keys.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "agency_simulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--db",
            str(self.folder / "simulator.sqlite3"),
            "--keys",
            str(self.court_keys),
            "--trust-root",
            str(self.trust_file),
            "--export-keys",
            str(self.agency_keys),
            "--ready-file",
            str(ready),
            "--always-open",
            "--log-level",
            "warning",
            *self.arguments,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=log,
                stderr=log,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        process = self.process

        def started() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the simulator exited:\n{_tail(self.log_path)}")
            return ready.exists()

        wait_until(started, STARTUP_TIMEOUT_S, "the simulator to start", interval_s=0.05)
        self.url = json.loads(ready.read_text())["url"]
        # Loopback only, and never through a proxy from the environment.
        self._admin = httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)
        return self

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.process is not None:
            _stop(self.process)

    def admin(self) -> httpx.Client:
        assert self._admin is not None, "the simulator is not started"
        return self._admin

    def set_faults(self, code: str, **faults: Any) -> dict[str, Any]:
        """Change the faults of agency ``code`` through ``POST /admin/agencies/{code}/faults``."""
        response = self.admin().post(f"/admin/agencies/{code}/faults", json=faults)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def counts(self) -> dict[str, dict[str, int]]:
        """Return, per agency code, the simulator's counts of batches, items and answers."""
        response = self.admin().get("/admin/agencies")
        response.raise_for_status()
        return {entry["code"]: entry["counts"] for entry in response.json()["agencies"]}


class WorkerProcess:
    """One ``zhixing gateway-worker`` process on ``database_url``, logging to its own file."""

    def __init__(self, folder: Path, database_url: str, name: str, *, poll_s: float = 0.2) -> None:
        self.log_path = folder / f"{name}.log"
        self.database_url = database_url
        self.poll_s = poll_s
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "ZHIXING_LOG_LEVEL": "INFO",
        }
        # Without a callback URL the worker polls, so no web server is needed.
        environment.pop("ZHIXING_GATEWAY_CALLBACK_URL", None)
        command = [
            sys.executable,
            "-m",
            "zhixing.cli",
            "gateway-worker",
            "--poll",
            str(self.poll_s),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment
            )
        return self

    @property
    def owner(self) -> str:
        """The lease owner that the worker writes on the rows it claims."""
        assert self.process is not None
        return f"{socket.gethostname()}:{self.process.pid}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """Kill the worker with SIGKILL, as a crash or the out-of-memory killer would."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def log(self) -> str:
        """Return the end of the worker's log, for failure messages."""
        return _tail(self.log_path)

    def full_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def postgres_bin_dir() -> Path | None:
    """Return the folder of the newest installed PostgreSQL server programs, or None."""
    folders = [
        Path(path)
        for path in sorted(Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/")))
        if (Path(path) / "initdb").exists() and (Path(path) / "pg_ctl").exists()
    ]

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in folder.parent.name.split(".") if part.isdigit())

    return max(folders, key=version) if folders else None


class PostgresCluster:
    """A private PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1.

    The tests stop and start it at will, which they must never do to the machine's shared
    server. PostgreSQL refuses to run as root, so when the tests run as root the cluster's
    programs run as the ``postgres`` OS user, and the folder belongs to that user.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="zhixing-pg-"))
        self.data = self.folder / "data"
        self.log_path = self.folder / "server.log"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam(POSTGRES_OS_USER)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._as_user = ["runuser", "-u", POSTGRES_OS_USER, "--"]

    def _run(self, program: str, *arguments: str) -> None:
        command = [*self._as_user, str(self.bin_dir / program), *arguments]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise AssertionError(
                f"{program} failed ({result.returncode}): {result.stdout}{result.stderr}\n"
                f"{_tail(self.log_path)}"
            )

    def init(self) -> PostgresCluster:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
            # Durability is not under test; the cluster is thrown away afterwards.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        """Stop the server in fast mode: open transactions roll back, connections drop."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def migrate(database_url: str, log_path: Path) -> None:
    """Run ``zhixing migrate`` on ``database_url`` in a process of its own."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url}
    with log_path.open("ab") as log:
        result = subprocess.run(
            [sys.executable, "-m", "zhixing.cli", "migrate", "--noinput"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            check=False,
        )
    assert result.returncode == 0, _tail(log_path)


@contextlib.contextmanager
def default_database(**changes: Any) -> Iterator[None]:
    """Point Django's default connection at another database of the same engine for a while.

    ``changes`` replace keys of the connection's settings, such as ``NAME``, ``HOST`` and
    ``PORT``. The tests use it to work in a database that other processes can open too.
    """
    database = connections[DEFAULT_DB_ALIAS]
    saved = dict(database.settings_dict)
    memory_handle = None
    if isinstance(database, SQLiteWrapper) and database.is_in_memory_db():
        # Closing the in-memory test database would destroy it, so its handle is kept aside.
        memory_handle, database.connection = database.connection, None
    else:
        database.close()
    database.settings_dict.update(changes)
    try:
        yield
    finally:
        database.close()
        database.settings_dict.clear()
        database.settings_dict.update(saved)
        if memory_handle is not None:
            database.connection = memory_handle
