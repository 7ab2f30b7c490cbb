"""Answers by callback and by polling: matching, duplicates, late and unknown ids, signatures."""

from __future__ import annotations

import datetime
import json
import uuid

import httpx
import pytest
from django.test import Client

from zhixing.linkage import gateway, keys
from zhixing.linkage.models import AnswerCursor, GatewayItem
from zhixing.linkage.tests.helpers import NOW, FakeAgency

State = GatewayItem.State
URL = "/api/gateway/v1/answers"


@pytest.fixture
def sent_items(bank, enqueue, fake_agency, courts):
    items = enqueue(bank.agency, 3)
    for batch in gateway.form_batches(NOW, owner="w1"):
        gateway.dispatch_batch(batch, fake_agency.adapter(), owner="w1", now=NOW)
    return items


def found(item, balance="15230.55"):
    return {
        "item_id": str(item.pk),
        "status": "found",
        "answered_at": "2026-12-04T16:31:01+08:00",
        "records": [{"type": "bank_account", "balance": balance, "currency": "CNY"}],
    }


def test_found_answer_stored(bank, sent_items):
    body = bank.answers_body([found(sent_items[0])])

    receipt = gateway.receive_answers(bank.agency, body, bank.sign(body)[keys.SIGNATURE_HEADER])

    item = GatewayItem.objects.get(pk=sent_items[0].pk)
    assert receipt.received == [str(item.pk)]
    assert item.state == State.ANSWERED
    assert item.answer["records"][0]["balance"] == "15230.55"
    assert item.answered_at == datetime.datetime(2026, 12, 4, 8, 31, 1, tzinfo=datetime.UTC)


def test_duplicate_answer_changes_nothing(bank, sent_items):
    first = bank.answers_body([found(sent_items[0])])
    repeat = bank.answers_body([found(sent_items[0], balance="0.00")])

    gateway.receive_answers(bank.agency, first, bank.sign(first)[keys.SIGNATURE_HEADER])
    receipt = gateway.receive_answers(bank.agency, repeat, bank.sign(repeat)[keys.SIGNATURE_HEADER])

    item = GatewayItem.objects.get(pk=sent_items[0].pk)
    assert receipt.received == [str(item.pk)]
    assert receipt.ignored == 1
    assert item.answer["records"][0]["balance"] == "15230.55"


def test_late_answer_after_expiry_ignored(bank, sent_items):
    gateway.expire_overdue(NOW + datetime.timedelta(days=4))
    body = bank.answers_body([found(sent_items[0])])

    receipt = gateway.receive_answers(bank.agency, body, bank.sign(body)[keys.SIGNATURE_HEADER])

    item = GatewayItem.objects.get(pk=sent_items[0].pk)
    assert receipt.received == [str(item.pk)]
    assert item.state == State.EXPIRED
    assert item.answer is None


def test_unknown_item_listed(bank, sent_items, make_agency):
    other = make_agency("bank-abc")
    stranger = str(uuid.uuid4())
    body = bank.answers_body(
        [{"item_id": stranger, "status": "not_found"}, {"item_id": "nonsense", "status": "found"}]
    )
    # An item of another agency is unknown to this one.
    foreign = other.answers_body([found(sent_items[1])])

    receipt = gateway.receive_answers(bank.agency, body, bank.sign(body)[keys.SIGNATURE_HEADER])
    foreign_receipt = gateway.receive_answers(
        other.agency, foreign, other.sign(foreign)[keys.SIGNATURE_HEADER]
    )

    assert sorted(receipt.unknown) == sorted([stranger, "nonsense"])
    assert foreign_receipt.unknown == [str(sent_items[1].pk)]
    assert not GatewayItem.objects.filter(state=State.ANSWERED).exists()


def test_error_answer_goes_back_to_retry(bank, sent_items):
    body = bank.answers_body(
        [{"item_id": str(sent_items[0].pk), "status": "error", "error": "system busy"}]
    )

    gateway.receive_answers(bank.agency, body, bank.sign(body)[keys.SIGNATURE_HEADER], now=NOW)

    item = GatewayItem.objects.get(pk=sent_items[0].pk)
    assert item.state == State.PENDING
    assert item.attempts == 1
    assert item.batch is None
    assert "system busy" in item.last_error
    assert item.next_attempt_at > NOW


def test_bad_signature_stores_nothing(bank, sent_items, make_agency):
    impostor = make_agency("bank-fake")
    body = bank.answers_body([found(sent_items[0])])

    with pytest.raises(gateway.InvalidSignatureError):
        gateway.receive_answers(bank.agency, body, impostor.sign(body)[keys.SIGNATURE_HEADER])

    assert GatewayItem.objects.get(pk=sent_items[0].pk).state == State.ACKNOWLEDGED


def test_body_naming_other_agency_rejected(bank, sent_items):
    body = json.dumps({"agency": "bank-abc", "answers": [found(sent_items[0])]}).encode()

    with pytest.raises(gateway.InvalidMessageError):
        gateway.receive_answers(bank.agency, body, bank.sign(body)[keys.SIGNATURE_HEADER])

    assert GatewayItem.objects.get(pk=sent_items[0].pk).state == State.ACKNOWLEDGED


