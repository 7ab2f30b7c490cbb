"""``zhixing bench gateway`` on a few items: it runs the whole path and prints its keys.

The command starts the simulator and the gateway workers as processes, which cannot see the
test database, so this test runs the command in a process of its own on a fresh SQLite file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

KEYS = {
    "items",
    "batched_items_per_s",
    "unbatched_items_per_s",
    "gateway_p50_ms",
    "gateway_p95_ms",
    "raw_items_per_s",
    "fraction_of_raw",
}
ROOT = Path(__file__).resolve().parents[3]


def zhixing(environment: dict[str, str], *arguments: str) -> str:
    finished = subprocess.run(
        [sys.executable, "-m", "zhixing", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished.stdout


def test_gateway_bench_runs_a_few_items_and_cleans_up(tmp_path: Path) -> None:
    database = tmp_path / "bench.sqlite3"
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "ZHIXING_DATA_DIR": str(tmp_path / "data"),
        "ZHIXING_LOG_LEVEL": "WARNING",
    }
    environment.pop("ZHIXING_GATEWAY_CALLBACK_URL", None)
    zhixing(environment, "migrate", "-v", "0")
    zhixing(environment, "loadcourts")

    output = zhixing(
        environment, "bench", "gateway", "--items", "80", "--unbatched-items", "6", "--workers", "1"
    )

    lines = output.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) >= KEYS
    assert result["items"] == 80
    assert result["unbatched_items"] == 6
    assert result["failed"] == 0
    assert result["batched_items_per_s"] > 0
    assert result["raw_items_per_s"] > 0
    runs = result["raw_runs_items_per_s"]
    assert len(runs) == 3
    assert runs == sorted(runs, reverse=True)
    assert result["raw_items_per_s"] == runs[1]
    counts = zhixing(
        environment,
        "shell",
        "-v",
        "0",
        "-c",
        "from zhixing.linkage.models import Agency, GatewayItem;"
        "from zhixing.cases.models import EnforcementCase;"
        "print(Agency.objects.count(), GatewayItem.objects.count(),"
        " EnforcementCase.objects.count())",
    )
    assert counts.strip().splitlines()[-1].split() == ["0", "0", "0"]
