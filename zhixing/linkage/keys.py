"""Signatures of gateway messages: the courts' signatures and the check of the agencies'.

A signature covers the exact bytes of a message body. ``ZHIXING_GATEWAY_SIGNATURE`` chooses
how a court signs:

- ``certificate`` (the default): with the private key of the court's current seal certificate
  (:mod:`zhixing.esign`), stored encrypted or kept on the PKCS#11 token. ECDSA keys give
  ``ecdsa-sha256:`` (the DER signature), RSA keys ``rsa-sha256:`` (PKCS #1 v1.5), and the
  certificate travels with the message so that an agency that trusts the platform's root CA
  can check it.
- ``sm2``: SM2 with SM3 (GB/T 32918.2) with the court's SM2 key pair (:class:`CourtKey`),
  ``sm2-sm3:`` and r || s (64 bytes), user ID ``1234567812345678``.

Headers: ``X-Zhixing-Signer`` (the court code, percent-encoded as UTF-8, or the agency code),
``X-Zhixing-Signature`` (the algorithm, a colon and the standard base64 of the signature) and,
in certificate mode, ``X-Zhixing-Certificate`` (the base64 of the certificate in DER).

Agencies sign with the key in the registry (``Agency.public_key_pem``): an Ed25519, ECDSA or
RSA public key in PEM, with ``ed25519:``, ``ecdsa-sha256:`` or ``rsa-sha256:`` signatures, or an
SM2 key written ``sm2:04…`` with ``sm2-sm3:`` signatures.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import hashlib
import logging
import os
import threading
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from zhixing.courts.models import Court
from zhixing.esign import pki, services
from zhixing.esign.models import Certificate
from zhixing.linkage import sm2
from zhixing.linkage.models import Agency, CourtKey

logger = logging.getLogger(__name__)

SIGNER_HEADER = "X-Zhixing-Signer"
SIGNATURE_HEADER = "X-Zhixing-Signature"
CERTIFICATE_HEADER = "X-Zhixing-Certificate"
ED25519_PREFIX = "ed25519:"
ECDSA_PREFIX = "ecdsa-sha256:"
RSA_PREFIX = "rsa-sha256:"
SM2_PREFIX = "sm2-sm3:"
# An agency's SM2 public key in the registry: this prefix, then 04 + x + y in hexadecimal.
SM2_KEY_PREFIX = "sm2:"
# The signature field of a batch file's S line carries the certificate after this character.
CERTIFICATE_SEPARATOR = ";"
PASSPHRASE_ENV = "ZHIXING_KEY_PASSPHRASE"  # noqa: S105 - a variable name, no secret

MODE_CERTIFICATE = "certificate"
MODE_SM2 = "sm2"
MODES = (MODE_CERTIFICATE, MODE_SM2)

# Files of `export_public_keys` for agencies: one SM2 public key per court, and the CA
# certificates that seal certificates chain to (PEM, root first).
SM2_KEY_SUFFIX = ".sm2"
TRUST_FILE_NAME = "platform-ca.crt"

# The stored form of an SM2 private key: this tag, then the base64 of the scrypt salt, the
# AES-GCM nonce and the ciphertext with its tag, separated by colons. scrypt with n = 2^15,
# r = 8, p = 1 takes about 0.15 s on the benchmark machine (2 cores) and 32 MiB of memory.
SM2_KEY_FORMAT = "scrypt-aes-256-gcm"
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1

PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey | bytes


@dataclass(frozen=True)
class Signature:
    """A court's signature of a body: the ``X-Zhixing-Signature`` value and the certificate."""

    value: str
    # The base64 of the signing certificate in DER; empty in SM2 mode.
    certificate: str = ""

    def file_field(self) -> str:
        """Return the signature field of a batch file's S line, with the certificate if any."""
        if not self.certificate:
            return self.value
        return self.value + CERTIFICATE_SEPARATOR + self.certificate


@dataclass(frozen=True)
class _SealKey:
    """The algorithm, certificate and key of a seal certificate, kept per process."""

    prefix: str
    certificate: str
    # None when the key stays on the PKCS#11 token.
    private_key: pki.SigningKey | None
    # The certificate's row, which the token's signer needs.
    row: Certificate


# Decrypting a private key runs a deliberately slow key derivation, so each process keeps the
# keys it has opened: seal keys by certificate fingerprint, SM2 keys by court and public key
# (a replaced key is opened again).
_seal_keys: dict[str, _SealKey] = {}
_sm2_private_keys: dict[tuple[int, str], int] = {}
_public_keys: dict[str, PublicKey] = {}
_cache_lock = threading.Lock()


