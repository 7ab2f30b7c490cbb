"""Court key pairs and the Ed25519 signatures of gateway messages.

A signature covers the exact bytes of a message body and travels in two headers:
``X-Zhixing-Signer`` (the court code, percent-encoded as UTF-8, or the agency code) and
``X-Zhixing-Signature`` (``ed25519:`` and the standard base64 of the signature).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
from pathlib import Path
from urllib.parse import quote, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import IntegrityError, transaction

from zhixing.courts.models import Court
from zhixing.linkage.models import Agency, CourtKey

logger = logging.getLogger(__name__)

SIGNER_HEADER = "X-Zhixing-Signer"
SIGNATURE_HEADER = "X-Zhixing-Signature"
SIGNATURE_PREFIX = "ed25519:"
PASSPHRASE_ENV = "ZHIXING_KEY_PASSPHRASE"  # noqa: S105 - a variable name, no secret

# Decrypting a private key runs a deliberately slow key derivation, so each process keeps the
# keys it has opened, by court id and public key (a replaced key is opened again).
_private_keys: dict[tuple[int, str], Ed25519PrivateKey] = {}
_public_keys: dict[str, Ed25519PublicKey] = {}
_cache_lock = threading.Lock()


class CourtKeyError(Exception):
    """Raised when a stored key cannot be read, e.g. after the passphrase changed."""


def _passphrase() -> bytes:
    configured = os.environ.get(PASSPHRASE_ENV, "")
    if configured:
        return configured.encode("utf-8")
    # Derived from the secret key, with a fixed label so the passphrase differs from the key.
    return hashlib.sha256(b"zhixing-court-keys:" + settings.SECRET_KEY.encode("utf-8")).digest()


def court_key(court: Court) -> CourtKey:
    """Return the court's key pair, generating and storing it on first use."""
    existing = CourtKey.objects.filter(court=court).first()
    if existing is not None:
        return existing
    private_key = Ed25519PrivateKey.generate()
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase()),
    ).decode("ascii")
    try:
        with transaction.atomic():
            key = CourtKey.objects.create(
                court=court, public_key_pem=public_pem, private_key_pem=private_pem
            )
    except IntegrityError:
        # Another worker created the court's key first; use that one.
        return CourtKey.objects.get(court=court)
    logger.info("Generated the gateway key pair of court %s", court.pk)
    return key


def _private_key(key: CourtKey) -> Ed25519PrivateKey:
    cache_key = (key.court_id, key.public_key_pem)
    with _cache_lock:
        cached = _private_keys.get(cache_key)
    if cached is not None:
        return cached
    try:
        loaded = serialization.load_pem_private_key(
            key.private_key_pem.encode("ascii"), password=_passphrase()
        )
    except (ValueError, TypeError) as error:
        raise CourtKeyError(
            f"The private key of court {key.court_id} cannot be decrypted; check "
            f"{PASSPHRASE_ENV} or the secret key it was created with."
        ) from error
    if not isinstance(loaded, Ed25519PrivateKey):
        raise CourtKeyError(f"The private key of court {key.court_id} is not an Ed25519 key.")
    with _cache_lock:
        _private_keys[cache_key] = loaded
    return loaded


def signer_value(court: Court) -> str:
    """Return the ``X-Zhixing-Signer`` header value of a court: its code, percent-encoded."""
    return quote(court.code or "", safe="")


def sign(court: Court, body: bytes) -> str:
    """Sign ``body`` with the court's private key; return the ``X-Zhixing-Signature`` value."""
    signature = _private_key(court_key(court)).sign(body)
    return SIGNATURE_PREFIX + base64.b64encode(signature).decode("ascii")


def signed_headers(court: Court, body: bytes) -> dict[str, str]:
    """Return both signature headers of a message that ``court`` sends with ``body``."""
    return {SIGNER_HEADER: signer_value(court), SIGNATURE_HEADER: sign(court, body)}


def parse_signer(header: str) -> str:
    """Decode an ``X-Zhixing-Signer`` value into the court or agency code."""
    return unquote(header.strip(), encoding="utf-8", errors="strict")


def _public_key(pem: str) -> Ed25519PublicKey | None:
    with _cache_lock:
        cached = _public_keys.get(pem)
    if cached is not None:
        return cached
    try:
        loaded = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    if not isinstance(loaded, Ed25519PublicKey):
        return None
    with _cache_lock:
        _public_keys[pem] = loaded
    return loaded


def verify(public_key_pem: str, body: bytes, header: str) -> bool:
    """Return whether ``header`` is a valid signature of ``body`` under the PEM public key."""
    if not public_key_pem or not header.startswith(SIGNATURE_PREFIX):
        return False
    public_key = _public_key(public_key_pem)
    if public_key is None:
        return False
    try:
        signature = base64.b64decode(header[len(SIGNATURE_PREFIX) :], validate=True)
        public_key.verify(signature, body)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def verify_agency(agency: Agency, body: bytes, header: str) -> bool:
    """Return whether ``header`` is the agency's valid signature of ``body``."""
    return verify(agency.public_key_pem, body, header)


def verify_court(court: Court, body: bytes, header: str) -> bool:
    """Return whether ``header`` is the court's valid signature of ``body``."""
    return verify(court_key(court).public_key_pem, body, header)


def export_public_keys(folder: Path) -> list[Path]:
    """Write each coded court's public key to ``folder/{code}.pem``, creating missing keys."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for court in Court.objects.exclude(code__isnull=True).exclude(code="").order_by("path"):
        path = folder / f"{court.code}.pem"
        path.write_text(court_key(court).public_key_pem, encoding="ascii")
        written.append(path)
    return written
