"""Sealing PDF documents: PAdES signatures with a visible seal, made with pyHanko.

Every seal is an incremental update, so a document can carry several: a basic court seals
an application, its intermediate court seals the approval, and each earlier signature still
verifies, because the bytes it covers are unchanged.

The gateway signs its messages with the same seal certificates (``zhixing.linkage.keys``):
a plain ECDSA or RSA signature over the message body made with the certificate's key, stored
or on the token through :func:`signer_for`, with the certificate sent alongside. Seals on PDF
documents stay on the standard PAdES algorithms, ECDSA or RSA with SHA-256, so that they
verify in independent validators such as poppler's ``pdfsig``. SM2, which the gateway offers
as an alternative for messages, is never used for PDF seals.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from zhixing.courts.models import Court, Role, User
from zhixing.esign import conf, pki, services, stamp, tokens
from zhixing.esign.models import Certificate, SealRecord

logger = logging.getLogger(__name__)

# Staff who prepare and send their court's documents may apply its seal.
# TODO: the approvals app is to require an approved application before a seal is applied.
SEAL_ROLES = (Role.Code.BUREAU_HEAD, Role.Code.CASE_OFFICER, Role.Code.CLERK)

# Seconds to wait for the time-stamping service.
TSA_TIMEOUT = 10

Box = tuple[float, float, float, float]


class SealingError(Exception):
    """Raised when a document cannot be sealed, with a message that says why and what to do."""


def _asn1_certificate(certificate: Certificate) -> asn1_x509.Certificate:
    der = pki.from_pem(certificate.certificate_pem).public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)


def _chain(certificate: Certificate) -> list[asn1_x509.Certificate]:
    """Return the CA certificates above ``certificate`` that the platform knows, nearest first."""
    known = {row.subject: row for row in [*services.trust_anchors(), *services.ca_certificates()]}
    chain = []
    issuer = certificate.issuer
    seen = set()
    while issuer in known and issuer not in seen:
        seen.add(issuer)
        row = known[issuer]
        chain.append(_asn1_certificate(row))
        if row.issuer == row.subject:
            break
        issuer = row.issuer
    return chain


@contextmanager
def signer_for(certificate: Certificate) -> Iterator[signers.Signer]:
    """Yield a pyHanko signer for ``certificate``: its stored key, or its key on the token."""
    signing_cert = _asn1_certificate(certificate)
    chain = _chain(certificate)
    if certificate.token_key_label:
        from pyhanko.sign.pkcs11 import PKCS11Signer

        with tokens.open_session() as session:
            yield PKCS11Signer(
                session,
                key_label=certificate.token_key_label,
                signing_cert=signing_cert,
                ca_chain=chain,
                bulk_fetch=False,
                # Hash here and let the token sign the digest (CKM_ECDSA, CKM_RSA_PKCS): many
                # tokens, SoftHSM 2.6 among them, lack the combined CKM_ECDSA_SHA256.
                use_raw_mechanism=True,
            )
        return
    key = pki.decrypt_key(certificate.private_key_pem)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    yield signers.SimpleSigner(
        signing_cert=signing_cert,
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )


def _open(pdf_bytes: bytes) -> IncrementalPdfFileWriter:
    if not pdf_bytes.lstrip()[:5] == b"%PDF-":
        raise ValidationError(
            {"file": "The document is not a PDF file (it does not start with %PDF-)."}
        )
    try:
        return IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    except (PdfError, ValueError, KeyError) as error:
        raise ValidationError(
            {"file": f"The PDF file cannot be read ({error}); render or export it again."}
        ) from error


def _next_field_name(writer: IncrementalPdfFileWriter, prefix: str) -> str:
    taken = {name for name, _value, _ref in fields.enumerate_sig_fields(writer.prev)}
    number = len(taken) + 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def _page_size(writer: IncrementalPdfFileWriter, page: int) -> tuple[float, float]:
    page_ref, _resources = writer.prev.find_page_for_modification(page)
    node: Any = page_ref.get_object()
    while "/MediaBox" not in node and "/Parent" in node:
        node = node["/Parent"]
    x1, y1, x2, y2 = (float(value) for value in node["/MediaBox"])
    return x2 - x1, y2 - y1


def default_seal_box(writer: IncrementalPdfFileWriter, page: int) -> Box:
    """Return a box of 120 points square, 72 points (one inch) above the page's bottom right."""
    width, _height = _page_size(writer, page)
    size = 120.0
    margin = 72.0
    return (width - margin - size, margin, width - margin, margin + size)


