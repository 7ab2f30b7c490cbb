"""Court key pairs, signature headers and their verification."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command

from zhixing.linkage import keys
from zhixing.linkage.models import CourtKey


def test_sign_verify_round_trip(courts):
    court = courts["粤0104"]
    body = '{"batch_id": "x", "court": "粤0104"}'.encode()

    header = keys.sign(court, body)

    assert header.startswith("ed25519:")
    assert keys.verify_court(court, body, header)


def test_verify_rejects_changed_body(courts):
    court = courts["粤0104"]
    header = keys.sign(court, b'{"amount": "1.00"}')

    assert not keys.verify_court(court, b'{"amount": "9.00"}', header)


def test_verify_rejects_other_court_key(courts):
    header = keys.sign(courts["粤0105"], b"{}")

    assert not keys.verify_court(courts["粤0104"], b"{}", header)


@pytest.mark.parametrize("header", ["", "ed25519:", "ed25519:not base64!", "rsa:AAAA", "AAAA"])
def test_verify_rejects_malformed_header(courts, header):
    assert not keys.verify_court(courts["粤0104"], b"{}", header)


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


def test_signer_header_percent_encoded(courts):
    value = keys.signer_value(courts["粤0104"])

    assert value == "%E7%B2%A40104"
    assert keys.parse_signer(value) == "粤0104"


def test_court_key_created_once(courts):
    first = keys.court_key(courts["粤0104"])
    second = keys.court_key(courts["粤0104"])

    assert first.pk == second.pk
    assert CourtKey.objects.filter(court=courts["粤0104"]).count() == 1


def test_private_key_stored_encrypted(courts):
    key = keys.court_key(courts["粤0104"])

    assert "ENCRYPTED PRIVATE KEY" in key.private_key_pem
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(key.private_key_pem.encode(), password=None)


def test_passphrase_from_environment(courts, monkeypatch):
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "a configured passphrase for tests")
    key = keys.court_key(courts["粤0303"])

    loaded = serialization.load_pem_private_key(
        key.private_key_pem.encode(), password=b"a configured passphrase for tests"
    )

    assert loaded is not None


def test_keys_export_writes_pem_per_court(courts, tmp_path: Path):
    call_command("keys", "export", str(tmp_path))

    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == sorted(f"{code}.pem" for code in courts)
    text = (tmp_path / "粤0104.pem").read_text()
    assert text == CourtKey.objects.get(court=courts["粤0104"]).public_key_pem
    assert "PRIVATE" not in text
