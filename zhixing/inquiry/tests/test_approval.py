"""Bureau-head approval of debtor queries where the court's query policy requires it."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from zhixing.audit.models import AuditRecord
from zhixing.cases.models import EnforcementCase
from zhixing.inquiry import services
from zhixing.inquiry.models import QueryPolicy, QueryRequest
from zhixing.linkage.models import GatewayItem

State = QueryRequest.State


@pytest.fixture
def policy(courts):
    return QueryPolicy.objects.create(court=courts["粤0104"], approval_required=True)


@pytest.fixture
def head(make_user):
    return make_user("head_0104", "粤0104", "bureau_head")


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_query_waits_for_approval(policy, agencies, officer, case, debtors):
    result = services.request_query(officer, case, debtors, ["bank_account"])

    assert result.awaiting_approval
    assert result.queued == []
    assert not GatewayItem.objects.exists()
    query = QueryRequest.objects.get()
    assert query.state == State.AWAITING_APPROVAL
    assert query.party_ids == [party.pk for party in debtors]
    assert AuditRecord.objects.filter(detail__event="debtor_query_submitted").exists()


def test_without_policy_query_sent_at_once(agencies, officer, case, debtors):
    result = services.request_query(officer, case, debtors, ["bank_account"])

    assert not result.awaiting_approval
    assert len(result.queued) == 4


def test_policy_off_sends_at_once(courts, agencies, officer, case, debtors):
    QueryPolicy.objects.create(court=courts["粤0104"], approval_required=False)

    result = services.request_query(officer, case, debtors, ["bank_account"])

    assert result.request.state == State.SENT


def test_approval_sends_query(policy, agencies, officer, head, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request

    result = services.decide_query(head, query, approve=True)

    query.refresh_from_db()
    assert query.state == State.SENT
    assert query.decided_by == head
    assert query.decided_at is not None
    assert len(result.queued) == 4
    assert GatewayItem.objects.count() == 4
    assert set(query.items.values_list("pk", flat=True)) == {item.pk for item in result.queued}


def test_approved_query_enters_the_flow(policy, agencies, officer, head, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request
    assert not case.flow.filter(kind="online_query").exists()

    services.decide_query(head, query, approve=True)

    node = case.flow.get(kind="online_query")
    assert node.user == officer


def test_rejection_needs_comment(policy, agencies, officer, head, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request

    with pytest.raises(ValidationError) as raised:
        services.decide_query(head, query, approve=False)

    assert "note" in raised.value.message_dict
    query.refresh_from_db()
    assert query.state == State.AWAITING_APPROVAL


def test_rejection_sends_nothing(policy, agencies, officer, head, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request

    services.decide_query(head, query, approve=False, note="依据不足")

    query.refresh_from_db()
    assert query.state == State.REJECTED
    assert query.decision_note == "依据不足"
    assert not GatewayItem.objects.exists()


def test_second_decision_rejected(policy, agencies, officer, head, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request
    services.decide_query(head, query, approve=True)

    with pytest.raises(ValidationError):
        services.decide_query(head, query, approve=True)

    assert GatewayItem.objects.count() == 4


@pytest.mark.parametrize(
    ("court_code", "roles"),
    [
        ("粤01", ("bureau_head",)),  # the court above has its own bureau heads
        ("粤0104", ("commander",)),
        ("粤0104", ("case_officer",)),
    ],
)
def test_others_may_not_decide(
    policy, agencies, officer, make_user, case, debtors, court_code, roles
):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request
    other = make_user("other", court_code, *roles)

    with pytest.raises(PermissionDenied):
        services.decide_query(other, query, approve=True)

    assert not GatewayItem.objects.exists()


def test_bureau_head_query_needs_no_approval(policy, agencies, head, case, debtors):
    EnforcementCase.objects.filter(pk=case.pk).update(case_officer=head)
    case.refresh_from_db()

    result = services.request_query(head, case, debtors, ["bank_account"])

    assert result.request.state == State.SENT


def test_closed_case_not_approved(policy, agencies, officer, head, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request
    EnforcementCase.objects.filter(pk=case.pk).update(
        status=EnforcementCase.Status.CLOSED,
        closing_mode=EnforcementCase.ClosingMode.COMPLETED,
        closed_on=datetime.date(2026, 12, 1),
    )
    query.case.refresh_from_db()

    with pytest.raises(ValidationError):
        services.decide_query(head, query, approve=True)

    query.refresh_from_db()
    assert query.state == State.AWAITING_APPROVAL
    assert not GatewayItem.objects.exists()


def test_approval_page_decides(policy, agencies, officer, head, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request
    client = client_for(head)

    page = client.get(reverse("inquiry-approvals"))
    assert page.status_code == 200
    assert f'data-testid="approval-{query.pk}"' in page.content.decode()
    assert debtors[0].name in page.content.decode()

    response = client.post(reverse("inquiry-decide", args=[query.pk]), {"decision": "approve"})

    assert response.status_code == 302
    query.refresh_from_db()
    assert query.state == State.SENT
    assert GatewayItem.objects.count() == 4


def test_reject_without_comment_shows_error(policy, agencies, officer, head, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request

    response = client_for(head).post(
        reverse("inquiry-decide", args=[query.pk]), {"decision": "reject"}, follow=True
    )

    assert "Give the reason for rejecting the query." in response.content.decode()
    query.refresh_from_db()
    assert query.state == State.AWAITING_APPROVAL


def test_approval_page_only_for_bureau_heads(officer):
    response = client_for(officer).get(reverse("inquiry-approvals"))

    assert response.status_code == 403


def test_out_of_scope_decision_not_found(policy, agencies, officer, make_user, case, debtors):
    query = services.request_query(officer, case, debtors, ["bank_account"]).request
    sibling = make_user("head_0105", "粤0105", "bureau_head")

    response = client_for(sibling).post(
        reverse("inquiry-decide", args=[query.pk]), {"decision": "approve"}
    )

    assert response.status_code == 404


def test_query_form_says_awaiting(policy, agencies, officer, case, debtors):
    response = client_for(officer).post(
        reverse("inquiry-new", args=[case.pk]),
        {"parties": [str(debtors[0].pk)], "categories": ["bank_account"]},
        follow=True,
    )

    content = response.content.decode()
    assert "once a bureau head approves it" in content
    assert 'data-testid="query-state"' in content


def test_policy_page_sets_approval(courts, make_user):
    admin = make_user("admin_0104", "粤0104", "administrator")

    response = client_for(admin).post(reverse("inquiry-policy"), {"approval_required": "on"})

    assert response.status_code == 302
    assert QueryPolicy.objects.get(court=courts["粤0104"]).approval_required
    assert AuditRecord.objects.filter(object_type__endswith="querypolicy").exists()


def test_policy_page_only_for_heads_and_admins(officer):
    response = client_for(officer).get(reverse("inquiry-policy"))

    assert response.status_code == 403
