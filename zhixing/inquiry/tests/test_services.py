"""The rules of debtor queries: purpose binding, fan-out, reuse and forced queries."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from zhixing.audit.models import AuditRecord
from zhixing.cases.models import EnforcementCase
from zhixing.inquiry import services
from zhixing.inquiry.models import QueryItem, QueryRequest
from zhixing.linkage import gateway
from zhixing.linkage.models import GatewayItem


def answer(item, records=None):
    return {
        "item_id": str(item.pk),
        "status": "found" if records else "not_found",
        "answered_at": timezone.now().isoformat(),
        "records": records or [],
    }


def query_audits(query):
    records = AuditRecord.objects.filter(
        object_type="inquiry.queryrequest", object_id=str(query.pk)
    )
    return [record for record in records if record.detail.get("event") == "debtor_query"]


def test_fans_out_per_debtor_agency_and_category(officer, case, debtors, agencies):
    result = services.request_query(officer, case, debtors)

    # Two banks, housing and the police for two categories; the inactive bank is left out.
    assert len(result.queued) == 2 * 5
    assert {item.agency.code for item in result.queued} == {
        "bank-icbc",
        "bank-gzcb",
        "housing-gd",
        "police-gd",
    }
    assert "vehicle" in result.unserved
    query = QueryRequest.objects.get()
    assert query.requested_by == officer
    assert QueryItem.objects.filter(request=query).count() == 10
    (record,) = query_audits(query)
    assert record.detail["event"] == "debtor_query"
    assert record.detail["party_ids"] == sorted(p.pk for p in debtors)


def test_categories_narrow_the_query(officer, case, debtors, agencies):
    result = services.request_query(officer, case, debtors[:1], ["bank_account"])

    assert sorted(item.agency.code for item in result.queued) == ["bank-gzcb", "bank-icbc"]


def test_refuses_a_closed_case(officer, case, debtors, agencies):
    EnforcementCase.objects.filter(pk=case.pk).update(
        status="closed", closing_mode="completed", closed_on=datetime.date(2026, 11, 30)
    )
    case.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        services.request_query(officer, case, debtors)

    assert error.value.message_dict["case"] == [
        f"Case {case.case_number} is not open; only open cases may be queried."
    ]
    assert not GatewayItem.objects.exists()
    assert not QueryRequest.objects.exists()


def test_refuses_a_case_of_another_type(officer, case, debtors, agencies):
    EnforcementCase.objects.filter(pk=case.pk).update(type_code="执异")
    case.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        services.request_query(officer, case, debtors)

    assert error.value.message_dict["case"] == [
        f"Case {case.case_number} is of type 执异; only cases of type 执, 执恢 or 执保 may be "
        "queried."
    ]


@pytest.mark.parametrize("type_code", ["执恢", "执保"])
def test_accepts_resumed_and_preservation_cases(officer, file_case, agencies, type_code):
    case = file_case(type_code=type_code)
    debtors = list(case.parties.filter(case_roles__role="debtor"))

    assert services.request_query(officer, case, debtors, ["real_estate"]).queued


def test_refuses_a_party_that_is_no_debtor(officer, case, agencies):
    applicant = case.parties.get(case_roles__role="applicant")

    with pytest.raises(ValidationError) as error:
        services.request_query(officer, case, [applicant])

    assert error.value.message_dict["parties"] == [
        f"申请人公司 is not a debtor of case {case.case_number}; only debtors are queried."
    ]


def test_refuses_a_debtor_of_another_case(officer, case, file_case, agencies):
    other = file_case(first=5)
    stranger = other.parties.filter(case_roles__role="debtor").first()

    with pytest.raises(ValidationError) as error:
        services.request_query(officer, case, [stranger])

    assert "is not a debtor of case" in error.value.message_dict["parties"][0]


def test_refuses_no_debtors(officer, case, agencies):
    with pytest.raises(ValidationError) as error:
        services.request_query(officer, case, [])

    assert error.value.message_dict["parties"] == ["Choose at least one debtor to query."]


def test_refuses_unknown_categories(officer, case, debtors, agencies):
    with pytest.raises(ValidationError) as error:
        services.request_query(officer, case, debtors, ["bank_account", "horoscope"])

    assert error.value.message_dict["categories"] == [
        "Unknown categories horoscope; choose from the list."
    ]


@pytest.mark.parametrize(
    ("court", "roles"),
    [
        ("粤0104", ("case_officer",)),  # another officer of the same court
        ("粤0104", ("bureau_head",)),
        ("粤0105", ("commander",)),  # a sibling court's command center
        ("粤03", ("duty_officer",)),  # the command center of another city
    ],
)
def test_refuses_users_not_authorised(make_user, case, debtors, agencies, court, roles):
    user = make_user("someone", court, *roles)

    with pytest.raises(PermissionDenied) as error:
        services.request_query(user, case, debtors)

    assert str(error.value) == (
        "Only the case officer, or a commander or duty officer of the case's court or a court "
        f"above it, may query the debtors of case {case.case_number}."
    )


@pytest.mark.parametrize(
    ("court", "role"),
    [("粤0104", "duty_officer"), ("粤01", "commander"), ("粤", "commander")],
)
def test_command_center_may_query(make_user, case, debtors, agencies, court, role):
    user = make_user("command", court, role)

    assert services.request_query(user, case, debtors, ["bank_account"]).queued


def test_reuses_items_in_progress_and_recent_answers(officer, case, debtors, agencies):
    first = services.request_query(officer, case, debtors, ["bank_account"])
    done = first.queued[0]
    gateway.apply_answers(done.agency, [answer(done)])

    second = services.request_query(officer, case, debtors, ["bank_account"])

    assert second.queued == []
    assert {item.pk for item in second.reused} == {item.pk for item in first.queued}
    assert QueryItem.objects.filter(request=second.request, reused=True).count() == 4
    assert GatewayItem.objects.count() == 4


def test_old_answers_are_queried_again(officer, case, debtors, agencies, settings):
    settings.ZHIXING_QUERY_REUSE_HOURS = 2
    first = services.request_query(officer, case, debtors, ["real_estate"])
    for item in first.queued:
        gateway.apply_answers(item.agency, [answer(item)])
    later = timezone.now() + datetime.timedelta(hours=3)

    second = services.request_query(officer, case, debtors, ["real_estate"], now=later)

    assert len(second.queued) == 2
    assert second.reused == []


def test_default_window_is_a_day(settings):
    del settings.ZHIXING_QUERY_REUSE_HOURS

    assert services.reuse_window() == datetime.timedelta(hours=24)


def test_force_needs_a_reason(officer, case, debtors, agencies):
    with pytest.raises(ValidationError) as error:
        services.request_query(officer, case, debtors, force=True, reason="  ")

    assert error.value.message_dict["reason"] == [
        "Give the reason for querying again instead of reusing recent answers."
    ]


def test_force_with_reason_is_audited(officer, case, debtors, agencies):
    services.request_query(officer, case, debtors, ["bank_account"])

    again = services.request_query(
        officer, case, debtors, ["bank_account"], force=True, reason="debtor moved money"
    )

    assert len(again.queued) == 4
    assert again.reused == []
    assert again.request.force_reason == "debtor moved money"
    (record,) = query_audits(again.request)
    assert record.detail["force"] is True
    assert record.detail["reason"] == "debtor moved money"


def test_batch_queries_all_debtors_and_reports_refusals(officer, case, file_case, agencies):
    second = file_case(first=3)
    closed = file_case(first=6)
    EnforcementCase.objects.filter(pk=closed.pk).update(
        status="closed", closing_mode="completed", closed_on=datetime.date(2026, 11, 30)
    )
    foreign = file_case("粤0303", first=8)

    result = services.request_batch(
        officer, [case.pk, second.pk, closed.pk, foreign.pk], ["bank_account"]
    )

    assert [query.request.case_id for query in result.queries] == [case.pk, second.pk]
    assert all(len(query.queued) == 4 for query in result.queries)
    assert "is not open" in result.refused[closed.pk]
    assert result.refused[foreign.pk] == "The case does not exist or lies outside your scope."
