"""``zhixing demo`` as a real process: it starts the web server and the agency simulator and
stops both on SIGTERM, leaving no simulator behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Migrating, loading the courts and generating the demo cases take about 20 s on an idle
# 2-core machine; the limit leaves room for a loaded one.
STARTUP_SECONDS = 120.0
STOP_SECONDS = 20.0
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def status(url: str) -> int | None:
    """Return the HTTP status of GET ``url``, or None when nothing responds."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, urllib.error.URLError):
        return None


@pytest.fixture
def demo_database(tmp_path: Path) -> Iterator[str]:
    """A database of the demo's own: a fresh PostgreSQL database in the PostgreSQL pass, else
    a SQLite file in the temporary folder (never the test run's database)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'demo.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'zhixing'}_demo_process"
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_demo_stops_simulator_on_sigterm(tmp_path, demo_database):
    web_port, simulator_port = free_port(), free_port()
    while simulator_port == web_port:
        simulator_port = free_port()

    env = {
        **os.environ,
        "ZHIXING_DATA_DIR": str(tmp_path / "data"),
        "ZHIXING_MODE": "demo",
        "ZHIXING_LOG_LEVEL": "WARNING",
        "DATABASE_URL": demo_database,
    }

    log = tmp_path / "demo.log"
    web = f"http://127.0.0.1:{web_port}/login/"
    health = f"http://127.0.0.1:{simulator_port}/health"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "zhixing",
                "demo",
                "--port",
                str(web_port),
                "--simulator-port",
                str(simulator_port),
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not (status(web) == 200 and status(health) == 200):
                assert process.poll() is None, "demo exited early:\n" + log.read_text()
                assert time.monotonic() < deadline, "demo not up in time:\n" + log.read_text()
                time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            code = process.wait(STOP_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)

    text = log.read_text()
    assert code == 0, text
    assert f"Zhixing is running at http://127.0.0.1:{web_port}/" in text
    assert f" at http://127.0.0.1:{simulator_port}/" in text
    assert "yx_officer" in text
    assert "Demo stopped." in text
    # No orphan: the simulator stopped with the demo.
    assert status(health) is None
    assert status(web) is None
