"""The seal PKI: root and chain, encrypted keys, revocation and CRL, PKCS#12 import, commands."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from zhixing.esign import pki, services
from zhixing.esign.models import Certificate
from zhixing.esign.tests.helpers import issue_from, self_signed_ca


def _certificate(row: Certificate) -> x509.Certificate:
    return pki.from_pem(row.certificate_pem)


@pytest.mark.django_db
def test_seal_certificate_chains_to_root(courts):
    seal = services.issue_seal_certificate(courts["粤0104"])
    root = services.platform_root()
    assert root is not None
    certificate = _certificate(seal)
    certificate.verify_directly_issued_by(_certificate(root))
    assert certificate.issuer == _certificate(root).subject
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert names[0].value == "粤0104"
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == "http://127.0.0.1:8000/esign/crl.der"


@pytest.mark.django_db
def test_root_is_ca_for_certificates_and_crls(courts):
    root = _certificate(services.ensure_root())
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign


@pytest.mark.django_db
def test_private_keys_stored_encrypted(courts, monkeypatch):
    seal = services.issue_seal_certificate(courts["粤0104"])
    assert "BEGIN ENCRYPTED PRIVATE KEY" in seal.private_key_pem
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(seal.private_key_pem.encode(), password=None)
    key = pki.decrypt_key(seal.private_key_pem)
    assert key.public_key() == _certificate(seal).public_key()
    monkeypatch.setenv(pki.PASSPHRASE_ENV, "another passphrase")
    with pytest.raises(pki.KeyDecryptionError, match="ZHIXING_KEY_PASSPHRASE"):
        pki.decrypt_key(seal.private_key_pem)


@pytest.mark.django_db
def test_configured_passphrase_encrypts_keys(courts, monkeypatch):
    monkeypatch.setenv(pki.PASSPHRASE_ENV, "correct horse battery staple")
    seal = services.issue_seal_certificate(courts["粤0104"])
    key = serialization.load_pem_private_key(
        seal.private_key_pem.encode(), password=b"correct horse battery staple"
    )
    assert key.public_key() == _certificate(seal).public_key()


@pytest.mark.django_db
def test_init_is_idempotent(courts, make_user):
    make_user("head0104", "粤0104", "bureau_head")
    make_user("officer0104", "粤0104", "case_officer")
    root, issued = services.init_pki()
    assert issued == len(courts) + 1
    again, issued_again = services.init_pki()
    assert again.pk == root.pk
    assert issued_again == 0
    assert Certificate.objects.filter(kind="root").count() == 1
    assert Certificate.objects.filter(kind="seal").count() == len(courts)
    assert Certificate.objects.filter(kind="officer").count() == 1


@pytest.mark.django_db
def test_officer_certificate_needs_bureau_head(courts, make_user):
    officer = make_user("officer0104", "粤0104", "case_officer")
    with pytest.raises(ValidationError, match="not a bureau head"):
        services.issue_officer_certificate(officer)
    head = make_user("head0104", "粤0104", "bureau_head")
    row = services.issue_officer_certificate(head)
    subject = _certificate(row).subject
    assert subject.get_attributes_for_oid(x509.NameOID.USER_ID)[0].value == "head0104"
    assert row.court == courts["粤0104"]


@pytest.mark.django_db
def test_revoked_certificate_listed_in_crl(courts):
    old = services.issue_seal_certificate(courts["粤0104"])
    services.revoke(old, reason=Certificate.RevocationReason.KEY_COMPROMISE)
    new = services.issue_seal_certificate(courts["粤0104"])
    assert new.pk != old.pk
    crl = x509.load_der_x509_crl(services.current_crl())
    root = _certificate(services.platform_root())
    assert crl.is_signature_valid(root.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(int(old.serial_number, 16))
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(int(new.serial_number, 16)) is None
    assert crl.next_update_utc > datetime.datetime.now(datetime.UTC)


@pytest.mark.django_db
def test_replacing_supersedes_old_certificate(courts):
    old = services.issue_seal_certificate(courts["粤0104"])
    same = services.issue_seal_certificate(courts["粤0104"])
    assert same.pk == old.pk
    new = services.issue_seal_certificate(courts["粤0104"], replace=True)
    old.refresh_from_db()
    assert old.revocation_reason == "superseded"
    assert old.revoked_at is not None
    assert services.current_seal_certificate(courts["粤0104"]) == new


@pytest.mark.django_db
def test_root_cannot_be_revoked(courts):
    with pytest.raises(ValidationError, match="root CA cannot be revoked"):
        services.revoke(services.ensure_root())


@pytest.mark.django_db
def test_crl_endpoint_serves_der(client, courts):
    seal = services.issue_seal_certificate(courts["粤0104"])
    services.revoke(seal)
    response = client.get("/esign/crl.der")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.get_revoked_certificate_by_serial_number(int(seal.serial_number, 16)) is not None
    root = client.get("/esign/root.pem")
    assert root.status_code == 200
    assert b"BEGIN CERTIFICATE" in root.content


def _pkcs12(name: str, *, password: bytes = b"p12-secret", key=None):
    ca, ca_key = self_signed_ca("External Seal CA")
    certificate, key = issue_from(ca, ca_key, name, key=key)
    data = pkcs12.serialize_key_and_certificates(
        b"seal", key, certificate, [ca], serialization.BestAvailableEncryption(password)
    )
    return data, certificate, ca


@pytest.mark.django_db
def test_pkcs12_import_replaces_built_in(courts):
    built_in = services.issue_seal_certificate(courts["粤0104"])
    data, certificate, ca = _pkcs12("广州市越秀区人民法院")
    row = services.import_pkcs12(data, b"p12-secret", court=courts["粤0104"])
    assert row.source == "imported"
    assert row.fingerprint == certificate.fingerprint(hashes.SHA256()).hex()
    assert "BEGIN ENCRYPTED PRIVATE KEY" in row.private_key_pem
    assert services.current_seal_certificate(courts["粤0104"]) == row
    built_in.refresh_from_db()
    assert built_in.revocation_reason == "superseded"
    anchor = Certificate.objects.get(kind="ca")
    assert anchor.trust_anchor
    assert anchor.fingerprint == ca.fingerprint(hashes.SHA256()).hex()


@pytest.mark.django_db
def test_pkcs12_import_errors(courts):
    data, _, _ = _pkcs12("Court")
    with pytest.raises(ValidationError, match="password is wrong"):
        services.import_pkcs12(data, b"wrong", court=courts["粤0104"])
    with pytest.raises(ValidationError, match="cannot be read as PKCS#12"):
        services.import_pkcs12(b"not a p12 file", None, court=courts["粤0104"])
    services.import_pkcs12(data, b"p12-secret", court=courts["粤0104"])
    with pytest.raises(ValidationError, match="imported already"):
        services.import_pkcs12(data, b"p12-secret", court=courts["粤0105"])


@pytest.mark.django_db
def test_pkcs12_import_rejects_ed25519(courts):
    data, _, _ = _pkcs12("Court", key=ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(ValidationError, match="EdDSA key"):
        services.import_pkcs12(data, b"p12-secret", court=courts["粤0104"])


@pytest.mark.django_db
def test_pki_commands(courts, tmp_path, monkeypatch):
    out = StringIO()
    call_command("pki", "init", stdout=out)
    assert f"{len(courts)} certificate(s) issued" in out.getvalue()
    out = StringIO()
    call_command("pki", "init", stdout=out)
    assert "0 certificate(s) issued" in out.getvalue()

    target = tmp_path / "root.pem"
    call_command("pki", "export-root", str(target), stdout=StringIO())
    exported = x509.load_pem_x509_certificate(target.read_bytes())
    assert exported == _certificate(services.platform_root())

    seal = services.current_seal_certificate(courts["粤0105"])
    call_command("pki", "revoke", seal.fingerprint, "--reason", "superseded", stdout=StringIO())
    seal.refresh_from_db()
    assert seal.revoked_at is not None

    data, _, _ = _pkcs12("Court")
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(data)
    monkeypatch.setenv("ZHIXING_PKCS12_PASSWORD", "p12-secret")
    out = StringIO()
    call_command("pki", "import", str(p12), "--court", "粤0303", stdout=out)
    assert "Imported" in out.getvalue()
    monkeypatch.setenv("ZHIXING_PKCS12_PASSWORD", "wrong")
    with pytest.raises(CommandError, match="password is wrong"):
        call_command("pki", "import", str(p12), "--court", "粤0303", stdout=StringIO())
    with pytest.raises(CommandError, match="not found"):
        call_command("pki", "issue", "--court", "粤9999", stdout=StringIO())

    listing = StringIO()
    call_command("pki", "list", stdout=listing)
    assert seal.fingerprint in listing.getvalue()
