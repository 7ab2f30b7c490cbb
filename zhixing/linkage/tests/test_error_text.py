"""Rejections of items by agencies: stored with their reason code, shown in the user's language."""

from __future__ import annotations

import json

import httpx
import pytest
from django.test import Client
from django.utils import translation

from zhixing.cases.models import EnforcementCase
from zhixing.linkage import gateway
from zhixing.linkage.error_text import describe_error, rejection_error
from zhixing.linkage.models import GatewayItem
from zhixing.linkage.tests.helpers import NOW, FakeAgency

ICBC = "中国工商银行"


def test_unit_rejection_error_keeps_code():
    rejection = {
        "item_id": "x",
        "reason": "category not served",
        "reason_code": "category_not_served",
        "reason_text": "本单位不办理此类财产的查控",
    }
    assert rejection_error("bank-icbc", rejection) == (
        "rejected by bank-icbc [category_not_served]: 本单位不办理此类财产的查控"
    )
    # An agency without the optional fields, as before.
    assert rejection_error("bank-icbc", {"reason": "account closed"}) == (
        "rejected by bank-icbc: account closed"
    )
    assert rejection_error("bank-icbc", {"reason_code": "a b", "reason": "x"}) == (
        "rejected by bank-icbc: x"
    )
    assert rejection_error("bank-icbc", {}) == "rejected by bank-icbc: no reason given"


@pytest.mark.parametrize(
    ("stored", "english", "chinese"),
    [
        (
            "rejected by bank-icbc [category_not_served]: 本单位不办理此类财产的查控",
            f"Rejected by {ICBC}: the agency does not handle this category",
            f"被{ICBC}拒绝：该单位不办理此类财产的查控",
        ),
        (
            "rejected by bank-icbc [field_invalid]: 请求中 measure.amount 的值无效",
            f"Rejected by {ICBC}: 请求中 measure.amount 的值无效",
            f"被{ICBC}拒绝：请求中 measure.amount 的值无效",
        ),
        # A row stored before reason codes.
        (
            "rejected by bank-icbc: account closed",
            f"Rejected by {ICBC}: account closed",
            f"被{ICBC}拒绝：account closed",
        ),
        # A rejection that came back in a result file.
        (
            "bank-icbc answered with an error: rejected [deadline_passed]: 已超过办理期限",
            f"Rejected by {ICBC}: the deadline had passed",
            f"被{ICBC}拒绝：办理期限已过",
        ),
        (
            "bank-icbc answered with an error: rejected: category not served",
            f"Rejected by {ICBC}: category not served",
            f"被{ICBC}拒绝：category not served",
        ),
        (
            "bank-icbc answered with an error: timeout",
            f"{ICBC} answered with an error: timeout",
            f"{ICBC}答复出错：timeout",
        ),
        ("deadline passed", "The deadline passed before an answer came.", "期限届满，未收到答复。"),
        ("something else", "something else", "something else"),
    ],
)
def test_unit_describe_error(stored, english, chinese):
    with translation.override("en"):
        assert describe_error(stored, ICBC) == english
    with translation.override("zh-hans"):
        assert describe_error(stored, ICBC) == chinese


def test_describe_error_looks_up_agency(make_agency):
    make_agency("bank-icbc", name=ICBC)
    with translation.override("zh-hans"):
        assert describe_error("rejected by bank-icbc: x") == f"被{ICBC}拒绝：x"
        assert describe_error("rejected by bank-gone: x") == "被bank-gone拒绝：x"


def reject_first(rejected: str, **fields: str) -> FakeAgency:
    def reply(request):
        message = json.loads(request.content)
        ids = [item["item_id"] for item in message["items"]]
        return httpx.Response(
            202,
            json={
                "batch_id": message["batch_id"],
                "accepted": [item_id for item_id in ids if item_id != rejected],
                "rejected": [{"item_id": rejected, **fields}],
            },
        )

    return FakeAgency(reply=reply)


def inbox(user, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    response = client.get("/inquiry/inbox/")
    assert response.status_code == 200
    return response.content.decode()


def test_inbox_rejection_reason_in_chinese(make_agency, enqueue, case, make_user):
    bank = make_agency("bank-icbc", name=ICBC)
    officer = make_user("officer0104", "粤0104", "case_officer")
    EnforcementCase.objects.filter(pk=case.pk).update(case_officer=officer)
    new, old, _accepted = enqueue(bank.agency, 3)
    fake = reject_first(
        str(new.pk),
        reason="category not served",
        reason_code="category_not_served",
        reason_text="本单位不办理此类财产的查控",
    )
    for batch in gateway.form_batches(NOW, owner="w1"):
        gateway.dispatch_batch(batch, fake.adapter(), owner="w1", now=NOW)
    new.refresh_from_db()
    assert new.state == GatewayItem.State.FAILED
    assert new.last_error == (
        "rejected by bank-icbc [category_not_served]: 本单位不办理此类财产的查控"
    )
    # A row that an earlier version stored, with the agency's English reason.
    GatewayItem.objects.filter(pk=old.pk).update(
        state=GatewayItem.State.FAILED, last_error="rejected by bank-icbc: account closed"
    )

    chinese = inbox(officer, "zh-hans")
    assert f"被{ICBC}拒绝：该单位不办理此类财产的查控" in chinese
    assert f"被{ICBC}拒绝：account closed" in chinese
    assert "rejected by" not in chinese

    english = inbox(officer, "en")
    assert f"Rejected by {ICBC}: the agency does not handle this category" in english
    assert f"Rejected by {ICBC}: account closed" in english
