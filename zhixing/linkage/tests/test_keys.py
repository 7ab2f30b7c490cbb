"""Court signatures in both modes, their headers, stored keys, and agency key checks."""

from __future__ import annotations

import base64
import datetime
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from agency_simulator import signing as simulator_signing
from agency_simulator import sm2 as simulator_sm2
from zhixing.esign import pki, services
from zhixing.esign.tests.helpers import self_signed_ca
from zhixing.esign.tests.test_token import _generate_key_on_token, softhsm_token  # noqa: F401
from zhixing.linkage import keys, sm2
from zhixing.linkage.models import CourtKey

ROOT = Path(__file__).resolve().parents[3]
BODY = '{"batch_id": "x", "court": "粤0104"}'.encode()


@pytest.fixture
def sm2_mode(settings):
    settings.GATEWAY_SIGNATURE = "sm2"


def certificate_der(encoded: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(encoded))


# Certificate mode


def test_certificate_signature_round_trip(courts):
    court = courts["粤0104"]

    signature = keys.sign(court, BODY)

    assert signature.value.startswith("ecdsa-sha256:")
    assert keys.verify_court(court, BODY, signature.value, signature.certificate)
    assert keys.verify_court(court, BODY, signature.value)


def test_certificate_is_court_seal(courts):
    court = courts["粤0104"]

    signature = keys.sign(court, BODY)

    seal = services.current_seal_certificate(court)
    assert seal is not None
    assert certificate_der(signature.certificate) == pki.from_pem(seal.certificate_pem)


def test_signed_headers_in_certificate_mode(courts):
    headers = keys.signed_headers(courts["粤0104"], BODY)

    assert headers[keys.SIGNER_HEADER] == "%E7%B2%A40104"
    assert headers[keys.SIGNATURE_HEADER].startswith("ecdsa-sha256:")
    assert (
        certificate_der(headers[keys.CERTIFICATE_HEADER])
        .subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0]
        .value
        == "粤0104"
    )


def test_ecdsa_signature_is_der_over_body(courts):
    signature = keys.sign(courts["粤0104"], BODY)
    public_key = certificate_der(signature.certificate).public_key()
    raw = base64.b64decode(signature.value.removeprefix(keys.ECDSA_PREFIX))

    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(raw, BODY, ec.ECDSA(hashes.SHA256()))


def test_verify_rejects_changed_body(courts):
    court = courts["粤0104"]
    signature = keys.sign(court, b'{"amount": "1.00"}')

    assert not keys.verify_court(court, b'{"amount": "9.00"}', signature.value)


def test_verify_rejects_other_court_certificate(courts):
    signature = keys.sign(courts["粤0105"], b"{}")

    assert not keys.verify_court(courts["粤0104"], b"{}", signature.value, signature.certificate)
    assert not keys.verify_court(courts["粤0104"], b"{}", signature.value)


@pytest.mark.parametrize(
    "header",
    ["", "ecdsa-sha256:", "ecdsa-sha256:not base64!", "ed25519:AAAA", "sm2-sm3:AAAA", "AAAA"],
)
def test_verify_rejects_malformed_header(courts, header):
    keys.sign(courts["粤0104"], b"{}")

    assert not keys.verify_court(courts["粤0104"], b"{}", header)


def test_verify_rejects_malformed_certificate(courts):
    signature = keys.sign(courts["粤0104"], b"{}")

    assert not keys.verify_court(courts["粤0104"], b"{}", signature.value, "not base64!")
    assert not keys.verify_court(courts["粤0104"], b"{}", signature.value, "AAAA")


def test_file_field_carries_certificate(courts):
    signature = keys.sign(courts["粤0104"], BODY)

    field = signature.file_field()

    assert "," not in field
    assert keys.split_file_field(field) == (signature.value, signature.certificate)
    assert keys.verify_court(courts["粤0104"], BODY, field)


def test_seal_key_decrypted_once(courts, monkeypatch):
    calls = []
    decrypt = pki.decrypt_key
    monkeypatch.setattr(pki, "decrypt_key", lambda pem: calls.append(pem) or decrypt(pem))
    court = courts["粤0104"]
    services.issue_seal_certificate(court)

    for body in (b"1", b"2", b"3"):
        assert keys.verify_court(court, body, keys.sign(court, body).value)

    # One decryption of the root key to issue the certificate, and one of the seal key.
    seal = services.current_seal_certificate(court)
    assert calls.count(seal.private_key_pem) == 1


