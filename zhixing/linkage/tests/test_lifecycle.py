"""Deadlines, lapsed leases and the worker pass that runs every step."""

from __future__ import annotations

import datetime
import json

import httpx
from django.core.management import call_command

from zhixing.audit.models import AuditRecord
from zhixing.linkage import gateway, keys, worker
from zhixing.linkage.models import GatewayBatch, GatewayItem
from zhixing.linkage.tests.helpers import NOW, FakeAgency

State = GatewayItem.State


def test_expire_overdue_tells_officer(bank, enqueue, fake_agency, courts):
    items = enqueue(bank.agency, 3)
    for batch in gateway.form_batches(NOW, owner="w1"):
        gateway.dispatch_batch(batch, fake_agency.adapter(), owner="w1", now=NOW)

    before = gateway.expire_overdue(NOW + datetime.timedelta(hours=71))
    expired = gateway.expire_overdue(NOW + datetime.timedelta(hours=72))
    again = gateway.expire_overdue(NOW + datetime.timedelta(hours=73))

    assert before == 0
    assert expired == 3
    assert again == 0
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.EXPIRED}
    records = AuditRecord.objects.filter(object_id__in=[str(item.pk) for item in items])
    assert records.count() == 3
    assert records.first().detail["event"] == "gateway_item_expired"


def test_expire_pending_item(bank, enqueue):
    enqueue(bank.agency, 1)

    assert gateway.expire_overdue(NOW + datetime.timedelta(days=3)) == 1


def test_answered_item_never_expires(bank, enqueue):
    (item,) = enqueue(bank.agency, 1)
    GatewayItem.objects.filter(pk=item.pk).update(state=State.ANSWERED)

    assert gateway.expire_overdue(NOW + datetime.timedelta(days=30)) == 0


def test_sweep_returns_lapsed_items(bank, enqueue, fake_agency, courts):
    enqueue(bank.agency, 3)
    assert len(gateway.form_batches(NOW, owner="crashed")) == 1
    lease_end = NOW + gateway.lease_length(bank.agency)

    early = gateway.sweep(lease_end - datetime.timedelta(seconds=1))
    swept = gateway.sweep(lease_end + datetime.timedelta(seconds=1))

    assert early == 0
    assert swept == 3
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.PENDING}
    assert GatewayBatch.objects.get().state == GatewayBatch.State.RETRY


def test_crashed_worker_loses_nothing(bank, enqueue, fake_agency, courts):
    enqueue(bank.agency, 3)
    (batch,) = gateway.form_batches(NOW, owner="crashed")
    later = NOW + gateway.lease_length(bank.agency) + datetime.timedelta(seconds=1)

    gateway.sweep(later)
    (again,) = gateway.form_batches(later, owner="w2")
    gateway.dispatch_batch(again, fake_agency.adapter(), owner="w2", now=later)
    # The crashed worker wakes up and tries to send its old claim.
    late = gateway.dispatch_batch(batch, fake_agency.adapter(), owner="crashed", now=later)

    assert again.pk == batch.pk
    assert late.acknowledged == 0
    assert len(fake_agency.requests) == 1
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 3


def test_run_gateway_once_sends_and_polls(bank, enqueue, courts):
    items = enqueue(bank.agency, 3)

    def reply(request):
        if request.method == "POST":
            message = json.loads(request.content)
            accepted = [item["item_id"] for item in message["items"]]
            return httpx.Response(202, json={"accepted": accepted, "rejected": []})
        answers = [{"item_id": str(item.pk), "status": "not_found"} for item in items]
        body = json.dumps({"agency": bank.agency.code, "answers": answers}).encode()
        return httpx.Response(200, content=body, headers=bank.sign(body))

    adapter = FakeAgency(reply=reply).adapter()
    result = worker.run_gateway_once(NOW, owner="w1", adapters={bank.agency.code: adapter})

    assert result.batches == 1
    assert result.acknowledged == 3
    assert result.answered == 3
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.ANSWERED}


def test_gateway_worker_once_command(bank, capsys):
    call_command("gateway-worker", "--once")

    assert "Swept 0, expired 0, sent 0 batch(es)" in capsys.readouterr().out


def test_manual_agency_items_wait_for_staff(make_agency, enqueue):
    agency = make_agency("manual-gd", adapter="manual").agency
    enqueue(agency, 3)

    result = worker.run_gateway_once(NOW, owner="w1")

    # The manual adapter accepts the batch at once; staff then type the answers in.
    assert result.batches == 1
    assert result.acknowledged == 3
    assert result.answered == 0
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.ACKNOWLEDGED}


def _accept_all(request):
    message = json.loads(request.content)
    accepted = [item["item_id"] for item in message["items"]]
    return httpx.Response(202, json={"accepted": accepted, "rejected": []})


def test_settle_later_writes_the_batch_alone(bank, enqueue, courts):
    enqueue(bank.agency, 3)
    (batch,) = gateway.form_batches(NOW, owner="w1")
    adapter = FakeAgency(reply=_accept_all).adapter()

    result = gateway.dispatch_batch(batch, adapter, owner="w1", now=NOW, settle_later=True)

    assert result.acknowledged == 3
    assert len(result.unsettled) == 3
    assert GatewayBatch.objects.get().state == GatewayBatch.State.ACKNOWLEDGED
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.SENT}

    assert gateway.settle_acknowledgements([(batch, result)]) == 3
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED, lease_owner="").count() == 3


