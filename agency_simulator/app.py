"""The simulator as a plain ASGI application: routing, the protocol endpoints and the admin API."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import ipaddress
import json
import logging
import math
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_simulator import exchange, measures, protocol, reasons, workers
from agency_simulator.agencies import CHINA_TZ, Agency, ConfigError, Faults, load_agencies
from agency_simulator.jsontext import compact_json
from agency_simulator.population import subject_key
from agency_simulator.signing import (
    CourtKeyring,
    SignatureError,
    load_private_key,
    private_key_pem,
    public_key_pem,
    sign,
)
from agency_simulator.store import Item, NewItem, Store

logger = logging.getLogger("agency_simulator")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_POLL_LIMIT = 500
MAX_POLL_LIMIT = 1000


@dataclasses.dataclass
class Settings:
    database: Path
    court_key_sources: list[Path]
    agencies_file: Path
    export_keys: Path | None = None
    callback_workers: int = 4
    # Fault fields (as accepted by the admin endpoint) that override the agencies file.
    fault_overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Ignore service hours and planned outage windows, for tests and benchmarks at any hour.
    always_open: bool = False
    ready_file: Path | None = None
    listen_url: str = ""
    seed: int | None = None
    # Folder of the batch-file exchange: DIR/<agency code>/outbox and inbox.
    exchange_dir: Path | None = None
    # CA certificates (PEM) that court certificates must chain to, and CRLs of those CAs.
    trust_roots: list[Path] = dataclasses.field(default_factory=list)
    crls: list[Path] = dataclasses.field(default_factory=list)


class Response(Exception):
    """A finished HTTP response, raised by handlers to stop early."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or []


def error(status: int, code: str, detail: str, headers: list[tuple[str, str]] | None = None):
    return Response(status, {"error": code, "detail": detail}, headers)