class CourtKeyError(Exception):
    """Raised when a court cannot sign: no usable certificate, or a stored key is unreadable."""


def signature_mode() -> str:
    """Return the configured way courts sign, ``certificate`` or ``sm2``."""
    mode = str(getattr(settings, "GATEWAY_SIGNATURE", MODE_CERTIFICATE))
    if mode not in MODES:
        raise ImproperlyConfigured(
            f"ZHIXING_GATEWAY_SIGNATURE={mode!r} is invalid; use {' or '.join(MODES)}."
        )
    return mode


def _passphrase() -> bytes:
    configured = os.environ.get(PASSPHRASE_ENV, "")
    if configured:
        return configured.encode("utf-8")
    # Derived from the secret key, with a fixed label so the passphrase differs from the key.
    return hashlib.sha256(b"zhixing-court-keys:" + settings.SECRET_KEY.encode("utf-8")).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# Signing


def signer_value(court: Court) -> str:
    """Return the ``X-Zhixing-Signer`` header value of a court: its code, percent-encoded."""
    return quote(court.code or "", safe="")


def sign(court: Court, body: bytes) -> Signature:
    """Sign ``body`` for ``court`` in the configured mode; raise CourtKeyError if it cannot."""
    if signature_mode() == MODE_SM2:
        key = court_key(court)
        signature = sm2.sign(_sm2_private_key(key), sm2.decode_public_key(key.public_key), body)
        return Signature(SM2_PREFIX + _b64(signature))
    return _sign_with_seal(court, body)


def signed_headers(court: Court, body: bytes) -> dict[str, str]:
    """Return the signature headers of a message that ``court`` sends with ``body``."""
    signature = sign(court, body)
    headers = {SIGNER_HEADER: signer_value(court), SIGNATURE_HEADER: signature.value}
    if signature.certificate:
        headers[CERTIFICATE_HEADER] = signature.certificate
    return headers


def parse_signer(header: str) -> str:
    """Decode an ``X-Zhixing-Signer`` value into the court or agency code."""
    return unquote(header.strip(), encoding="utf-8", errors="strict")


def _sign_with_seal(court: Court, body: bytes) -> Signature:
    # The fingerprint of the current seal certificate, as services.current_seal_certificate
    # finds it. Reading only this column took half the time of loading the row (0.85 ms
    # against 1.8 ms on the benchmark machine), and the row is needed only on a cache miss.
    fingerprint = (
        Certificate.objects.filter(
            kind=Certificate.Kind.SEAL, court_id=court.pk, revoked_at__isnull=True
        )
        .order_by()
        .values_list("fingerprint", flat=True)
        .first()
    )
    with _cache_lock:
        seal = _seal_keys.get(fingerprint or "")
    if seal is None:
        try:
            row = services.seal_certificate_for_signing(court)
        except services.PkiNotReady as error:
            raise CourtKeyError(str(error)) from error
        seal = _seal_key(row)
    if seal.private_key is None:
        raw = _sign_on_token(seal.row, body)
    elif isinstance(seal.private_key, ec.EllipticCurvePrivateKey):
        raw = seal.private_key.sign(body, ec.ECDSA(hashes.SHA256()))
    else:
        raw = seal.private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return Signature(seal.prefix + _b64(raw), seal.certificate)


def _seal_key(row: Certificate) -> _SealKey:
    with _cache_lock:
        cached = _seal_keys.get(row.fingerprint)
    if cached is not None:
        return cached
    certificate = pki.from_pem(row.certificate_pem)
    public_key = certificate.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        prefix = ECDSA_PREFIX
    elif isinstance(public_key, rsa.RSAPublicKey):
        prefix = RSA_PREFIX
    else:
        raise CourtKeyError(
            f"The seal certificate {row.fingerprint} has a key that is neither ECDSA nor RSA; "
            "issue or import an ECDSA or RSA seal certificate."
        )
    private_key = None
    if not row.token_key_label:
        try:
            private_key = pki.decrypt_key(row.private_key_pem)
        except pki.KeyDecryptionError as error:
            raise CourtKeyError(f"Seal certificate {row.fingerprint}: {error}") from error
        if private_key.public_key() != public_key:
            raise CourtKeyError(
                f"The stored private key of seal certificate {row.fingerprint} does not belong "
                "to the certificate; import the certificate with its key again."
            )
    seal = _SealKey(
        prefix=prefix,
        certificate=_b64(certificate.public_bytes(serialization.Encoding.DER)),
        private_key=private_key,
        row=row,
    )
    with _cache_lock:
        _seal_keys[row.fingerprint] = seal
    return seal