def test_acknowledgement_in_capitals_is_recorded_at_once(bank, enqueue, courts):
    enqueue(bank.agency, 3)
    (batch,) = gateway.form_batches(NOW, owner="w1")

    def reply(request):
        message = json.loads(request.content)
        accepted = [item["item_id"].upper() for item in message["items"]]
        return httpx.Response(202, json={"accepted": accepted, "rejected": []})

    adapter = FakeAgency(reply=reply).adapter()
    result = gateway.dispatch_batch(batch, adapter, owner="w1", now=NOW, settle_later=True)

    # The ids do not match as text, so the items are read and marked one by one.
    assert result.acknowledged == 3
    assert result.unsettled == []
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 3


def test_awaited_agencies_through_claim_and_answer(bank, enqueue, fake_agency, courts):
    items = enqueue(bank.agency, 3)
    assert gateway.awaited_agencies() == set()

    (batch,) = gateway.form_batches(NOW, owner="w1")
    assert gateway.awaited_agencies() == {bank.agency.pk}

    gateway.dispatch_batch(batch, fake_agency.adapter(), owner="w1", now=NOW)
    assert gateway.awaited_agencies() == {bank.agency.pk}

    GatewayItem.objects.filter(pk__in=[item.pk for item in items]).update(state=State.ANSWERED)
    assert gateway.awaited_agencies() == set()


def test_settling_leaves_answered_items_answered(bank, enqueue, courts):
    items = enqueue(bank.agency, 3)
    (batch,) = gateway.form_batches(NOW, owner="w1")
    adapter = FakeAgency(reply=_accept_all).adapter()
    result = gateway.dispatch_batch(batch, adapter, owner="w1", now=NOW, settle_later=True)
    body = bank.answers_body([{"item_id": str(items[0].pk), "status": "not_found"}])
    gateway.receive_answers(bank.agency, body, bank.sign(body)[keys.SIGNATURE_HEADER], now=NOW)

    settled = gateway.settle_acknowledgements([(batch, result)])

    assert settled == 2
    assert GatewayItem.objects.get(pk=items[0].pk).state == State.ANSWERED
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 2


def test_partial_acknowledgement_is_recorded_at_once(bank, enqueue, courts):
    items = enqueue(bank.agency, 3)
    rejected = str(items[0].pk)

    def reply(request):
        message = json.loads(request.content)
        ids = [item["item_id"] for item in message["items"]]
        return httpx.Response(
            202,
            json={
                "accepted": [item_id for item_id in ids if item_id != rejected],
                "rejected": [{"item_id": rejected, "reason": "category not served"}],
            },
        )

    (batch,) = gateway.form_batches(NOW, owner="w1")
    adapter = FakeAgency(reply=reply).adapter()
    result = gateway.dispatch_batch(batch, adapter, owner="w1", now=NOW, settle_later=True)

    assert result.unsettled == []
    assert GatewayItem.objects.get(pk=rejected).state == State.FAILED
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 2


def test_sweep_settles_items_of_acknowledged_batch(bank, enqueue, courts):
    enqueue(bank.agency, 3)
    (batch,) = gateway.form_batches(NOW, owner="crashed")
    adapter = FakeAgency(reply=_accept_all).adapter()
    # The worker stops after the acknowledgement and before it settles the items.
    gateway.dispatch_batch(batch, adapter, owner="crashed", now=NOW, settle_later=True)
    later = NOW + gateway.lease_length(bank.agency) + datetime.timedelta(seconds=1)

    swept = gateway.sweep(later)

    assert swept == 0
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 3
    assert gateway.form_batches(later, owner="w2") == []


def _silent_agency(bank):
    def reply(request):
        if request.method == "POST":
            return _accept_all(request)
        body = json.dumps({"agency": bank.agency.code, "answers": []}).encode()
        return httpx.Response(200, content=body, headers=bank.sign(body))

    return FakeAgency(reply=reply).adapter()


def test_worker_settles_unanswered_items_later(bank, enqueue, courts, monkeypatch):
    enqueue(bank.agency, 3)
    adapters = {bank.agency.code: _silent_agency(bank)}

    first = worker.run_gateway_once(NOW, owner="w1", adapters=adapters)
    states_after_first = set(GatewayItem.objects.values_list("state", flat=True))
    monkeypatch.setattr(worker, "SETTLE_SECONDS", 0.0)
    worker.run_gateway_once(NOW, owner="w1", adapters=adapters)

    assert first.acknowledged == 3
    assert states_after_first == {State.SENT}
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED, lease_owner="").count() == 3


def test_stopping_worker_settles_everything(bank, enqueue, courts):
    enqueue(bank.agency, 3)
    worker.run_gateway_once(NOW, owner="w1", adapters={bank.agency.code: _silent_agency(bank)})

    settled = worker.settle_due(everything=True)

    assert settled == 3
    assert GatewayItem.objects.filter(state=State.ACKNOWLEDGED).count() == 3
