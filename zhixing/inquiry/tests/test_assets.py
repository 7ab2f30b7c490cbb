"""Asset records from answers: typed columns, the raw record and idempotent storage."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.utils import timezone

from zhixing.inquiry import services
from zhixing.inquiry.assets import store_assets
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import gateway
from zhixing.linkage.models import GatewayItem

ACCOUNT = {
    "type": "bank_account",
    "bank": "中国工商银行",
    "account_number": "6212261234567890123",
    "balance": "15230.55",
    "currency": "CNY",
    "account_type": "debit",
    "state": "normal",
}
HOME = {
    "type": "real_estate",
    "location": "广州市越秀区中山五路1号",
    "certificate_number": "粤(2020)广州市不动产权第0000001号",
    "area": "89.50",
    "share": "0.5",
    "use": "residential",
    "existing_seizures": [],
}


def found(item, *records):
    return {
        "item_id": str(item.pk),
        "status": "found",
        "answered_at": timezone.now().isoformat(),
        "records": list(records),
    }


def test_answer_becomes_typed_assets(officer, case, debtors, agencies):
    items = services.request_query(officer, case, debtors[:1], ["bank_account"]).queued
    item = next(item for item in items if item.agency.code == "bank-icbc")

    gateway.apply_answers(item.agency, [found(item, ACCOUNT, {**ACCOUNT, "balance": "1.00"})])

    assets = list(AssetRecord.objects.order_by("position"))
    assert len(assets) == 2
    account = assets[0]
    assert account.case == case
    assert account.party == debtors[0]
    assert account.agency.code == "bank-icbc"
    assert account.item_id == item.pk
    assert account.record_type == "bank_account"
    assert account.institution == "中国工商银行"
    assert account.identifier == ACCOUNT["account_number"]
    assert account.amount == Decimal("15230.55")
    assert account.raw == ACCOUNT
    assert account.answered_at == GatewayItem.objects.get(pk=item.pk).answered_at


def test_same_answer_twice_creates_no_duplicates(officer, case, debtors, agencies):
    item = services.request_query(officer, case, debtors[:1], ["real_estate"]).queued[0]

    gateway.apply_answers(item.agency, [found(item, HOME)])
    gateway.apply_answers(item.agency, [found(item, HOME, HOME)])
    stored = GatewayItem.objects.get(pk=item.pk)

    assert store_assets(stored) == 0
    assert AssetRecord.objects.count() == 1
    asset = AssetRecord.objects.get()
    assert asset.location == HOME["location"]
    assert asset.description == "residential · 89.50 m² · 0.5"


def test_not_found_and_unknown_records_store_nothing(officer, case, debtors, agencies):
    items = services.request_query(officer, case, debtors[:1], ["bank_account"]).queued

    gateway.apply_answers(
        items[0].agency,
        [
            {
                "item_id": str(items[0].pk),
                "status": "not_found",
                "answered_at": timezone.now().isoformat(),
                "records": [],
            }
        ],
    )
    gateway.apply_answers(items[1].agency, [found(items[1], {"type": "horoscope"}, "junk")])

    assert not AssetRecord.objects.exists()
    assert GatewayItem.objects.filter(state="answered").count() == 2


def test_reused_answer_adds_other_case_assets(officer, case, debtors, file_case, agencies):
    item = services.request_query(officer, case, debtors[:1], ["real_estate"]).queued[0]
    gateway.apply_answers(item.agency, [found(item, HOME)])
    # The same debtor in a second case of the same officer.
    other = file_case(first=1)
    party = other.parties.get(pk=debtors[0].pk)

    result = services.request_query(officer, other, [party], ["real_estate"])

    assert result.reused[0].pk == item.pk
    assert set(AssetRecord.objects.values_list("case_id", flat=True)) == {case.pk, other.pk}


def test_sibling_court_does_not_reuse_answer(
    make_user, case, debtors, officer, file_case, agencies
):
    item = services.request_query(officer, case, debtors[:1], ["real_estate"]).queued[0]
    gateway.apply_answers(item.agency, [found(item, HOME)])
    # The same debtor in a case of a sibling court, which may not see the first court's cases.
    sibling_officer = make_user("officer0105", "粤0105", "case_officer")
    sibling = file_case("粤0105", first=1, case_officer=sibling_officer)
    party = sibling.parties.get(pk=debtors[0].pk)

    result = services.request_query(sibling_officer, sibling, [party], ["real_estate"])

    assert result.reused == []
    assert len(result.queued) == 1
    assert not AssetRecord.objects.filter(case=sibling).exists()


def test_court_above_reuses_answer(make_user, case, debtors, officer, file_case, agencies):
    item = services.request_query(officer, case, debtors[:1], ["real_estate"]).queued[0]
    gateway.apply_answers(item.agency, [found(item, HOME)])
    upper_officer = make_user("officer01", "粤01", "case_officer")
    upper = file_case("粤01", first=1, case_officer=upper_officer)
    party = upper.parties.get(pk=debtors[0].pk)

    result = services.request_query(upper_officer, upper, [party], ["real_estate"])

    assert result.reused[0].pk == item.pk
    assert AssetRecord.objects.filter(case=upper).count() == 1


def test_late_answer_reaches_both_cases(officer, case, debtors, file_case, agencies):
    item = services.request_query(officer, case, debtors[:1], ["real_estate"]).queued[0]
    other = file_case(first=1)
    services.request_query(officer, other, [other.parties.get(pk=debtors[0].pk)], ["real_estate"])

    gateway.apply_answers(item.agency, [found(item, HOME)])

    assert AssetRecord.objects.filter(case=other).count() == 1
    assert AssetRecord.objects.filter(case=case).count() == 1


def test_answer_page_one_event_per_officer(
    make_user, file_case, officer, case, django_assert_max_num_queries
):
    from types import SimpleNamespace

    from zhixing.events.models import Event
    from zhixing.inquiry.assets import announce_answers

    other = make_user("other-officer", "粤0104", "case_officer")
    others_case = file_case(first=3, case_officer=other)
    unassigned = file_case("粤0105", first=5)
    items = [
        SimpleNamespace(case_id=case.pk),
        SimpleNamespace(case_id=others_case.pk),
        SimpleNamespace(case_id=case.pk),
        SimpleNamespace(case_id=unassigned.pk),
    ]

    # One read of the officers and one insert of all events, plus the NOTIFY on PostgreSQL.
    with django_assert_max_num_queries(3 if connection.vendor == "postgresql" else 2):
        announce_answers(items)

    events = {event.user_id: event.data for event in Event.objects.filter(kind="inquiry.answers")}
    assert set(events) == {officer.pk, other.pk}
    assert events[officer.pk]["count"] == 2
    assert events[other.pk]["count"] == 1
    assert events[officer.pk]["url"] == "/inquiry/inbox/"
    assert events[officer.pk]["title"] != events[other.pk]["title"]


def test_answer_page_skips_measure_answers(make_user, file_case, officer, case):
    from types import SimpleNamespace

    from zhixing.events.models import Event
    from zhixing.inquiry.assets import announce_answers

    other = make_user("other-officer", "粤0104", "case_officer")
    others_case = file_case(first=3, case_officer=other)
    items = [
        SimpleNamespace(case_id=case.pk, action="query"),
        SimpleNamespace(case_id=case.pk, action="freeze"),
        SimpleNamespace(case_id=case.pk, action="renew"),
        SimpleNamespace(case_id=others_case.pk, action="freeze"),
    ]

    announce_answers(items)

    events = {event.user_id: event.data for event in Event.objects.filter(kind="inquiry.answers")}
    assert set(events) == {officer.pk}
    assert events[officer.pk]["count"] == 1


def test_answer_page_of_measures_only(file_case, officer, case):
    from types import SimpleNamespace

    from zhixing.events.models import Event
    from zhixing.inquiry.assets import announce_answers

    announce_answers([SimpleNamespace(case_id=case.pk, action="seize")])

    assert not Event.objects.filter(kind="inquiry.answers").exists()