def _sign_on_token(row: Certificate, body: bytes) -> bytes:
    """Sign ``body`` with SHA-256 on the PKCS#11 token through pyHanko's signer.

    pyHanko returns an ECDSA signature in DER, as ``cryptography`` does, and signs RSA keys with
    PKCS #1 v1.5. Each call opens and closes a token session.
    """
    # Imported here: pyHanko is large, and only courts with a token need it.
    from pkcs11 import PKCS11Error

    from zhixing.esign import signing, tokens

    try:
        with signing.signer_for(row) as signer:
            return _run(signer.async_sign_raw(body, "sha256"))
    except (tokens.TokenError, PKCS11Error) as error:
        raise CourtKeyError(
            f"Signing with the token key {row.token_key_label!r} failed: {error}"
        ) from error


def _run(coroutine: Coroutine[Any, Any, bytes]) -> bytes:
    """Run ``coroutine`` to its end, in a thread of its own if this thread has an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


# SM2 key pairs


def court_key(court: Court) -> CourtKey:
    """Return the court's SM2 key pair, generating and storing it on first use."""
    existing = CourtKey.objects.filter(court=court, algorithm=CourtKey.Algorithm.SM2).first()
    if existing is not None:
        return existing
    private_key = sm2.generate_private_key()
    public_key = sm2.encode_public_key(sm2.public_key_of(private_key))
    try:
        with transaction.atomic():
            key = CourtKey.objects.create(
                court=court,
                algorithm=CourtKey.Algorithm.SM2,
                public_key=public_key,
                private_key=_encrypt_sm2_private_key(private_key, public_key),
            )
    except IntegrityError:
        # Another worker created the court's key first; use that one.
        return CourtKey.objects.get(court=court, algorithm=CourtKey.Algorithm.SM2)
    logger.info("Generated the SM2 gateway key pair of court %s", court.pk)
    return key


