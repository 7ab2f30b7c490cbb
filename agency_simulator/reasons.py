"""Reason codes and Chinese texts of the items an agency rejects at acknowledgement.

The checks in `protocol` and `measure_requests` give each rejection an English reason with
the field and the detail, as listed in docs/protocol.md, section 4. An acknowledgement also
carries a stable `reason_code` that a court can translate, and a `reason_text` in Chinese for the
court's officers, written as real agencies write their reasons.
"""

from __future__ import annotations

import re
from typing import Any

# Reason codes, and the Chinese text of those that need no detail.
FIXED_TEXTS = {
    "duplicate_item_id": "同一批次中事项编号重复",
    "unknown_action": "无法识别的协助事项",
    "action_not_supported": "本单位不办理此类协助事项",
    "category_not_served": "本单位不办理此类财产的查控",
    "deadline_passed": "已超过办理期限",
    "document_mismatch": "文书内容与其哈希值不符",
    "category_mismatch": "限制出境须向出入境管理部门请求",
    "item_id_taken": "事项编号已被其他法院或单位使用",
}
FIELD_MISSING = "field_missing"
FIELD_INVALID = "field_invalid"
OTHER = "other"

_PATTERNS = (
    ("duplicate_item_id", re.compile(r"duplicate item_id in batch\Z")),
    ("unknown_action", re.compile(r"unknown action ")),
    ("category_mismatch", re.compile(r"action 'restrict_exit' needs category ")),
    ("action_not_supported", re.compile(r"action .* not supported\Z")),
    ("category_not_served", re.compile(r"category not served\Z")),
    ("deadline_passed", re.compile(r"deadline passed\Z")),
    ("item_id_taken", re.compile(r"item_id already used by another court or agency\Z")),
    ("document_mismatch", re.compile(r"[\w.\[\]]+ missing: sha256 does not match ")),
    (FIELD_MISSING, re.compile(r"(?P<field>[\w.\[\]]+) missing\Z")),
    (FIELD_INVALID, re.compile(r"(?P<field>[\w.\[\]]+) (?:invalid:|must be )")),
)


def describe(reason: str) -> tuple[str, str]:
    """Return the reason code and the Chinese text of the English rejection ``reason``."""
    for code, pattern in _PATTERNS:
        match = pattern.match(reason)
        if match is None:
            continue
        if code == FIELD_MISSING:
            return code, f"请求缺少必填项 {match['field']}"
        if code == FIELD_INVALID:
            return code, f"请求中 {match['field']} 的值无效"
        return code, FIXED_TEXTS[code]
    return OTHER, f"请求未被受理（{reason}）"


def rejection(item_id: str, reason: str) -> dict[str, str]:
    """Return the entry of the acknowledgement's `rejected` list for one item."""
    code, text = describe(reason)
    return {"item_id": item_id, "reason": reason, "reason_code": code, "reason_text": text}


def file_error(entry: dict[str, Any]) -> str:
    """Return the `error` of the result-file answer to a rejected item.

    An acknowledgement stored before reason codes existed has only the English `reason`.
    """
    code = entry.get("reason_code")
    text = entry.get("reason_text")
    if not code or not text:
        code, text = describe(str(entry["reason"]))
    return f"rejected [{code}]: {text}"
