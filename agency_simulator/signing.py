"""Signatures of the gateway protocol: the check of the courts' and the agencies' own.

A court's `X-Zhixing-Signature` is `<algorithm>:<base64>` over the exact body, and the keyring
accepts three kinds:

- `ecdsa-sha256` and `rsa-sha256` (PKCS #1 v1.5), made with the court's seal certificate,
  which comes in `X-Zhixing-Certificate` (base64 DER) or, in a batch file's S line, after a
  `;` in the signature field. The certificate must chain to a CA certificate of the trust
  files (`--trust-root`) and be valid now. It must allow digitalSignature and name the
  signer's court code as its organizationalUnitName. It must carry no user ID, because an
  officer's personal certificate does. A CRL of its issuer from `--crl` must not list it.
  See `CertificateTrust`.
- `sm2-sm3`, SM2 with SM3 and the default user ID, with the court's key from a
  `<court code>.sm2` file (`04` + x + y in hexadecimal) of a key source.
- `ed25519`, with the court's key from a `<court code>.pem` file, the scheme from before the
  seal certificates. The platform no longer signs this way, and the simulator's own tests
  still do.

The agencies sign their answers with Ed25519.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from agency_simulator import sm2

logger = logging.getLogger(__name__)

SIGNER_HEADER = "x-zhixing-signer"
SIGNATURE_HEADER = "x-zhixing-signature"
CERTIFICATE_HEADER = "x-zhixing-certificate"
SIGNATURE_PREFIX = "ed25519:"
CERTIFICATE_ALGORITHMS = ("ecdsa-sha256", "rsa-sha256")
ALGORITHMS = (*CERTIFICATE_ALGORITHMS, "sm2-sm3", "ed25519")
# In a batch file's signature field, the certificate follows the signature after this.
CERTIFICATE_SEPARATOR = ";"

# Environment variable with more court key sources, separated by os.pathsep like PATH.
KEYS_ENV = "AGENCY_SIMULATOR_COURT_KEYS"

# Seconds between two scans of the key sources, which an unknown signer starts, and between
# two looks at whether a trust or CRL file changed. Courts added while the simulator runs are
# found, and bad requests still cost at most one scan per interval.
RESCAN_INTERVAL_S = 1.0

CertificateKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


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


def load_sm2_public_key(text: bytes, where: str) -> tuple[int, int]:
    try:
        return sm2.parse_public_key(text.decode("ascii"))
    except (UnicodeDecodeError, sm2.InvalidKey) as error:
        raise ValueError(f"{where}: not an SM2 public key: {error}") from None


def _is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _load_crl(data: bytes) -> x509.CertificateRevocationList:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


@dataclass(frozen=True)
class _Checked:
    """A certificate that passed every check, and until when the result holds."""

    court: str
    public_key: CertificateKey
    valid_from: datetime
    valid_until: datetime


class CertificateTrust:
    """The CA certificates and CRLs that court certificates are checked against.

    Each trust file contains PEM certificates. The self-signed ones are the trust anchors, and
    the others are intermediate CA certificates from which the chain of a court certificate
    is built, because the messages carry the court's certificate only. A CRL file is DER or PEM and
    applies to the certificates of the CA that issued it, and only if that CA's signature on
    it verifies; an expired CRL rejects the certificates of its CA until a current one
    replaces it. The files are read again when they change.
    """

    def __init__(self, trust_files: list[Path], crl_files: list[Path]) -> None:
        self.trust_files = trust_files
        self.crl_files = crl_files
        self.anchors: list[x509.Certificate] = []
        self.intermediates: list[x509.Certificate] = []
        self.crls: list[x509.CertificateRevocationList] = []
        self.checked: dict[bytes, _Checked] = {}
        self.versions: list[tuple[int, int] | None] = []
        self.looked_at = 0.0
        self.load()

    def _file_versions(self) -> list[tuple[int, int] | None]:
        versions: list[tuple[int, int] | None] = []
        for path in [*self.trust_files, *self.crl_files]:
            try:
                status = path.stat()
            except OSError:
                versions.append(None)
            else:
                versions.append((status.st_mtime_ns, status.st_size))
        return versions

    def load(self) -> None:
        self.versions = self._file_versions()
        self.looked_at = time.monotonic()
        anchors: list[x509.Certificate] = []
        intermediates: list[x509.Certificate] = []
        crls: list[x509.CertificateRevocationList] = []
        for path in self.trust_files:
            try:
                certificates = x509.load_pem_x509_certificates(path.read_bytes())
            except (OSError, ValueError) as error:
                logger.warning("skipping trust file %s: %s", path, error)
                continue
            for certificate in certificates:
                target = anchors if _is_self_signed(certificate) else intermediates
                target.append(certificate)
        for path in self.crl_files:
            try:
                crls.append(_load_crl(path.read_bytes()))
            except (OSError, ValueError) as error:
                logger.warning("skipping CRL file %s: %s", path, error)
        self.anchors, self.intermediates, self.crls = anchors, intermediates, crls
        self.checked = {}
        if self.trust_files:
            logger.info(
                "trusting %d root and %d intermediate CA certificate(s), %d CRL(s)",
                len(anchors),
                len(intermediates),
                len(crls),
            )

    def refresh(self) -> None:
        """Read the files again if one of them changed, looking once per RESCAN_INTERVAL_S."""
        if time.monotonic() - self.looked_at < RESCAN_INTERVAL_S:
            return
        self.looked_at = time.monotonic()
        if self._file_versions() != self.versions:
            self.load()

    def check(self, encoded: str, signer: str, now: datetime | None = None) -> CertificateKey:
        """Return the public key of the certificate `encoded` (base64 DER) of court `signer`.

        Raises SignatureError naming the check that failed.
        """
        now = now or datetime.now(UTC)
        self.refresh()
        try:
            der = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise SignatureError("the certificate is not base64 of a DER certificate") from None
        known = self.checked.get(der)
        if known is None or not known.valid_from <= now < known.valid_until:
            try:
                certificate = x509.load_der_x509_certificate(der)
            except ValueError:
                raise SignatureError("the certificate is not base64 of a DER certificate") from None
            known = self._check_new(certificate, now)
            self.checked[der] = known
        if known.court != signer:
            raise SignatureError(
                f"the certificate names court {known.court!r}, not the signer {signer!r}"
            )
        return known.public_key

    def _check_new(self, certificate: x509.Certificate, now: datetime) -> _Checked:
        if not self.anchors:
            raise SignatureError(
                "no trusted root certificate is configured (--trust-root), so certificate "
                "signatures cannot be checked"
            )
        start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        if now < start:
            raise SignatureError(f"the certificate is not valid before {start:%Y-%m-%d %H:%M} UTC")
        if now > end:
            raise SignatureError(f"the certificate expired on {end:%Y-%m-%d %H:%M} UTC")
        chain = self._chain(certificate, now)

        court = _seal_court_code(certificate)
        public_key = certificate.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise SignatureError("the certificate's key is neither ECDSA nor RSA")
        valid_until = min(link.not_valid_after_utc for link in chain)
        # A chain of one would be a trust anchor used as a seal certificate; no CRL covers it.
        if len(chain) > 1:
            revocation_valid_until = self._check_revocation(certificate, chain[1], now)
            if revocation_valid_until is not None:
                valid_until = min(valid_until, revocation_valid_until)
        return _Checked(
            court=court,
            public_key=public_key,
            valid_from=max(link.not_valid_before_utc for link in chain),
            valid_until=valid_until,
        )

    def _chain(self, certificate: x509.Certificate, now: datetime) -> list[x509.Certificate]:
        """Return the chain from `certificate` to a trust anchor, each link valid at `now`."""
        verifier = (
            PolicyBuilder()
            .store(Store(self.anchors))
            .time(now)
            # The CAs are held to the web PKI profile. Its leaf profile would require a subject
            # alternative name, which court seal certificates lack, so `_seal_court_code`
            # checks the leaf's key usage and subject instead.
            .extension_policies(
                ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=ExtensionPolicy.permit_all(),
            )
            .build_client_verifier()
        )
        try:
            return verifier.verify(certificate, self.intermediates).chain
        except VerificationError as error:
            raise SignatureError(
                f"the certificate does not chain to a trusted root certificate: {error}"
            ) from None

    def _check_revocation(
        self, certificate: x509.Certificate, issuer: x509.Certificate, now: datetime
    ) -> datetime | None:
        """Raise SignatureError if a CRL of the issuer revokes the certificate.

        Returns the time until which the CRLs that were used hold, or None without a CRL.
        """
        until: datetime | None = None
        for crl in self.crls:
            if crl.issuer != issuer.subject:
                continue
            issuer_key = issuer.public_key()
            if not isinstance(issuer_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
                raise SignatureError("the issuer's key is neither ECDSA nor RSA")
            if not crl.is_signature_valid(issuer_key):
                raise SignatureError(
                    f"the CRL of {issuer.subject.rfc4514_string()} does not verify with the "
                    "issuer's key; give the CRL that this CA published"
                )
            next_update = crl.next_update_utc
            if next_update is not None and next_update <= now:
                raise SignatureError(
                    f"the CRL of {issuer.subject.rfc4514_string()} expired on "
                    f"{next_update:%Y-%m-%d %H:%M} UTC; give a current one (--crl)"
                )
            revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
            if revoked is not None:
                revoked_at = revoked.revocation_date_utc
                raise SignatureError(
                    f"the certificate was revoked on {revoked_at:%Y-%m-%d %H:%M} UTC"
                )
            if next_update is not None:
                until = next_update if until is None else min(until, next_update)
        return until


def _seal_court_code(certificate: x509.Certificate) -> str:
    """Return the court code of a seal certificate after checking its key usage and subject.

    The code is the subject's only organizationalUnitName.
    """
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise SignatureError("the certificate has no key usage extension") from None
    if not usage.digital_signature:
        raise SignatureError("the certificate's key usage does not allow digitalSignature")
    if certificate.subject.get_attributes_for_oid(NameOID.USER_ID):
        raise SignatureError("the certificate is an officer's personal certificate, not a seal")
    units = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    if len(units) != 1:
        raise SignatureError(
            "the certificate does not name one court code as its organizationalUnitName"
        )
    return str(units[0].value)


def _verify_certificate_signature(
    public_key: CertificateKey, algorithm: str, signature: bytes, body: bytes
) -> None:
    try:
        if algorithm == "ecdsa-sha256" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
        elif algorithm == "rsa-sha256" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise SignatureError(f"an {algorithm} signature needs a certificate of that key type")
    except InvalidSignature:
        raise SignatureError("signature does not verify") from None


class CourtKeyring:
    """The courts' public keys and the CA certificates that court certificates chain to.

    Key sources are directories and listing files. A directory contains `<court code>.pem`
    (Ed25519) and `<court code>.sm2` (SM2) files, whose names may also be the percent-encoded
    code (`%E7%B2%A40104.sm2`). A listing file has lines `<court code> <path>`, with paths
    relative to the listing, and `#` comments; a path ending in `.sm2` is an SM2 key.
    """

    def __init__(
        self,
        sources: list[Path],
        trust_roots: list[Path] | None = None,
        crls: list[Path] | None = None,
    ) -> None:
        self.sources = sources
        # Court code to its keys by algorithm ("ed25519", "sm2-sm3").
        self.keys: dict[str, dict[str, Any]] = {}
        self.trust = CertificateTrust(trust_roots or [], crls or [])
        self.scanned_at = 0.0
        self.scan()

    @classmethod
    def from_arguments(
        cls,
        sources: list[Path],
        trust_roots: list[Path] | None = None,
        crls: list[Path] | None = None,
    ) -> CourtKeyring:
        extra = [Path(part) for part in os.environ.get(KEYS_ENV, "").split(os.pathsep) if part]
        return cls([*sources, *extra], trust_roots, crls)

    def scan(self) -> None:
        keys: dict[str, dict[str, Any]] = {}
        for source in self.sources:
            if source.is_dir():
                for path in sorted([*source.glob("*.pem"), *source.glob("*.sm2")]):
                    self._add(keys, urllib.parse.unquote(path.stem), path)
            elif source.is_file():
                self._read_listing(keys, source)
            else:
                logger.warning("court key source %s does not exist", source)
        self.keys = keys
        self.scanned_at = time.monotonic()

    def verify(
        self,
        signer_header: str | None,
        signature_header: str | None,
        body: bytes,
        certificate: str | None = None,
    ) -> str:
        """Return the court code that signed `body`, or raise SignatureError.

        `certificate` is the `X-Zhixing-Certificate` header; a signature field of a batch file
        carries the certificate after a `;` instead.
        """
        if not signer_header or not signature_header:
            raise SignatureError("missing X-Zhixing-Signer or X-Zhixing-Signature header")
        signer = urllib.parse.unquote(signer_header, errors="strict")
        value, _separator, attached = signature_header.partition(CERTIFICATE_SEPARATOR)
        algorithm, colon, encoded = value.partition(":")
        if not colon or algorithm not in ALGORITHMS:
            raise SignatureError(
                f"unsupported signature {value[:20]!r}; expected <algorithm>:<base64> with "
                f"one of {', '.join(ALGORITHMS)}"
            )
        try:
            signature = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise SignatureError("signature is not valid base64") from None
        if algorithm in CERTIFICATE_ALGORITHMS:
            encoded_certificate = certificate or attached
            if not encoded_certificate:
                raise SignatureError(f"an {algorithm} signature needs X-Zhixing-Certificate")
            try:
                public_key = self.trust.check(encoded_certificate, signer)
            except SignatureError as error:
                raise SignatureError(f"certificate of {signer!r}: {error}") from None
            _verify_certificate_signature(public_key, algorithm, signature, body)
            return signer
        key = self._key(signer, algorithm)
        if algorithm == "sm2-sm3":
            if not sm2.verify(key, body, signature):
                raise SignatureError(f"signature of {signer!r} does not verify")
            return signer
        try:
            key.verify(signature, body)
        except InvalidSignature:
            raise SignatureError(f"signature of {signer!r} does not verify") from None
        return signer

    def _key(self, signer: str, algorithm: str) -> Any:
        key = self.keys.get(signer, {}).get(algorithm)
        if key is None and time.monotonic() - self.scanned_at >= RESCAN_INTERVAL_S:
            self.scan()
            key = self.keys.get(signer, {}).get(algorithm)
        if key is None:
            if signer in self.keys:
                raise SignatureError(f"signer {signer!r} has no {algorithm} key")
            raise SignatureError(f"unknown signer {signer!r}")
        return key

    def _read_listing(self, keys: dict[str, dict[str, Any]], listing: Path) -> None:
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
    def _add(keys: dict[str, dict[str, Any]], code: str, path: Path) -> None:
        try:
            data = path.read_bytes()
            if path.suffix == ".sm2":
                keys.setdefault(code, {})["sm2-sm3"] = load_sm2_public_key(data, str(path))
            else:
                keys.setdefault(code, {})["ed25519"] = load_public_key(data, str(path))
        except (OSError, ValueError) as error:
            logger.warning("skipping court key %s: %s", path, error)
