"""Reason codes and Chinese texts of rejected items."""

from __future__ import annotations

import re

import pytest

from agency_simulator import reasons

CASES = [
    ("duplicate item_id in batch", "duplicate_item_id", "同一批次中事项编号重复"),
    ("unknown action 'burn'", "unknown_action", "无法识别的协助事项"),
    ("action 'seize' not supported", "action_not_supported", "本单位不办理此类协助事项"),
    ("category not served", "category_not_served", "本单位不办理此类财产的查控"),
    ("deadline passed", "deadline_passed", "已超过办理期限"),
    ("subject.id_number missing", "field_missing", "请求缺少必填项 subject.id_number"),
    ("document missing", "field_missing", "请求缺少必填项 document"),
    (
        "document.attachments[1].sha256 missing",
        "field_missing",
        "请求缺少必填项 document.attachments[1].sha256",
    ),
    (
        "measure.amount invalid: expected yuan with two decimals such as '50000.00', got '50000'",
        "field_invalid",
        "请求中 measure.amount 的值无效",
    ),
    ("subject.kind must be one of ['person']", "field_invalid", "请求中 subject.kind 的值无效"),
    ("document must be an object or null", "field_invalid", "请求中 document 的值无效"),
    (
        "document missing: sha256 does not match the decoded pdf_base64",
        "document_mismatch",
        "文书内容与其哈希值不符",
    ),
    (
        "action 'restrict_exit' needs category 'exit_entry'",
        "category_mismatch",
        "限制出境须向出入境管理部门请求",
    ),
    (
        "item_id already used by another court or agency",
        "item_id_taken",
        "事项编号已被其他法院或单位使用",
    ),
    ("something new", "other", "请求未被受理（something new）"),
]


@pytest.mark.parametrize(("reason", "code", "text"), CASES)
def test_unit_reason_code_and_chinese_text(reason: str, code: str, text: str) -> None:
    assert reasons.describe(reason) == (code, text)
    assert re.fullmatch(r"[a-z_]+", code)


def test_unit_file_error_old_acknowledgement() -> None:
    """An acknowledgement stored without reason codes still gives a coded error."""
    entry = {"item_id": "x", "reason": "category not served"}
    assert reasons.file_error(entry) == "rejected [category_not_served]: 本单位不办理此类财产的查控"
    assert reasons.file_error(reasons.rejection("x", "deadline passed")) == (
        "rejected [deadline_passed]: 已超过办理期限"
    )
