"""Unit tests of the Idempotency-Key syntax and of the request fingerprint."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict

from zhixing.idempotency.keys import InvalidKey, parse_key, request_fingerprint


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"a \\"quoted\\" \\\\ key"', 'a "quoted" \\ key'),
        ("batch 2026-12/case 17", "batch 2026-12/case 17"),
        ("k" * 255, "k" * 255),
    ],
)
def test_parse_key_accepts(value, key):
    assert parse_key(value) == key


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "is empty"),
        ('""', "is empty"),
        ("k" * 256, "has 256 characters, more than the maximum of 255"),
        ("tab\there", "“tab\\there” contains a character that is not printable ASCII"),
        ("钥匙-1", "“\\u94a5\\u5319-1” contains a character that is not printable ASCII"),
        ('"unclosed', '“"unclosed” starts with a double quote but is not a valid quoted'),
        ('"bad \\n escape"', "is not a valid quoted string"),
    ],
)
def test_parse_key_rejects(value, words):
    with pytest.raises(InvalidKey) as raised:
        parse_key(value)
    assert words in raised.value.message
    assert "255" in raised.value.message


def test_long_key_shown_shortened():
    with pytest.raises(InvalidKey) as raised:
        parse_key("k" * 1000)
    assert "k" * 60 + "…" in raised.value.message
    assert "k" * 61 not in raised.value.message


def test_fingerprint_ignores_json_key_order():
    first = request_fingerprint("POST", "/api/v1/cases/", {"a": 1, "b": [1, 2]})
    second = request_fingerprint("post", "/api/v1/cases/", {"b": [1, 2], "a": 1})
    assert first == second


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("PATCH", "/api/v1/cases/", {"a": 1}),
        ("POST", "/api/v1/cases/1/close/", {"a": 1}),
        ("POST", "/api/v1/cases/?court=1", {"a": 1}),
        ("POST", "/api/v1/cases/", {"a": 2}),
        ("POST", "/api/v1/cases/", {"a": "1"}),
        ("POST", "/api/v1/cases/", {}),
    ],
)
def test_fingerprint_differs_by_request(method, path, data):
    assert request_fingerprint(method, path, data) != request_fingerprint(
        "POST", "/api/v1/cases/", {"a": 1}
    )


def test_fingerprint_of_form_with_file():
    def form(content):
        data = QueryDict(mutable=True)
        data.update({"title": "续报"})
        data.update({"file": SimpleUploadedFile("scene.jpg", content, "image/jpeg")})
        return data

    uploaded = form(b"photo")
    first = request_fingerprint("POST", "/api/v1/reports/attachments/", uploaded)

    assert first == request_fingerprint("POST", "/api/v1/reports/attachments/", form(b"photo"))
    assert first != request_fingerprint("POST", "/api/v1/reports/attachments/", form(b"other"))
    # The view reads the file again from its start.
    assert uploaded["file"].read() == b"photo"
