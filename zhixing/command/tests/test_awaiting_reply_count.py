"""The home page's count of orders that the receiving court has yet to reply to."""

from __future__ import annotations

import pytest

from zhixing.command import services
from zhixing.command.tests.conftest import NOW, row_of

pytestmark = pytest.mark.django_db


def test_count_until_replied(issue, commanders):
    order = issue("粤01", ["粤0104", "粤0105"])
    issue("粤01", ["粤0104"], title="排查失信被执行人")

    assert services.awaiting_reply_count(commanders["粤0104"], 100) == 2
    assert services.awaiting_reply_count(commanders["粤0104"], 1) == 1
    assert services.awaiting_reply_count(commanders["粤0105"], 100) == 1
    # The issuing court replies to nothing.
    assert services.awaiting_reply_count(commanders["粤01"], 100) == 0

    services.reply(commanders["粤0104"], row_of(order, "粤0104"), "已清理12件。", now=NOW)

    assert services.awaiting_reply_count(commanders["粤0104"], 100) == 1