class TokenBucket:
    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> float:
        """Take a token; return 0 on success or the seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class Simulator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.agencies: dict[str, Agency] = load_agencies(
            settings.agencies_file, settings.fault_overrides
        )
        self.faults: dict[str, Faults] = {code: a.faults for code, a in self.agencies.items()}
        self.buckets: dict[str, TokenBucket] = {}
        self.keyring = CourtKeyring.from_arguments(
            settings.court_key_sources, settings.trust_roots, settings.crls
        )
        # Pseudo-random draws decide simulated faults and delays; they protect nothing.
        self.rng = random.Random(settings.seed)  # noqa: S311
        # A key no court trusts, for answers that must fail signature checks.
        self.wrong_key = Ed25519PrivateKey.generate()
        self.store: Store | None = None
        self.agency_keys: dict[str, Ed25519PrivateKey] = {}
        self.background = workers.Background(self)
        self.exchange = (
            exchange.Exchange(self, settings.exchange_dir) if settings.exchange_dir else None
        )
        # The date that measures are judged by, set through POST /admin/clock; None follows
        # the real date in China.
        self.fixed_today: date | None = None

    # Life cycle

    def start(self) -> None:
        self.store = Store(self.settings.database)
        for code in self.agencies:
            pem = self.store.agency_private_key(code)
            if pem is None:
                pem = private_key_pem(Ed25519PrivateKey.generate())
                self.store.save_agency_private_key(code, pem, protocol.now_text())
                pem = self.store.agency_private_key(code) or pem
            self.agency_keys[code] = load_private_key(pem)
        if self.settings.export_keys is not None:
            self.export_public_keys(self.settings.export_keys)
        self.background.start()
        if self.exchange is not None:
            self.exchange.start()
        logger.info(
            "agency simulator started: %d agencies, database %s, %d court keys",
            len(self.agencies),
            self.settings.database,
            len(self.keyring.keys),
        )
        if self.settings.ready_file is not None:
            ready = {"url": self.settings.listen_url, "agencies": len(self.agencies)}
            temporary = self.settings.ready_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(ready), encoding="utf-8")
            temporary.replace(self.settings.ready_file)

    async def stop(self) -> None:
        if self.exchange is not None:
            await self.exchange.stop()
        await self.background.stop()
        if self.store is not None:
            self.store.close()
        logger.info("agency simulator stopped")

    def export_public_keys(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for code, key in self.agency_keys.items():
            path = folder / f"{code}.pem"
            temporary = path.with_suffix(".pem.tmp")
            temporary.write_bytes(public_key_pem(key.public_key()))
            temporary.replace(path)

    def db(self) -> Store:
        assert self.store is not None, "the simulator is not started"
        return self.store

    def unavailable(self, agency: Agency, moment: datetime) -> tuple[str, float] | None:
        faults = self.faults[agency.code]
        if self.settings.always_open:
            return ("outage set through the admin endpoint", 30.0) if faults.outage else None
        return agency.unavailable_for(faults, moment)

    def paused_agencies(self) -> list[str]:
        moment = datetime.now(CHINA_TZ)
        return [code for code, agency in self.agencies.items() if self.unavailable(agency, moment)]

    def today(self) -> date:
        """Return the date by which measures start, expire and are renewed."""
        return self.fixed_today or datetime.now(CHINA_TZ).date()

    def chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    # ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        agency: Agency | None = None
        try:
            agency = self.route_agency(scope)
            await self.dispatch(scope, receive, send, agency)
        except Response as response:
            body = compact_json(response.body)
            headers = list(response.headers)
            if agency is not None:
                headers += sign(self.agency_keys[agency.code], agency.code, body)
            await send_response(send, response.status, body, headers)
        except Exception:
            logger.exception("request %s %s failed", scope["method"], scope["path"])
            body = b'{"error": "internal_error", "detail": "unexpected error in the simulator"}'
            await send_response(send, 500, body, [])

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.start()
                except (OSError, ConfigError, ValueError) as failure:
                    logger.error("agency simulator failed to start: %s", failure)
                    await send({"type": "lifespan.startup.failed", "message": str(failure)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def route_agency(self, scope: Scope) -> Agency | None:
        parts = scope["path"].strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "agencies":
            agency = self.agencies.get(parts[1])
            if agency is None:
                raise error(404, "unknown_agency", f"no agency with code {parts[1]!r}")
            return agency
        return None

    async def dispatch(self, scope: Scope, receive: Receive, send: Send, agency: Agency | None):
        method = scope["method"]
        parts = scope["path"].strip("/").split("/")
        if parts == ["health"]:
            require_method(method, "GET")
            raise Response(200, {"ok": True, "agencies": len(self.agencies)})
        if parts == [""]:
            # The demo prints this address. The reply names the service and each agency's path.
            require_method(method, "GET")
            raise Response(
                200,
                {
                    "service": "Zhixing agency simulator",
                    "protocol": "docs/protocol.md",
                    "health": "/health",
                    "agencies": [
                        {"code": code, "name": agency.name, "base_path": f"/agencies/{code}"}
                        for code, agency in sorted(self.agencies.items())
                    ],
                },
            )
        if agency is not None and parts[2:] == ["v1", "batches"]:
            require_method(method, "POST")
            await self.receive_batch(scope, receive, send, agency)
            return
        if agency is not None and parts[2:] == ["v1", "answers"]:
            require_method(method, "GET")
            await self.poll_answers(scope, receive, send, agency)
            return
        if parts[0] == "admin":
            require_loopback(scope)
            query = urllib.parse.parse_qs(scope["query_string"].decode("latin-1"))
            await self.admin(method, parts[1:], await read_body(receive), query)
        raise error(404, "not_found", f"no endpoint at {scope['path']}")

    # Court endpoints

    async def check_request(
        self, scope: Scope, receive: Receive, agency: Agency
    ) -> tuple[bytes, str]:
        """Apply the checks every agency request passes: availability, signature, rate."""
        unavailable = self.unavailable(agency, datetime.now(CHINA_TZ))
        if unavailable is not None:
            reason, seconds = unavailable
            raise error(503, "unavailable", reason, [("Retry-After", str(math.ceil(seconds)))])
        body = await read_body(receive)
        headers = dict(scope["headers"])
        try:
            signer = self.keyring.verify(
                _header(headers, b"x-zhixing-signer"),
                _header(headers, b"x-zhixing-signature"),
                body,
                _header(headers, b"x-zhixing-certificate"),
            )
        except (SignatureError, UnicodeDecodeError) as failure:
            logger.warning("rejected request to %s: %s", agency.code, failure)
            raise error(401, "invalid_signature", str(failure)) from None
        wait = self.take_token(agency)
        if wait:
            raise error(
                429,
                "rate_limited",
                f"more than {self.faults[agency.code].rate_limit} requests",
                [("Retry-After", str(max(1, math.ceil(wait))))],
            )
        return body, signer

    def take_token(self, agency: Agency) -> float:
        limit = self.faults[agency.code].rate_limit
        if limit is None:
            return 0.0
        bucket = self.buckets.get(agency.code)
        if bucket is None or (bucket.per_second, bucket.burst) != (limit.per_second, limit.burst):
            bucket = self.buckets[agency.code] = TokenBucket(limit.per_second, limit.burst)
        return bucket.take()

    async def inject_faults(self, agency: Agency) -> bool:
        """Raise a simulated 500, or return True when this request must hang."""
        faults = self.faults[agency.code]
        if self.chance(faults.error_rate):
            raise error(500, "internal_error", "simulated agency error")
        return self.chance(faults.timeout_rate)

    async def hang(self, agency: Agency) -> None:
        seconds = self.faults[agency.code].timeout_s
        logger.info("holding a response of %s for %.1f s (simulated timeout)", agency.code, seconds)
        await asyncio.sleep(seconds)

    async def receive_batch(self, scope: Scope, receive: Receive, send: Send, agency: Agency):
        body, signer = await self.check_request(scope, receive, agency)
        now = datetime.now(CHINA_TZ)
        try:
            batch = protocol.parse_batch(body, agency, signer, now)
        except protocol.InvalidRequest as failure:
            raise error(400, "invalid_request", str(failure)) from None
        hangs = await self.inject_faults(agency)
        stored = self.db().batch(agency.code, batch.batch_id)
        if stored is not None:
            court, acknowledgement = stored
            if court != signer:
                raise error(409, "conflict", f"batch_id {batch.batch_id} was sent by another court")
        else:
            acknowledgement = self.store_batch(agency, batch, body, now)
            self.background.wake_answers()
        if hangs:
            await self.hang(agency)
        raise Response(202, acknowledgement)

    def store_batch(
        self, agency: Agency, batch: protocol.BatchRequest, body: bytes, now: datetime
    ) -> dict[str, Any]:
        store = self.db()
        existing = store.items(item.item_id for item in batch.items if item.reason is None)
        statuses = store.last_status(existing)
        delay = self.faults[agency.code].delay
        accepted: list[str] = []
        rejected: list[dict[str, str]] = []
        new_items: list[NewItem] = []
        retried: list[tuple[str, float]] = []
        resent: list[str] = []
        for request in batch.items:
            reason = request.reason
            known = existing.get(request.item_id)
            if (
                reason is None
                and known is not None
                and (known.agency, known.court) != (agency.code, batch.court_code)
            ):
                reason = "item_id already used by another court or agency"
            if reason is not None:
                rejected.append(reasons.rejection(request.item_id, reason))
                continue
            accepted.append(request.item_id)
            due_at = time.time() + delay.sample_ms(self.rng) / 1000
            if known is None:
                new_items.append(new_item(request, due_at, batch.court_name))
            elif known.state == "answered" and statuses.get(request.item_id) == "error":
                retried.append((request.item_id, due_at))
            elif known.state == "answered":
                resent.append(request.item_id)
        acknowledgement = {"batch_id": batch.batch_id, "accepted": accepted, "rejected": rejected}
        store.save_batch(
            agency=agency.code,
            batch_id=batch.batch_id,
            court=batch.court_code,
            now=now.isoformat(timespec="seconds"),
            callback_url=batch.callback_url,
            body_sha256=hashlib.sha256(body).hexdigest(),
            acknowledgement=acknowledgement,
            new_items=new_items,
            retried=retried,
            resent_answers=resent,
        )
        self.background.remember(
            Item.stored(
                item,
                agency=agency.code,
                court=batch.court_code,
                batch_id=batch.batch_id,
                callback_url=batch.callback_url,
            )
            for item in new_items
        )
        if resent and batch.callback_url:
            self.background.wake_callbacks()
        logger.info(
            "batch %s from %s to %s: %d accepted, %d rejected",
            batch.batch_id,
            batch.court_code,
            agency.code,
            len(accepted),
            len(rejected),
        )
        return acknowledgement

    async def poll_answers(self, scope: Scope, receive: Receive, send: Send, agency: Agency):
        _, signer = await self.check_request(scope, receive, agency)
        query = urllib.parse.parse_qs(scope["query_string"].decode("latin-1"))
        court = _single(query, "court")
        if court is None:
            raise error(400, "invalid_request", "query parameter 'court' is missing")
        if court != signer:
            raise error(403, "forbidden", f"signer {signer!r} cannot poll answers of {court!r}")
        after_text = _single(query, "after")
        limit_text = _single(query, "limit") or str(DEFAULT_POLL_LIMIT)
        if after_text is not None and not after_text.isdigit():
            raise error(400, "invalid_request", f"after {after_text!r} is not a cursor")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_POLL_LIMIT:
            raise error(400, "invalid_request", f"limit must be 1 to {MAX_POLL_LIMIT}")
        hangs = await self.inject_faults(agency)
        store = self.db()
        if after_text is None:
            after = store.poll_position(agency.code, court)
        else:
            after = int(after_text)
            store.advance_poll_position(agency.code, court, after)
        stored = store.answer_texts_after(agency.code, court, after, int(limit_text))
        # The answers are spliced in as stored, which gives the bytes compact_json would give
        # for the whole page, without decoding and encoding each answer again.
        empty = compact_json(protocol.envelope(agency.code, [])).decode()
        head = empty.removesuffix("[]}")
        next_cursor = compact_json(str(stored[-1][0] if stored else after)).decode()
        answers = ",".join(text for _seq, text in stored)
        page = head + "[" + answers + '],"next_cursor":' + next_cursor + "}"
        if hangs:
            await self.hang(agency)
        payload, headers = self.answer_body(agency, page.encode())
        await send_response(send, 200, payload, headers)

    def answer_body(
        self, agency: Agency, body: dict[str, Any] | bytes
    ) -> tuple[bytes, list[tuple[str, str]]]:
        """Encode and sign an answer body (a message, or one already encoded), spoiling it as
        the agency's faults say."""
        faults = self.faults[agency.code]
        if self.chance(faults.garbage_rate):
            payload = protocol.garbage(
                json.loads(body) if isinstance(body, bytes) else body, self.rng
            )
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = compact_json(body)
        key = self.agency_keys[agency.code]
        if self.chance(faults.bad_signature_rate):
            key = self.wrong_key
        return payload, sign(key, agency.code, payload)

    # Admin endpoints, loopback only

    async def admin(
        self, method: str, path: list[str], body: bytes, query: dict[str, list[str]]
    ) -> None:
        if path == ["measures"]:
            require_method(method, "GET")
            code = _single(query, "agency")
            if code is not None and code not in self.agencies:
                raise error(404, "unknown_agency", f"no agency with code {code!r}")
            raise Response(200, measures.describe(self.db().connection, code, self.today()))
        if path == ["clock"]:
            if method == "POST":
                self.set_today(_json_object(body))
            else:
                require_method(method, "GET")
            raise Response(
                200, {"today": self.today().isoformat(), "fixed": self.fixed_today is not None}
            )
        if path == ["agencies"]:
            require_method(method, "GET")
            raise Response(
                200, {"agencies": [self.agency_state(a) for a in self.agencies.values()]}
            )
        if path == ["faults"]:
            require_method(method, "POST")
            changes = _json_object(body)
            self.change_faults(list(self.agencies.values()), changes)
            raise Response(200, {"agencies": len(self.agencies), "changed": sorted(changes)})
        if len(path) == 3 and path[0] == "agencies" and path[2] == "faults":
            agency = self.agencies.get(path[1])
            if agency is None:
                raise error(404, "unknown_agency", f"no agency with code {path[1]!r}")
            if method == "POST":
                self.change_faults([agency], _json_object(body))
            else:
                require_method(method, "GET")
            raise Response(200, self.faults[agency.code].to_json())
        raise error(404, "not_found", "no admin endpoint at /admin/" + "/".join(path))

    def set_today(self, body: dict[str, Any]) -> None:
        """Fix the date of measures to `today` (YYYY-MM-DD), or follow the real date with null."""
        if set(body) != {"today"}:
            raise error(400, "invalid_request", 'expected {"today": "YYYY-MM-DD"} or null')
        value = body["today"]
        fixed: date | None = None
        if value is not None:
            try:
                fixed = date.fromisoformat(value)
            except (TypeError, ValueError):
                raise error(
                    400, "invalid_request", f"today {value!r} is not a date YYYY-MM-DD"
                ) from None
        self.fixed_today = fixed
        logger.info("date of measures set to %s", self.today().isoformat())
        self.background.wake_answers()

    def change_faults(self, agencies: list[Agency], changes: dict[str, Any]) -> None:
        reset = changes.pop("reset", False)
        try:
            updated = {
                agency.code: (agency.faults if reset else self.faults[agency.code]).updated(changes)
                for agency in agencies
            }
        except ConfigError as failure:
            raise error(400, "invalid_request", str(failure)) from None
        self.faults.update(updated)
        logger.info("faults of %d agencies changed: %s", len(agencies), changes or "reset")
        self.background.wake_answers()
        self.background.wake_callbacks()

    def agency_state(self, agency: Agency) -> dict[str, Any]:
        return {
            **agency.describe(),
            "faults": self.faults[agency.code].to_json(),
            "available": self.unavailable(agency, datetime.now(CHINA_TZ)) is None,
            "counts": self.db().counts(agency.code),
        }


