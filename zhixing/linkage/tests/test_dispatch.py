"""Sending batches: acknowledgements, retries with backoff, permanent failures, the circuit."""

from __future__ import annotations

import base64
import datetime
import itertools
import json

import httpx
import pytest

from zhixing.audit.models import AuditRecord
from zhixing.linkage import circuit, gateway, keys
from zhixing.linkage.models import AgencyHealth, GatewayBatch, GatewayItem
from zhixing.linkage.tests.helpers import NOW, FakeAgency

State = GatewayItem.State
Circuit = AgencyHealth.Circuit


def send_all(now, fake, owner="w1"):
    results = []
    for batch in gateway.form_batches(now, owner=owner):
        results.append(gateway.dispatch_batch(batch, fake.adapter(), owner=owner, now=now))
    return results


def test_accepted_items_acknowledged(bank, enqueue, fake_agency, courts):
    enqueue(bank.agency, 3)

    (result,) = send_all(NOW, fake_agency)

    assert result.acknowledged == 3
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED, lease_owner="").count() == 3
    assert GatewayBatch.objects.get().state == GatewayBatch.State.ACKNOWLEDGED


def test_batch_message_signed_by_court(bank, enqueue, fake_agency, courts):
    items = enqueue(bank.agency, 3)

    send_all(NOW, fake_agency)

    (request,) = fake_agency.requests
    assert request.url.path == "/agencies/bank-icbc/v1/batches"
    assert keys.parse_signer(request.headers[keys.SIGNER_HEADER]) == "粤0104"
    assert keys.verify_court(
        courts["粤0104"],
        request.content,
        request.headers[keys.SIGNATURE_HEADER],
        request.headers[keys.CERTIFICATE_HEADER],
    )
    message = json.loads(request.content)
    assert message["protocol"] == "zhixing-gateway/1"
    assert message["court"] == {"code": "粤0104", "name": "广州市越秀区人民法院"}
    assert {item["item_id"] for item in message["items"]} == {str(item.pk) for item in items}
    assert message["items"][0]["subject"]["document_type"] == "resident_id"
    assert message["items"][0]["deadline"].endswith("+08:00")


def test_rejected_item_fails_with_reason(bank, enqueue, courts):
    items = enqueue(bank.agency, 3)
    rejected = str(items[0].pk)

    def reply(request):
        message = json.loads(request.content)
        ids = [item["item_id"] for item in message["items"]]
        return httpx.Response(
            202,
            json={
                "batch_id": message["batch_id"],
                "accepted": [item_id for item_id in ids if item_id != rejected],
                "rejected": [{"item_id": rejected, "reason": "category not served"}],
            },
        )

    send_all(NOW, FakeAgency(reply=reply))

    failed = GatewayItem.objects.get(pk=rejected)
    assert failed.state == State.FAILED
    assert "category not served" in failed.last_error
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 2
    assert AuditRecord.objects.filter(object_id=rejected).exists()


def test_item_missing_from_ack_retried_in_new_batch(bank, enqueue, courts):
    items = enqueue(bank.agency, 3)
    left_out = str(items[1].pk)

    def reply(request):
        message = json.loads(request.content)
        ids = [item["item_id"] for item in message["items"] if item["item_id"] != left_out]
        return httpx.Response(202, json={"accepted": ids, "rejected": []})

    send_all(NOW, FakeAgency(reply=reply))

    item = GatewayItem.objects.get(pk=left_out)
    assert item.state == State.PENDING
    assert item.batch is None
    assert item.attempts == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(503, json={"error": "unavailable", "detail": "outside service hours"}),
        httpx.Response(500, text="internal error"),
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(202, text="<html>garbage</html>"),
    ],
)
def test_transient_reply_retried_with_backoff(bank, enqueue, courts, response):
    enqueue(bank.agency, 3)

    (result,) = send_all(NOW, FakeAgency(reply=lambda request: response))

    assert result.retried == 3
    items = GatewayItem.objects.all()
    assert {item.state for item in items} == {State.PENDING}
    assert {item.attempts for item in items} == {1}
    # The first retry waits between half and all of the 2-second base.
    for item in items:
        assert NOW + datetime.timedelta(seconds=1) <= item.next_attempt_at
        assert item.next_attempt_at <= NOW + datetime.timedelta(seconds=2)
    # All items of the batch come back at the same moment, under the same batch id.
    assert len({item.next_attempt_at for item in items}) == 1
    assert len({item.batch_id for item in items}) == 1
    assert GatewayBatch.objects.get().state == GatewayBatch.State.RETRY


