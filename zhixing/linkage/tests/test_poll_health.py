"""Polls for answers in the agency's health and circuit, and the gateway page that shows them."""

from __future__ import annotations

import datetime
import json
import logging

import httpx
import pytest
from django.test import Client
from django.utils import translation

from zhixing.cases.models import EnforcementCase
from zhixing.linkage import circuit, gateway
from zhixing.linkage.models import AgencyHealth, AnswerCursor, GatewayItem
from zhixing.linkage.tests.helpers import NOW, FakeAgency
from zhixing.linkage.tests.test_answers import found, poll_reply

Circuit = AgencyHealth.Circuit
State = GatewayItem.State
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def sent_items(bank, enqueue, fake_agency, courts):
    items = enqueue(bank.agency, 3)
    for batch in gateway.form_batches(NOW, owner="w1"):
        gateway.dispatch_batch(batch, fake_agency.adapter(), owner="w1", now=NOW)
    return items


def health_of(bank) -> AgencyHealth:
    return AgencyHealth.objects.get(agency=bank.agency)


def unreadable_page(bank):
    """Serve a validly signed body that is not JSON."""

    def reply(request: httpx.Request) -> httpx.Response:
        body = b"\x00\xff not json"
        return httpx.Response(200, content=body, headers=bank.sign(body))

    return reply


def badly_signed(bank, sent_items):
    """Serve a page of answers whose signature does not match its body."""

    def reply(request: httpx.Request) -> httpx.Response:
        body = json.dumps({"agency": bank.agency.code, "answers": [found(sent_items[0])]})
        return httpx.Response(200, content=body.encode(), headers=bank.sign(b"another body"))

    return reply


def malformed_page(bank):
    """Serve a signed page whose answer has no valid status."""

    def reply(request: httpx.Request) -> httpx.Response:
        answer = {"item_id": "not a uuid", "status": "maybe"}
        body = json.dumps({"agency": bank.agency.code, "answers": [answer]}).encode()
        return httpx.Response(200, content=body, headers=bank.sign(body))

    return reply


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def poll(bank, reply, now=NOW) -> FakeAgency:
    fake = FakeAgency(reply=reply)
    gateway.poll_answers(bank.agency, fake.adapter(), now=now, force=True)
    return fake


# Health counters


@pytest.mark.parametrize("kind", ["unreadable", "bad signature", "malformed", "refused", "503"])
def test_failed_poll_counts_as_error(bank, sent_items, kind):
    replies = {
        "unreadable": unreadable_page(bank),
        "bad signature": badly_signed(bank, sent_items),
        "malformed": malformed_page(bank),
        "refused": refused,
        "503": lambda request: httpx.Response(503),
    }
    before = health_of(bank)

    poll(bank, replies[kind])

    after = health_of(bank)
    assert after.requests == before.requests + 1
    assert after.errors == before.errors + 1
    assert after.consecutive_failures == 1
    assert after.last_error
    assert AnswerCursor.objects.get(agency=bank.agency).cursor == ""
    assert not GatewayItem.objects.filter(state=State.ANSWERED).exists()


def test_successful_poll_counts_as_success(bank, sent_items):
    poll(bank, unreadable_page(bank))

    poll(bank, poll_reply(bank, {"": ([found(sent_items[0])], "c1")}), now=NOW + SECOND)

    health = health_of(bank)
    assert health.requests == 3
    assert health.errors == 1
    assert health.consecutive_failures == 0


def test_bad_signature_logged_once(bank, sent_items, caplog):
    caplog.set_level(logging.INFO, logger="zhixing")

    poll(bank, badly_signed(bank, sent_items))

    failures = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(failures) == 1
    message = failures[0].getMessage()
    assert bank.agency.code in message
    assert "signed" in message
    case = EnforcementCase.objects.get()
    for party in case.parties.all():
        assert party.name not in caplog.text
    assert "15230.55" not in caplog.text


# Circuit