def test_replaced_certificate_signs_from_then_on(courts):
    court = courts["粤0104"]
    first = keys.sign(court, BODY)

    services.issue_seal_certificate(court, replace=True)
    second = keys.sign(court, BODY)

    assert second.certificate != first.certificate
    assert keys.verify_court(court, BODY, second.value, second.certificate)
    # The superseded certificate is still the court's, so the helper accepts it.
    assert keys.verify_court(court, BODY, first.value, first.certificate)


def _rsa_pkcs12(court_code: str) -> bytes:
    ca_certificate, ca_key = self_signed_ca("External Test CA")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(pki.court_name("广州市越秀区人民法院", court_code))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
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
        .sign(ca_key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"seal",
        key,
        certificate,
        [ca_certificate],
        serialization.BestAvailableEncryption(b"secret"),
    )


def test_imported_rsa_certificate_signs_rsa_sha256(courts):
    court = courts["粤0104"]
    services.import_pkcs12(_rsa_pkcs12("粤0104"), b"secret", court=court)

    signature = keys.sign(court, BODY)

    assert signature.value.startswith("rsa-sha256:")
    assert keys.verify_court(court, BODY, signature.value, signature.certificate)
    public_key = certificate_der(signature.certificate).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    raw = base64.b64decode(signature.value.removeprefix(keys.RSA_PREFIX))
    public_key.verify(raw, BODY, padding.PKCS1v15(), hashes.SHA256())


def test_token_key_signs_messages(courts, softhsm_token):  # noqa: F811
    _generate_key_on_token("gateway-0104")
    call_command(
        "pki", "token", "--court", "粤0104", "--key-label", "gateway-0104", stdout=StringIO()
    )
    court = courts["粤0104"]

    signature = keys.sign(court, BODY)

    assert signature.value.startswith("ecdsa-sha256:")
    assert keys.verify_court(court, BODY, signature.value, signature.certificate)
    assert not keys.verify_court(court, BODY + b" ", signature.value, signature.certificate)


def test_missing_certificate_reported(courts, settings):
    settings.ESIGN_AUTO_ISSUE = False

    with pytest.raises(keys.CourtKeyError, match="zhixing pki issue --court 粤0104"):
        keys.sign(courts["粤0104"], BODY)


def test_unknown_mode_is_configuration_error(courts, settings):
    settings.GATEWAY_SIGNATURE = "ed25519"

    with pytest.raises(ImproperlyConfigured, match="'ed25519' is invalid; use certificate or sm2"):
        keys.sign(courts["粤0104"], BODY)