def _forged_ack(headers):
    def reply(request):
        message = json.loads(request.content)
        accepted = [item["item_id"] for item in message["items"]]
        return httpx.Response(202, json={"accepted": accepted, "rejected": []}, headers=headers)

    return reply


def _other_key_signature():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signature = Ed25519PrivateKey.generate().sign(b"{}")
    return keys.ED25519_PREFIX + base64.b64encode(signature).decode("ascii")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({keys.SIGNER_HEADER: "bank-icbc", keys.SIGNATURE_HEADER: ""}, id="unsigned"),
        pytest.param(
            {keys.SIGNER_HEADER: "bank-icbc", keys.SIGNATURE_HEADER: _other_key_signature()},
            id="wrong key",
        ),
        pytest.param(
            {keys.SIGNER_HEADER: "bank-boc", keys.SIGNATURE_HEADER: "ed25519:AAAA"},
            id="other signer",
        ),
    ],
)
def test_ack_with_invalid_signature_retried(bank, enqueue, courts, headers, caplog):
    enqueue(bank.agency, 3)

    (result,) = send_all(NOW, FakeAgency(reply=_forged_ack(headers)))

    assert result.acknowledged == 0
    assert result.retried == 3
    assert "signature does not verify" in result.error
    assert not GatewayItem.objects.filter(state=State.ACKNOWLEDGED).exists()
    assert "invalid signature" in caplog.text


def test_network_error_retried(bank, enqueue, courts):
    enqueue(bank.agency, 3)

    def reply(request):
        raise httpx.ConnectError("connection refused", request=request)

    (result,) = send_all(NOW, FakeAgency(reply=reply))

    assert result.retried == 3
    assert "could not be reached" in result.error


def test_timeout_retried(bank, enqueue, courts):
    enqueue(bank.agency, 3)

    def reply(request):
        raise httpx.ReadTimeout("read timed out", request=request)

    (result,) = send_all(NOW, FakeAgency(reply=reply))

    assert result.retried == 3
    assert "timed out" in result.error


def test_retry_after_longer_than_backoff(bank, enqueue, courts):
    enqueue(bank.agency, 3)
    response = httpx.Response(429, headers={"Retry-After": "120"})

    send_all(NOW, FakeAgency(reply=lambda request: response))

    item = GatewayItem.objects.first()
    assert item.next_attempt_at == NOW + datetime.timedelta(seconds=120)


def test_retry_resends_same_batch_id(bank, enqueue, courts):
    enqueue(bank.agency, 3)
    replies = iter([httpx.Response(503), None])
    fake = FakeAgency()
    fake.reply = lambda request: next(replies) or FakeAgency()(request)

    send_all(NOW, fake)
    send_all(NOW + datetime.timedelta(seconds=3), fake)

    first, second = fake.batches()
    assert first["batch_id"] == second["batch_id"]
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 3


def test_backoff_grows_until_failed(bank, enqueue, courts, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 100)
    enqueue(bank.agency, 3)
    fake = FakeAgency(reply=lambda request: httpx.Response(503))
    now = NOW
    waits = []

    for _attempt in range(gateway.MAX_ATTEMPTS):
        send_all(now, fake)
        item = GatewayItem.objects.first()
        if item.state == State.FAILED:
            break
        waits.append(item.next_attempt_at - now)
        now = item.next_attempt_at

    assert len(fake.requests) == gateway.MAX_ATTEMPTS
    assert all(later > earlier / 2 for earlier, later in itertools.pairwise(waits))
    assert waits[-1] >= datetime.timedelta(seconds=8)
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.FAILED}
    assert AuditRecord.objects.filter(object_type="linkage.gatewayitem").count() == 3


def test_permanent_reply_fails_items(bank, enqueue, courts):
    enqueue(bank.agency, 3)
    response = httpx.Response(400, json={"error": "invalid_request", "detail": "bad item"})

    (result,) = send_all(NOW, FakeAgency(reply=lambda request: response))

    assert result.failed == 3
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.FAILED}
    assert "HTTP 400" in GatewayItem.objects.first().last_error
    assert GatewayBatch.objects.get().state == GatewayBatch.State.FAILED


