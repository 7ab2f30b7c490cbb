"""A running simulator process, test courts that sign requests, and a callback receiver."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agency_simulator import PROTOCOL
from agency_simulator.agencies import CHINA_TZ
from agency_simulator.identifiers import make_resident_id
from agency_simulator.signing import decode_signature, load_public_key, public_key_pem, sign

ROOT = Path(__file__).resolve().parents[2]
COURT = "粤0104"
OTHER_COURT = "粤0105"
STARTUP_TIMEOUT_S = 15


def person(sequence: int = 1, region: str = "440104") -> dict[str, Any]:
    return {
        "kind": "person",
        "name": "测试人",
        "document_type": "resident_id",
        "document_number": make_resident_id(region, "19850101", sequence),
    }


def item(category: str, subject: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    deadline = datetime.now(CHINA_TZ) + timedelta(days=1)
    return {
        "item_id": str(uuid.uuid4()),
        "action": "query",
        "category": category,
        "case_number": "(2026)粤0104执123号",
        "subject": subject or person(),
        "deadline": deadline.isoformat(timespec="seconds"),
        "document": None,
        **fields,
    }


def pdf_document(kind: str, ruling: str | None = None) -> dict[str, Any]:
    """Return a `document` with a small stand-in PDF and, with `ruling`, one attachment."""

    def pdf(name: str) -> dict[str, str]:
        data = f"%PDF-1.7\n% {name} {uuid.uuid4()}\n%%EOF\n".encode()
        return {
            "kind": name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "pdf_base64": base64.b64encode(data).decode("ascii"),
        }

    document: dict[str, Any] = pdf(kind)
    if ruling is not None:
        document["attachments"] = [pdf(ruling)]
    return document


def measure_item(
    action: str,
    category: str,
    subject: dict[str, Any],
    case_number: str = "(2026)粤0104执123号",
    **measure: Any,
) -> dict[str, Any]:
    """Return a measure item; `measure` sets fields of `measure`, the others are null."""
    fields = dict.fromkeys(("asset_type", "identifier", "amount", "start", "end", "reference"))
    fields.update(measure)
    ruling = f"ruling_{action}" if action in ("freeze", "deduct", "seize") else None
    return item(
        category,
        subject,
        action=action,
        case_number=case_number,
        document=pdf_document(f"assistance_notice_{action}", ruling),
        measure=fields,
    )


class Court:
    """A test court: signs and sends batches and polls, as the platform would."""

    def __init__(self, code: str, key: Ed25519PrivateKey, base_url: str) -> None:
        self.code = code
        self.key = key
        self.base_url = base_url
        self.client = httpx.Client(timeout=10, trust_env=False)

    def batch(
        self, agency: str, items: list[dict[str, Any]], callback_url: str | None = None
    ) -> dict[str, Any]:
        return {
            "protocol": PROTOCOL,
            "batch_id": str(uuid.uuid4()),
            "agency": agency,
            "court": {"code": self.code, "name": "广州市越秀区人民法院"},
            "sent_at": datetime.now(CHINA_TZ).isoformat(timespec="seconds"),
            "callback_url": callback_url,
            "items": items,
        }

    def send(
        self, agency: str, body: dict[str, Any] | bytes, timeout: float = 10
    ) -> httpx.Response:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), *sign(self.key, self.code, payload)]
        url = f"{self.base_url}/agencies/{agency}/v1/batches"
        return self.client.post(url, content=payload, headers=headers, timeout=timeout)

    def poll(self, agency: str, timeout: float = 10, **parameters: Any) -> httpx.Response:
        query = {"court": self.code, **parameters}
        url = f"{self.base_url}/agencies/{agency}/v1/answers?{urllib.parse.urlencode(query)}"
        return self.client.get(url, headers=sign(self.key, self.code, b""), timeout=timeout)

    def run(self, agency: str, items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Send `items` in one batch, expect all accepted, and return the last answer of each."""
        response = self.send(agency, self.batch(agency, items))
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == []
        item_ids = {entry["item_id"] for entry in items}
        answers = self.poll_until(agency, item_ids)
        return {answer["item_id"]: answer for answer in answers if answer["item_id"] in item_ids}

    def poll_until(self, agency: str, item_ids: set[str], after: str = "0") -> list[dict]:
        """Poll from `after` until every item has an answer; return all answers seen."""
        answers: list[dict[str, Any]] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            response = self.poll(agency, after=after)
            assert response.status_code == 200, response.text
            body = response.json()
            answers += body["answers"]
            after = body["next_cursor"]
            if item_ids <= {answer["item_id"] for answer in answers}:
                return answers
            time.sleep(0.05)
        raise AssertionError(f"no answers for {item_ids - {a['item_id'] for a in answers}}")


