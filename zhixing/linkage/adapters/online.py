"""The online adapter: the gateway protocol over HTTP with JSON bodies.

Batches go to ``POST {base_url}/v1/batches`` and answers are polled from
``GET {base_url}/v1/answers``. Timeouts, connection errors, 408, 425, 429 and 5xx replies are
transient failures; other 4xx replies are permanent, because the agency rejected the message
itself.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
from typing import Any

import httpx
import orjson

from zhixing.linkage import keys
from zhixing.linkage.adapters import PermanentFailure, SignedReply, TransientFailure
from zhixing.linkage.keys import SIGNATURE_HEADER, SIGNER_HEADER
from zhixing.linkage.models import Agency

logger = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({408, 425, 429})
# Longest Retry-After the gateway honours; a longer one is capped so that deadlines still run.
MAX_RETRY_AFTER_SECONDS = 3600.0


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        # NOTE: the HTTP-date form of Retry-After is not read; the gateway's backoff applies.
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _error_detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return f"{data.get('error', '')}: {data.get('detail', '')}"[:200]
    return str(data)[:200]


def _raise_for_status(agency: Agency, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = _error_detail(response)
    message = f"{agency.code} replied HTTP {status}: {detail}"
    if status in TRANSIENT_STATUSES or status >= 500:
        raise TransientFailure(message, status=status, retry_after=_retry_after(response))
    raise PermanentFailure(message, status=status)


class OnlineAdapter:
    """HTTP client of the agencies that implement the online protocol.

    One ``httpx.Client`` per agency keeps connections open between batches. Pass ``transport``
    to replace the network, as the tests do with ``httpx.MockTransport``.
    """

    def __init__(self, *, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport
        self._clients: dict[tuple[str, str, float], httpx.Client] = {}
        self._lock = threading.Lock()
        self._ssl_context: ssl.SSLContext | None = None

    def _client(self, agency: Agency) -> httpx.Client:
        if not agency.base_url:
            raise PermanentFailure(f"{agency.code} has no base URL; set it in the agency registry.")
        key = (agency.code, agency.base_url, agency.timeout_seconds)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                # Loading the CA certificates took about 30 ms per client on the benchmark
                # machine (2 cores), so the clients of all agencies share one context. It has
                # httpx's defaults without the environment, as the clients have.
                if self._ssl_context is None:
                    self._ssl_context = httpx.create_ssl_context(trust_env=False)
                client = httpx.Client(
                    base_url=agency.base_url.rstrip("/"),
                    timeout=httpx.Timeout(agency.timeout_seconds),
                    verify=self._ssl_context,
                    transport=self._transport,
                    # The gateway talks to agencies directly, never through a proxy from the
                    # environment.
                    trust_env=False,
                )
                self._clients[key] = client
        return client

    def close(self) -> None:
        """Close every open connection."""
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()

    def _request(self, agency: Agency, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client(agency).request(method, url, **kwargs)
        except httpx.TimeoutException as error:
            raise TransientFailure(
                f"{agency.code} timed out after {agency.timeout_seconds} s: {error}"
            ) from error
        except httpx.TransportError as error:
            raise TransientFailure(f"{agency.code} could not be reached: {error}") from error
        _raise_for_status(agency, response)
        return response

    @staticmethod
    def _verify_ack(agency: Agency, response: httpx.Response) -> None:
        """Raise a transient failure unless ``agency`` signed the acknowledgement's body.

        A forged acknowledgement would leave items waiting for replies that never come. The
        failure is transient because the agency returns its stored acknowledgement when the
        same batch id is sent again.
        """
        try:
            signer = keys.parse_signer(response.headers.get(SIGNER_HEADER, ""))
        except UnicodeDecodeError:
            signer = ""
        if signer != agency.code or not keys.verify_agency(
            agency, response.content, response.headers.get(SIGNATURE_HEADER, "")
        ):
            logger.warning(
                "Rejected the acknowledgement of agency %s: invalid signature", agency.code
            )
            raise TransientFailure(
                f"{agency.code} sent an acknowledgement whose signature does not verify with "
                "its key; check the agency's public key in the registry"
            )

    def send_batch(self, agency: Agency, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """POST a signed batch; return the verified acknowledgement (accepted and rejected ids)."""
        response = self._request(
            agency,
            "POST",
            "/v1/batches",
            content=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        self._verify_ack(agency, response)
        try:
            ack = response.json()
        except ValueError as error:
            raise TransientFailure(
                f"{agency.code} sent an acknowledgement that is not JSON"
            ) from error
        if (
            not isinstance(ack, dict)
            or not isinstance(ack.get("accepted", []), list)
            or not isinstance(ack.get("rejected", []), list)
        ):
            raise TransientFailure(
                f"{agency.code} sent an acknowledgement without accepted and rejected lists"
            )
        return ack

    def fetch_answers(
        self,
        agency: Agency,
        *,
        court_code: str,
        cursor: str,
        limit: int,
        headers: dict[str, str],
    ) -> SignedReply:
        """GET the answers after ``cursor``; return the body with the agency's signature."""
        params: dict[str, str | int] = {"court": court_code, "limit": limit}
        if cursor:
            params["after"] = cursor
        response = self._request(agency, "GET", "/v1/answers", params=params, headers=headers)
        return SignedReply(
            body=response.content,
            signer=response.headers.get(SIGNER_HEADER, ""),
            signature=response.headers.get(SIGNATURE_HEADER, ""),
        )


def dumps(data: Any) -> bytes:
    """Encode a message body as compact UTF-8 JSON, the bytes that get signed.

    orjson writes the same text as the standard library with these settings, several times
    faster. It refuses integers beyond 64 bits and keys that are not strings, which the
    standard library then encodes.
    """
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
