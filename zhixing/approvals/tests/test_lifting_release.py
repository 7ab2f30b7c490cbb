"""Lifting an exit restriction that the gateway handed over: the sealed lifting notice, the
release item that references the border-control request, and the agency's answer."""

from __future__ import annotations

import base64
import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from zhixing.approvals import lifting, services
from zhixing.approvals.models import Application, LiftingNotice, State, Step
from zhixing.approvals.tests.test_api import agency_answer
from zhixing.approvals.tests.test_lifting import (
    LIFT_REASON,
    answer_border_control,
    restriction,
    sent_restriction,
)
from zhixing.documents.tests.helpers import text_with_pypdf
from zhixing.esign import verification
from zhixing.events.models import Event
from zhixing.linkage import gateway
from zhixing.linkage.models import Agency, GatewayItem

pytestmark = pytest.mark.django_db

RESTRICTED = {"type": "restrict_exit", "result": "done"}


def registered_restriction(staff, case, police: Agency) -> tuple[Application, GatewayItem]:
    """Return an exit restriction that border control registered, with a police agency that
    takes releases."""
    application, item = sent_restriction(staff, case, police)
    police.actions = ["query", "restrict_exit", "release"]
    police.save()
    answer_border_control(police, item, RESTRICTED)
    return application, item


def release_items() -> list[GatewayItem]:
    return list(GatewayItem.objects.filter(action="release"))


def answer_release(police: Agency, item: GatewayItem, *records, status: str = "found"):
    GatewayItem.objects.filter(pk=item.pk).update(state=GatewayItem.State.ACKNOWLEDGED)
    return gateway.apply_answers(police, [agency_answer(item.pk, *records, status=status)])


# Sending the lifting


def test_lifting_queues_one_release(staff, case, police):
    application, restriction_item = registered_restriction(staff, case, police)

    step = services.lift(staff["commander00"], application, comment=LIFT_REASON)

    application.refresh_from_db()
    assert application.state == State.LIFTED
    [item] = release_items()
    assert item.agency == police
    assert item.category == "exit_entry"
    assert item.party == application.person
    assert item.case == application.case
    assert item.state == GatewayItem.State.PENDING
    notice = LiftingNotice.objects.get(application=application)
    assert notice.item_id == item.pk
    assert notice.reference == restriction_item.pk
    detail = step.detail["border_control_release"]
    assert detail["sent"] is True
    assert detail["gap"] == ""
    assert detail["item_id"] == str(item.pk)
    assert detail["reference"] == str(restriction_item.pk)
    assert detail["document_sha256"] == notice.sha256


