"""Settings of the electronic seals, with their defaults; ``zhixing/settings.py`` sets them."""

from __future__ import annotations

from django.conf import settings


def public_url() -> str:
    """Return the address that certificates name for the CRL, without a trailing slash."""
    return str(getattr(settings, "ESIGN_PUBLIC_URL", "http://127.0.0.1:8000")).rstrip("/")


def crl_url() -> str:
    return public_url() + "/esign/crl.der"


def tsa_url() -> str:
    """Return the RFC 3161 time-stamping service's URL, or "" to sign without a timestamp."""
    return str(getattr(settings, "ESIGN_TSA_URL", ""))


def auto_issue() -> bool:
    """Return whether a court's seal certificate is issued the first time the court seals."""
    return bool(getattr(settings, "ESIGN_AUTO_ISSUE", settings.MODE != "production"))


def pkcs11_module() -> str:
    """Return the path of the PKCS#11 module (a ``.so``), or "" when no token is configured."""
    return str(getattr(settings, "ESIGN_PKCS11_MODULE", ""))


def pkcs11_token_label() -> str:
    return str(getattr(settings, "ESIGN_PKCS11_TOKEN", ""))


def pkcs11_pin() -> str:
    return str(getattr(settings, "ESIGN_PKCS11_PIN", ""))