def new_item(request: protocol.ItemRequest, due_at: float, court_name: str) -> NewItem:
    raw = request.raw
    return NewItem(
        item_id=request.item_id,
        action=raw["action"],
        category=raw["category"],
        case_number=raw["case_number"],
        subject=raw["subject"],
        subject_key=subject_key(raw["subject"]),
        deadline=raw["deadline"],
        document=raw.get("document"),
        due_at=due_at,
        measure=raw.get("measure") if raw["action"] != "query" else None,
        court_name=court_name,
    )


def require_method(method: str, allowed: str) -> None:
    if method != allowed:
        raise error(405, "method_not_allowed", f"use {allowed}", [("Allow", allowed)])


def require_loopback(scope: Scope) -> None:
    client = scope.get("client")
    try:
        loopback = client is not None and ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise error(403, "forbidden", "the admin endpoints accept loopback clients only")


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise error(400, "invalid_request", "client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise error(413, "invalid_request", f"body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def send_response(
    send: Send, status: int, body: bytes, headers: list[tuple[str, str]]
) -> None:
    encoded = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": encoded})
    await send({"type": "http.response.body", "body": body})


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise error(400, "invalid_request", f"query parameter {name!r} given more than once")
    return values[0]


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as failure:
        raise error(400, "invalid_request", f"body is not valid JSON: {failure}") from None
    if not isinstance(value, dict):
        raise error(400, "invalid_request", "body must be a JSON object")
    return value
