"""The ``Idempotency-Key`` request header: its syntax, limits and the request fingerprint.

The header follows the IETF draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header), which defines the value as a structured-field
string such as ``"8e03978e-40d5-43e8-bc93-6894a57f9324"``. Most clients send the key without
quotes, as Stripe's API documents it, so both forms are accepted and mean the same key.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from django.core.files import File
from django.utils.crypto import salted_hmac
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

HEADER = "Idempotency-Key"
# Set to "true" on a response that was stored by an earlier request with the same key.
REPLAYED_HEADER = "Idempotent-Replayed"
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_LENGTH = 255
# How long a key and its stored response are kept. A retry after that runs as a new request.
KEEP = datetime.timedelta(hours=24)
# Separates the fingerprint's key from other keys derived from SECRET_KEY.
FINGERPRINT_SALT = "zhixing.idempotency.fingerprint"
# How much of an invalid value an error message repeats.
SHOWN_LENGTH = 60

_PRINTABLE = re.compile(r"^[\x20-\x7e]+$")
# A structured-field string (RFC 8941, section 3.3.3): printable ASCII in double quotes, with
# a backslash only before a double quote or a backslash.
_QUOTED = re.compile(r'^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$')


class InvalidKey(ValueError):
    """An ``Idempotency-Key`` header value that is empty, too long or not printable ASCII."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _shown(value: str) -> str:
    """Return the start of ``value`` with control and non-ASCII characters escaped."""
    escaped = value.encode("unicode_escape").decode("ascii")
    if len(escaped) > SHOWN_LENGTH:
        return escaped[:SHOWN_LENGTH] + "…"
    return escaped


def parse_key(value: str) -> str:
    """Return the key of an ``Idempotency-Key`` header value, removing structured-field quotes.

    Raises :class:`InvalidKey` with a message that names the value and the limits.
    """
    if value.startswith('"'):
        quoted = _QUOTED.match(value)
        if quoted is None:
            raise InvalidKey(
                _(
                    "The Idempotency-Key “%(value)s” starts with a double quote but is not a "
                    "valid quoted string. End it with a double quote and put a backslash before "
                    "each quote or backslash inside, or send the key without quotes. A key has 1 "
                    "to %(max)s printable ASCII characters."
                )
                % {"value": _shown(value), "max": MAX_LENGTH}
            )
        key = re.sub(r"\\(.)", r"\1", quoted.group(1))
    else:
        key = value
        # The server joins repeated headers with commas, and no client sends one key that way.
        if "," in key:
            raise InvalidKey(
                _(
                    "The Idempotency-Key “%(value)s” contains a comma: the request has several "
                    "Idempotency-Key headers, or a key with a comma. Send one header with one "
                    "key of 1 to %(max)s printable ASCII characters, such as a UUID, or quote a "
                    "key that contains a comma."
                )
                % {"value": _shown(value), "max": MAX_LENGTH}
            )
    if not key:
        raise InvalidKey(
            _(
                "The Idempotency-Key header is empty. Send a key of 1 to %(max)s printable "
                "ASCII characters, such as a UUID, or leave the header out."
            )
            % {"max": MAX_LENGTH}
        )
    if not _PRINTABLE.match(key):
        raise InvalidKey(
            _(
                "The Idempotency-Key “%(value)s” contains a character that is not printable "
                "ASCII. Send a key of 1 to %(max)s printable ASCII characters, such as a UUID."
            )
            % {"value": _shown(key), "max": MAX_LENGTH}
        )
    if len(key) > MAX_LENGTH:
        raise InvalidKey(
            _(
                "The Idempotency-Key “%(value)s” has %(length)s characters, more than the "
                "maximum of %(max)s. Send a key of 1 to %(max)s printable ASCII characters, "
                "such as a UUID."
            )
            % {"value": _shown(key), "length": len(key), "max": MAX_LENGTH}
        )
    return key


def _file_digest(upload: File) -> dict[str, Any]:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    # The view reads the file after the fingerprint, from its start.
    upload.seek(0)
    return {"file": upload.name, "size": upload.size, "sha256": digest.hexdigest()}


def _canonical(value: Any) -> Any:
    if isinstance(value, MultiValueDict):
        return {str(name): [_canonical(item) for item in value.getlist(name)] for name in value}
    if isinstance(value, Mapping):
        return {str(name): _canonical(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, File):
        return _file_digest(value)
    return value


def request_fingerprint(method: str, path: str, data: Any) -> str:
    """Return a keyed digest of the method, the path with its query and the parsed request body.

    The body is compared as parsed (JSON, form fields, each uploaded file's name, size and
    digest), so a retry that orders JSON keys differently or uses a new multipart boundary is
    still the same request. A form body and a JSON body are never the same request, even with
    equal fields. The digest is an HMAC keyed by ``SECRET_KEY``: a plain hash would let anyone
    who reads the table test guesses of a body, such as the hidden digits of an ID number.
    """
    kind = "form" if isinstance(data, MultiValueDict) else "data"
    body = json.dumps(
        _canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    text = "\n".join([method.upper(), path, kind, body])
    return salted_hmac(FINGERPRINT_SALT, text, algorithm="sha256").hexdigest()
