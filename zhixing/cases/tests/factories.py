"""Builders of synthetic identity numbers for tests and demo data; never real people's."""

from __future__ import annotations

from zhixing.cases.identity import gb11643_check_character


def make_resident_id(region: str, birth: str, sequence: int) -> str:
    """Build an 18-character resident ID number with a correct check character."""
    body = f"{region}{birth}{sequence:03d}"
    return body + gb11643_check_character(body)
