"""Bureau-head approval of measures, renewals and releases where the court's policy requires it."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from zhixing.audit.models import AuditRecord
from zhixing.esign import verification
from zhixing.events.models import Event
from zhixing.inquiry.models import QueryPolicy
from zhixing.linkage.models import GatewayItem
from zhixing.measures import services
from zhixing.measures.models import ControlMeasure, MeasureDocument, MeasureStep
from zhixing.measures.tests.conftest import ACCOUNT, HOME, answer_step, client_for

State = ControlMeasure.State
StepState = MeasureStep.State
CHINA = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=CHINA)
# A day in the last months of a 12-month freeze made on NOW, when a renewal is possible.
RENEWAL_DAY = NOW + datetime.timedelta(days=300)


def control_items(action: str = "freeze") -> list[GatewayItem]:
    return list(GatewayItem.objects.filter(action=action))


def set_policy(court, *, measures: bool) -> QueryPolicy:
    policy, _created = QueryPolicy.objects.update_or_create(
        court=court, defaults={"measure_approval_required": measures}
    )
    return policy


@pytest.fixture
def policy(courts):
    # Queries go out at once, so that the fixtures can find assets; measures wait.
    return set_policy(courts["粤0104"], measures=True)


@pytest.fixture
def head(make_user):
    return make_user("head_0104", "粤0104", "bureau_head")


def freeze(actor, asset, amount="50000.00", *, now=NOW, **values):
    return services.request_measure(actor, asset, "freeze", amount=amount, now=now, **values)


def in_force(officer, asset):
    """Freeze ``asset`` while the court needs no approval, and store the bank's confirmation."""
    measure = freeze(officer, asset)
    step = measure.steps.get()
    answer_step(step, {"type": "freeze", "frozen_amount": str(measure.amount)})
    services.record_measure_answer([GatewayItem.objects.get(pk=step.item_id)])
    measure.refresh_from_db()
    return measure


# Requests that wait


def test_measure_waits_for_approval(policy, officer, head, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = freeze(officer, asset)

    assert measure.state == State.AWAITING_APPROVAL
    assert measure.queue_position is None
    step = measure.steps.get()
    assert step.state == StepState.AWAITING_APPROVAL
    assert not MeasureDocument.objects.exists()
    assert control_items() == []
    assert not GatewayItem.objects.filter(pk=step.item_id).exists()
    assert AuditRecord.objects.filter(detail__event="measure_submitted").count() == 1
    assert not AuditRecord.objects.filter(detail__event="measure_requested").exists()
    assert Event.objects.filter(kind="measures.approval_requested", user=head).exists()
    assert Event.objects.filter(kind="measures.approval_requested", user=officer).exists()
    assert list(services.awaiting_steps(head)) == [step]


def test_policy_for_queries_only_sends_at_once(courts, officer, case, debtors, make_asset):
    QueryPolicy.objects.create(court=courts["粤0104"], measure_approval_required=False)
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = freeze(officer, asset)

    assert measure.state == State.REQUESTED
    assert MeasureDocument.objects.count() == 2
    assert len(control_items()) == 1


def test_policy_of_other_court_ignored(courts, officer, case, debtors, make_asset):
    set_policy(courts["粤0105"], measures=True)
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = freeze(officer, asset)

    assert measure.state == State.REQUESTED


def test_bureau_head_request_needs_no_approval(policy, make_user, case, debtors, make_asset):
    head_commander = make_user("head_cmd", "粤0104", "bureau_head", "commander")
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = freeze(head_commander, asset)

    assert measure.state == State.REQUESTED
    assert len(control_items()) == 1


def test_awaiting_measure_blocks_duplicate(policy, officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    freeze(officer, asset, "10000.00")

    with pytest.raises(ValidationError) as error:
        freeze(officer, asset, "10000.00")

    assert "asset" in error.value.message_dict


def test_awaiting_amount_counts_as_held(policy, officer, case, debtors, make_asset):
    first = make_asset(case, debtors[0], ACCOUNT)
    other = dict(ACCOUNT, account_number="6212261234567899999")
    second = make_asset(case, debtors[1], other)
    freeze(officer, first, "80000.00")

    with pytest.raises(ValidationError) as error:
        freeze(officer, second, "30000.00")

    assert "amount" in error.value.message_dict
    assert "20000.00" in error.value.message_dict["amount"][0]


def test_awaiting_seizure_takes_no_queue_place(
    policy, officer, head, case, debtors, make_asset, file_case
):
    home = make_asset(case, debtors[0], HOME, agency="housing-gd", category="real_estate")
    waiting = services.request_measure(officer, home, "seize_real_estate", now=NOW)
    other_case = file_case(first=3)
    other_debtor = other_case.parties.filter(case_roles__role="debtor").first()
    other_asset = make_asset(
        other_case, other_debtor, HOME, agency="housing-gd", category="real_estate"
    )
    set_policy(case.court, measures=False)
    sent = services.request_measure(officer, other_asset, "seize_real_estate", now=NOW)
    assert sent.queue_position == 0

    services.decide_step(head, waiting.steps.get(), approve=True, now=NOW)

    waiting.refresh_from_db()
    assert waiting.queue_position == 1


# Approval


def test_approval_seals_and_queues(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    step = services.decide_step(head, measure.steps.get(), approve=True, note="同意", now=NOW)

    measure.refresh_from_db()
    assert measure.state == State.REQUESTED
    assert measure.queue_position == 0
    assert step.state == StepState.QUEUED
    assert step.decided_by == head
    assert step.decided_at == NOW
    assert step.decision_note == "同意"
    roles = sorted(step.documents.values_list("role", flat=True))
    assert roles == [MeasureDocument.Role.NOTICE, MeasureDocument.Role.RULING]
    for document in step.documents.all():
        assert verification.verify_pdf(bytes(document.pdf)).valid
    item = GatewayItem.objects.get(pk=step.item_id)
    assert item.action == "freeze"
    assert item.agency.code == "bank-icbc"
    assert services.document_for_item(step.item_id) is not None
    assert AuditRecord.objects.filter(detail__event="measure_step_approved").count() == 1
    assert Event.objects.filter(kind="measures.approved", user=officer).exists()
    assert list(services.awaiting_steps(head)) == []


def test_approval_plans_period_from_its_day(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT), period_months=6)
    later = NOW + datetime.timedelta(days=3)

    step = services.decide_step(head, measure.steps.get(), approve=True, now=later)

    measure.refresh_from_db()
    assert measure.made_on == datetime.date(2026, 12, 7)
    assert measure.start_date == datetime.date(2026, 12, 7)
    assert measure.end_date == datetime.date(2027, 6, 6)
    assert measure.period_months == 6
    assert step.start_date == measure.start_date
    assert step.end_date == measure.end_date


def test_approval_keeps_future_start(policy, officer, head, case, debtors, make_asset):
    start = datetime.date(2026, 12, 20)
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT), start_date=start)

    services.decide_step(
        head, measure.steps.get(), approve=True, now=NOW + datetime.timedelta(days=2)
    )

    measure.refresh_from_db()
    assert measure.start_date == start