def _derive_key(salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(_passphrase())


def _encrypt_sm2_private_key(private_key: int, public_key: str) -> str:
    """Return the stored form of an SM2 private key, bound to its public key's text."""
    salt = os.urandom(16)
    nonce = os.urandom(12)
    ciphertext = AESGCM(_derive_key(salt)).encrypt(
        nonce, private_key.to_bytes(32, "big"), public_key.encode("ascii")
    )
    return ":".join([SM2_KEY_FORMAT, _b64(salt), _b64(nonce), _b64(ciphertext)])


def _decrypt_sm2_private_key(key: CourtKey) -> int:
    unreadable = CourtKeyError(
        f"The SM2 private key of court {key.court_id} cannot be decrypted; check "
        f"{PASSPHRASE_ENV} or the secret key it was created with."
    )
    parts = key.private_key.split(":")
    if len(parts) != 4 or parts[0] != SM2_KEY_FORMAT:
        raise CourtKeyError(f"The SM2 private key of court {key.court_id} is not {SM2_KEY_FORMAT}.")
    try:
        salt, nonce, ciphertext = (base64.b64decode(part, validate=True) for part in parts[1:])
        plain = AESGCM(_derive_key(salt)).decrypt(nonce, ciphertext, key.public_key.encode("ascii"))
    except (binascii.Error, ValueError, InvalidTag) as error:
        raise unreadable from error
    private_key = int.from_bytes(plain, "big")
    try:
        matches = sm2.encode_public_key(sm2.public_key_of(private_key)) == key.public_key.strip()
    except sm2.SM2Error:
        matches = False
    if not matches:
        raise unreadable
    return private_key


def _sm2_private_key(key: CourtKey) -> int:
    cache_key = (key.court_id, key.public_key)
    with _cache_lock:
        cached = _sm2_private_keys.get(cache_key)
    if cached is not None:
        return cached
    private_key = _decrypt_sm2_private_key(key)
    with _cache_lock:
        _sm2_private_keys[cache_key] = private_key
    return private_key


# Verification


def _public_key(text: str) -> PublicKey | None:
    """Return the public key of a registry entry (PEM or ``sm2:04…``), or None if unusable."""
    with _cache_lock:
        cached = _public_keys.get(text)
    if cached is not None:
        return cached
    loaded: PublicKey
    try:
        if text.strip().startswith(SM2_KEY_PREFIX):
            loaded = sm2.decode_public_key(text.strip()[len(SM2_KEY_PREFIX) :])
        else:
            pem = serialization.load_pem_public_key(text.encode("ascii"))
            if not isinstance(pem, Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
                return None
            loaded = pem
    except (ValueError, UnicodeEncodeError):
        return None
    with _cache_lock:
        _public_keys[text] = loaded
    return loaded


def usable_public_key(text: str) -> bool:
    """Return whether ``text`` is an agency key the gateway verifies (PEM or ``sm2:04…``)."""
    return _public_key(text) is not None


def _prefix_of(public_key: PublicKey) -> str:
    if isinstance(public_key, bytes):
        return SM2_PREFIX
    if isinstance(public_key, Ed25519PublicKey):
        return ED25519_PREFIX
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return ECDSA_PREFIX
    return RSA_PREFIX


def verify_with_key(public_key: PublicKey, body: bytes, header: str) -> bool:
    """Return whether ``header`` is a valid signature of ``body`` under ``public_key``.

    The header's algorithm must be the one of the key: ``ed25519:``, ``ecdsa-sha256:``,
    ``rsa-sha256:`` or, for an SM2 key (x || y as bytes), ``sm2-sm3:``.
    """
    prefix = _prefix_of(public_key)
    if not header.startswith(prefix):
        return False
    try:
        signature = base64.b64decode(header[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return False
    if isinstance(public_key, bytes):
        return sm2.verify(public_key, body, signature)
    try:
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, body)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(public_key_text: str, body: bytes, header: str) -> bool:
    """Return whether ``header`` signs ``body`` under a public key in PEM or ``sm2:04…``."""
    if not public_key_text:
        return False
    public_key = _public_key(public_key_text)
    return public_key is not None and verify_with_key(public_key, body, header)


def verify_agency(agency: Agency, body: bytes, header: str) -> bool:
    """Return whether ``header`` is the agency's valid signature of ``body``."""
    return verify(agency.public_key_pem, body, header)


def split_file_field(field: str) -> tuple[str, str]:
    """Split the signature field of an S line into the signature value and the certificate."""
    value, _separator, certificate = field.partition(CERTIFICATE_SEPARATOR)
    return value, certificate


def verify_court(court: Court, body: bytes, header: str, certificate: str = "") -> bool:
    """Return whether ``header`` is the court's valid signature of ``body`` in the current mode.

    In certificate mode the signing certificate is ``certificate`` (base64 DER), the one after
    ``;`` in a batch file's signature field, or else the court's current seal certificate, and
    it must be a seal certificate of this court that the platform holds. The chain, validity
    and revocation checks are the agency's. In SM2 mode the key is the court's SM2 key pair.
    """
    value, attached = split_file_field(header)
    if signature_mode() == MODE_SM2:
        key = CourtKey.objects.filter(court=court, algorithm=CourtKey.Algorithm.SM2).first()
        return key is not None and verify(SM2_KEY_PREFIX + key.public_key, body, value)
    encoded = certificate or attached
    if encoded:
        try:
            der = base64.b64decode(encoded, validate=True)
            fingerprint = x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256()).hex()
        except (binascii.Error, ValueError):
            return False
        row = Certificate.objects.filter(
            fingerprint=fingerprint, court=court, kind=Certificate.Kind.SEAL
        ).first()
    else:
        row = services.current_seal_certificate(court)
    if row is None:
        return False
    public_key = pki.from_pem(row.certificate_pem).public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return False
    return verify_with_key(public_key, body, value)


# Export for agencies


def export_trust_certificates(path: Path) -> int:
    """Write the CA certificates that court certificates chain to, in PEM, to ``path``.

    These are the platform's root CA (created if missing), every other trust anchor and the
    CA certificates imported with external certificates. Returns how many were written.
    """
    root = services.ensure_root()
    rows = [root, *services.trust_anchors(), *services.ca_certificates()]
    seen: set[str] = set()
    pems = []
    for row in rows:
        if row.fingerprint not in seen:
            seen.add(row.fingerprint)
            pems.append(row.certificate_pem.strip() + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(pems), encoding="ascii")
    return len(pems)


def export_public_keys(folder: Path, courts: Iterable[Court] | None = None) -> list[Path]:
    """Write what agencies need to verify the courts' signatures to ``folder``.

    That is ``platform-ca.crt`` (:func:`export_trust_certificates`), for certificate mode,
    and in SM2 mode the SM2 public key of each of ``courts`` (default: every court with a
    code) as ``{code}.sm2`` (``04`` + x + y in hexadecimal), creating missing key pairs.
    Returns the files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    trust_file = folder / TRUST_FILE_NAME
    export_trust_certificates(trust_file)
    written = [trust_file]
    if signature_mode() != MODE_SM2:
        return written
    if courts is None:
        courts = Court.objects.exclude(code__isnull=True).exclude(code="").order_by("path")
    for court in courts:
        path = folder / f"{court.code}{SM2_KEY_SUFFIX}"
        path.write_text(court_key(court).public_key + "\n", encoding="ascii")
        written.append(path)
    return written
