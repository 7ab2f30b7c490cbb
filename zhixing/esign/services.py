"""Every change to the PKI: the root CA, issuing, importing and revoking certificates.

Each change is saved in one transaction; the audit trail records it through the model signals.
"""

from __future__ import annotations

import datetime
import logging

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhixing.courts.models import Court, Role, User
from zhixing.esign import conf, pki
from zhixing.esign.models import Certificate

logger = logging.getLogger(__name__)

Reason = Certificate.RevocationReason


class PkiNotReady(Exception):
    """Raised when a court has no seal certificate and none may be issued automatically."""


def _row(
    certificate: x509.Certificate,
    *,
    kind: str,
    source: str,
    court: Court | None = None,
    user: User | None = None,
    private_key_pem: str = "",
    token_key_label: str = "",
    trust_anchor: bool = False,
) -> Certificate:
    return Certificate.objects.create(
        kind=kind,
        source=source,
        court=court,
        user=user,
        subject=certificate.subject.rfc4514_string()[:500],
        issuer=certificate.issuer.rfc4514_string()[:500],
        serial_number=format(certificate.serial_number, "x"),
        fingerprint=pki.fingerprint(certificate),
        certificate_pem=pki.to_pem(certificate),
        private_key_pem=private_key_pem,
        token_key_label=token_key_label,
        trust_anchor=trust_anchor,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


# The root CA


def platform_root() -> Certificate | None:
    return Certificate.objects.filter(kind=Certificate.Kind.ROOT, revoked_at__isnull=True).first()


def ensure_root() -> Certificate:
    """Return the platform's root CA, creating it on first use; a second call changes nothing."""
    existing = platform_root()
    if existing is not None:
        return existing
    key = pki.generate_key()
    certificate = pki.build_root(key, now=timezone.now())
    try:
        with transaction.atomic():
            root = _row(
                certificate,
                kind=Certificate.Kind.ROOT,
                source=Certificate.Source.PLATFORM,
                private_key_pem=pki.encrypt_key(key),
                trust_anchor=True,
            )
    except IntegrityError:
        # Another process created the root first; use that one.
        return Certificate.objects.get(kind=Certificate.Kind.ROOT, revoked_at__isnull=True)
    logger.info("Created the platform root CA %s", root.fingerprint)
    return root


def _issue(
    root: Certificate,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    validity: datetime.timedelta,
) -> x509.Certificate:
    return pki.build_end_entity(
        subject=subject,
        public_key=public_key,
        issuer=pki.from_pem(root.certificate_pem),
        issuer_key=pki.decrypt_key(root.private_key_pem),
        now=timezone.now(),
        validity=validity,
        crl_url=conf.crl_url(),
    )


def _supersede(current: Certificate | None) -> None:
    if current is not None:
        revoke(current, reason=Reason.SUPERSEDED)


# Seal and officer certificates


def current_seal_certificate(court: Court) -> Certificate | None:
    return Certificate.objects.filter(
        kind=Certificate.Kind.SEAL, court=court, revoked_at__isnull=True
    ).first()


def issue_seal_certificate(court: Court, *, replace: bool = False) -> Certificate:
    """Issue the court's seal certificate from the root CA, creating the root if needed.

    A court that already has a current one keeps it, unless ``replace`` is set; then the old
    one is revoked as superseded.
    """
    root = ensure_root()
    with transaction.atomic():
        current = current_seal_certificate(court)
        if current is not None and not replace:
            return current
        _supersede(current)
        key = pki.generate_key()
        subject = pki.court_name(court.name, court.code or "")
        certificate = _issue(root, subject, key.public_key(), pki.SEAL_VALIDITY)
        row = _row(
            certificate,
            kind=Certificate.Kind.SEAL,
            source=Certificate.Source.PLATFORM,
            court=court,
            private_key_pem=pki.encrypt_key(key),
        )
    logger.info("Issued seal certificate %s for court %s", row.fingerprint, court.pk)
    return row


def seal_certificate_for_signing(court: Court) -> Certificate:
    """Return the court's current seal certificate, issuing one when configuration allows."""
    current = current_seal_certificate(court)
    if current is not None:
        return current
    if not conf.auto_issue():
        raise PkiNotReady(
            f"Court {court.code or court.pk} has no seal certificate; issue one with "
            f"`zhixing pki issue --court {court.code}` or import one with `zhixing pki import`."
        )
    try:
        return issue_seal_certificate(court)
    except IntegrityError:
        # A concurrent request issued it a moment ago.
        return Certificate.objects.get(
            kind=Certificate.Kind.SEAL, court=court, revoked_at__isnull=True
        )


def current_officer_certificate(user: User) -> Certificate | None:
    return Certificate.objects.filter(
        kind=Certificate.Kind.OFFICER, user=user, revoked_at__isnull=True
    ).first()


def _check_officer(user: User) -> None:
    if not user.has_role(Role.Code.BUREAU_HEAD):
        raise ValidationError(
            {
                "user": f"{user.username} is not a bureau head; only bureau heads, who approve "
                "applications, get a signing certificate."
            }
        )


def issue_officer_certificate(user: User, *, replace: bool = False) -> Certificate:
    """Issue a personal signing certificate to a bureau head, as for a court's seal."""
    _check_officer(user)
    root = ensure_root()
    with transaction.atomic():
        current = current_officer_certificate(user)
        if current is not None and not replace:
            return current
        _supersede(current)
        key = pki.generate_key()
        court = user.court
        subject = pki.officer_name(user.full_name, user.username, court.name, court.code or "")
        certificate = _issue(root, subject, key.public_key(), pki.OFFICER_VALIDITY)
        row = _row(
            certificate,
            kind=Certificate.Kind.OFFICER,
            source=Certificate.Source.PLATFORM,
            court=court,
            user=user,
            private_key_pem=pki.encrypt_key(key),
        )
    logger.info("Issued signing certificate %s for user %s", row.fingerprint, user.pk)
    return row


def init_pki(*, officers: bool = True) -> tuple[Certificate, int]:
    """Create the root CA and every missing seal (and bureau-head) certificate.

    Returns the root and how many certificates were issued; running it again issues none.
    """
    root = ensure_root()
    issued = 0
    for court in Court.objects.order_by("path"):
        if current_seal_certificate(court) is None:
            issue_seal_certificate(court)
            issued += 1
    if officers:
        heads = User.objects.filter(roles__code=Role.Code.BUREAU_HEAD, is_active=True)
        for user in heads.select_related("court").order_by("pk"):
            if current_officer_certificate(user) is None:
                issue_officer_certificate(user)
                issued += 1
    return root, issued


# Revocation


def revoke(certificate: Certificate, *, reason: str = Reason.UNSPECIFIED) -> Certificate:
    """Revoke a certificate; the CRL lists it from then on if the platform's root issued it."""
    if certificate.kind == Certificate.Kind.ROOT:
        raise ValidationError(
            {
                "certificate": "The root CA cannot be revoked here, because every certificate "
                "it issued would stop verifying; create a new PKI instead."
            }
        )
    if reason not in Reason.values:
        raise ValidationError(
            {
                "reason": f"{reason!r} is not a revocation reason; use one of "
                f"{', '.join(Reason.values)}."
            }
        )
    if certificate.revoked_at is not None:
        return certificate
    certificate.revoked_at = timezone.now()
    certificate.revocation_reason = reason
    certificate.save(update_fields=["revoked_at", "revocation_reason"])
    logger.info("Revoked certificate %s (%s)", certificate.fingerprint, reason)
    return certificate


def current_crl() -> bytes:
    """Return the root CA's CRL in DER, signed now with every certificate it issued and revoked."""
    root = ensure_root()
    revoked = Certificate.objects.filter(revoked_at__isnull=False, issuer=root.subject).exclude(
        pk=root.pk
    )
    entries = [
        (int(row.serial_number, 16), row.revoked_at, row.revocation_reason)
        for row in revoked
        if row.revoked_at is not None
    ]
    crl = pki.build_crl(
        issuer=pki.from_pem(root.certificate_pem),
        issuer_key=pki.decrypt_key(root.private_key_pem),
        revoked=entries,
        now=timezone.now(),
    )
    return crl.public_bytes(Encoding.DER)


# Certificates from an external CA


def _is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.subject != certificate.issuer:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def add_ca_certificate(certificate: x509.Certificate) -> Certificate:
    """Store a CA certificate of an external chain; a self-signed one becomes a trust anchor."""
    existing = Certificate.objects.filter(fingerprint=pki.fingerprint(certificate)).first()
    if existing is not None:
        return existing
    constraints = _extension(certificate, x509.BasicConstraints)
    if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
        raise ValidationError(
            {
                "certificate": f"{certificate.subject.rfc4514_string()} is not a CA certificate "
                "(its basic constraints do not allow issuing); give the CA's certificate."
            }
        )
    return _row(
        certificate,
        kind=Certificate.Kind.CA,
        source=Certificate.Source.IMPORTED,
        trust_anchor=_is_self_signed(certificate),
    )


def _extension(certificate: x509.Certificate, kind: type) -> object | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def check_signing_certificate(certificate: x509.Certificate, public_key: object) -> None:
    """Raise ``ValidationError`` unless ``certificate`` may sign PDF documents with its key."""
    if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        raise ValidationError(
            {
                "file": "The certificate has an EdDSA key, which PDF readers do not verify; "
                "request an ECDSA (P-256) or RSA certificate from the CA."
            }
        )
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise ValidationError(
            {
                "file": "The certificate's key is neither ECDSA nor RSA; request an ECDSA "
                "(P-256) or RSA certificate from the CA."
            }
        )
    if certificate.not_valid_after_utc <= timezone.now():
        raise ValidationError(
            {
                "file": f"The certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}; "
                "import a current one."
            }
        )
    usage = _extension(certificate, x509.KeyUsage)
    if isinstance(usage, x509.KeyUsage) and not usage.content_commitment:
        raise ValidationError(
            {
                "file": "The certificate's key usage lacks nonRepudiation (contentCommitment), "
                "which document signatures need; request a signing certificate from the CA."
            }
        )


def _owner_fields(court: Court, user: User | None) -> dict[str, object]:
    if user is None:
        return {"kind": Certificate.Kind.SEAL, "court": court}
    if user.court_id != court.pk:
        raise ValidationError(
            {"user": f"{user.username} does not work at {court.name}; give the officer's court."}
        )
    _check_officer(user)
    return {"kind": Certificate.Kind.OFFICER, "court": court, "user": user}


def import_pkcs12(
    data: bytes, password: bytes | None, *, court: Court, user: User | None = None
) -> Certificate:
    """Import a court's seal (or, with ``user``, an officer's) certificate and key from PKCS#12.

    The new certificate replaces the current one, which is revoked as superseded. The CA
    certificates in the file are stored too, and the self-signed one among them is trusted.
    """
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, password)
    except ValueError as error:
        raise ValidationError(
            {
                "file": "The file cannot be read as PKCS#12: the password is wrong or the file "
                "is not a .p12/.pfx; check both and try again."
            }
        ) from error
    if key is None or certificate is None:
        raise ValidationError(
            {
                "file": "The PKCS#12 file has no private key or no certificate; export both "
                "from the CA's tool."
            }
        )
    check_signing_certificate(certificate, certificate.public_key())
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValidationError({"file": "The private key is neither ECDSA nor RSA."})
    if key.public_key() != certificate.public_key():
        raise ValidationError(
            {"file": "The private key does not belong to the certificate in the same file."}
        )
    if Certificate.objects.filter(fingerprint=pki.fingerprint(certificate)).exists():
        raise ValidationError({"file": "This certificate was imported already."})
    owner = _owner_fields(court, user)
    with transaction.atomic():
        for ca in chain:
            add_ca_certificate(ca)
        if user is None:
            _supersede(current_seal_certificate(court))
        else:
            _supersede(current_officer_certificate(user))
        row = _row(
            certificate,
            source=Certificate.Source.IMPORTED,
            private_key_pem=pki.encrypt_key(key),
            **owner,  # type: ignore[arg-type]
        )
    logger.info("Imported certificate %s for court %s", row.fingerprint, court.pk)
    return row


