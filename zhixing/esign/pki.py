"""X.509 building blocks of the platform's PKI, with no database access.

Every key is ECDSA on the NIST P-256 curve, which pyHanko and poppler's ``pdfsig`` (through
NSS) both verify; Ed25519, which the gateway uses for messages, is not accepted in PDF
signatures by either. Private keys are kept as PKCS#8 PEM encrypted with :func:`passphrase`.
"""

from __future__ import annotations

import datetime
import hashlib
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

PASSPHRASE_ENV = "ZHIXING_KEY_PASSPHRASE"  # noqa: S105 - a variable name, no secret

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

ROOT_VALIDITY = datetime.timedelta(days=20 * 365)
SEAL_VALIDITY = datetime.timedelta(days=5 * 365)
OFFICER_VALIDITY = datetime.timedelta(days=2 * 365)
# Certificates start a little in the past so that a verifier whose clock is slightly behind
# does not reject a certificate issued a moment ago.
BACKDATE = datetime.timedelta(minutes=5)
CRL_VALIDITY = datetime.timedelta(days=7)

ROOT_COMMON_NAME = "Guangdong Courts Seal Root CA"
ORGANIZATION = "Zhixing enforcement platform"


class KeyDecryptionError(Exception):
    """Raised when a stored private key cannot be decrypted with the configured passphrase."""


def passphrase() -> bytes:
    """Return the passphrase that encrypts stored private keys.

    ``ZHIXING_KEY_PASSPHRASE`` sets it, as for the gateway's keys. Without it the passphrase is
    derived from the secret key, with a label of its own so that it differs from the gateway's.
    """
    configured = os.environ.get(PASSPHRASE_ENV, "")
    if configured:
        return configured.encode("utf-8")
    return hashlib.sha256(b"zhixing-esign-keys:" + settings.SECRET_KEY.encode("utf-8")).digest()


def generate_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def encrypt_key(key: SigningKey) -> str:
    """Return ``key`` as PKCS#8 PEM, encrypted with :func:`passphrase`."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase()),
    ).decode("ascii")


def decrypt_key(pem: str) -> SigningKey:
    """Load a private key stored by :func:`encrypt_key`."""
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=passphrase())
    except (ValueError, TypeError) as error:
        raise KeyDecryptionError(
            f"A stored private key cannot be decrypted; check {PASSPHRASE_ENV} or the secret "
            "key it was created with."
        ) from error
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyDecryptionError("A stored private key is neither ECDSA nor RSA.")
    return key


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def to_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def from_pem(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def root_name() -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Guangdong"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_COMMON_NAME),
        ]
    )


def court_name(court_name: str, court_code: str) -> x509.Name:
    """Return the subject of a court's seal: the court's name, with its code as the unit."""
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Guangdong"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, court_name),
    ]
    if court_code:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, court_code))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, court_name))
    return x509.Name(attributes)


def officer_name(full_name: str, username: str, court_name: str, court_code: str) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, court_name),
    ]
    if court_code:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, court_code))
    attributes += [
        x509.NameAttribute(NameOID.COMMON_NAME, full_name or username),
        x509.NameAttribute(NameOID.USER_ID, username),
    ]
    return x509.Name(attributes)


def build_root(key: SigningKey, *, now: datetime.datetime) -> x509.Certificate:
    """Return a self-signed root CA certificate that may sign certificates and CRLs only."""
    public_key = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(root_name())
        .issuer_name(root_name())
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )


def build_end_entity(
    *,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    issuer: x509.Certificate,
    issuer_key: SigningKey,
    now: datetime.datetime,
    validity: datetime.timedelta,
    crl_url: str,
) -> x509.Certificate:
    """Return a document-signing certificate issued by ``issuer``.

    The key usages are digitalSignature and nonRepudiation (contentCommitment), which pyHanko
    requires by default and NSS accepts for signatures. There is deliberately no extended key
    usage, because NSS rejects a signer whose extended key usage lacks emailProtection.
    """
    not_after = min(now + validity, issuer.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(crl_url)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


REASON_FLAGS = {
    "unspecified": x509.ReasonFlags.unspecified,
    "key_compromise": x509.ReasonFlags.key_compromise,
    "affiliation_changed": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessation_of_operation": x509.ReasonFlags.cessation_of_operation,
}


def build_crl(
    *,
    issuer: x509.Certificate,
    issuer_key: SigningKey,
    revoked: list[tuple[int, datetime.datetime, str]],
    now: datetime.datetime,
) -> x509.CertificateRevocationList:
    """Return a CRL of ``revoked`` (serial number, revocation time, reason name) by ``issuer``.

    The CRL number is the issue time in microseconds, so that it grows with every CRL without
    a stored counter.
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(int(now.timestamp() * 1_000_000)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    for serial, revoked_at, reason in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
        flag = REASON_FLAGS.get(reason, x509.ReasonFlags.unspecified)
        if flag is not x509.ReasonFlags.unspecified:
            # RFC 5280 says to leave the reason out rather than give "unspecified".
            entry = entry.add_extension(x509.CRLReason(flag), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer_key, hashes.SHA256())