def test_release_message_carries_reference_and_notice(staff, case, police):
    application, restriction_item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    entries = [{"item_id": str(item.pk), "action": "release"}]

    gateway.measure_fields(entries)

    [entry] = entries
    assert entry["measure"] == {
        "asset_type": None,
        "identifier": None,
        "amount": None,
        "start": None,
        "end": None,
        "reference": str(restriction_item.pk),
    }
    document = entry["document"]
    pdf = base64.b64decode(document["pdf_base64"])
    assert document["kind"] == "border_control_lifting"
    assert document["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert "attachments" not in document


def test_lifting_notice_sealed_by_high_court(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    notice = LiftingNotice.objects.get(application=application)

    report = verification.verify_pdf(bytes(notice.pdf))
    text = "".join(text_with_pypdf(bytes(notice.pdf)).split())

    assert report.valid, report.as_dict()
    [seal] = report.signatures
    assert seal.field.startswith("Seal")
    assert seal.court_code == "粤"
    assert "解除限制出境通知书" in text
    assert "广东省公安厅：" in text
    assert f"{application.decision_number}限制出境决定书" in text
    assert "广州市越秀区人民法院在执行" in text
    assert text.count("广东省高级人民法院") >= 2


def test_repeated_lift_refused(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)

    with pytest.raises(ValidationError, match="not possible now"):
        services.lift(staff["commander00"], application, comment=LIFT_REASON)

    assert len(release_items()) == 1
    assert LiftingNotice.objects.count() == 1
    assert application.steps.filter(kind=Step.Kind.LIFTED).count() == 1


def test_lifting_sent_needs_only_reason(staff, case, police):
    application, _item = registered_restriction(staff, case, police)

    with pytest.raises(ValidationError) as info:
        services.lift(staff["commander00"], application, comment=" ")

    assert info.value.message_dict["comment"] == ["Give the reason for lifting the restriction."]
    assert release_items() == []


def test_hand_over_by_hand_only_recorded(staff, case, police):
    application = restriction(staff, case)
    assert application.border_control_item is None
    police.actions = ["query", "restrict_exit", "release"]
    police.save()

    step = services.lift(staff["commander00"], application, comment=LIFT_REASON)

    assert "border_control_release" not in step.detail
    assert release_items() == []
    assert not LiftingNotice.objects.exists()


def test_refused_restriction_not_released(staff, case, police):
    application, item = sent_restriction(staff, case, police)
    police.actions = ["query", "restrict_exit", "release"]
    police.save()
    answer_border_control(police, item, status="not_found")

    assert lifting.plan_release(application) is None
    services.lift(staff["commander00"], application, comment=LIFT_REASON)

    assert release_items() == []


def test_agency_without_release_is_a_gap(staff, case, police):
    application, item = sent_restriction(staff, case, police)
    answer_border_control(police, item, RESTRICTED)

    with pytest.raises(ValidationError) as info:
        services.lift(staff["commander00"], application, comment="")
    step = services.lift(staff["commander00"], application, comment=LIFT_REASON)

    message = " ".join(info.value.message_dict["comment"])
    assert "does not accept the action release" in message
    assert "广东省公安厅" in message
    assert step.detail["border_control_release"]["sent"] is False
    assert "release" in step.detail["border_control_release"]["gap"]
    assert release_items() == []


def test_page_explains_release(client, staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    client.force_login(staff["commander00"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert 'data-testid="lift-release"' in page
    assert 'data-testid="lift-notice"' not in page

    client.post(f"/approvals/{application.pk}/step/", {"action": "lift", "comment": LIFT_REASON})
    [item] = release_items()
    answer_release(police, item, {"type": "release", "released_on": "2026-12-05"})

    page = client.get(f"/approvals/{application.pk}/").content.decode()
    assert 'data-testid="lifting-detail"' in page
    assert 'data-testid="lifting-answer" data-result="done"' in page
    assert "restriction lifted" in page


# The agency's answer


def test_lifting_answer_recorded(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    before = Event.objects.filter(kind="approvals.lifting_answered").count()

    receipt = answer_release(
        police, item, {"type": "release", "released_on": "2026-12-05", "result": "done"}
    )

    assert receipt.answered == 1
    step = application.steps.get(kind=Step.Kind.LIFTING_ANSWERED)
    assert step.detail["border_control_release"] == {
        "result": "done",
        "item_id": str(item.pk),
        "released_on": "2026-12-05",
    }
    assert step.court == application.deciding_court
    assert step.actor is None
    events = Event.objects.filter(kind="approvals.lifting_answered")
    assert events.count() - before == 3
    assert {event.court.code for event in events} == {"粤0104", "粤01", "粤"}
    assert {event.severity for event in events} == {Event.Severity.INFO}


def test_refused_lifting_recorded_as_major(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    reason = "the measure was released on 2026-12-04"

    answer_release(police, item, {"type": "release", "result": "rejected", "reason": reason})

    step = application.steps.get(kind=Step.Kind.LIFTING_ANSWERED)
    assert step.detail["border_control_release"]["result"] == "rejected"
    assert step.comment == reason
    events = Event.objects.filter(kind="approvals.lifting_answered")
    assert {event.severity for event in events} == {Event.Severity.MAJOR}


def test_repeated_lifting_answer_changes_nothing(staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    answered = gateway.AnsweredItem(
        pk=item.pk,
        agency_id=police.pk,
        case_id=item.case_id,
        party_id=item.party_id,
        court_id=item.court_id,
        answered_at=item.created_at,
        answer=agency_answer(item.pk, {"type": "release", "released_on": "2026-12-05"}),
        action="release",
    )

    first = services.record_lifting_answer([answered])
    second = services.record_lifting_answer([answered])

    assert (first, second) == (1, 0)
    assert application.steps.filter(kind=Step.Kind.LIFTING_ANSWERED).count() == 1


def test_lifting_answer_bypasses_measures(staff, case, police, monkeypatch):
    application, _item = registered_restriction(staff, case, police)
    services.lift(staff["commander00"], application, comment=LIFT_REASON)
    [item] = release_items()
    passed: list[object] = []
    monkeypatch.setattr(
        "zhixing.measures.services.record_measure_answer",
        lambda items, **kwargs: passed.extend(items) or 0,
    )

    answer_release(police, item, {"type": "release", "released_on": "2026-12-05"})

    assert passed == []
    assert application.steps.filter(kind=Step.Kind.LIFTING_ANSWERED).count() == 1


def test_other_release_reaches_measures(staff, case, police, monkeypatch):
    now = timezone.now()
    other = GatewayItem.objects.create(
        agency=police,
        court=case.court,
        case=case,
        party=case.parties.filter(case_roles__role="debtor").first(),
        category="exit_entry",
        action="release",
        state=GatewayItem.State.ACKNOWLEDGED,
        next_attempt_at=now,
        deadline=now + datetime.timedelta(days=1),
    )
    passed: list[object] = []
    monkeypatch.setattr(
        "zhixing.measures.services.record_measure_answer",
        lambda items, **kwargs: passed.extend(items) or 0,
    )

    gateway.apply_answers(police, [agency_answer(other.pk, {"type": "release"})])

    assert [entry.pk for entry in passed] == [other.pk]
    assert not Step.objects.filter(kind=Step.Kind.LIFTING_ANSWERED).exists()


def test_page_names_agency_and_action(client, staff, case, police):
    application, _item = registered_restriction(staff, case, police)
    client.force_login(staff["commander00"])
    client.post(f"/approvals/{application.pk}/step/", {"action": "lift", "comment": LIFT_REASON})

    page = client.get(f"/approvals/{application.pk}/").content.decode()

    # The handover and the lifting name the agency and the request, not their codes.
    assert "广东省公安厅 · 限制出境" in page
    assert "广东省公安厅 · 解除" in page
    assert "police-gd ·" not in page
    assert "· restrict_exit" not in page
    assert "· release" not in page
