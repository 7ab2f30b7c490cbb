"""Test doubles of the gateway tests: an agency's signing key and a scripted agency."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from zhixing.linkage import gateway, keys
from zhixing.linkage.adapters.online import OnlineAdapter, dumps
from zhixing.linkage.models import Agency

NOW = datetime.datetime(2026, 12, 4, 2, 0, tzinfo=datetime.UTC)


# Private keys of the agencies that the tests made, by code, so a fake agency can sign.
_private_keys: dict[str, Ed25519PrivateKey] = {}


@dataclass
class AgencyKeys:
    """An agency in the registry and the private key that signs its answers."""

    agency: Agency
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _private_keys[self.agency.code] = self.private_key

    def sign(self, body: bytes) -> dict[str, str]:
        signature = base64.b64encode(self.private_key.sign(body)).decode("ascii")
        return {
            keys.SIGNER_HEADER: self.agency.code,
            keys.SIGNATURE_HEADER: keys.ED25519_PREFIX + signature,
        }

    def answers_body(self, answers: list[dict[str, Any]]) -> bytes:
        return dumps(
            {
                "protocol": gateway.PROTOCOL,
                "agency": self.agency.code,
                "sent_at": "2026-12-04T18:00:00+08:00",
                "answers": answers,
            }
        )


def signed_ack(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    """Sign an unsigned 2xx reply to a batch as the agency of the request's address would.

    Agencies sign their acknowledgements, so a scripted reply is signed unless it sets its own
    signature headers, as the tests of forged acknowledgements do.
    """
    parts = request.url.path.split("/")
    if (
        request.method != "POST"
        or parts[-1] != "batches"
        or not 200 <= response.status_code < 300
        or keys.SIGNATURE_HEADER in response.headers
    ):
        return response
    code = parts[parts.index("agencies") + 1] if "agencies" in parts else ""
    private_key = _private_keys.get(code)
    if private_key is None:
        return response
    body = response.read()
    signature = base64.b64encode(private_key.sign(body)).decode("ascii")
    return httpx.Response(
        response.status_code,
        content=body,
        headers={
            **response.headers,
            keys.SIGNER_HEADER: code,
            keys.SIGNATURE_HEADER: keys.ED25519_PREFIX + signature,
        },
    )


@dataclass
class FakeAgency:
    """An ``httpx.MockTransport`` handler that plays an agency with a scripted reply."""

    reply: Callable[[httpx.Request], httpx.Response] | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.reply is not None:
            response = self.reply(request)
        else:
            message = json.loads(request.content)
            accepted = [item["item_id"] for item in message["items"]]
            response = httpx.Response(
                202, json={"batch_id": message["batch_id"], "accepted": accepted, "rejected": []}
            )
        return signed_ack(request, response)

    def adapter(self) -> OnlineAdapter:
        return OnlineAdapter(transport=httpx.MockTransport(self))

    def batches(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]
