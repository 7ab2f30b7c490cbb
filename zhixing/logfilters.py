"""Logging filter that keeps personal data and secrets out of log output."""

from __future__ import annotations

import logging
import re

# 18-digit resident ID numbers (last character may be X), 15-digit first-generation numbers,
# and long digit runs such as bank account numbers.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15}|\d{16,19})(?![0-9A-Za-z])")
_SECRET = re.compile(
    r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization)\b(\s*[=:]\s*)(\S+)"
)


def redact(text: str) -> str:
    """Replace ID and account numbers with a masked form and secrets with asterisks."""
    text = _ID_NUMBER.sub(lambda m: m.group(1)[:3] + "*" * (len(m.group(1)) - 3), text)
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}****", text)


class RedactPersonalData(logging.Filter):
    """Rewrite each record's message so that no ID number or secret reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