def test_dispatch_twice_sends_once(bank, enqueue, fake_agency, courts):
    enqueue(bank.agency, 3)
    (batch,) = gateway.form_batches(NOW, owner="w1")

    gateway.dispatch_batch(batch, fake_agency.adapter(), owner="w1", now=NOW)
    second = gateway.dispatch_batch(batch, fake_agency.adapter(), owner="w1", now=NOW)

    assert len(fake_agency.requests) == 1
    assert second.acknowledged == 0


def test_other_owner_does_not_send(bank, enqueue, fake_agency, courts):
    enqueue(bank.agency, 3)
    (batch,) = gateway.form_batches(NOW, owner="w1")

    gateway.dispatch_batch(batch, fake_agency.adapter(), owner="w2", now=NOW)

    assert fake_agency.requests == []


# Circuit breaker


def fail_batches(agency_keys, enqueue, count, now):
    fake = FakeAgency(reply=lambda request: httpx.Response(503))
    for _index in range(count):
        enqueue(agency_keys.agency, 3, now=now)
        send_all(now, fake)
    return fake


def test_circuit_opens_after_threshold(make_agency, enqueue, courts, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 2)
    bank = make_agency(batch_size=1)
    fail_batches(bank, enqueue, 1, NOW)
    health = AgencyHealth.objects.get(agency=bank.agency)
    assert health.circuit == Circuit.OPEN
    assert health.consecutive_failures >= 2
    assert health.opened_at == NOW


def test_open_circuit_forms_no_batch(make_agency, enqueue, courts, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    bank = make_agency()
    fail_batches(bank, enqueue, 1, NOW)

    later = NOW + datetime.timedelta(seconds=30)

    assert gateway.form_batches(later, owner="w1") == []


def test_half_open_lets_one_batch_through(make_agency, enqueue, courts, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    bank = make_agency(batch_size=1)
    fail_batches(bank, enqueue, 1, NOW)
    after_cool_down = NOW + circuit.COOL_DOWN + datetime.timedelta(minutes=5)

    batches = gateway.form_batches(after_cool_down, owner="w1")

    assert len(batches) == 1
    assert AgencyHealth.objects.get(agency=bank.agency).circuit == Circuit.HALF_OPEN
    assert gateway.form_batches(after_cool_down, owner="w2") == []


def test_probe_success_closes_circuit(make_agency, enqueue, courts, monkeypatch, fake_agency):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    bank = make_agency()
    fail_batches(bank, enqueue, 1, NOW)
    after_cool_down = NOW + circuit.COOL_DOWN + datetime.timedelta(minutes=5)

    send_all(after_cool_down, fake_agency)

    health = AgencyHealth.objects.get(agency=bank.agency)
    assert health.circuit == Circuit.CLOSED
    assert health.consecutive_failures == 0
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 3


def test_probe_failure_reopens_circuit(make_agency, enqueue, courts, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    bank = make_agency()
    fake = fail_batches(bank, enqueue, 1, NOW)
    after_cool_down = NOW + circuit.COOL_DOWN + datetime.timedelta(minutes=5)

    send_all(after_cool_down, fake)

    health = AgencyHealth.objects.get(agency=bank.agency)
    assert health.circuit == Circuit.OPEN
    assert health.opened_at == after_cool_down


def test_lost_probe_allows_new_probe(make_agency, enqueue, courts, monkeypatch):
    monkeypatch.setattr(circuit, "FAILURE_THRESHOLD", 1)
    bank = make_agency(batch_size=1)
    fail_batches(bank, enqueue, 1, NOW)
    probe_time = NOW + circuit.COOL_DOWN + datetime.timedelta(minutes=5)
    assert len(gateway.form_batches(probe_time, owner="crashed")) == 1
    after_lease = probe_time + gateway.lease_length(bank.agency) + datetime.timedelta(seconds=1)

    gateway.sweep(after_lease)

    assert len(gateway.form_batches(after_lease, owner="w2")) == 1


def test_health_counts_requests(bank, enqueue, courts, fake_agency):
    enqueue(bank.agency, 3)
    send_all(NOW, fake_agency)
    enqueue(bank.agency, 3, now=NOW + datetime.timedelta(minutes=1))
    send_all(NOW + datetime.timedelta(minutes=1), FakeAgency(reply=lambda r: httpx.Response(502)))

    health = AgencyHealth.objects.get(agency=bank.agency)
    assert health.requests == 2
    assert health.errors == 1
    assert "HTTP 502" in health.last_error
