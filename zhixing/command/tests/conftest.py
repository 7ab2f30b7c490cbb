"""Fixtures of the command tests: a commander at every court and a way to issue orders."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from zhixing.command import services
from zhixing.command.models import Order

# A fixed clock, so that deadlines, reminders and sign-in days do not depend on the test run.
NOW = datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC)


@pytest.fixture
def commanders(make_user: Callable[..., Any]) -> dict[str, Any]:
    """A commander of each court of the test tree, keyed by court code."""
    codes = ["粤", "粤01", "粤03", "粤0104", "粤0105", "粤0303"]
    return {code: make_user(f"commander{code}", code, "commander") for code in codes}


@pytest.fixture
def issue(courts: dict[str, Any], commanders: dict[str, Any]) -> Callable[..., Order]:
    """Issue an order from the commander of ``issuer`` to the courts of ``to``."""

    def make(issuer: str, to: list[str], **values: Any) -> Order:
        values.setdefault("title", "清理积案")
        values.setdefault("task", "报告本院执行积案清理进度。")
        values.setdefault("deadline", NOW + datetime.timedelta(days=3))
        values.setdefault("now", NOW)
        return services.issue_order(
            commanders[issuer], recipients=[courts[code] for code in to], **values
        )

    return make


def row_of(order: Order, court_code: str) -> Any:
    return order.recipients.get(court__code=court_code)


def aware(text: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(text), services.CHINA)