def test_failing_polls_open_circuit(bank, sent_items):
    for index in range(circuit.FAILURE_THRESHOLD):
        poll(bank, badly_signed(bank, sent_items), now=NOW + index * SECOND)

    health = health_of(bank)
    assert health.circuit == Circuit.OPEN
    assert health.consecutive_failures == circuit.FAILURE_THRESHOLD
    assert health.opened_at == NOW + (circuit.FAILURE_THRESHOLD - 1) * SECOND


def test_open_circuit_skips_poll(bank, sent_items, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    poll(bank, unreadable_page(bank))

    fake = poll(bank, poll_reply(bank, {"": ([found(sent_items[0])], "c1")}), now=NOW + SECOND)

    assert fake.requests == []
    assert health_of(bank).circuit == Circuit.OPEN


def test_poll_after_cool_down_probes(bank, sent_items, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    poll(bank, unreadable_page(bank))
    later = NOW + circuit.COOL_DOWN + SECOND
    pages = {"": ([found(sent_items[0])], "c1"), "c1": ([], "")}

    fake = poll(bank, poll_reply(bank, pages), now=later)

    assert len(fake.requests) == 1
    assert health_of(bank).circuit == Circuit.CLOSED
    assert GatewayItem.objects.filter(state=State.ANSWERED).count() == 1


def test_failed_poll_probe_reopens(bank, sent_items, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    poll(bank, unreadable_page(bank))
    later = NOW + circuit.COOL_DOWN + SECOND

    poll(bank, badly_signed(bank, sent_items), now=later)

    health = health_of(bank)
    assert health.circuit == Circuit.OPEN
    assert health.opened_at == later


def test_poll_waits_for_batch_probe(bank, sent_items, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    poll(bank, unreadable_page(bank))
    later = NOW + circuit.COOL_DOWN + SECOND
    assert circuit.allowance(bank.agency, later, gateway.lease_length(bank.agency)) == 1

    fake = poll(bank, poll_reply(bank, {"": ([found(sent_items[0])], "")}), now=later)

    assert fake.requests == []
    assert health_of(bank).circuit == Circuit.HALF_OPEN


def test_answers_kept_across_open_circuit(bank, sent_items, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 2)
    pages = {"": ([found(item) for item in sent_items], "c1"), "c1": ([], "")}
    poll(bank, badly_signed(bank, sent_items))
    poll(bank, unreadable_page(bank), now=NOW + SECOND)
    later = NOW + circuit.COOL_DOWN + 2 * SECOND

    poll(bank, poll_reply(bank, pages), now=later)
    poll(bank, poll_reply(bank, pages), now=later + SECOND)

    assert GatewayItem.objects.filter(state=State.ANSWERED).count() == 3
    assert AnswerCursor.objects.get(agency=bank.agency).cursor == "c1"


# Gateway page


def test_gateway_page_shows_failing_polls(bank, sent_items, make_user):
    for index in range(circuit.FAILURE_THRESHOLD):
        poll(bank, badly_signed(bank, sent_items), now=NOW + index * SECOND)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user("cmd", "粤01", "commander"))

    page = client.get("/inquiry/gateway/").content.decode()

    row = page[page.index(f"<tr><td>{bank.agency.name}") :]
    row = row[: row.index("</tr>")]
    # One acknowledged batch and five failed polls.
    assert "83.3 %" in row
    assert "<td>Open</td>" in row


def test_circuit_labels_have_own_context(db):
    with translation.override("zh-hans"):
        labels = {str(label) for label in Circuit.labels}
        case_statuses = {str(label) for label in EnforcementCase.Status.labels}

    assert not labels & case_statuses


def test_empty_poll_writes_no_health(bank, sent_items):
    before = health_of(bank)

    poll(bank, poll_reply(bank, {"": ([], "")}))

    after = health_of(bank)
    assert after.requests == before.requests
    assert after.consecutive_failures == 0


def test_empty_poll_ends_failure_run(bank, sent_items):
    poll(bank, unreadable_page(bank))

    poll(bank, poll_reply(bank, {"": ([], "")}), now=NOW + SECOND)

    health = health_of(bank)
    assert health.consecutive_failures == 0
    assert health.errors == 1
