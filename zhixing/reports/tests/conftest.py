"""Fixtures of the report tests: staff of the command centers at each level."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from zhixing.reports import services

OCCURRED = datetime.datetime(2026, 12, 4, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def staff(make_user) -> dict[str, Any]:
    """A commander at every court of the test tree, and a clerk at the basic court 粤0104."""
    people = {
        code: make_user(f"commander_{code}", code, "commander")
        for code in ("粤", "粤01", "粤03", "粤0104", "粤0105", "粤0303")
    }
    people["clerk"] = make_user("clerk_0104", "粤0104", "clerk")
    people["police"] = make_user("police_0104", "粤0104", "judicial_police")
    return people


def report_input(**values: Any) -> services.ReportInput:
    fields: dict[str, Any] = {
        "kind": "violent_resistance",
        "severity": "major",
        "title": "执行现场遭暴力抗拒",
        "occurred_at": OCCURRED,
        "place": "广州市越秀区某小区",
        "narrative": "被执行人持械阻挠查封。一名法警受轻伤。",
        "people_involved": "被执行人及其亲属三人",
        "measures_taken": "已报警。现场已控制。",
    }
    fields.update(values)
    return services.ReportInput(**fields)
