"""Liftings that do not reach border control: release items that fail or expire in the gateway,
liftings the agency rejects, lifting such a restriction again, and the closing guard meanwhile."""

from __future__ import annotations

import datetime
import importlib
import threading

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from zhixing import timers
from zhixing.approvals import lifting, services
from zhixing.approvals.models import Application, LiftingNotice, State, Step
from zhixing.approvals.tests.test_api import api_client, take
from zhixing.approvals.tests.test_lifting import LIFT_REASON, close, refusal
from zhixing.approvals.tests.test_lifting_release import (
    answer_release,
    registered_restriction,
    release_items,
)
from zhixing.audit.models import AuditRecord
from zhixing.events.models import Event
from zhixing.linkage import gateway
from zhixing.linkage.models import Agency, GatewayItem

pytestmark = pytest.mark.django_db

Action = services.Action
AGENCY_ERROR = "border-control system under maintenance"
REJECTED = {"type": "release", "result": "rejected", "reason": "no such restriction on file"}
RELEASED = {"type": "release", "released_on": "2026-12-05", "result": "done"}


def lifted(staff, case, police: Agency) -> tuple[Application, GatewayItem]:
    """Return an exit restriction lifted through the gateway, with its pending release item."""
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    application.refresh_from_db()
    return application, item


def expire(item: GatewayItem) -> GatewayItem:
    """Let the gateway expire ``item`` for want of an answer before its deadline."""
    assert gateway.expire_overdue(now=item.deadline + datetime.timedelta(seconds=1)) == 1
    item.refresh_from_db()
    assert item.state == GatewayItem.State.EXPIRED
    return item


def fail(police: Agency, item: GatewayItem) -> GatewayItem:
    """Let the gateway fail ``item``: the agency's error answer uses up its last attempt."""
    GatewayItem.objects.filter(pk=item.pk).update(
        state=GatewayItem.State.ACKNOWLEDGED, attempts=gateway.MAX_ATTEMPTS - 1
    )
    gateway.apply_answers(
        police, [{"item_id": str(item.pk), "status": "error", "error": AGENCY_ERROR}]
    )
    item.refresh_from_db()
    assert item.state == GatewayItem.State.FAILED
    return item


def failure_steps(application: Application) -> list[Step]:
    return list(application.steps.filter(kind=Step.Kind.LIFTING_FAILED))


def kinds(application: Application) -> list[str]:
    return list(application.steps.order_by("id").values_list("kind", flat=True))


# Recording a release item that failed or expired


def test_sync_records_expired_release(staff, case, police):
    application, item = lifted(staff, case, police)
    expire(item)
    before = Event.objects.filter(kind="approvals.lifting_failed").count()

    assert services.sync_lifting_items() == 1

    [step] = failure_steps(application)
    assert step.court == application.deciding_court
    assert step.actor is None
    assert step.comment == "deadline passed"
    assert step.detail["border_control_release"] == {
        "result": "failed",
        "item_id": str(item.pk),
        "gateway_state": "expired",
    }
    events = Event.objects.filter(kind="approvals.lifting_failed")
    assert events.count() - before == 3
    assert {event.court.code for event in events} == {"粤0104", "粤01", "粤"}
    assert {event.severity for event in events} == {Event.Severity.MAJOR}
    [record] = AuditRecord.objects.filter(detail__event="border_control_lifting_failed")
    assert record.object_id == str(application.pk)
    assert record.detail["item_id"] == str(item.pk)
    assert record.detail["gateway_state"] == "expired"


def test_sync_records_failed_release(staff, case, police):
    application, item = lifted(staff, case, police)
    fail(police, item)

    assert services.sync_lifting_items() == 1

    [step] = failure_steps(application)
    assert AGENCY_ERROR in step.comment
    assert step.comment == item.last_error
    assert step.detail["border_control_release"]["gateway_state"] == "failed"


