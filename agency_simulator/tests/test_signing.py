"""The simulator's checks of court signatures: seal certificates, SM2 keys and Ed25519 keys."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from gmssl import sm2 as gmssl_sm2

from agency_simulator import sm2
from agency_simulator.agencies import CHINA_TZ
from agency_simulator.signing import (
    CertificateTrust,
    CourtKeyring,
    SignatureError,
    public_key_pem,
)
from agency_simulator.tests.conftest import (
    COURT,
    Simulator,
    build_agencies,
    item,
    start_simulator,
    stop_simulator,
)

BODY = b'{"court": "\\u7ca40104"}'
NOW = datetime.now(UTC)


def key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=signer,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class Authority:
    """A CA certificate and its key, which issues test certificates and CRLs."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def root(cls, name: str = "Test Courts Root CA", *, end: datetime | None = None) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=100))
            .not_valid_after(end or NOW + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(key_usage(signer=False), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    def _builder(self, subject: x509.Name, public_key, start: datetime, end: datetime):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    def intermediate(self, name: str = "Test Intermediate CA") -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        certificate = (
            self._builder(
                subject, key.public_key(), NOW - timedelta(days=1), NOW + timedelta(days=900)
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(key_usage(signer=False), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return Authority(certificate, key)

    def seal(
        self,
        code: str = COURT,
        *,
        key=None,
        start: datetime | None = None,
        end: datetime | None = None,
        usage: x509.KeyUsage | None = None,
        extra_name: list[x509.NameAttribute] | None = None,
    ) -> tuple[x509.Certificate, object]:
        key = key or ec.generate_private_key(ec.SECP256R1())
        attributes = [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "广州市越秀区人民法院"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, code),
            x509.NameAttribute(NameOID.COMMON_NAME, "广州市越秀区人民法院"),
            *(extra_name or []),
        ]
        builder = self._builder(
            x509.Name(attributes),
            key.public_key(),
            start or NOW - timedelta(days=1),
            end or NOW + timedelta(days=365),
        ).add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        if usage is not False:
            builder = builder.add_extension(usage or key_usage(signer=True), critical=True)
        return builder.sign(self.key, hashes.SHA256()), key

    def crl(self, revoked: list[x509.Certificate], next_update: datetime | None = None) -> bytes:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(NOW - timedelta(hours=1))
            .next_update(next_update or NOW + timedelta(days=7))
        )
        for certificate in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(certificate.serial_number)
                .revocation_date(NOW - timedelta(minutes=30))
                .build()
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def der64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def certificate_signature(key, body: bytes = BODY) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return "rsa-sha256:" + base64.b64encode(raw).decode()
    raw = key.sign(body, ec.ECDSA(hashes.SHA256()))
    return "ecdsa-sha256:" + base64.b64encode(raw).decode()


def signer(code: str = COURT) -> str:
    return urllib.parse.quote(code, safe="")


@pytest.fixture
def root() -> Authority:
    return Authority.root()


def keyring_for(
    tmp_path: Path, *trusted: x509.Certificate, crls: Sequence[bytes] = ()
) -> CourtKeyring:
    trust_file = tmp_path / "platform-ca.crt"
    trust_file.write_bytes(pem(*trusted))
    crl_files = []
    for number, data in enumerate(crls):
        crl_files.append(tmp_path / f"crl-{number}.der")
        crl_files[-1].write_bytes(data)
    return CourtKeyring([tmp_path], trust_roots=[trust_file], crls=crl_files)


# Certificates


def test_certificate_signature_accepted(tmp_path, root):
    certificate, key = root.seal()
    keyring = keyring_for(tmp_path, root.certificate)

    court = keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))

    assert court == COURT


def test_rsa_certificate_signature_accepted(tmp_path, root):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate, _ = root.seal(key=key)
    keyring = keyring_for(tmp_path, root.certificate)

    court = keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))

    assert court == COURT


def test_certificate_after_separator_accepted(tmp_path, root):
    certificate, key = root.seal()
    keyring = keyring_for(tmp_path, root.certificate)

    field = certificate_signature(key) + ";" + der64(certificate)

    assert keyring.verify(signer(), field, BODY) == COURT


