"""Masked forms of personal data for pages whose reader may not see the full value."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits of a phone number: ``138****5678``."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
