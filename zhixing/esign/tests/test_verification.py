"""Verification: valid, tampered, changed afterwards, untrusted, revoked; the CLI, page and API."""

from __future__ import annotations

import io
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from rest_framework.test import APIClient

from zhixing.courts import services as court_services
from zhixing.esign import services, signing, verification
from zhixing.esign.tests.helpers import NOTICE_TEXT, issue_from, minimal_pdf, self_signed_ca


@pytest.fixture
def sealed(courts) -> bytes:
    return signing.seal_pdf(minimal_pdf(), court=courts["粤0104"], reason="Freeze notice")


@pytest.mark.django_db
def test_sealed_document_valid(sealed):
    report = verification.verify_pdf(sealed)
    assert report.valid
    signature = report.signatures[0]
    assert signature.signer == "广州市越秀区人民法院"
    assert signature.court == "广州市越秀区人民法院"
    assert signature.court_code == "粤0104"
    assert signature.signed_at is not None
    assert signature.intact
    assert signature.trusted
    assert not signature.revoked
    assert not signature.modified_after
    assert signature.problems == []


@pytest.mark.django_db
def test_tampered_signed_bytes_not_intact(sealed):
    assert sealed.count(NOTICE_TEXT.encode()) == 1
    tampered = sealed.replace(NOTICE_TEXT.encode(), NOTICE_TEXT.replace("0001", "0009").encode())
    report = verification.verify_pdf(tampered)
    assert not report.valid
    signature = report.signatures[0]
    assert not signature.intact
    assert not signature.valid
    assert "The signed bytes were changed after signing." in signature.problems


@pytest.mark.django_db
def test_content_added_after_signing(sealed):
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed), strict=False)
    stream = generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 600 Td (PAID IN FULL) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    report = verification.verify_pdf(out.getvalue())
    assert not report.valid
    signature = report.signatures[0]
    assert signature.intact
    assert signature.modified_after
    assert not signature.valid


def _foreign_signature(pdf: bytes) -> bytes:
    ca, ca_key = self_signed_ca("Unknown CA")
    certificate, key = issue_from(ca, ca_key, "Someone")
    der = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(
            certificate.public_bytes(serialization.Encoding.DER)
        ),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))]
        ),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    output = signers.sign_pdf(
        writer, signers.PdfSignatureMetadata(field_name="Foreign"), signer=signer
    )
    return output.getvalue()


@pytest.mark.django_db
def test_untrusted_signer(courts):
    report = verification.verify_pdf(_foreign_signature(minimal_pdf()))
    signature = report.signatures[0]
    assert signature.intact
    assert not signature.trusted
    assert not signature.valid
    assert signature.court == "Someone"
    assert signature.court_code == ""
    assert not report.valid


@pytest.mark.django_db
def test_revoked_seal_not_valid(courts, sealed):
    services.revoke(services.current_seal_certificate(courts["粤0104"]), reason="key_compromise")
    signature = verification.verify_pdf(sealed).signatures[0]
    assert signature.intact
    assert signature.revoked
    assert not signature.trusted
    assert not signature.valid
    assert "The signer's certificate is revoked." in signature.problems


@pytest.mark.django_db
def test_unsigned_pdf_not_valid(courts):
    report = verification.verify_pdf(minimal_pdf())
    assert report.signatures == []
    assert not report.valid


@pytest.mark.django_db
def test_not_a_pdf_named_in_error(courts):
    with pytest.raises(verification.InvalidDocument, match=r"notes.txt is not a PDF file"):
        verification.verify_pdf(b"hello", name="notes.txt")


def _verify_command(path) -> tuple[int, dict]:
    out = StringIO()
    code = 0
    try:
        call_command("verify-pdf", str(path), stdout=out)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, json.loads(out.getvalue())


@pytest.mark.django_db
def test_verify_command_json_and_exit(courts, sealed, tmp_path):
    good = tmp_path / "good.pdf"
    good.write_bytes(sealed)
    code, result = _verify_command(good)
    assert code == 0
    assert result["valid"] is True
    signature = result["signatures"][0]
    for key in ("signer", "court", "signed_at", "intact", "trusted", "modified_after"):
        assert key in signature, key
    assert signature["court"] == "广州市越秀区人民法院"

    foreign = tmp_path / "foreign.pdf"
    foreign.write_bytes(_foreign_signature(sealed))
    code, result = _verify_command(foreign)
    assert code == 1
    assert result["valid"] is False
    assert [item["trusted"] for item in result["signatures"]] == [True, False]

    text = tmp_path / "notes.txt"
    text.write_text("not a pdf")
    code, result = _verify_command(text)
    assert code == 2
    assert result["valid"] is False
    assert "notes.txt is not a PDF file" in result["error"]

    code, result = _verify_command(tmp_path / "missing.pdf")
    assert code == 2
    assert "missing.pdf" in result["error"]


@pytest.mark.django_db
def test_verify_page_needs_login(client, courts):
    response = client.get("/esign/verify/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


@pytest.mark.django_db
def test_verify_page_shows_result(client, courts, make_user, sealed):
    client.force_login(make_user("clerk0105", "粤0105", "clerk"))
    assert client.get("/esign/verify/").status_code == 200
    upload = io.BytesIO(sealed)
    upload.name = "notice.pdf"
    response = client.post("/esign/verify/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="verify-result"' in content
    assert "All signatures are valid." in content
    assert "粤0104" in content


def test_verify_page_shows_local_time(client, courts, make_user, sealed):
    client.force_login(make_user("clerk0105", "粤0105", "clerk"))
    upload = io.BytesIO(sealed)
    upload.name = "notice.pdf"
    (signature,) = verification.verify_pdf(sealed).signatures
    shown = signature.signed_moment.astimezone(ZoneInfo("Asia/Shanghai"))

    content = client.post("/esign/verify/", {"file": upload}).content.decode()

    # Beijing time, as on the other pages, and not the UTC text of the report.
    assert f'<td data-testid="signed-at">{shown:%Y-%m-%d %H:%M:%S}</td>' in content
    assert signature.signed_at not in content


@pytest.mark.django_db
def test_verify_page_rejects_non_pdf(client, courts, make_user):
    client.force_login(make_user("clerk0105", "粤0105", "clerk"))
    upload = io.BytesIO(b"just text")
    upload.name = "notes.txt"
    response = client.post("/esign/verify/", {"file": upload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    content = response.content.decode()
    assert "notes.txt is not a PDF file" in content
    assert "Upload the signed PDF document itself" in content


def _api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {court_services.issue_token(user)}")
    return client


@pytest.mark.django_db
def test_verify_api(courts, make_user, sealed):
    url = "/api/v1/esign/verifications/"
    upload = io.BytesIO(sealed)
    upload.name = "notice.pdf"
    assert APIClient().post(url, {"file": upload}, format="multipart").status_code in (401, 403)

    client = _api(make_user("officer0303", "粤0303"))
    upload = io.BytesIO(sealed)
    upload.name = "notice.pdf"
    response = client.post(url, {"file": upload}, format="multipart")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert body["signatures"][0]["court_code"] == "粤0104"

    text = io.BytesIO(b"just text")
    text.name = "notes.txt"
    response = client.post(url, {"file": text}, format="multipart")
    assert response.status_code == 400
    assert "notes.txt is not a PDF file" in response.json()["file"][0]

    response = client.post(url, {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


@pytest.mark.django_db
def test_openapi_lists_verification(courts, make_user):
    response = _api(make_user("reader", "粤0104")).get("/api/openapi.json")
    paths = json.loads(response.content)["paths"]
    operation = paths["/api/v1/esign/verifications/"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