def test_answer_before_ack_kept(bank, enqueue, courts):
    """An answer that overtakes the acknowledgement is not undone by it."""
    (item,) = enqueue(bank.agency, 1)
    (batch,) = gateway.form_batches(NOW + datetime.timedelta(seconds=5), owner="w1")
    body = bank.answers_body([found(item)])

    def reply(request):
        gateway.receive_answers(bank.agency, body, bank.sign(body)[keys.SIGNATURE_HEADER])
        return httpx.Response(202, json={"accepted": [str(item.pk)], "rejected": []})

    gateway.dispatch_batch(batch, FakeAgency(reply=reply).adapter(), owner="w1", now=NOW)

    assert GatewayItem.objects.get(pk=item.pk).state == State.ANSWERED


# The callback endpoint


@pytest.fixture
def client(settings):
    settings.ROOT_URLCONF = "zhixing.linkage.tests.urls"
    return Client(enforce_csrf_checks=True)


def post(client, body, headers):
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_callback_stores_answers(client, bank, sent_items):
    body = bank.answers_body([found(sent_items[0]), {"item_id": str(uuid.uuid4()), "status": "x"}])

    response = post(client, body, bank.sign(body))

    assert response.status_code == 200
    assert response.json()["received"] == [str(sent_items[0].pk)]
    assert len(response.json()["unknown"]) == 1
    assert GatewayItem.objects.get(pk=sent_items[0].pk).state == State.ANSWERED


def test_callback_bad_signature_401(client, bank, sent_items, make_agency):
    impostor = make_agency("bank-fake")
    body = bank.answers_body([found(sent_items[0])])
    headers = {**bank.sign(body), keys.SIGNATURE_HEADER: impostor.sign(body)[keys.SIGNATURE_HEADER]}

    response = post(client, body, headers)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert GatewayItem.objects.get(pk=sent_items[0].pk).state == State.ACKNOWLEDGED


def test_callback_unknown_signer_401(client, bank, sent_items):
    body = bank.answers_body([found(sent_items[0])])
    headers = {**bank.sign(body), keys.SIGNER_HEADER: "bank-nobody"}

    response = post(client, body, headers)

    assert response.status_code == 401


def test_callback_malformed_body_400(client, bank):
    body = b"not json"

    response = post(client, body, bank.sign(body))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_callback_get_not_allowed(client):
    assert client.get(URL).status_code == 405


# Polling


def poll_reply(bank, pages):
    """Serve ``pages`` (cursor -> (answers, next cursor)) signed by the agency."""

    def reply(request):
        cursor = request.url.params.get("after", "")
        answers, next_cursor = pages[cursor]
        body = json.dumps(
            {"agency": bank.agency.code, "answers": answers, "next_cursor": next_cursor}
        ).encode()
        return httpx.Response(200, content=body, headers=bank.sign(body))

    return reply


def test_poll_stores_answers_and_cursor(bank, sent_items, courts):
    fake = FakeAgency(reply=poll_reply(bank, {"": ([found(sent_items[0])], "c1")}))

    stored = gateway.poll_answers(bank.agency, fake.adapter(), now=NOW)

    assert stored == 1
    (request,) = fake.requests
    assert request.url.path == "/agencies/bank-icbc/v1/answers"
    assert request.url.params["court"] == "粤0104"
    assert keys.verify_court(courts["粤0104"], b"", request.headers[keys.SIGNATURE_HEADER])
    assert AnswerCursor.objects.get(agency=bank.agency).cursor == "c1"


def test_poll_resumes_from_cursor(bank, sent_items):
    pages = {"": ([found(sent_items[0])], "c1"), "c1": ([found(sent_items[1])], "c2")}
    fake = FakeAgency(reply=poll_reply(bank, pages))

    gateway.poll_answers(bank.agency, fake.adapter(), now=NOW)
    gateway.poll_answers(bank.agency, fake.adapter(), now=NOW + datetime.timedelta(minutes=1))

    assert [request.url.params.get("after") for request in fake.requests] == [None, "c1"]
    assert GatewayItem.objects.filter(state=State.ANSWERED).count() == 2


def test_poll_waits_for_interval(bank, sent_items):
    fake = FakeAgency(reply=poll_reply(bank, {"": ([], "")}))

    gateway.poll_answers(bank.agency, fake.adapter(), now=NOW)
    gateway.poll_answers(bank.agency, fake.adapter(), now=NOW + datetime.timedelta(seconds=1))

    assert len(fake.requests) == 1


def test_poll_unsigned_reply_stores_nothing(bank, sent_items):
    def reply(request):
        body = json.dumps({"agency": "bank-icbc", "answers": [found(sent_items[0])]}).encode()
        return httpx.Response(200, content=body)

    gateway.poll_answers(bank.agency, FakeAgency(reply=reply).adapter(), now=NOW)

    assert not GatewayItem.objects.filter(state=State.ANSWERED).exists()
    assert AnswerCursor.objects.get(agency=bank.agency).cursor == ""
