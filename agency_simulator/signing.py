"""Ed25519 signatures of the gateway protocol, the court keyring and the agencies' key pairs."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import time
import urllib.parse
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

logger = logging.getLogger(__name__)

SIGNER_HEADER = "x-zhixing-signer"
SIGNATURE_HEADER = "x-zhixing-signature"
SIGNATURE_PREFIX = "ed25519:"

# Environment variable with more court key sources, separated by os.pathsep like PATH.
KEYS_ENV = "AGENCY_SIMULATOR_COURT_KEYS"

# An unknown signer makes the keyring read its sources again, at most this often (seconds),
# so courts added while the simulator runs are found without letting bad requests cost a scan
# each.
RESCAN_INTERVAL_S = 1.0


class SignatureError(Exception):
    """A message whose signer is unknown or whose signature does not verify."""


def sign(private_key: Ed25519PrivateKey, signer: str, body: bytes) -> list[tuple[str, str]]:
    """Return the two signature headers for `body` signed by `signer`."""
    signature = base64.b64encode(private_key.sign(body)).decode("ascii")
    return [
        ("X-Zhixing-Signer", urllib.parse.quote(signer, safe="")),
        ("X-Zhixing-Signature", SIGNATURE_PREFIX + signature),
    ]


def decode_signature(header: str) -> bytes:
    if not header.startswith(SIGNATURE_PREFIX):
        raise SignatureError(f"signature header must start with {SIGNATURE_PREFIX!r}")
    try:
        return base64.b64decode(header[len(SIGNATURE_PREFIX) :], validate=True)
    except binascii.Error:
        raise SignatureError("signature is not valid base64") from None


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("stored agency key is not an Ed25519 private key")
    return key


def load_public_key(pem: bytes, where: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{where}: not an Ed25519 public key")
    return key


class CourtKeyring:
    """Public keys of the courts, read from directories of PEM files and listing files.

    A directory contains one `<court code>.pem` per court, and the file name may also be the
    percent-encoded code (`%E7%B2%A40104.pem`). A listing file has lines `<court code> <path>`,
    with paths relative to the listing, and `#` comments.
    """

    def __init__(self, sources: list[Path]) -> None:
        self.sources = sources
        self.keys: dict[str, Ed25519PublicKey] = {}
        self.scanned_at = 0.0
        self.scan()

    @classmethod
    def from_arguments(cls, sources: list[Path]) -> CourtKeyring:
        extra = [Path(part) for part in os.environ.get(KEYS_ENV, "").split(os.pathsep) if part]
        return cls([*sources, *extra])

    def scan(self) -> None:
        keys: dict[str, Ed25519PublicKey] = {}
        for source in self.sources:
            if source.is_dir():
                for path in sorted(source.glob("*.pem")):
                    self._add(keys, urllib.parse.unquote(path.stem), path)
            elif source.is_file():
                self._read_listing(keys, source)
            else:
                logger.warning("court key source %s does not exist", source)
        self.keys = keys
        self.scanned_at = time.monotonic()

    def verify(self, signer_header: str | None, signature_header: str | None, body: bytes) -> str:
        """Return the court code that signed `body`, or raise SignatureError."""
        if not signer_header or not signature_header:
            raise SignatureError("missing X-Zhixing-Signer or X-Zhixing-Signature header")
        signer = urllib.parse.unquote(signer_header, errors="strict")
        key = self.keys.get(signer)
        if key is None and time.monotonic() - self.scanned_at >= RESCAN_INTERVAL_S:
            self.scan()
            key = self.keys.get(signer)
        if key is None:
            raise SignatureError(f"unknown signer {signer!r}")
        try:
            key.verify(decode_signature(signature_header), body)
        except InvalidSignature:
            raise SignatureError(f"signature of {signer!r} does not verify") from None
        return signer

    def _read_listing(self, keys: dict[str, Ed25519PublicKey], listing: Path) -> None:
        for number, line in enumerate(listing.read_text(encoding="utf-8").splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                logger.warning("%s:%d: expected '<court code> <path>'", listing, number)
                continue
            self._add(keys, parts[0], listing.parent / parts[1])

    @staticmethod
    def _add(keys: dict[str, Ed25519PublicKey], code: str, path: Path) -> None:
        try:
            keys[code] = load_public_key(path.read_bytes(), str(path))
        except (OSError, ValueError) as error:
            logger.warning("skipping court key %s: %s", path, error)