def _timestamper() -> HTTPTimeStamper | None:
    url = conf.tsa_url()
    return HTTPTimeStamper(url, timeout=TSA_TIMEOUT) if url else None


def _sign(
    writer: IncrementalPdfFileWriter,
    certificate: Certificate,
    *,
    field_name: str,
    name: str,
    reason: str,
    location: str,
    page: int,
    box: Box | None,
    stamp_style: Any,
) -> bytes:
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        name=name,
        reason=reason or None,
        location=location or None,
    )
    field_box = None if box is None else tuple(round(value) for value in box)
    timestamper = _timestamper()
    with signer_for(certificate) as signer:
        pdf_signer = signers.PdfSigner(
            metadata,
            signer,
            timestamper=timestamper,
            stamp_style=stamp_style,
            new_field_spec=fields.SigFieldSpec(
                sig_field_name=field_name,
                on_page=page,
                box=field_box,  # type: ignore[arg-type]
            ),
        )
        try:
            output = pdf_signer.sign_pdf(writer)
        except Exception as error:
            # pyHanko raises its own errors and those of the TSA client and the token.
            logger.exception("Signing with certificate %s failed", certificate.fingerprint)
            raise SealingError(f"Signing the document failed: {error}") from error
    return bytes(output.getvalue())


def _check_may_seal(court: Court, user: User | None) -> None:
    if user is None:
        return
    if user.court_id != court.pk:
        raise PermissionDenied(f"{user.username} may apply only the seal of their own court.")
    if not user.has_role(*SEAL_ROLES):
        raise PermissionDenied(
            f"{user.username} may not apply the court's seal; it needs a bureau head, case "
            "officer or clerk."
        )


def seal_pdf(
    pdf_bytes: bytes,
    *,
    court: Court,
    user: User | None = None,
    box: Box | None = None,
    page: int = -1,
    reason: str = "",
) -> bytes:
    """Apply ``court``'s seal to a PDF and return the sealed PDF.

    The seal is a PAdES signature with the court's seal certificate, shown as the court's seal
    image in ``box`` (x1, y1, x2, y2 in PDF points from the page's lower left) on ``page``
    (negative counts from the end). Without a box it sits at the page's lower right. ``user``
    is the officer who applies it, checked and recorded. A timestamp from the configured
    RFC 3161 service is embedded when ``ZHIXING_TSA_URL`` is set.
    """
    _check_may_seal(court, user)
    writer = _open(pdf_bytes)
    try:
        certificate = services.seal_certificate_for_signing(court)
    except services.PkiNotReady as error:
        raise SealingError(str(error)) from error
    if box is None:
        box = default_seal_box(writer, page)
    field_name = _next_field_name(writer, "Seal")
    signed = _sign(
        writer,
        certificate,
        field_name=field_name,
        name=court.name,
        reason=reason,
        location=court.name,
        page=page,
        box=box,
        stamp_style=stamp.seal_style(court.name),
    )
    _record(court, user, certificate, field_name=field_name, signed=signed, reason=reason)
    return signed


def sign_as_officer(pdf_bytes: bytes, *, user: User, reason: str = "") -> bytes:
    """Add a bureau head's personal signature (not visible on the page) to a PDF.

    The officer needs a current signing certificate (``zhixing pki issue --user NAME``).
    """
    certificate = services.current_officer_certificate(user)
    if certificate is None:
        raise SealingError(
            f"{user.username} has no signing certificate; issue one with "
            f"`zhixing pki issue --user {user.username}`."
        )
    writer = _open(pdf_bytes)
    field_name = _next_field_name(writer, "Approval")
    signed = _sign(
        writer,
        certificate,
        field_name=field_name,
        name=user.full_name or user.username,
        reason=reason,
        location=user.court.name,
        page=0,
        box=None,
        stamp_style=None,
    )
    _record(user.court, user, certificate, field_name=field_name, signed=signed, reason=reason)
    return signed


@transaction.atomic
def _record(
    court: Court,
    user: User | None,
    certificate: Certificate,
    *,
    field_name: str,
    signed: bytes,
    reason: str,
) -> SealRecord:
    record = SealRecord.objects.create(
        court=court,
        user=user,
        certificate=certificate,
        field_name=field_name,
        reason=reason[:200],
        timestamped=bool(conf.tsa_url()),
        document_sha256=hashlib.sha256(signed).hexdigest(),
    )
    logger.info(
        "Court %s sealed a document with certificate %s (seal record %s)",
        court.pk,
        certificate.fingerprint,
        record.pk,
    )
    return record