class Simulator:
    def __init__(self, url: str, folder: Path, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.folder = folder
        self.process = process
        self.client = httpx.Client(base_url=url, timeout=10, trust_env=False)

    def faults(self, agency: str, **changes: Any) -> dict[str, Any]:
        response = self.client.post(f"/admin/agencies/{agency}/faults", json=changes)
        assert response.status_code == 200, response.text
        return response.json()

    def measures(self, agency: str) -> dict[str, Any]:
        response = self.client.get("/admin/measures", params={"agency": agency})
        assert response.status_code == 200, response.text
        return response.json()

    def set_today(self, today: str | None) -> None:
        response = self.client.post("/admin/clock", json={"today": today})
        assert response.status_code == 200, response.text

    def counts(self, agency: str) -> dict[str, int]:
        agencies = self.client.get("/admin/agencies").json()["agencies"]
        return next(entry["counts"] for entry in agencies if entry["code"] == agency)

    def agency_key(self, agency: str) -> Ed25519PublicKey:
        path = self.folder / "agency-keys" / f"{agency}.pem"
        return load_public_key(path.read_bytes(), str(path))

    def verify(self, agency: str, response_body: bytes, headers: httpx.Headers) -> None:
        assert headers["x-zhixing-signer"] == agency
        signature = decode_signature(headers["x-zhixing-signature"])
        self.agency_key(agency).verify(signature, response_body)


def build_agencies(now: datetime) -> dict[str, Any]:
    """Agencies of the test process, with service hours and an outage around `now`."""
    closed_from = (now + timedelta(hours=1)).strftime("%H:%M")
    closed_to = (now + timedelta(hours=2)).strftime("%H:%M")
    outage = {
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(),
    }
    default = json.loads((ROOT / "agency_simulator" / "agencies.json").read_text("utf-8"))
    keep = {"police-gd", "bank-icbc", "bank-gzcb", "housing-gd", "amr-gd", "traffic-gd"}
    agencies = [agency for agency in default["agencies"] if agency["code"] in keep]
    for agency in agencies:
        agency.pop("delay_ms", None)
        agency.pop("service_hours", None)
    bank = {"kind": "bank", "categories": ["bank_account"], "account_prefix": "620001"}
    agencies += [
        {**bank, "code": "bank-faults", "name": "故障测试银行"},
        {
            **bank,
            "code": "bank-closed",
            "name": "休息银行",
            "service_hours": f"{closed_from}-{closed_to}",
        },
        {**bank, "code": "bank-outage", "name": "维护银行", "outage_windows": [outage]},
        {
            **bank,
            "code": "bank-limited",
            "name": "限流银行",
            "rate_limit": {"per_second": 0.5, "burst": 1},
        },
    ]
    return {"defaults": {"delay_ms": [0, 30], "rate_limit": None}, "agencies": agencies}


def wait_ready(process: subprocess.Popen[bytes], ready: Path) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready.exists():
            return str(json.loads(ready.read_text())["url"])
        if process.poll() is not None:
            raise RuntimeError(f"simulator exited with {process.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"simulator not ready after {STARTUP_TIMEOUT_S} s")


def start_simulator(folder: Path, *extra: str) -> Simulator:
    folder.mkdir(parents=True, exist_ok=True)
    ready = folder / "ready.json"
    command = [
        sys.executable,
        "-m",
        "agency_simulator",
        "--port",
        "0",
        "--db",
        str(folder / "simulator.sqlite3"),
        "--keys",
        str(folder / "court-keys"),
        "--export-keys",
        str(folder / "agency-keys"),
        "--ready-file",
        str(ready),
        "--callback-workers",
        "2",
        "--log-level",
        "warning",
        *extra,
    ]
    log = (folder / "simulator.log").open("ab")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, env=environment)
    try:
        url = wait_ready(process, ready)
    except RuntimeError:
        process.kill()
        print((folder / "simulator.log").read_text(errors="replace"))
        raise
    return Simulator(url, folder, process)


def stop_simulator(simulator: Simulator) -> None:
    simulator.process.send_signal(signal.SIGTERM)
    try:
        simulator.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        simulator.process.kill()
        simulator.process.wait()


@pytest.fixture(scope="session")
def court_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ed25519PrivateKey]:
    return {COURT: Ed25519PrivateKey.generate(), OTHER_COURT: Ed25519PrivateKey.generate()}


@pytest.fixture(scope="session")
def simulator(
    tmp_path_factory: pytest.TempPathFactory, court_keys: dict[str, Ed25519PrivateKey]
) -> Iterator[Simulator]:
    folder = tmp_path_factory.mktemp("simulator")
    (folder / "court-keys").mkdir()
    for code, key in court_keys.items():
        (folder / "court-keys" / f"{code}.pem").write_bytes(public_key_pem(key.public_key()))
    agencies = folder / "agencies.json"
    agencies.write_text(json.dumps(build_agencies(datetime.now(CHINA_TZ)), ensure_ascii=False))
    running = start_simulator(folder, "--agencies", str(agencies), "--seed", "7")
    yield running
    stop_simulator(running)


@pytest.fixture
def court(simulator: Simulator, court_keys: dict[str, Ed25519PrivateKey]) -> Court:
    return Court(COURT, court_keys[COURT], simulator.url)


@pytest.fixture
def other_court(simulator: Simulator, court_keys: dict[str, Ed25519PrivateKey]) -> Court:
    return Court(OTHER_COURT, court_keys[OTHER_COURT], simulator.url)


@pytest.fixture
def faulty_bank(simulator: Simulator) -> Iterator[str]:
    """The agency whose faults a test may change; they are reset afterwards."""
    yield "bank-faults"
    simulator.faults("bank-faults", reset=True)


class CallbackReceiver:
    """A local HTTP server on 127.0.0.1 that stores callback bodies.

    `failures` makes the first N requests fail with HTTP 500, to exercise the retries.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self.failures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append((body, dict(self.headers)))
                    fail = receiver.failures > 0
                    receiver.failures -= 1 if fail else 0
                self.send_response(500 if fail else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}" if fail else b'{"received": [], "unknown": []}')

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list[tuple[bytes, dict[str, str]]]:
        with self.lock:
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    yield receiver
    receiver.close()