def test_changed_body_rejected(tmp_path, root):
    certificate, key = root.seal()
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="does not verify"):
        keyring.verify(signer(), certificate_signature(key), BODY + b" ", der64(certificate))


def test_algorithm_must_match_key(tmp_path, root):
    certificate, key = root.seal()
    keyring = keyring_for(tmp_path, root.certificate)
    header = certificate_signature(key).replace("ecdsa-sha256", "rsa-sha256")

    with pytest.raises(SignatureError, match="needs a certificate of that key type"):
        keyring.verify(signer(), header, BODY, der64(certificate))


def test_certificate_of_foreign_root_rejected(tmp_path, root):
    certificate, key = Authority.root("Somebody Else").seal()
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="does not chain to a trusted root"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_missing_trust_root_rejects_certificates(tmp_path, root):
    certificate, key = root.seal()
    keyring = CourtKeyring([tmp_path])

    with pytest.raises(SignatureError, match="no trusted root certificate is configured"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_missing_certificate_header_rejected(tmp_path, root):
    _certificate, key = root.seal()
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="needs X-Zhixing-Certificate"):
        keyring.verify(signer(), certificate_signature(key), BODY)


def test_malformed_certificate_rejected(tmp_path, root):
    _certificate, key = root.seal()
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="not base64 of a DER certificate"):
        keyring.verify(signer(), certificate_signature(key), BODY, "AAAA")


def test_expired_certificate_rejected(tmp_path, root):
    certificate, key = root.seal(start=NOW - timedelta(days=30), end=NOW - timedelta(days=1))
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="expired on"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_certificate_of_expired_root_rejected(tmp_path):
    root = Authority.root(end=NOW - timedelta(days=1))
    certificate, key = root.seal(start=NOW - timedelta(days=50))
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="not valid at validation time"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_future_certificate_rejected(tmp_path, root):
    certificate, key = root.seal(start=NOW + timedelta(days=1))
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="not valid before"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_certificate_of_other_court_rejected(tmp_path, root):
    certificate, key = root.seal("粤0105")
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="names court '粤0105', not the signer '粤0104'"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_certificate_without_digital_signature_rejected(tmp_path, root):
    no_signature = x509.KeyUsage(
        digital_signature=False,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate, key = root.seal(usage=no_signature)
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="does not allow digitalSignature"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_certificate_without_key_usage_rejected(tmp_path, root):
    certificate, key = root.seal(usage=False)
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="no key usage extension"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_officer_certificate_rejected(tmp_path, root):
    officer = [x509.NameAttribute(NameOID.USER_ID, "head_0104")]
    certificate, key = root.seal(extra_name=officer)
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="officer's personal certificate"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_chain_through_intermediate_accepted(tmp_path, root):
    intermediate = root.intermediate()
    certificate, key = intermediate.seal()
    keyring = keyring_for(tmp_path, root.certificate, intermediate.certificate)

    court = keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))

    assert court == COURT


def test_intermediate_missing_from_trust_file_rejected(tmp_path, root):
    certificate, key = root.intermediate().seal()
    keyring = keyring_for(tmp_path, root.certificate)

    with pytest.raises(SignatureError, match="does not chain to a trusted root"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_revoked_certificate_rejected(tmp_path, root):
    certificate, key = root.seal()
    keyring = keyring_for(tmp_path, root.certificate, crls=[root.crl([certificate])])

    with pytest.raises(SignatureError, match="revoked on"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_certificate_not_on_crl_accepted(tmp_path, root):
    certificate, key = root.seal()
    other, _ = root.seal()
    keyring = keyring_for(tmp_path, root.certificate, crls=[root.crl([other])])

    assert keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate)) == COURT


def test_expired_crl_rejects_certificates(tmp_path, root):
    certificate, key = root.seal()
    stale = root.crl([], next_update=NOW - timedelta(minutes=1))
    keyring = keyring_for(tmp_path, root.certificate, crls=[stale])

    with pytest.raises(SignatureError, match=r"expired on .*give a current one"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_forged_crl_rejected(tmp_path, root):
    certificate, key = root.seal()
    impostor = Authority(root.certificate, ec.generate_private_key(ec.SECP256R1()))
    keyring = keyring_for(tmp_path, root.certificate, crls=[impostor.crl([])])

    with pytest.raises(SignatureError, match="does not verify with the issuer's key"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))