def test_approval_rechecks_suspended_case(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    type(case).objects.filter(pk=case.pk).update(status=type(case).Status.SUSPENDED)

    with pytest.raises(ValidationError, match="not open"):
        services.decide_step(head, measure.steps.get(), approve=True, now=NOW)

    measure.refresh_from_db()
    assert measure.state == State.AWAITING_APPROVAL
    assert not MeasureDocument.objects.exists()
    step = services.decide_step(
        head, measure.steps.get(), approve=False, note="案件已中止", now=NOW
    )
    assert step.state == StepState.NOT_APPROVED


def test_second_decision_rejected(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    services.decide_step(head, step, approve=True, now=NOW)

    with pytest.raises(ValidationError, match="decided already"):
        services.decide_step(head, step, approve=True, now=NOW)
    with pytest.raises(ValidationError, match="decided already"):
        services.decide_step(head, step, approve=False, note="不同意", now=NOW)

    assert MeasureDocument.objects.count() == 2
    assert len(control_items()) == 1


# Rejection


def test_rejection_needs_reason(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    with pytest.raises(ValidationError) as error:
        services.decide_step(head, measure.steps.get(), approve=False, note="  ", now=NOW)

    assert "note" in error.value.message_dict
    measure.refresh_from_db()
    assert measure.state == State.AWAITING_APPROVAL


def test_rejection_ends_measure(policy, officer, head, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    measure = freeze(officer, asset, "80000.00")

    step = services.decide_step(head, measure.steps.get(), approve=False, note="证据不足", now=NOW)

    measure.refresh_from_db()
    assert measure.state == State.NOT_APPROVED
    assert step.state == StepState.NOT_APPROVED
    assert step.decision_note == "证据不足"
    assert not MeasureDocument.objects.exists()
    assert control_items() == []
    record = AuditRecord.objects.get(detail__event="measure_step_rejected")
    assert record.detail["note"] == "证据不足"
    assert Event.objects.filter(kind="measures.not_approved", user=officer).exists()
    # A rejected measure no longer blocks a new request on the asset or counts its amount.
    again = freeze(officer, asset, "80000.00")
    assert again.state == State.AWAITING_APPROVAL
    assert services.money_held(case, "freeze", asset, exclude=again.pk) == Decimal("0.00")


# Who decides


def test_case_officer_cannot_approve(policy, officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    with pytest.raises(PermissionDenied):
        services.decide_step(officer, measure.steps.get(), approve=True, now=NOW)

    assert not MeasureDocument.objects.exists()


@pytest.mark.parametrize(
    ("court_code", "roles"),
    [
        ("粤01", ("bureau_head",)),
        ("粤0105", ("bureau_head",)),
        ("粤0104", ("commander",)),
        ("粤0104", ("clerk",)),
    ],
)
def test_others_cannot_approve(
    policy, make_user, officer, case, debtors, make_asset, court_code, roles
):
    other = make_user("other", court_code, *roles)
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()

    with pytest.raises(PermissionDenied):
        services.decide_step(other, step, approve=True, now=NOW)
    with pytest.raises(PermissionDenied):
        services.decide_step(other, step, approve=False, note="不同意", now=NOW)

    assert list(services.awaiting_steps(other)) == []
    measure.refresh_from_db()
    assert measure.state == State.AWAITING_APPROVAL


def test_inactive_head_cannot_approve(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    head.is_active = False
    head.save()

    with pytest.raises(PermissionDenied):
        services.decide_step(head, measure.steps.get(), approve=True, now=NOW)


# Renewals and releases


def test_renewal_waits_for_approval(courts, officer, head, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    set_policy(courts["粤0104"], measures=True)

    step = services.renew_measure(officer, measure, now=RENEWAL_DAY)

    assert step.state == StepState.AWAITING_APPROVAL
    assert not step.documents.exists()
    assert control_items("renew") == []
    assert "bureau head's approval" in services.renewal_refusal(measure, RENEWAL_DAY.date())
    assert "bureau head's approval" in services.release_refusal(measure)
    with pytest.raises(ValidationError, match="approval"):
        services.release_measure(officer, measure, reason="已履行", now=RENEWAL_DAY)

    services.decide_step(head, step, approve=True, now=RENEWAL_DAY)

    step.refresh_from_db()
    assert step.state == StepState.QUEUED
    notice = step.documents.get()
    assert notice.kind == "assistance_notice_renew_freeze"
    assert verification.verify_pdf(bytes(notice.pdf)).valid
    assert [item.pk for item in control_items("renew")] == [step.item_id]


def test_renewal_rejection_keeps_measure(courts, officer, head, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    set_policy(courts["粤0104"], measures=True)
    step = services.renew_measure(officer, measure, now=RENEWAL_DAY)

    services.decide_step(head, step, approve=False, note="无需续冻", now=RENEWAL_DAY)

    measure.refresh_from_db()
    assert measure.state == State.IN_FORCE
    assert services.renewal_refusal(measure, RENEWAL_DAY.date()) == ""
    assert control_items("renew") == []


def test_expiry_ends_waiting_renewal(courts, officer, head, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    set_policy(courts["粤0104"], measures=True)
    step = services.renew_measure(officer, measure, now=RENEWAL_DAY)
    after_end = datetime.datetime(2027, 12, 5, 10, 0, tzinfo=CHINA)

    services.check_expiries(after_end)

    step.refresh_from_db()
    assert step.state == StepState.NOT_APPROVED
    assert step.decided_by is None
    assert step.decided_at == after_end
    assert step.decision_note == "The measure's period ended before the decision."
    assert list(services.awaiting_steps(head)) == []
    with pytest.raises(ValidationError, match="decided already"):
        services.decide_step(head, step, approve=True, now=after_end)


def test_release_waits_for_approval(courts, officer, head, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    set_policy(courts["粤0104"], measures=True)

    step = services.release_measure(officer, measure, reason="已履行完毕", now=NOW)

    assert step.state == StepState.AWAITING_APPROVAL
    assert step.reason == "已履行完毕"
    assert control_items("release") == []
    assert AuditRecord.objects.filter(detail__event="measure_release_submitted").exists()

    services.decide_step(head, step, approve=True, now=NOW)

    step.refresh_from_db()
    assert step.documents.get().kind == "assistance_notice_release_freeze"
    assert [item.pk for item in control_items("release")] == [step.item_id]
    measure.refresh_from_db()
    assert measure.state == State.IN_FORCE


def test_preapproved_renewal_sent_at_once(courts, officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    set_policy(courts["粤0104"], measures=True)

    step = services.renew_measure(officer, measure, preapproved=True, now=RENEWAL_DAY)

    assert step.state == StepState.QUEUED
    assert step.documents.count() == 1
    assert len(control_items("renew")) == 1


# Concurrency


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_approvals_seal_once(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    barrier = threading.Barrier(3)
    outcomes: list[str] = []

    def approve() -> None:
        try:
            barrier.wait()
            services.decide_step(head, step, approve=True, now=NOW)
            outcomes.append("approved")
        except ValidationError as error:
            outcomes.append("state" if "state" in error.message_dict else str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["approved", "state", "state"]
    measure.refresh_from_db()
    assert measure.state == State.REQUESTED
    assert MeasureDocument.objects.count() == 2
    assert len(control_items()) == 1
    assert AuditRecord.objects.filter(detail__event="measure_step_approved").count() == 1


# Pages


def decide_url(measure) -> str:
    return reverse("measure-decide", args=[measure.pk])


def test_detail_offers_decision_to_head(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    page = client_for(head).get(reverse("measure-detail", args=[measure.pk]))

    assert page.status_code == 200
    assert b'data-testid="awaiting-approval"' in page.content
    assert b'data-testid="approve"' in page.content
    assert b'data-testid="reject"' in page.content


def test_detail_shows_officer_waiting(policy, officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    page = client_for(officer).get(reverse("measure-detail", args=[measure.pk]))

    assert b'data-testid="awaiting-approval"' in page.content
    assert b'data-testid="approve"' not in page.content
    assert "Awaiting approval" in page.content.decode()


def test_form_submits_for_approval(policy, officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    client = client_for(officer)

    form = client.get(reverse("measure-new", args=[asset.pk]))
    response = client.post(
        reverse("measure-new", args=[asset.pk]), {"kind": "freeze", "amount": "1000.00"}
    )

    assert "Submit for approval" in form.content.decode()
    assert response.status_code == 302
    measure = ControlMeasure.objects.get()
    assert measure.state == State.AWAITING_APPROVAL
    page = client.get(response["Location"])
    assert "nothing is sealed or sent" in page.content.decode()


def test_page_approval_seals(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()

    response = client_for(head).post(
        decide_url(measure), {"step": step.pk, "decision": "approve", "note": ""}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("measure-detail", args=[measure.pk])
    measure.refresh_from_db()
    assert measure.state == State.REQUESTED
    assert step.documents.count() == 2


def test_page_rejection_without_reason(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    client = client_for(head)

    response = client.post(
        decide_url(measure),
        {"step": measure.steps.get().pk, "decision": "reject", "note": "", "back": "list"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("measure-approvals")
    assert "Give the reason for rejecting the request." in response.content.decode()
    measure.refresh_from_db()
    assert measure.state == State.AWAITING_APPROVAL


def test_page_decision_by_officer_forbidden(policy, officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    response = client_for(officer).post(
        decide_url(measure), {"step": measure.steps.get().pk, "decision": "approve"}
    )

    assert response.status_code == 403
    measure.refresh_from_db()
    assert measure.state == State.AWAITING_APPROVAL


@pytest.mark.parametrize(("court_code", "status"), [("粤01", 403), ("粤0105", 404)])
def test_page_decision_by_other_court_head(
    policy, make_user, officer, case, debtors, make_asset, court_code, status
):
    other = make_user("other_head", court_code, "bureau_head")
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    response = client_for(other).post(
        decide_url(measure), {"step": measure.steps.get().pk, "decision": "approve"}
    )

    assert response.status_code == status
    measure.refresh_from_db()
    assert measure.state == State.AWAITING_APPROVAL


def test_approval_list_for_head(policy, officer, head, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    client = client_for(head)

    waiting = client.get(reverse("measure-approvals"))
    client.post(decide_url(measure), {"step": step.pk, "decision": "reject", "note": "不同意"})
    decided = client.get(reverse("measure-approvals"))

    assert waiting.status_code == 200
    assert f'data-testid="measure-approval-{step.pk}"'.encode() in waiting.content
    # The account number is masked on the list.
    assert ACCOUNT["account_number"].encode() not in waiting.content
    assert f'data-testid="measure-approval-{step.pk}"'.encode() not in decided.content
    assert "不同意" in decided.content.decode()


def test_approval_list_only_for_heads(officer):
    response = client_for(officer).get(reverse("measure-approvals"))

    assert response.status_code == 403


def test_home_counts_awaiting_measures(policy, officer, head, case, debtors, make_asset):
    freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    page = client_for(head).get(reverse("home"))

    text = page.content.decode()
    assert reverse("measure-approvals") in text
    assert "Control measures waiting for your approval" in text


def test_policy_page_sets_measure_approval(courts, head):
    response = client_for(head).post(reverse("inquiry-policy"), {"measure_approval_required": "on"})

    assert response.status_code == 302
    policy = QueryPolicy.objects.get(court=courts["粤0104"])
    assert policy.measure_approval_required
    assert not policy.approval_required
