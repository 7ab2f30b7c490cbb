"""Typed texts of orders and replies have a length limit, named in the error."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from zhixing.command import services
from zhixing.command.models import Order
from zhixing.command.tests.conftest import NOW, row_of

pytestmark = pytest.mark.django_db

TOO_LONG = "长" * (services.TEXT_MAX_CHARS + 1)


def test_long_task_rejected(issue):
    with pytest.raises(ValidationError) as raised:
        issue("粤01", ["粤0104"], task=TOO_LONG)

    assert str(services.TEXT_MAX_CHARS) in raised.value.message_dict["task"][0]
    assert not Order.objects.exists()


def test_long_reply_rejected(issue, commanders):
    order = issue("粤01", ["粤0104"])
    row = row_of(order, "粤0104")

    with pytest.raises(ValidationError) as raised:
        services.reply(commanders["粤0104"], row, TOO_LONG, now=NOW)

    assert "text" in raised.value.message_dict
    row.refresh_from_db()
    assert row.reply == ""