def test_crl_file_read_again_when_changed(tmp_path, root, monkeypatch):
    monkeypatch.setattr("agency_simulator.signing.RESCAN_INTERVAL_S", 0.0)
    certificate, key = root.seal()
    keyring = keyring_for(tmp_path, root.certificate, crls=[root.crl([])])
    header = certificate_signature(key)
    assert keyring.verify(signer(), header, BODY, der64(certificate)) == COURT

    (tmp_path / "crl-0.der").write_bytes(root.crl([certificate]))
    time.sleep(0.01)

    with pytest.raises(SignatureError, match="revoked on"):
        keyring.verify(signer(), header, BODY, der64(certificate))


def test_trust_file_read_when_written_later(tmp_path, root, monkeypatch):
    monkeypatch.setattr("agency_simulator.signing.RESCAN_INTERVAL_S", 0.0)
    certificate, key = root.seal()
    trust_file = tmp_path / "later.crt"
    keyring = CourtKeyring([tmp_path], trust_roots=[trust_file])
    with pytest.raises(SignatureError, match="no trusted root"):
        keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate))

    trust_file.write_bytes(pem(root.certificate))

    assert keyring.verify(signer(), certificate_signature(key), BODY, der64(certificate)) == COURT


def test_trust_counts_anchors_and_intermediates(tmp_path, root):
    intermediate = root.intermediate()
    trust_file = tmp_path / "ca.crt"
    trust_file.write_bytes(pem(root.certificate, intermediate.certificate))

    trust = CertificateTrust([trust_file], [])

    assert trust.anchors == [root.certificate]
    assert trust.intermediates == [intermediate.certificate]


# SM2 keys


def sm2_key_pair() -> tuple[str, str]:
    """Return a private key and the public key text, made with gmssl's point multiplication."""
    curve = sm2.SM2P256V1
    private_key = f"{secrets.randbelow(curve.n - 2) + 1:064x}"
    cipher = gmssl_sm2.CryptSM2(private_key=private_key, public_key="")
    return private_key, "04" + cipher._kg(int(private_key, 16), gmssl_sm2.default_ecc_table["g"])


def sm2_signature(private_key: str, public_key: str, body: bytes = BODY) -> str:
    point = sm2.parse_public_key(public_key)
    _z, e = sm2.signer_digest(point, body)
    cipher = gmssl_sm2.CryptSM2(private_key=private_key, public_key="")
    raw = cipher.sign(e, f"{secrets.randbelow(sm2.SM2P256V1.n - 1) + 1:064x}")
    return "sm2-sm3:" + base64.b64encode(bytes.fromhex(raw)).decode()


def test_sm2_signature_accepted(tmp_path):
    private_key, public_key = sm2_key_pair()
    (tmp_path / f"{COURT}.sm2").write_text(public_key + "\n")
    keyring = CourtKeyring([tmp_path])

    assert keyring.verify(signer(), sm2_signature(private_key, public_key), BODY) == COURT


def test_sm2_signature_with_percent_encoded_file_name(tmp_path):
    private_key, public_key = sm2_key_pair()
    (tmp_path / f"{signer()}.sm2").write_text(public_key)
    keyring = CourtKeyring([tmp_path])

    assert keyring.verify(signer(), sm2_signature(private_key, public_key), BODY) == COURT


def test_sm2_changed_body_rejected(tmp_path):
    private_key, public_key = sm2_key_pair()
    (tmp_path / f"{COURT}.sm2").write_text(public_key)
    keyring = CourtKeyring([tmp_path])

    with pytest.raises(SignatureError, match="does not verify"):
        keyring.verify(signer(), sm2_signature(private_key, public_key), BODY + b" ")


def test_sm2_key_from_listing(tmp_path):
    private_key, public_key = sm2_key_pair()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "court.sm2").write_text(public_key)
    listing = tmp_path / "courts.txt"
    listing.write_text(f"{COURT} keys/court.sm2\n", encoding="utf-8")
    keyring = CourtKeyring([listing])

    assert keyring.verify(signer(), sm2_signature(private_key, public_key), BODY) == COURT


