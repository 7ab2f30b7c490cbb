"""Filing cases, allocating numbers, parties and the flow of a case."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from zhixing.cases import services
from zhixing.cases.models import CaseParty, EnforcementCase, FlowNode, Party
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.inquiry import services as inquiry
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import gateway
from zhixing.linkage.models import Agency
from zhixing.measures.models import ControlMeasure

TODAY = datetime.date(2026, 12, 4)


def _file(court, actor=None, **overrides):
    values = {
        "actor": actor,
        "court": court,
        "filed_on": datetime.date(2026, 11, 2),
        "basis_kind": "judgment",
        "applicants": [PartyInput(name="广州某某贸易有限公司", kind="organisation")],
        "debtors": [
            PartyInput(name="张三", document_number=make_resident_id("440104", "19850101", 1))
        ],
        "claim_amount": "120000.50",
        "basis_court": "广州市越秀区人民法院",
        "basis_document_number": "(2026)粤0104民初100号",
    }
    values.update(overrides)
    return services.file_case(**values)


@pytest.mark.django_db
def test_file_case_allocates_sequence(courts):
    first = _file(courts["粤0104"])
    second = _file(courts["粤0104"])
    other_court = _file(courts["粤0105"])
    assert first.case_number == "(2026)粤0104执1号"
    assert second.case_number == "(2026)粤0104执2号"
    assert other_court.case_number == "(2026)粤0105执1号"


@pytest.mark.django_db
def test_sequence_restarts_per_year_and_type(courts):
    _file(courts["粤0104"])
    last_year = _file(courts["粤0104"], filed_on=datetime.date(2025, 3, 1))
    resumed = _file(courts["粤0104"], type_code="执恢")
    assert last_year.case_number == "(2025)粤0104执1号"
    assert resumed.case_number == "(2026)粤0104执恢1号"


@pytest.mark.django_db
def test_failed_filing_leaves_no_gap(courts):
    _file(courts["粤0104"])
    with pytest.raises(ValidationError):
        _file(courts["粤0104"], debtors=[PartyInput(name="李四", document_number="123")])
    assert _file(courts["粤0104"]).case_number == "(2026)粤0104执2号"


@pytest.mark.django_db
def test_reserved_sequence_moves_counter(courts):
    services.reserve_sequence(courts["粤0104"], "执", 2026, 41)
    services.reserve_sequence(courts["粤0104"], "执", 2026, 7)
    assert _file(courts["粤0104"]).case_number == "(2026)粤0104执42号"


@pytest.mark.django_db
def test_same_person_is_one_party(courts):
    number = make_resident_id("440104", "19850101", 1)
    _file(courts["粤0104"], debtors=[PartyInput(name="张三", document_number=number)])
    _file(courts["粤0105"], debtors=[PartyInput(name="张三", document_number=number.lower())])
    assert Party.objects.filter(document_number=number).count() == 1
    assert CaseParty.objects.filter(party__document_number=number).count() == 2


@pytest.mark.django_db
def test_fifteen_digit_id_converted(courts):
    case = _file(
        courts["粤0104"], debtors=[PartyInput(name="王五", document_number="440104850101001")]
    )
    party = case.parties.get(case_roles__role="debtor")
    assert party.document_number == "440104198501010012"
    assert party.birth_date == datetime.date(1985, 1, 1)


@pytest.mark.django_db
def test_bad_id_number_names_field(courts):
    with pytest.raises(ValidationError) as info:
        _file(
            courts["粤0104"],
            debtors=[PartyInput(name="李四", document_number="440104198501010013")],
        )
    assert "debtors[0].document_number" in info.value.message_dict
    assert not EnforcementCase.objects.exists()


@pytest.mark.django_db
def test_credit_code_needing_confirmation(courts):
    bad_check = "91350100M000100Y44"
    organisation = PartyInput(name="某公司", kind="organisation", document_number=bad_check)
    with pytest.raises(ValidationError):
        _file(courts["粤0104"], debtors=[organisation])
    confirmed = PartyInput(
        name="某公司", kind="organisation", document_number=bad_check, confirmed=True
    )
    case = _file(courts["粤0104"], debtors=[confirmed])
    assert case.parties.get(case_roles__role="debtor").needs_confirmation is True


@pytest.mark.django_db
def test_filing_needs_role_and_own_court(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    police = make_user("police", "粤0104", "judicial_police")
    upper = make_user("upper", "粤01", "bureau_head")
    assert _file(courts["粤0104"], actor=officer).court == courts["粤0104"]
    with pytest.raises(PermissionDenied):
        _file(courts["粤0104"], actor=police)
    with pytest.raises(PermissionDenied):
        _file(courts["粤0104"], actor=upper)


@pytest.mark.django_db
def test_amount_rules(courts):
    case = _file(courts["粤0104"], claim_amount="1,234.5")
    assert case.claim_amount == Decimal("1234.50")
    for bad in ("-1", "12.345", "abc"):
        with pytest.raises(ValidationError) as info:
            _file(courts["粤0104"], claim_amount=bad)
        assert "claim_amount" in info.value.message_dict, bad


@pytest.mark.django_db
def test_deadlines_follow_flow(make_user, courts):
    head = make_user("head", "粤0104", "bureau_head")
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], filed_on=datetime.date(2026, 11, 2))
    assert case.handling_due_on == datetime.date(2027, 5, 2)
    assert case.next_due_rule == "assign_officer"
    assert case.next_due_on == datetime.date(2026, 11, 9)
    services.assign_officer(actor=head, case=case, officer=officer, on=datetime.date(2026, 11, 3))
    assert case.next_due_rule == "enforcement_notice"
    assert case.next_due_on == datetime.date(2026, 11, 6)


@pytest.mark.django_db
def test_suspension_moves_handling_deadline(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], filed_on=datetime.date(2026, 6, 1), case_officer=officer)
    before = case.handling_due_on
    services.record_step(actor=officer, case=case, kind="suspended", on=datetime.date(2026, 7, 1))
    services.record_step(actor=officer, case=case, kind="resumed", on=datetime.date(2026, 7, 10))
    assert case.status == "open"
    assert case.handling_due_on == before + datetime.timedelta(days=10)


@pytest.mark.django_db
def test_close_case_sets_mode(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    services.close_case(
        actor=officer,
        case=case,
        mode="completed",
        on=datetime.date(2026, 11, 20),
        recovered_amount="120000.50",
    )
    case.refresh_from_db()
    assert case.status == "closed"
    assert case.next_due_on is None
    assert FlowNode.objects.filter(case=case, kind="closed").exists()
    with pytest.raises(ValidationError):
        services.close_case(
            actor=officer, case=case, mode="completed", on=datetime.date(2026, 11, 21)
        )


@pytest.mark.django_db
def test_other_officer_cannot_change(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    other = make_user("other", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    with pytest.raises(PermissionDenied):
        services.record_step(
            actor=other, case=case, kind="notice_sent", on=datetime.date(2026, 11, 3)
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_filing_unique_numbers(courts):
    """Parallel transactions on PostgreSQL each get their own number, with no gap."""
    court = courts["粤0104"]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def file_one() -> None:
        try:
            barrier.wait()
            _file(court)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=file_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    sequences = sorted(EnforcementCase.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 9))


@pytest.mark.django_db
def test_amount_above_cap_rejected(courts):
    with pytest.raises(ValidationError) as info:
        _file(courts["粤0104"], claim_amount="99999999999999.99")
    assert "claim_amount" in info.value.message_dict
    assert not EnforcementCase.objects.exists()


@pytest.mark.django_db
def test_officer_needs_case_officer_role(make_user, courts):
    police = make_user("police", "粤0104", "judicial_police")
    with pytest.raises(ValidationError) as info:
        _file(courts["粤0104"], case_officer=police)
    assert "case_officer" in info.value.message_dict


@pytest.mark.django_db
def test_filing_before_2016_rejected(courts):
    with pytest.raises(ValidationError) as info:
        _file(courts["粤0104"], filed_on=datetime.date(2015, 12, 31))
    assert "filed_on" in info.value.message_dict


@pytest.mark.django_db
def test_other_name_in_scope_rejected(courts, make_user):
    number = make_resident_id("440104", "19850101", 1)
    _file(courts["粤0104"], debtors=[PartyInput(name="李嘉", document_number=number)])
    officer = make_user("officer", "粤0104")
    with pytest.raises(ValidationError) as info:
        _file(
            courts["粤0104"],
            officer,
            debtors=[PartyInput(name="王五", document_number=number, address="某地址")],
        )
    assert "李嘉" in info.value.message_dict["debtors[0].name"][0]
    assert not CaseParty.objects.filter(address="某地址").exists()


@pytest.mark.django_db
def test_other_name_outside_scope_filed(courts, make_user):
    number = make_resident_id("440104", "19850101", 1)
    _file(courts["粤0105"], debtors=[PartyInput(name="李嘉", document_number=number)])
    officer = make_user("officer", "粤0104")

    case = _file(
        courts["粤0104"],
        officer,
        debtors=[PartyInput(name="王五", document_number=number, address="某地址")],
    )

    debtor = CaseParty.objects.get(case=case, role=CaseParty.Role.DEBTOR)
    assert debtor.party.name == "王五"
    assert debtor.address == "某地址"


@pytest.mark.django_db
def test_known_person_keeps_each_case_contact(courts):
    number = make_resident_id("440104", "19850101", 1)
    first = _file(
        courts["粤0105"],
        debtors=[PartyInput(name="李嘉", document_number=number, address="甲地址", phone="1")],
    )
    second = _file(
        courts["粤0104"],
        debtors=[PartyInput(name="李嘉", document_number=number, address="乙地址")],
    )

    assert Party.objects.filter(document_number=number).count() == 1
    assert second.case_parties.get(role="debtor").address == "乙地址"
    assert second.case_parties.get(role="debtor").phone == ""
    assert first.case_parties.get(role="debtor").address == "甲地址"
    assert first.case_parties.get(role="debtor").phone == "1"


@pytest.mark.django_db
def test_resume_before_suspension_rejected(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], filed_on=datetime.date(2026, 6, 1), case_officer=officer)
    services.record_step(actor=officer, case=case, kind="suspended", on=datetime.date(2026, 7, 10))
    with pytest.raises(ValidationError) as info:
        services.record_step(actor=officer, case=case, kind="resumed", on=datetime.date(2026, 7, 9))
    assert "on" in info.value.message_dict


@pytest.mark.django_db
def test_close_before_last_step_rejected(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], filed_on=datetime.date(2026, 6, 1), case_officer=officer)
    services.record_step(
        actor=officer, case=case, kind="notice_sent", on=datetime.date(2026, 6, 10)
    )
    with pytest.raises(ValidationError) as info:
        services.close_case(
            actor=officer, case=case, mode="completed", on=datetime.date(2026, 6, 5)
        )
    assert "on" in info.value.message_dict


@pytest.mark.django_db
def test_extension_length_only_on_extension(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    with pytest.raises(ValidationError) as info:
        services.record_step(
            actor=officer,
            case=case,
            kind="notice_sent",
            on=datetime.date(2026, 11, 3),
            extension_months=2,
        )
    assert "extension_months" in info.value.message_dict


@pytest.mark.django_db
def test_assign_other_court_user_not_named(make_user, courts):
    head = make_user("head", "粤0104", "bureau_head")
    stranger = make_user("stranger", "粤03", "case_officer")
    case = _file(courts["粤0104"])
    with pytest.raises(ValidationError) as info:
        services.assign_officer(
            actor=head, case=case, officer=stranger, on=datetime.date(2026, 11, 3)
        )
    assert "stranger" not in str(info.value.message_dict)


# Closing with control measures in force

BANK_ACCOUNT = {
    "type": "bank_account",
    "bank": "中国工商银行",
    "account_number": "6212261234567890123",
    "balance": "15230.55",
    "currency": "CNY",
    "account_type": "debit",
    "state": "normal",
}


def store_measure(case, officer, *, kind="freeze", state="in_force", sequence=1):
    """Store a measure on a bank account that a debtor query of ``case`` found.

    The measure row is written directly, in ``state``, without the documents and the gateway
    requests that the measures app adds, which closing a case does not read.
    """
    bank, _ = Agency.objects.get_or_create(
        code="bank-icbc",
        defaults={
            "name": "中国工商银行",
            "kind": Agency.Kind.BANK,
            "categories": ["bank_account"],
            "actions": ["query", "freeze", "deduct", "release"],
            "base_url": "http://127.0.0.1:9/agencies/bank-icbc",
        },
    )
    debtor = case.parties.get(case_roles__role="debtor")
    result = inquiry.request_query(
        officer, case, [debtor], ["bank_account"], force=True, reason="test"
    )
    item = next(item for item in result.queued if item.agency == bank)
    answer = {
        "item_id": str(item.pk),
        "status": "found",
        "answered_at": "2026-12-04T16:31:01+08:00",
        "records": [BANK_ACCOUNT],
    }
    gateway.apply_answers(bank, [answer])
    asset = AssetRecord.objects.get(item=item)
    now = timezone.now()
    return ControlMeasure.objects.create(
        kind=kind,
        state=state,
        case=case,
        court=case.court,
        party=debtor,
        asset=asset,
        agency=bank,
        category="bank_account",
        asset_type="bank_account",
        asset_identifier=BANK_ACCOUNT["account_number"],
        asset_label="中国工商银行",
        amount=Decimal("10000.00"),
        rule="2015",
        made_on=services.today_in_china(),
        ruling_sequence=sequence,
        ruling_number=f"{case.case_number}之{'一二三'[sequence - 1]}",
        notice_number=f"notice {sequence}",
        requested_by=officer,
        state_changed_at=now,
        created_at=now,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mode", ["completed", "terminated", "withdrawn", "not_enforced", "application_rejected"]
)
def test_close_rejected_with_measure_in_force(make_user, courts, mode):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    freeze = store_measure(case, officer)
    with pytest.raises(ValidationError) as info:
        services.close_case(actor=officer, case=case, mode=mode, on=services.today_in_china())
    message = " ".join(info.value.message_dict["mode"])
    assert f"Freeze deposits #{freeze.pk}" in message
    assert "中国工商银行" in message
    assert f"{case.case_number}之一" in message
    assert "Release them first" in message
    case.refresh_from_db()
    assert case.status == "open"
    assert not FlowNode.objects.filter(case=case, kind="closed").exists()


@pytest.mark.django_db
def test_close_allowed_when_measures_ended(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    store_measure(case, officer, state="released", sequence=1)
    store_measure(case, officer, state="expired", sequence=2)
    store_measure(case, officer, kind="deduct", state="in_force", sequence=3)
    services.close_case(actor=officer, case=case, mode="completed", on=services.today_in_china())
    assert case.is_closed


@pytest.mark.django_db
def test_terminated_without_assets_keeps_measures(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    freeze = store_measure(case, officer, state="partly_in_force")
    services.close_case(
        actor=officer,
        case=case,
        mode="terminated_without_assets",
        on=services.today_in_china(),
    )
    assert case.is_closed
    freeze.refresh_from_db()
    assert freeze.state == "partly_in_force"


# Online query in the flow


@pytest.mark.django_db
def test_first_query_adds_online_query_step(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    store_measure(case, officer, sequence=1)
    store_measure(case, officer, sequence=2)
    nodes = FlowNode.objects.filter(case=case, kind="online_query")
    assert nodes.count() == 1
    assert nodes.get().on == services.today_in_china()
    assert nodes.get().user == officer


# Extension of the handling period


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("months", "days", "field"),
    [(12, None, "extension_months"), (3, 1, "extension_months"), (None, 93, "extension_days")],
)
def test_extension_over_three_months_rejected(make_user, courts, months, days, field):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    before = case.handling_due_on
    with pytest.raises(ValidationError) as info:
        services.record_step(
            actor=officer,
            case=case,
            kind="extension_approved",
            on=datetime.date(2026, 11, 20),
            extension_months=months,
            extension_days=days,
        )
    message = " ".join(info.value.message_dict[field])
    assert f"{months or 0} months and {days or 0} days" in message
    assert "limit of 3 months" in message
    assert not FlowNode.objects.filter(case=case, kind="extension_approved").exists()
    case.refresh_from_db()
    assert case.handling_due_on == before


@pytest.mark.django_db
@pytest.mark.parametrize(("months", "days"), [(3, None), (2, 31), (None, 31)])
def test_extension_up_to_three_months_accepted(make_user, courts, months, days):
    officer = make_user("officer", "粤0104", "case_officer")
    case = _file(courts["粤0104"], case_officer=officer)
    assert case.handling_due_on == datetime.date(2027, 5, 2)
    services.record_step(
        actor=officer,
        case=case,
        kind="extension_approved",
        on=datetime.date(2026, 11, 20),
        extension_months=months,
        extension_days=days,
    )
    assert case.handling_due_on <= datetime.date(2027, 8, 2)


# Deadlines of a closed case


@pytest.mark.django_db
def test_closed_case_has_no_pending_deadlines(courts):
    case = _file(courts["粤0104"], filed_on=datetime.date(2026, 6, 1))
    services.close_case(actor=None, case=case, mode="withdrawn", on=datetime.date(2026, 7, 20))
    statuses = {item.rule_id: item.status for item in services.case_deadlines(case)}
    assert statuses["handling_period"] == "done"
    assert statuses["assign_officer"] == "not_applicable"
    assert statuses["asset_investigation"] == "not_applicable"
    assert case.next_due_on is None
