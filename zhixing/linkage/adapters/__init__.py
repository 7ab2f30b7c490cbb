"""How gateway messages reach an agency: the adapter interface and its outcomes.

The gateway builds and signs each message and hands its bytes to the agency's adapter. An
adapter raises :class:`TransientFailure` for failures that another attempt may cure (network
errors, timeouts, 5xx, 429, a garbled answer) and :class:`PermanentFailure` for those that it
cannot (the agency rejected the message as malformed or unsigned).

The manual adapter (:mod:`zhixing.linkage.adapters.manual`) accepts each batch at once and
fetches nothing, because staff print the requests and type the answers in.

The batch-file adapter (:mod:`zhixing.linkage.adapters.batchfile`) writes each batch as a
signed request file to the agency's outbox folder and polls nothing. The worker reads the
agency's result files from its inbox folder with :func:`~.batchfile.read_inbox` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from zhixing.linkage.models import Agency


class AdapterFailure(Exception):
    """Raised when a message could not be delivered or its reply could not be read."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientFailure(AdapterFailure):
    """Raised for a failure that another attempt may cure; ``retry_after`` is in seconds."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PermanentFailure(AdapterFailure):
    """Raised when the agency rejected the message itself; sending it again would not help."""


@dataclass(frozen=True)
class SignedReply:
    """A signed message body that an agency returned, with its signature headers."""

    body: bytes
    signer: str
    signature: str


class Adapter(Protocol):
    """Transport of gateway messages to one kind of agency connection."""

    def send_batch(self, agency: Agency, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """Deliver a signed batch and return the agency's acknowledgement."""
        ...

    def fetch_answers(
        self,
        agency: Agency,
        *,
        court_code: str,
        cursor: str,
        limit: int,
        headers: dict[str, str],
    ) -> SignedReply:
        """Fetch the answers after ``cursor`` for one court, as the agency signed them."""
        ...
