"""Sealing PDFs: the visible seal, two courts' incremental signatures, timestamps, officers."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from pyhanko.pdf_utils.reader import PdfFileReader

from zhixing.esign import conf, services, signing, verification
from zhixing.esign.models import SealRecord
from zhixing.esign.tests.helpers import minimal_pdf
from zhixing.esign.tests.tsa import running_tsa


def _reader(data: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(data), strict=False)


@pytest.mark.django_db
def test_seal_is_visible_in_box(courts):
    sealed = signing.seal_pdf(
        minimal_pdf(pages=2), court=courts["粤0104"], box=(400, 80, 520, 200), page=0
    )
    signature = _reader(sealed).embedded_signatures[0]
    widget = signature.sig_field
    rect = [float(value) for value in widget["/Rect"]]
    assert rect == [400, 80, 520, 200]
    appearance = widget["/AP"]["/N"]
    assert appearance["/BBox"] is not None
    # The appearance draws the seal image, an image XObject, somewhere inside it.
    resources = str(appearance.get_object()["/Resources"])
    assert "/XObject" in resources
    page = _reader(sealed).root["/Pages"]["/Kids"][0]
    assert any(annotation.get_object() == widget for annotation in page["/Annots"])


@pytest.mark.django_db
def test_default_box_on_last_page(courts):
    sealed = signing.seal_pdf(minimal_pdf(pages=2), court=courts["粤0104"])
    widget = _reader(sealed).embedded_signatures[0].sig_field
    assert [float(value) for value in widget["/Rect"]] == [403, 72, 523, 192]
    last_page = _reader(sealed).root["/Pages"]["/Kids"][1]
    assert widget["/P"].get_object() == last_page.get_object()


@pytest.mark.django_db
def test_two_courts_seal_incrementally(courts, make_user):
    applicant = make_user("officer0104", "粤0104", "case_officer")
    approver = make_user("head01", "粤01", "bureau_head")
    original = minimal_pdf()
    applied = signing.seal_pdf(original, court=courts["粤0104"], user=applicant, reason="Apply")
    approved = signing.seal_pdf(applied, court=courts["粤01"], user=approver, reason="Approve")
    assert approved.startswith(applied)
    assert applied.startswith(original)

    report = verification.verify_pdf(approved)
    assert report.valid
    first, second = report.signatures
    assert first.court_code == "粤0104"
    assert first.reason == "Apply"
    assert first.intact
    assert first.trusted
    assert not first.modified_after
    assert second.court_code == "粤01"
    assert second.valid
    assert [record.court.code for record in SealRecord.objects.order_by("pk")] == ["粤0104", "粤01"]
    assert SealRecord.objects.filter(user=approver, field_name="Seal2").exists()


@pytest.mark.django_db
def test_seal_only_own_court(courts, make_user):
    officer = make_user("officer0104", "粤0104", "case_officer")
    with pytest.raises(PermissionDenied, match="own court"):
        signing.seal_pdf(minimal_pdf(), court=courts["粤01"], user=officer)
    police = make_user("police0104", "粤0104", "judicial_police")
    with pytest.raises(PermissionDenied, match="may not apply"):
        signing.seal_pdf(minimal_pdf(), court=courts["粤0104"], user=police)


@pytest.mark.django_db
def test_seal_rejects_non_pdf(courts):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="not a PDF"):
        signing.seal_pdf(b"plain text", court=courts["粤0104"])


@pytest.mark.django_db
def test_production_needs_issued_certificate(courts, settings):
    settings.ESIGN_AUTO_ISSUE = False
    with pytest.raises(signing.SealingError, match="pki issue --court 粤0104"):
        signing.seal_pdf(minimal_pdf(), court=courts["粤0104"])
    services.issue_seal_certificate(courts["粤0104"])
    assert verification.verify_pdf(signing.seal_pdf(minimal_pdf(), court=courts["粤0104"])).valid


@pytest.mark.django_db
def test_timestamp_from_loopback_tsa(courts, settings):
    with running_tsa() as (url, tsa_root):
        settings.ESIGN_TSA_URL = url
        assert conf.tsa_url() == url
        sealed = signing.seal_pdf(minimal_pdf(), court=courts["粤0104"])
    settings.ESIGN_TSA_URL = ""
    untrusted = verification.verify_pdf(sealed).signatures[0]
    assert untrusted.timestamped
    assert untrusted.timestamp_trusted is False
    assert not untrusted.valid

    services.add_ca_certificate(tsa_root)
    report = verification.verify_pdf(sealed)
    signature = report.signatures[0]
    assert signature.timestamped
    assert signature.timestamp_trusted is True
    assert signature.valid
    assert report.valid
    assert SealRecord.objects.get().timestamped


@pytest.mark.django_db
def test_unreachable_tsa_fails_sealing(courts, settings):
    # Port 9 (discard) on the loopback address has no listener here.
    settings.ESIGN_TSA_URL = "http://127.0.0.1:9/"
    with pytest.raises(signing.SealingError, match="Signing the document failed"):
        signing.seal_pdf(minimal_pdf(), court=courts["粤0104"])
    assert not SealRecord.objects.exists()


@pytest.mark.django_db
def test_officer_signature_after_seal(courts, make_user):
    head = make_user("head01", "粤01", "bureau_head")
    sealed = signing.seal_pdf(minimal_pdf(), court=courts["粤0104"])
    with pytest.raises(signing.SealingError, match="pki issue --user head01"):
        signing.sign_as_officer(sealed, user=head)
    services.issue_officer_certificate(head)
    signed = signing.sign_as_officer(sealed, user=head, reason="Approved")
    report = verification.verify_pdf(signed)
    assert report.valid
    assert report.signatures[1].signer == "head01"
    assert report.signatures[1].field == "Approval2"
