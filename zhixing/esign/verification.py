"""Verification of the signatures in a PDF document, with pyHanko.

A signature is valid when four things hold. The bytes it covers are unchanged (``intact``).
Its certificate chains to a trust anchor of the platform and is not revoked (``trusted``).
Its timestamp, if any, is trusted too. Nothing but later signatures and validation data was
added to the file after it (``modified_after`` is false).

Trust anchors are the platform's root CA and the roots imported with external certificates.
The revocation data is the platform's own CRL plus the revocations recorded for imported
certificates. Nothing is fetched from the network.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import logging
from dataclasses import asdict, dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from zhixing.esign import pki, services
from zhixing.esign.models import Certificate

logger = logging.getLogger(__name__)

# Modifications that may follow a signature without changing what it signed: another
# signature (a new signature field and its appearance) and validation data.
ALLOWED_LATER_CHANGES = (
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
)

# A PDF's header may follow up to 1024 bytes of other data (ISO 32000-2, 7.5.2, implementation
# note); readers accept that.
HEADER_WINDOW = 1024


class InvalidDocument(ValueError):
    """Raised when the input is not a readable PDF file."""


@dataclass
class SignatureReport:
    """The verdict on one signature of a document; ``valid`` sums up the other fields."""

    field: str
    signer: str
    court: str
    court_code: str
    signed_at: str | None
    intact: bool
    trusted: bool
    revoked: bool
    modified_after: bool
    timestamped: bool
    timestamp_trusted: bool | None
    valid: bool
    reason: str
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def signed_moment(self) -> datetime.datetime | None:
        """The time of ``signed_at`` as an aware datetime, which pages show in local time."""
        if self.signed_at is None:
            return None
        return datetime.datetime.fromisoformat(self.signed_at)


@dataclass
class VerificationReport:
    """The verdict on a whole document: valid only if it has signatures and all are valid."""

    valid: bool
    signatures: list[SignatureReport]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _asn1(row: Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(pki.from_pem(row.certificate_pem).public_bytes(Encoding.DER))


def _validation_context(crl: bytes) -> ValidationContext:
    return ValidationContext(
        trust_roots=[_asn1(row) for row in services.trust_anchors()],
        other_certs=[_asn1(row) for row in services.ca_certificates()],
        crls=[crl],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


def _open(data: bytes, name: str) -> PdfFileReader:
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise InvalidDocument(
            _(
                "%(name)s is not a PDF file: it does not start with the %%PDF- header. Upload "
                "the signed PDF document itself, not a scan, an image or an archive."
            )
            % {"name": name}
        )
    try:
        return PdfFileReader(io.BytesIO(data), strict=False)
    except (PdfError, ValueError, KeyError, IndexError) as error:
        raise InvalidDocument(
            _(
                "%(name)s cannot be read as a PDF file (%(error)s); it may be truncated. Upload "
                "the complete file again."
            )
            % {"name": name, "error": error}
        ) from error


def _name_part(certificate: asn1_x509.Certificate, key: str) -> str:
    value = certificate.subject.native.get(key, "")
    return value if isinstance(value, str) else ""


def _signed_at(status: PdfSignatureStatus) -> str | None:
    """Return the trusted timestamp's time, or else the time the signer claims, in UTC."""
    if status.timestamp_validity is not None:
        moment = status.timestamp_validity.timestamp
    elif status.signer_reported_dt is not None:
        moment = status.signer_reported_dt
    else:
        return None
    return moment.astimezone(datetime.UTC).isoformat()


def _modified_after(status: PdfSignatureStatus) -> bool:
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return False
    if status.coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        return True
    return status.modification_level not in ALLOWED_LATER_CHANGES


def _report(embedded: EmbeddedPdfSignature, crl: bytes) -> SignatureReport:
    certificate = embedded.signer_cert
    fingerprint = certificate.sha256.hex()
    known = Certificate.objects.filter(fingerprint=fingerprint).select_related("court").first()
    court = known.court if known is not None else None
    problems: list[str] = []
    status = validate_pdf_signature(embedded, _validation_context(crl))
    revoked = status.revoked or (known is not None and known.revoked_at is not None)
    trusted = status.trusted and not revoked
    modified_after = _modified_after(status)
    timestamp = status.timestamp_validity
    timestamp_trusted = (
        None
        if timestamp is None
        else bool(timestamp.intact and timestamp.valid and timestamp.trusted)
    )
    if not status.intact:
        problems.append(_("The signed bytes were changed after signing."))
    elif not status.valid:
        problems.append(_("The signature value does not match the signer's certificate."))
    if revoked:
        problems.append(_("The signer's certificate is revoked."))
    elif not status.trusted:
        problems.append(_("The signer's certificate does not chain to a trusted root."))
    if modified_after:
        problems.append(_("The document was changed after this signature."))
    if timestamp_trusted is False:
        problems.append(_("The timestamp is not from a trusted time-stamping service."))
    signature_object = embedded.sig_object
    return SignatureReport(
        field=str(embedded.field_name),
        signer=_name_part(certificate, "common_name"),
        court=court.name if court is not None else _name_part(certificate, "organization_name"),
        court_code=(court.code or "") if court is not None else "",
        signed_at=_signed_at(status),
        intact=bool(status.intact),
        trusted=bool(trusted),
        revoked=bool(revoked),
        modified_after=modified_after,
        timestamped=timestamp is not None,
        timestamp_trusted=timestamp_trusted,
        valid=bool(status.bottom_line and trusted and not modified_after),
        reason=str(signature_object.get("/Reason", "")),
        problems=problems,
    )


def _broken_report(embedded: EmbeddedPdfSignature, error: Exception) -> SignatureReport:
    return SignatureReport(
        field=str(embedded.field_name),
        signer="",
        court="",
        court_code="",
        signed_at=None,
        intact=False,
        trusted=False,
        revoked=False,
        modified_after=True,
        timestamped=False,
        timestamp_trusted=None,
        valid=False,
        reason="",
        problems=[_("The signature cannot be read: %(error)s") % {"error": error}],
    )


def verify_pdf(data: bytes, *, name: str = "") -> VerificationReport:
    """Verify every signature in a PDF; raise :class:`InvalidDocument` if it is no PDF."""
    reader = _open(data, name or _("The file"))
    crl = services.current_crl()
    reports = []
    try:
        embedded_signatures = reader.embedded_regular_signatures
    except (PdfError, ValueError, KeyError) as error:
        raise InvalidDocument(
            _("%(name)s has a damaged signature form (%(error)s); it cannot be verified.")
            % {"name": name, "error": error}
        ) from error
    for embedded in embedded_signatures:
        try:
            reports.append(_report(embedded, crl))
        except (SignatureValidationError, PdfError, ValueError, KeyError) as error:
            logger.warning("Signature %s cannot be validated: %s", embedded.field_name, error)
            reports.append(_broken_report(embedded, error))
    valid = bool(reports) and all(report.valid for report in reports)
    return VerificationReport(valid=valid, signatures=reports)
