"""Masked forms of phone numbers and addresses."""

from __future__ import annotations

import pytest

from zhixing.courts.masking import mask_address, mask_phone


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("广州市越秀区中山五路1号", "广州市越秀区****"),
        ("广东省深圳市南山区科技园南区1栋", "广东省深圳市南山区****"),
        ("深圳市南山区粤海街道科技园社区101", "深圳市南山区****"),
        ("广州白云宾馆", "广州****"),
        ("罗湖口岸", "罗湖****"),
        ("广州市", "广州****"),
        ("粤", "****"),
        ("  ", ""),
    ],
)
def test_mask_address(address, masked):
    assert mask_address(address) == masked


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("1234567") == "*******"
