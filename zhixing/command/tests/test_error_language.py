"""Case-number errors of the orders API in the language of the request."""

from __future__ import annotations

import pytest

from zhixing.command.models import Order
from zhixing.command.tests.test_api import api_client, order_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def post_order(client, courts, case_number: str):
    body = order_body(courts, ["粤0104"], case_numbers=[case_number])
    return client.post("/api/v1/orders/", body, format="json")


def test_order_case_number_error_in_chinese(courts, commanders):
    client = api_client(commanders["粤01"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"

    response = post_order(client, courts, "(2024)粤0104执0号")

    assert response.status_code == 400
    assert response.json()["case_numbers"] == [
        "(2024)粤0104执0号 不是有效的案号（序号 '0' 必须是正整数），请更正或删除。"
    ]
    assert not Order.objects.exists()


def test_order_case_number_error_in_english(courts, commanders):
    client = api_client(commanders["粤01"])

    response = post_order(client, courts, "(2024)粤0104执0号")

    assert response.status_code == 400
    assert response.json()["case_numbers"] == [
        "(2024)粤0104执0号 is not a valid case number (sequence '0' must be a positive whole "
        "number); correct or remove it."
    ]
