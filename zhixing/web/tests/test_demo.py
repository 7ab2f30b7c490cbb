"""The demo's accounts and its first reports and order between the command centers."""

from __future__ import annotations

import re
from pathlib import Path

from zhixing.command.models import Order
from zhixing.reports.models import SituationReport
from zhixing.web import demo


def test_demo_activity_created_once(courts):
    demo.create_demo_accounts()

    added = demo.create_demo_activity()
    again = demo.create_demo_activity()

    assert added == 3
    assert again == 0
    resistance = SituationReport.objects.get(kind="violent_resistance")
    assert sorted(d.court.code for d in resistance.deliveries.all()) == ["粤", "粤01"]
    assert resistance.deliveries.filter(acknowledged_at__isnull=False).count() == 1
    assert resistance.instructions.get().receipts.filter(replied_at__isnull=False).exists()
    assert sorted(r.court.code for r in Order.objects.get().recipients.all()) == [
        "粤0104",
        "粤0105",
    ]


def test_readme_lists_demo_accounts():
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`([a-z]+_[a-z]+)`", readme))

    assert {account.username for account in demo.DEMO_ACCOUNTS} <= listed
