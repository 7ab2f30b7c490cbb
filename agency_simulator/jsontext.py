"""Compact JSON text of the simulator's answers, acknowledgements and stored fields."""

from __future__ import annotations

import json
from typing import Any

import orjson


def compact_json(data: Any) -> bytes:
    """Return ``data`` as compact UTF-8 JSON without ASCII escapes.

    orjson writes the same text as the standard library with these settings, several times
    faster. It refuses integers beyond 64 bits and keys that are not strings, which the
    standard library then encodes.
    """
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
