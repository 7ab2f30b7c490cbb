"""Security basics: headers, CSRF, lockout, session expiry, logs and production settings."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from zhixing.conftest import TEST_PASSWORD
from zhixing.logfilters import RedactPersonalData, redact


@pytest.mark.django_db
def test_security_headers(make_user):
    response = Client().get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.django_db
def test_pages_have_no_inline_script_or_style(make_user, courts):
    admin = make_user("admin", "粤01", "administrator", "bureau_head")
    client = Client()
    client.force_login(admin)
    for url in ["/", "/courts/", f"/courts/{courts['粤01'].pk}/", "/users/", "/audit/"]:
        html = client.get(url).content.decode()
        assert "<script>" not in html, url
        assert "style=" not in html, url
        assert "<style" not in html, url
        assert "http://" not in html.replace("http://www.w3.org", ""), url


@pytest.mark.django_db
def test_login_form_requires_csrf(make_user):
    make_user("csrfuser", "粤0104")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "csrfuser", "password": TEST_PASSWORD})
    assert response.status_code == 403


@pytest.mark.django_db
def test_lockout_after_repeated_failures(make_user):
    make_user("target", "粤0104")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "target", "password": "wrong"})
    response = client.post("/login/", {"username": "target", "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_successful_login(make_user):
    make_user("good", "粤0104")
    client = Client()
    response = client.post("/login/", {"username": "good", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_session_expires_when_idle():
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


@pytest.mark.django_db
def test_pages_need_login():
    for url in ["/", "/courts/", "/users/", "/audit/"]:
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url


def test_redact_masks_id_numbers_and_secrets():
    text = "party 44010419850101001X password=hunter2 account 6222021234567890123"
    cleaned = redact(text)
    assert "44010419850101001X" not in cleaned
    assert "hunter2" not in cleaned
    assert "6222021234567890123" not in cleaned
    assert cleaned.startswith("party 440")


def test_log_filter_rewrites_record():
    record = logging.LogRecord("t", logging.INFO, "f", 1, "id %s", ("440104198501010015",), None)
    RedactPersonalData().filter(record)
    assert "440104198501010015" not in record.getMessage()


def _settings_process(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; "
            "django.setup(); print(settings.DEBUG)",
        ],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "zhixing.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _settings_process(
        {"ZHIXING_MODE": "production", "ZHIXING_SECRET_KEY": "", "ZHIXING_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "ZHIXING_SECRET_KEY is missing" in result.stderr


def test_embedded_mode_keeps_generated_secret_key(tmp_path):
    env = {"ZHIXING_MODE": "embedded", "ZHIXING_SECRET_KEY": "", "ZHIXING_DATA_DIR": str(tmp_path)}
    assert _settings_process(env).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert _settings_process(env).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_debug_off_outside_demo(tmp_path):
    result = _settings_process({"ZHIXING_MODE": "embedded", "ZHIXING_DATA_DIR": str(tmp_path)})
    assert result.stdout.strip() == "False"