def test_sync_records_each_failure_once(staff, case, police):
    application, item = lifted(staff, case, police)
    expire(item)

    first = services.sync_lifting_items()
    second = services.sync_lifting_items()

    assert (first, second) == (1, 0)
    assert len(failure_steps(application)) == 1
    assert AuditRecord.objects.filter(detail__event="border_control_lifting_failed").count() == 1


def test_sync_leaves_open_and_answered_items(staff, case, police):
    application, item = lifted(staff, case, police)

    assert services.sync_lifting_items() == 0
    answer_release(police, item, REJECTED)
    assert services.sync_lifting_items() == 0

    assert failure_steps(application) == []


def test_sync_runs_as_periodic_check(staff, case, police):
    application, item = lifted(staff, case, police)
    expire(item)

    results = timers.run_due(force=True)

    assert "approvals.lifting_sync" in timers.registered()
    assert results["approvals.lifting_sync"] == 1
    assert len(failure_steps(application)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_syncs_record_once(staff, case, police):
    application, item = lifted(staff, case, police)
    expire(item)
    barrier = threading.Barrier(4)
    counts: list[int] = []

    def sync() -> None:
        try:
            barrier.wait()
            counts.append(services.sync_lifting_items())
        finally:
            connection.close()

    threads = [threading.Thread(target=sync) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(counts) == [0, 0, 0, 1]
    assert len(failure_steps(application)) == 1


# Lifting again


def test_rejected_lifting_lifted_again(staff, case, police):
    application, first_item = lifted(staff, case, police)
    answer_release(police, first_item, REJECTED)
    first_notice = LiftingNotice.objects.get(item_id=first_item.pk)
    assert Action.LIFT in services.allowed_actions(staff["commander00"], application)

    step = services.lift(staff["commander00"], application, comment=LIFT_REASON)

    application.refresh_from_db()
    assert application.state == State.LIFTED
    assert step.kind == Step.Kind.LIFTED
    second_item = GatewayItem.objects.get(action="release", state=GatewayItem.State.PENDING)
    assert second_item.pk != first_item.pk
    notices = list(LiftingNotice.objects.filter(application=application).order_by("id"))
    assert [notice.item_id for notice in notices] == [first_item.pk, second_item.pk]
    assert notices[0].sha256 == first_notice.sha256
    assert notices[1].reference == application.border_control_item
    assert step.detail["border_control_release"]["item_id"] == str(second_item.pk)
    assert step.detail["border_control_release"]["document_sha256"] == notices[1].sha256
    assert lifting.lifting_outcome(application) == lifting.Outcome.AWAITING
    assert Action.LIFT not in services.allowed_actions(staff["commander00"], application)


def test_second_release_carries_new_notice(staff, case, police):
    application, first_item = lifted(staff, case, police)
    answer_release(police, first_item, REJECTED)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    second = LiftingNotice.objects.filter(application=application).order_by("-id").first()
    entries = [{"item_id": str(second.item_id), "action": "release"}]

    gateway.measure_fields(entries)

    [entry] = entries
    assert entry["measure"]["reference"] == str(application.border_control_item)
    assert entry["document"]["sha256"] == second.sha256


def test_expired_lifting_lifted_again(staff, case, police):
    application, item = lifted(staff, case, police)
    expire(item)
    assert Action.LIFT in services.allowed_actions(staff["commander00"], application)

    # The periodic sync has not run: lifting again records the failure first.
    services.lift(staff["commander00"], application, comment=LIFT_REASON)

    assert kinds(application)[-2:] == [Step.Kind.LIFTING_FAILED, Step.Kind.LIFTED]
    [failure] = failure_steps(application)
    assert failure.detail["border_control_release"]["item_id"] == str(item.pk)
    assert services.sync_lifting_items() == 0
    assert len(release_items()) == 2
    assert LiftingNotice.objects.filter(application=application).count() == 2


def test_failed_lifting_lifted_again_after_sync(staff, case, police):
    application, item = lifted(staff, case, police)
    fail(police, item)
    services.sync_lifting_items()

    services.lift(staff["commander00"], application, comment=LIFT_REASON)

    assert kinds(application)[-2:] == [Step.Kind.LIFTING_FAILED, Step.Kind.LIFTED]
    assert len(failure_steps(application)) == 1


def test_answer_to_second_release_recorded(staff, case, police):
    application, first_item = lifted(staff, case, police)
    answer_release(police, first_item, REJECTED)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    second_item = GatewayItem.objects.get(action="release", state=GatewayItem.State.PENDING)

    answer_release(police, second_item, RELEASED)

    answers = list(application.steps.filter(kind=Step.Kind.LIFTING_ANSWERED).order_by("id"))
    assert [step.detail["border_control_release"]["result"] for step in answers] == [
        "rejected",
        "done",
    ]
    assert answers[1].detail["border_control_release"]["item_id"] == str(second_item.pk)
    assert lifting.lifting_outcome(application) == lifting.Outcome.RELEASED
    assert Action.LIFT not in services.allowed_actions(staff["commander00"], application)


def test_released_lifting_not_lifted_again(staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, RELEASED)

    with pytest.raises(ValidationError, match="not possible now"):
        services.lift(staff["commander00"], application, comment=LIFT_REASON)

    assert LiftingNotice.objects.filter(application=application).count() == 1


def test_awaiting_lifting_not_lifted_again(staff, case, police):
    application, _item = lifted(staff, case, police)

    assert Action.LIFT not in services.allowed_actions(staff["commander00"], application)
    with pytest.raises(ValidationError, match="not possible now"):
        services.lift(staff["commander00"], application, comment=LIFT_REASON)


@pytest.mark.parametrize("name", ["head0104", "officer0104", "head01", "commander01"])
def test_only_high_court_lifts_again(staff, case, police, name):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)

    assert Action.LIFT not in services.allowed_actions(staff[name], application)
    with pytest.raises(PermissionDenied):
        services.lift(staff[name], application, comment=LIFT_REASON)


def test_lapsed_restriction_not_lifted_again(staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)
    after_end = datetime.datetime.combine(
        application.period_end + datetime.timedelta(days=1), datetime.time(4), datetime.UTC
    )

    with pytest.raises(ValidationError, match="has lapsed"):
        services.lift(staff["commander00"], application, comment=LIFT_REASON, now=after_end)


def test_lifting_again_by_hand_when_gateway_cannot(staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)
    police.actions = ["query", "restrict_exit"]
    police.save()

    step = services.lift(staff["commander00"], application, comment=LIFT_REASON)

    assert step.detail["border_control_release"]["sent"] is False
    assert len(release_items()) == 1
    assert lifting.lifting_outcome(application) == lifting.Outcome.RECORDED


# The closing guard


def test_rejected_lifting_keeps_case_open(staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)

    message = refusal(case)

    assert f"application #{application.pk}" in message
    assert "Exit restrictions in force" in message
    assert "Ask 广东省高级人民法院 to lift them" in message
    assert "not yet released by border control" not in message


@pytest.mark.parametrize("synced", [False, True])
def test_expired_lifting_keeps_case_open(staff, case, police, synced):
    application, item = lifted(staff, case, police)
    expire(item)
    if synced:
        services.sync_lifting_items()

    message = refusal(case)

    assert f"application #{application.pk}" in message
    assert "Exit restrictions in force" in message


def test_lifted_again_and_released_lets_case_close(staff, case, police):
    application, item = lifted(staff, case, police)
    fail(police, item)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    second_item = GatewayItem.objects.get(action="release", state=GatewayItem.State.PENDING)
    assert "not yet released by border control" in refusal(case)

    answer_release(police, second_item, RELEASED)

    assert close(case).is_closed


def test_lifted_again_by_hand_lets_case_close(staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)
    police.actions = ["query", "restrict_exit"]
    police.save()
    services.lift(staff["commander00"], application, comment=LIFT_REASON)

    assert close(case).is_closed


# Pages and the API


def test_page_shows_failure_and_offers_lift(client, staff, case, police):
    application, item = lifted(staff, case, police)
    expire(item)
    services.sync_lifting_items()
    client.force_login(staff["commander00"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    page = client.get(f"/approvals/{application.pk}/").content.decode()

    assert 'data-testid="step-lifting_failed"' in page
    assert 'data-testid="lifting-failed" data-state="expired"' in page
    assert "lifting request expired without an answer" in page
    assert 'data-testid="action-lift"' in page
    assert 'data-testid="lift-again"' in page
    assert 'data-testid="lift-release"' in page


def test_page_offers_lift_after_rejection(client, staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)
    client.force_login(staff["commander00"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert 'data-testid="lifting-answer" data-result="rejected"' in page
    assert 'data-testid="action-lift"' in page
    assert 'data-testid="lift-again"' in page

    client.post(f"/approvals/{application.pk}/step/", {"action": "lift", "comment": LIFT_REASON})

    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert page.count('data-testid="step-lifted"') == 2
    assert 'data-testid="action-lift"' not in page
    assert 'data-testid="lift-again"' not in page


def test_page_without_lift_rights_hides_offer(client, staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)
    client.force_login(staff["officer0104"])

    page = client.get(f"/approvals/{application.pk}/").content.decode()

    assert 'data-testid="action-lift"' not in page
    assert 'data-testid="lift-again"' not in page


def test_downloads_serve_newest_notice(client, staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    first, second = LiftingNotice.objects.filter(application=application).order_by("id")
    assert first.sha256 != second.sha256
    client.force_login(staff["officer0104"])

    page = client.get(f"/approvals/{application.pk}/").content.decode()
    download = client.get(f"/approvals/{application.pk}/lifting-notice/")
    api_download = api_client(staff["officer0104"]).get(
        f"/api/v1/approvals/{application.pk}/lifting-notice/"
    )

    assert second.sha256[:14] in page
    assert first.sha256[:14] not in page
    assert download.status_code == 200
    assert download.content == bytes(second.pdf)
    assert api_download.status_code == 200
    assert api_download.content == bytes(second.pdf)
    reads = AuditRecord.objects.filter(action="read_personal", detail__purpose="lifting notice")
    assert {record.detail["sha256"] for record in reads} == {second.sha256}


def test_api_lifts_again_after_failure(staff, case, police):
    application, item = lifted(staff, case, police)
    expire(item)
    services.sync_lifting_items()
    client = api_client(staff["commander00"])

    detail = client.get(f"/api/v1/approvals/{application.pk}/").json()
    response = take(staff["commander00"], application.pk, "lift", LIFT_REASON)

    assert [entry["action"] for entry in detail["actions"]] == ["lift", "comment"]
    failed = next(step for step in detail["steps"] if step["kind"] == "lifting_failed")
    assert failed["border_control_release"]["gateway_state"] == "expired"
    assert failed["comment"] == "deadline passed"
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "lifted"
    assert response.json()["steps"][-1]["kind"] == "lifted"


# Answers stored before liftings could be repeated


def test_migration_names_answered_item(staff, case, police):
    application, item = lifted(staff, case, police)
    answer_release(police, item, REJECTED)
    step = application.steps.get(kind=Step.Kind.LIFTING_ANSWERED)
    legacy = {"border_control_release": {"result": "rejected", "reason": REJECTED["reason"]}}
    Step.objects.filter(pk=step.pk).update(detail=legacy)
    migration = importlib.import_module(
        "zhixing.approvals.migrations.0007_lifting_notice_per_attempt"
    )

    migration.name_answered_items(django_apps, None)

    step.refresh_from_db()
    assert step.detail["border_control_release"] == {
        "result": "rejected",
        "reason": REJECTED["reason"],
        "item_id": str(item.pk),
    }
    assert lifting.lifting_outcome(application) == lifting.Outcome.REJECTED
