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


@dataclass
class AgencyKeys:
    """An agency in the registry and the private key that signs its answers."""

    agency: Agency
    private_key: Ed25519PrivateKey

    def sign(self, body: bytes) -> dict[str, str]:
        signature = base64.b64encode(self.private_key.sign(body)).decode("ascii")
        return {
            keys.SIGNER_HEADER: self.agency.code,
            keys.SIGNATURE_HEADER: keys.SIGNATURE_PREFIX + signature,
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


@dataclass
class FakeAgency:
    """An ``httpx.MockTransport`` handler that plays an agency with a scripted reply."""

    reply: Callable[[httpx.Request], httpx.Response] | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.reply is not None:
            return self.reply(request)
        message = json.loads(request.content)
        accepted = [item["item_id"] for item in message["items"]]
        return httpx.Response(
            202, json={"batch_id": message["batch_id"], "accepted": accepted, "rejected": []}
        )

    def adapter(self) -> OnlineAdapter:
        return OnlineAdapter(transport=httpx.MockTransport(self))

    def batches(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]
