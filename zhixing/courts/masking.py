"""Masked forms of personal data for pages whose reader may not see the full value."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits of a phone number: ``138****5678``."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


# Characters that end an administrative division in a Chinese address: province, region,
# prefecture, city, district, county and banner.
_DIVISION_ENDS = frozenset("省区州盟市县旗")
# Divisions are looked for at the start of an address only, so that a later 社区 or 工业区 is
# not taken for a district.
_DIVISION_PREFIX = 12


def mask_address(address: str) -> str:
    """Keep the administrative divisions at the start of an address and mask the rest.

    ``广州市越秀区中山五路1号`` becomes ``广州市越秀区****``. A place without a division at
    its start (a hotel, a border port) keeps its first two characters. The mask has a fixed
    length, so it does not tell how long the street address is.
    """
    address = address.strip()
    if not address:
        return ""
    prefix = 0
    for position, character in enumerate(address[:_DIVISION_PREFIX]):
        if character in _DIVISION_ENDS:
            prefix = position + 1
    if prefix == 0 or prefix >= len(address):
        prefix = min(2, len(address) - 1)
    return address[:prefix] + "****"