def test_unknown_mode_in_environment_stops_start():
    environment = {**os.environ, "ZHIXING_GATEWAY_SIGNATURE": "rsa", "PYTHONPATH": str(ROOT)}

    result = subprocess.run(
        [sys.executable, "-c", "import zhixing.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "ZHIXING_GATEWAY_SIGNATURE='rsa' is invalid; use certificate or sm2" in result.stderr


# SM2 mode


def test_sm2_signature_round_trip(courts, sm2_mode):
    court = courts["粤0104"]

    signature = keys.sign(court, BODY)

    assert signature.value.startswith("sm2-sm3:")
    assert signature.certificate == ""
    assert len(base64.b64decode(signature.value.removeprefix(keys.SM2_PREFIX))) == 64
    assert keys.verify_court(court, BODY, signature.value)


def test_sm2_signed_headers_have_no_certificate(courts, sm2_mode):
    headers = keys.signed_headers(courts["粤0104"], BODY)

    assert set(headers) == {keys.SIGNER_HEADER, keys.SIGNATURE_HEADER}


def test_sm2_verify_rejects_changed_body(courts, sm2_mode):
    signature = keys.sign(courts["粤0104"], b'{"amount": "1.00"}')

    assert not keys.verify_court(courts["粤0104"], b'{"amount": "9.00"}', signature.value)


def test_sm2_verify_rejects_other_court(courts, sm2_mode):
    signature = keys.sign(courts["粤0105"], b"{}")

    assert not keys.verify_court(courts["粤0104"], b"{}", signature.value)


def test_sm2_signature_verifies_in_simulator_module(courts, sm2_mode):
    court = courts["粤0104"]
    signature = keys.sign(court, BODY)
    point = simulator_sm2.parse_public_key(keys.court_key(court).public_key)

    raw = base64.b64decode(signature.value.removeprefix(keys.SM2_PREFIX))

    assert simulator_sm2.verify(point, BODY, raw)
    assert not simulator_sm2.verify(point, BODY + b" ", raw)


def test_mode_decides_verification(courts, settings):
    certificate_signature = keys.sign(courts["粤0104"], BODY)
    settings.GATEWAY_SIGNATURE = "sm2"
    sm2_signature = keys.sign(courts["粤0104"], BODY)

    assert not keys.verify_court(courts["粤0104"], BODY, certificate_signature.value)
    settings.GATEWAY_SIGNATURE = "certificate"
    assert not keys.verify_court(courts["粤0104"], BODY, sm2_signature.value)


def test_court_key_created_once(courts):
    first = keys.court_key(courts["粤0104"])
    second = keys.court_key(courts["粤0104"])

    assert first.pk == second.pk
    assert first.algorithm == CourtKey.Algorithm.SM2
    assert CourtKey.objects.filter(court=courts["粤0104"]).count() == 1


def test_sm2_private_key_stored_encrypted(courts):
    key = keys.court_key(courts["粤0104"])

    parts = key.private_key.split(":")
    assert parts[0] == "scrypt-aes-256-gcm"
    assert len(parts) == 4
    # 32 bytes of key and 16 of GCM tag.
    assert len(base64.b64decode(parts[3])) == 48
    assert sm2.decode_public_key(key.public_key)


def test_sm2_key_decrypted_once(courts, sm2_mode, monkeypatch):
    calls = []
    decrypt = keys._decrypt_sm2_private_key
    monkeypatch.setattr(
        keys, "_decrypt_sm2_private_key", lambda key: calls.append(key.pk) or decrypt(key)
    )

    for body in (b"1", b"2", b"3"):
        keys.sign(courts["粤0104"], body)

    assert len(calls) == 1


def test_passphrase_from_environment(courts, monkeypatch, sm2_mode):
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "a configured passphrase for tests")
    key = keys.court_key(courts["粤0303"])
    assert keys._decrypt_sm2_private_key(key)

    monkeypatch.setenv(keys.PASSPHRASE_ENV, "another passphrase")

    with pytest.raises(keys.CourtKeyError, match="cannot be decrypted; check ZHIXING_KEY"):
        keys._decrypt_sm2_private_key(key)


def test_key_bound_to_its_public_key(courts):
    first = keys.court_key(courts["粤0104"])
    second = keys.court_key(courts["粤0105"])
    first.private_key = second.private_key

    with pytest.raises(keys.CourtKeyError, match="cannot be decrypted"):
        keys._decrypt_sm2_private_key(first)


# Agency keys


def test_verify_agency_uses_registry_key(bank):
    body = bank.answers_body([])
    header = bank.sign(body)[keys.SIGNATURE_HEADER]

    assert keys.verify_agency(bank.agency, body, header)
    assert not keys.verify_agency(bank.agency, body + b" ", header)


def test_verify_agency_without_key_fails(bank):
    body = bank.answers_body([])
    header = bank.sign(body)[keys.SIGNATURE_HEADER]
    bank.agency.public_key_pem = ""

    assert not keys.verify_agency(bank.agency, body, header)


def pem_of(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def test_verify_agency_with_ecdsa_key(bank):
    private_key = ec.generate_private_key(ec.SECP256R1())
    bank.agency.public_key_pem = pem_of(private_key.public_key())
    raw = private_key.sign(BODY, ec.ECDSA(hashes.SHA256()))
    header = keys.ECDSA_PREFIX + base64.b64encode(raw).decode()

    assert keys.verify_agency(bank.agency, BODY, header)
    assert not keys.verify_agency(bank.agency, BODY + b" ", header)
    assert not keys.verify_agency(bank.agency, BODY, header.replace("ecdsa-sha256", "rsa-sha256"))


def test_verify_agency_with_rsa_key(bank):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bank.agency.public_key_pem = pem_of(private_key.public_key())
    raw = private_key.sign(BODY, padding.PKCS1v15(), hashes.SHA256())
    header = keys.RSA_PREFIX + base64.b64encode(raw).decode()

    assert keys.verify_agency(bank.agency, BODY, header)
    assert not keys.verify_agency(bank.agency, BODY + b" ", header)


def test_verify_agency_with_sm2_key(bank):
    private_key = sm2.generate_private_key()
    public_key = sm2.public_key_of(private_key)
    bank.agency.public_key_pem = "sm2:" + sm2.encode_public_key(public_key)
    header = keys.SM2_PREFIX + base64.b64encode(sm2.sign(private_key, public_key, BODY)).decode()

    assert keys.verify_agency(bank.agency, BODY, header)
    assert not keys.verify_agency(bank.agency, BODY + b" ", header)


def test_verify_agency_rejects_other_algorithm(bank):
    body = bank.answers_body([])
    raw = Ed25519PrivateKey.generate().sign(body)

    assert not keys.verify_agency(bank.agency, body, "sm2-sm3:" + base64.b64encode(raw).decode())


@pytest.mark.parametrize("key_text", ["not a key", "sm2:04", "sm2:" + "04" + "11" * 64])
def test_verify_agency_with_unusable_key_fails(bank, key_text):
    body = bank.answers_body([])
    header = bank.sign(body)[keys.SIGNATURE_HEADER]
    bank.agency.public_key_pem = key_text

    assert not keys.verify_agency(bank.agency, body, header)


def test_signer_header_percent_encoded(courts):
    value = keys.signer_value(courts["粤0104"])

    assert value == "%E7%B2%A40104"
    assert keys.parse_signer(value) == "粤0104"


# Export for agencies


def test_export_in_certificate_mode_writes_trust_file(courts, tmp_path: Path):
    out = StringIO()

    call_command("keys", "export", str(tmp_path), stdout=out)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["platform-ca.crt"]
    trusted = x509.load_pem_x509_certificates((tmp_path / "platform-ca.crt").read_bytes())
    root = services.platform_root()
    assert root is not None
    assert trusted == [pki.from_pem(root.certificate_pem)]
    assert "0 SM2 public key(s)" in out.getvalue()


def test_export_in_sm2_mode_writes_key_per_court(courts, tmp_path: Path, sm2_mode):
    call_command("keys", "export", str(tmp_path), stdout=StringIO())

    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == sorted([f"{code}.sm2" for code in courts] + ["platform-ca.crt"])
    text = (tmp_path / "粤0104.sm2").read_text()
    assert text.strip() == CourtKey.objects.get(court=courts["粤0104"]).public_key
    assert simulator_sm2.parse_public_key(text)


def test_exported_trust_file_verifies_court_in_simulator(courts, tmp_path: Path):
    keys.export_public_keys(tmp_path)
    keyring = simulator_signing.CourtKeyring(
        [tmp_path], trust_roots=[tmp_path / keys.TRUST_FILE_NAME]
    )
    headers = keys.signed_headers(courts["粤0104"], BODY)

    signer = keyring.verify(
        headers[keys.SIGNER_HEADER],
        headers[keys.SIGNATURE_HEADER],
        BODY,
        headers[keys.CERTIFICATE_HEADER],
    )

    assert signer == "粤0104"


def test_revoked_certificate_rejected_by_simulator(courts, tmp_path: Path):
    court = courts["粤0104"]
    headers = keys.signed_headers(court, BODY)
    keys.export_public_keys(tmp_path)
    seal = services.current_seal_certificate(court)
    assert seal is not None
    services.revoke(seal, reason="key_compromise")
    (tmp_path / "crl.der").write_bytes(services.current_crl())
    keyring = simulator_signing.CourtKeyring(
        [tmp_path], trust_roots=[tmp_path / keys.TRUST_FILE_NAME], crls=[tmp_path / "crl.der"]
    )

    with pytest.raises(simulator_signing.SignatureError, match="revoked"):
        keyring.verify(
            headers[keys.SIGNER_HEADER],
            headers[keys.SIGNATURE_HEADER],
            BODY,
            headers[keys.CERTIFICATE_HEADER],
        )


def test_exported_sm2_key_verifies_court_in_simulator(courts, tmp_path: Path, sm2_mode):
    keys.export_public_keys(tmp_path)
    keyring = simulator_signing.CourtKeyring([tmp_path])
    headers = keys.signed_headers(courts["粤0104"], BODY)

    signer = keyring.verify(headers[keys.SIGNER_HEADER], headers[keys.SIGNATURE_HEADER], BODY)

    assert signer == "粤0104"
    with pytest.raises(simulator_signing.SignatureError, match="does not verify"):
        keyring.verify(headers[keys.SIGNER_HEADER], headers[keys.SIGNATURE_HEADER], BODY + b" ")


# Migration


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_ed25519_keys(courts):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("linkage", "0002_restrict_exit_action")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_key = old_apps.get_model("linkage", "CourtKey").objects.create(
        court_id=courts["粤0104"].pk,
        public_key_pem="-----BEGIN PUBLIC KEY-----\n...",
        private_key_pem="-----BEGIN ENCRYPTED PRIVATE KEY-----\n...",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    migrated = CourtKey.objects.get(pk=old_key.pk)
    assert migrated.algorithm == CourtKey.Algorithm.ED25519
    assert migrated.public_key == "-----BEGIN PUBLIC KEY-----\n..."
    assert migrated.private_key == "-----BEGIN ENCRYPTED PRIVATE KEY-----\n..."
    sm2_key = keys.court_key(courts["粤0104"])
    assert sm2_key.pk != migrated.pk
