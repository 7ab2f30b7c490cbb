"""A sealed PDF verifies in poppler's pdfsig (NSS) once the platform's root is trusted."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from zhixing.esign import services, signing
from zhixing.esign.tests.helpers import minimal_pdf

REQUIRED = os.environ.get("ZHIXING_REQUIRE_PDFSIG") == "1"
MISSING = [tool for tool in ("pdfsig", "certutil") if shutil.which(tool) is None]


@pytest.mark.django_db
def test_pdfsig_trusts_two_seals(courts, tmp_path):
    if MISSING:
        message = f"needs {' and '.join(MISSING)} (Debian: poppler-utils, libnss3-tools)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    applied = signing.seal_pdf(minimal_pdf(), court=courts["粤0104"], reason="Apply")
    approved = signing.seal_pdf(applied, court=courts["粤01"], reason="Approve")
    document = tmp_path / "sealed.pdf"
    document.write_bytes(approved)
    root = tmp_path / "root.pem"
    root.write_text(services.ensure_root().certificate_pem)

    database = tmp_path / "nss"
    database.mkdir()
    nss = f"sql:{database}"
    subprocess.run(["certutil", "-N", "-d", nss, "--empty-password"], check=True)
    # pdfsig checks signers for the S/MIME usage, so the root needs the "C" flag in the
    # second (S/MIME) position as well; "C,," alone leaves the issuer untrusted.
    subprocess.run(
        ["certutil", "-A", "-d", nss, "-n", "zhixing-root", "-t", "C,C,", "-i", str(root)],
        check=True,
    )
    result = subprocess.run(
        ["pdfsig", "-nssdir", nss, str(document)], capture_output=True, text=True, check=False
    )
    output = result.stdout
    assert result.returncode == 0, result.stderr
    assert output.count("Signature Validation: Signature is Valid.") == 2, output
    assert output.count("Certificate Validation: Certificate is Trusted.") == 2, output
    assert "广州市越秀区人民法院" in output
    assert "广州市中级人民法院" in output
