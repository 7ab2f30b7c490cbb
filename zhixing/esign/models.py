"""Certificates of the platform's PKI and the record of every seal applied to a document."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhixing.audit.tracking import TrackedModel


class Certificate(TrackedModel, models.Model):
    """An X.509 certificate that the platform signs with or trusts.

    The provincial root CA issues one seal certificate (电子签章证书) per court and personal
    signing certificates for the bureau heads who approve applications. A certificate from an
    external CA can take the place of a built-in one: it arrives as PKCS#12 together with its
    CA chain, and the chain's self-signed root becomes a trust anchor. A certificate whose
    private key lives on a PKCS#11 token stores only the key's label on the token.

    Private keys are stored as PKCS#8 PEM, encrypted with the passphrase of
    :func:`zhixing.esign.pki.passphrase`. A certificate is current until it is revoked; a court
    or officer has at most one current certificate, and issuing or importing a new one revokes
    the old one with the reason "superseded".
    """

    class Kind(models.TextChoices):
        ROOT = "root", _("Platform root CA")
        SEAL = "seal", _("Court seal")
        OFFICER = "officer", _("Officer signing certificate")
        CA = "ca", _("External CA")

    class Source(models.TextChoices):
        PLATFORM = "platform", _("Issued by the platform's root CA")
        IMPORTED = "imported", _("Imported from PKCS#12")
        TOKEN = "token", _("Key on a PKCS#11 token")

    class RevocationReason(models.TextChoices):
        # Names of the RFC 5280 CRLReason values that an administrator may choose.
        UNSPECIFIED = "unspecified", _("Unspecified")
        KEY_COMPROMISE = "key_compromise", _("Key compromised")
        AFFILIATION_CHANGED = "affiliation_changed", _("Affiliation changed")
        SUPERSEDED = "superseded", _("Superseded")
        CESSATION_OF_OPERATION = "cessation_of_operation", _("Cessation of operation")

    audit_personal_fields = frozenset({"private_key_pem"})

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("court"),
        related_name="certificates",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    user = models.ForeignKey(
        "courts.User",
        verbose_name=_("officer"),
        related_name="certificates",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    subject = models.CharField(_("subject"), max_length=500)
    issuer = models.CharField(_("issuer"), max_length=500)
    serial_number = models.CharField(_("serial number"), max_length=64, help_text=_("Hexadecimal."))
    fingerprint = models.CharField(
        _("SHA-256 fingerprint"),
        max_length=64,
        unique=True,
        help_text=_("Hexadecimal, of the DER."),
    )
    certificate_pem = models.TextField(_("certificate (PEM)"))
    private_key_pem = models.TextField(_("encrypted private key (PEM)"), blank=True)
    token_key_label = models.CharField(
        _("key label on the PKCS#11 token"), max_length=100, blank=True
    )
    trust_anchor = models.BooleanField(_("trust anchor"), default=False)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revocation_reason = models.CharField(
        _("revocation reason"), max_length=32, choices=RevocationReason.choices, blank=True
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["kind", "court__path", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["court"],
                condition=Q(kind="seal", revoked_at__isnull=True),
                name="esign_one_current_seal_per_court",
                violation_error_message=_(
                    "This court already has a current seal certificate; revoke it first."
                ),
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(kind="officer", revoked_at__isnull=True),
                name="esign_one_current_certificate_per_officer",
                violation_error_message=_(
                    "This officer already has a current signing certificate; revoke it first."
                ),
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind="root", revoked_at__isnull=True),
                name="esign_one_platform_root",
                violation_error_message=_("The platform already has a root CA."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="seal") | Q(court__isnull=False),
                name="esign_seal_has_court",
                violation_error_message=_("A seal certificate needs a court."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="officer") | Q(user__isnull=False, court__isnull=False),
                name="esign_officer_certificate_has_user",
                violation_error_message=_("An officer signing certificate needs an officer."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def is_current(self) -> bool:
        return self.revoked_at is None


class SealRecord(models.Model):
    """One seal or officer signature that the platform applied to a PDF document.

    The document itself is not kept here; ``document_sha256`` identifies the signed output.
    """

    court = models.ForeignKey(
        "courts.Court", verbose_name=_("court"), related_name="+", on_delete=models.PROTECT
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        related_name="+",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    certificate = models.ForeignKey(
        Certificate, verbose_name=_("certificate"), related_name="seals", on_delete=models.PROTECT
    )
    field_name = models.CharField(_("signature field"), max_length=100)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    timestamped = models.BooleanField(_("with a trusted timestamp"), default=False)
    document_sha256 = models.CharField(_("SHA-256 of the signed document"), max_length=64)
    signed_at = models.DateTimeField(_("signed"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("seal record")
        verbose_name_plural = _("seal records")
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.field_name} ({self.court})"