def test_sm2_signature_without_sm2_key_rejected(tmp_path):
    private_key, public_key = sm2_key_pair()
    (tmp_path / f"{COURT}.pem").write_bytes(
        public_key_pem(Ed25519PrivateKey.generate().public_key())
    )
    keyring = CourtKeyring([tmp_path])

    with pytest.raises(SignatureError, match="has no sm2-sm3 key"):
        keyring.verify(signer(), sm2_signature(private_key, public_key), BODY)


def test_invalid_sm2_key_file_skipped(tmp_path):
    (tmp_path / f"{COURT}.sm2").write_text("04" + "11" * 64)

    keyring = CourtKeyring([tmp_path])

    assert keyring.keys == {}


@pytest.mark.parametrize("header", ["ed448:AAAA", "AAAA", "sm2-sm3:not base64!", "ecdsa-sha256"])
def test_unsupported_signature_rejected(tmp_path, header):
    keyring = CourtKeyring([tmp_path])

    with pytest.raises(SignatureError):
        keyring.verify(signer(), header, BODY)


# The simulator process


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority.root()


@pytest.fixture(scope="module")
def trusting(tmp_path_factory: pytest.TempPathFactory, authority: Authority) -> Iterator[Simulator]:
    """A simulator that trusts `authority`, with a CRL of it, and knows one SM2 court key."""
    folder = tmp_path_factory.mktemp("trusting-simulator")
    (folder / "court-keys").mkdir()
    (folder / "platform-ca.crt").write_bytes(pem(authority.certificate))
    (folder / "crl.der").write_bytes(authority.crl([]))
    agencies = folder / "agencies.json"
    agencies.write_text(json.dumps(build_agencies(datetime.now(CHINA_TZ)), ensure_ascii=False))
    running = start_simulator(
        folder,
        "--agencies",
        str(agencies),
        "--trust-root",
        str(folder / "platform-ca.crt"),
        "--crl",
        str(folder / "crl.der"),
    )
    yield running
    stop_simulator(running)


def send(simulator: Simulator, headers: dict[str, str], body: bytes) -> httpx.Response:
    return simulator.client.post(
        "/agencies/bank-icbc/v1/batches",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


def batch_body() -> bytes:
    message = {
        "protocol": "zhixing-gateway/1",
        "batch_id": str(uuid.uuid4()),
        "agency": "bank-icbc",
        "court": {"code": COURT, "name": "广州市越秀区人民法院"},
        "sent_at": datetime.now(CHINA_TZ).isoformat(timespec="seconds"),
        "callback_url": None,
        "items": [item("bank_account")],
    }
    return json.dumps(message).encode()


def test_process_accepts_certificate_signature(trusting, authority):
    certificate, key = authority.seal()
    body = batch_body()

    response = send(
        trusting,
        {
            "X-Zhixing-Signer": signer(),
            "X-Zhixing-Signature": certificate_signature(key, body),
            "X-Zhixing-Certificate": der64(certificate),
        },
        body,
    )

    assert response.status_code == 202, response.text


def test_process_rejects_untrusted_certificate(trusting):
    certificate, key = Authority.root("Untrusted").seal()
    body = batch_body()

    response = send(
        trusting,
        {
            "X-Zhixing-Signer": signer(),
            "X-Zhixing-Signature": certificate_signature(key, body),
            "X-Zhixing-Certificate": der64(certificate),
        },
        body,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert "does not chain to a trusted root" in response.json()["detail"]


def test_process_accepts_sm2_signature_of_new_court(trusting):
    private_key, public_key = sm2_key_pair()
    (trusting.folder / "court-keys" / f"{COURT}.sm2").write_text(public_key)
    time.sleep(1.1)
    body = batch_body()

    response = send(
        trusting,
        {
            "X-Zhixing-Signer": signer(),
            "X-Zhixing-Signature": sm2_signature(private_key, public_key, body),
        },
        body,
    )

    assert response.status_code == 202, response.text