def register_token_certificate(
    *,
    court: Court,
    key_label: str,
    certificate: x509.Certificate | None,
    public_key: object,
    user: User | None = None,
) -> Certificate:
    """Record a certificate whose private key stays on the PKCS#11 token under ``key_label``.

    Without a certificate from the token, the platform's root CA issues one for the token's
    public key.
    """
    owner = _owner_fields(court, user)
    with transaction.atomic():
        if certificate is None:
            if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
                raise ValidationError(
                    {"key_label": f"The key {key_label!r} on the token is neither ECDSA nor RSA."}
                )
            root = ensure_root()
            if user is None:
                subject = pki.court_name(court.name, court.code or "")
                validity = pki.SEAL_VALIDITY
            else:
                subject = pki.officer_name(
                    user.full_name, user.username, court.name, court.code or ""
                )
                validity = pki.OFFICER_VALIDITY
            certificate = _issue(root, subject, public_key, validity)
        check_signing_certificate(certificate, certificate.public_key())
        if user is None:
            _supersede(current_seal_certificate(court))
        else:
            _supersede(current_officer_certificate(user))
        row = _row(certificate, source=Certificate.Source.TOKEN, token_key_label=key_label, **owner)  # type: ignore[arg-type]
    logger.info("Registered token certificate %s for court %s", row.fingerprint, court.pk)
    return row


def trust_anchors() -> list[Certificate]:
    return list(Certificate.objects.filter(trust_anchor=True, revoked_at__isnull=True))


def ca_certificates() -> list[Certificate]:
    return list(Certificate.objects.filter(kind=Certificate.Kind.CA))
