"""Seal keys on a PKCS#11 token, with SoftHSM standing in for the hardware token."""

from __future__ import annotations

import os
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from zhixing.esign import services, signing, verification
from zhixing.esign.tests.helpers import minimal_pdf

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
REQUIRED = os.environ.get("ZHIXING_REQUIRE_SOFTHSM") == "1"
TOKEN_LABEL = "zhixing-test"
PIN = "123456"


@pytest.fixture
def softhsm_token(tmp_path, monkeypatch, settings):
    if not SOFTHSM_MODULE.exists():
        if REQUIRED:
            pytest.fail(f"needs SoftHSM at {SOFTHSM_MODULE} (Debian: softhsm2)")
        pytest.skip(f"needs SoftHSM at {SOFTHSM_MODULE} (Debian: softhsm2)")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    config = tmp_path / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(config))
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            TOKEN_LABEL,
            "--pin",
            PIN,
            "--so-pin",
            "654321",
        ],
        check=True,
        capture_output=True,
    )
    settings.ESIGN_PKCS11_MODULE = str(SOFTHSM_MODULE)
    settings.ESIGN_PKCS11_TOKEN = TOKEN_LABEL
    settings.ESIGN_PKCS11_PIN = PIN
    return tokens


def _generate_key_on_token(label: str) -> None:
    import pkcs11
    from pkcs11.util.ec import encode_named_curve_parameters

    token = pkcs11.lib(str(SOFTHSM_MODULE)).get_token(token_label=TOKEN_LABEL)
    with token.open(user_pin=PIN, rw=True) as session:
        parameters = session.create_domain_parameters(
            pkcs11.KeyType.EC,
            {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        parameters.generate_keypair(store=True, label=label)


@pytest.mark.django_db
def test_seal_signed_on_token(courts, softhsm_token):
    _generate_key_on_token("seal-0104")
    out = StringIO()
    call_command("pki", "token", "--court", "粤0104", "--key-label", "seal-0104", stdout=out)
    assert "key on the token" in out.getvalue()
    certificate = services.current_seal_certificate(courts["粤0104"])
    assert certificate.source == "token"
    assert certificate.token_key_label == "seal-0104"
    assert certificate.private_key_pem == ""

    sealed = signing.seal_pdf(minimal_pdf(), court=courts["粤0104"])
    report = verification.verify_pdf(sealed)
    assert report.valid
    assert report.signatures[0].court_code == "粤0104"


@pytest.mark.django_db
def test_missing_token_key_reported(courts, softhsm_token):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no single public key labelled 'absent'"):
        call_command(
            "pki", "token", "--court", "粤0104", "--key-label", "absent", stdout=StringIO()
        )
