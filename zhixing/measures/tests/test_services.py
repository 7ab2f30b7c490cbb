"""Measures from asset records: purpose binding, periods, documents, queue and state changes."""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from zhixing.audit.models import AuditRecord
from zhixing.esign import verification
from zhixing.events.models import Event
from zhixing.linkage import gateway
from zhixing.linkage.models import Agency, GatewayBatch, GatewayItem
from zhixing.measures import services
from zhixing.measures.models import ControlMeasure, MeasureDocument, MeasureStep
from zhixing.measures.tests.conftest import ACCOUNT, CAR, HOME, answer_step, found

State = ControlMeasure.State
CHINA = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=CHINA)


def freeze(officer, asset, amount="50000.00", **values):
    return services.request_measure(officer, asset, "freeze", amount=amount, now=NOW, **values)


def record(step):
    item = GatewayItem.objects.get(pk=step.item_id)
    return services.record_measure_answer([item])


# Purpose binding and permissions


def test_freeze_by_case_officer(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = freeze(officer, asset)

    assert measure.state == State.REQUESTED
    assert measure.rule == "2015"
    assert measure.period_months == 12
    assert measure.start_date == datetime.date(2026, 12, 4)
    assert measure.end_date == datetime.date(2027, 12, 3)
    assert measure.amount == Decimal("50000.00")
    assert measure.ruling_number == "（2026）粤0104执1号之一"
    step = measure.steps.get()
    item = GatewayItem.objects.get(pk=step.item_id)
    assert item.action == "freeze"
    assert item.category == "bank_account"
    assert item.agency.code == "bank-icbc"
    assert item.party == debtors[0]
    assert AuditRecord.objects.filter(detail__event="measure_requested").count() == 1
    assert Event.objects.filter(kind="measures.requested", user=officer).exists()


def test_freeze_provident_fund(officer, case, debtors, make_asset):
    Agency.objects.create(
        code="hpf-gz",
        name="广州住房公积金管理中心",
        kind=Agency.Kind.PROVIDENT_FUND,
        categories=["provident_fund"],
        actions=["query", "freeze", "renew", "release", "deduct"],
        base_url="http://127.0.0.1:9/agencies/hpf-gz",
    )
    fund = {"type": "provident_fund", "account": "440100123456", "balance": "86000.00"}
    asset = make_asset(case, debtors[0], fund, agency="hpf-gz", category="provident_fund")

    measure = freeze(officer, asset)

    assert measure.period_months == 12
    assert measure.amount == Decimal("50000.00")
    item = GatewayItem.objects.get(pk=measure.steps.get().item_id)
    assert (item.agency.code, item.action, item.category) == ("hpf-gz", "freeze", "provident_fund")
    notice = MeasureDocument.objects.get(step__measure=measure, role="notice")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(notice.pdf))).pages)
    assert "广州住房公积金管理中心" in text
    assert "440100123456" in text


def test_commander_above_may_freeze(make_user, officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    commander = make_user("cmd01", "粤01", "commander")

    measure = freeze(commander, asset)

    assert measure.requested_by == commander


@pytest.mark.parametrize(
    ("username", "court", "role"),
    [
        ("clerk", "粤0104", "clerk"),
        ("other_officer", "粤0104", "case_officer"),
        ("sibling_cmd", "粤0105", "commander"),
        ("duty", "粤01", "duty_officer"),
    ],
)
def test_others_may_not_freeze(make_user, case, debtors, make_asset, username, court, role):
    asset = make_asset(case, debtors[0], ACCOUNT)
    user = make_user(username, court, role)

    with pytest.raises(PermissionDenied):
        freeze(user, asset)
    assert not ControlMeasure.objects.exists()


def test_closed_case_rejected(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    case.status = "suspended"
    case.save()

    with pytest.raises(ValidationError, match="not open"):
        freeze(officer, asset)


def test_review_case_type_rejected(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    case.type_code = "执异"
    case.save()

    with pytest.raises(ValidationError, match="执异"):
        freeze(officer, asset)


def test_party_no_longer_debtor_rejected(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    case.case_parties.filter(party=debtors[0]).update(role="applicant")

    with pytest.raises(ValidationError, match="not a debtor"):
        freeze(officer, asset)


def test_kind_must_fit_asset(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)

    with pytest.raises(ValidationError) as error:
        services.request_measure(officer, asset, "seize_real_estate", now=NOW)
    assert "kind" in error.value.message_dict


@pytest.mark.parametrize(
    "amount", [None, "0", "-5", "12.345", "abc", "Infinity", "-Infinity", "sNaN", "1e999999999"]
)
def test_freeze_needs_valid_amount(officer, case, debtors, make_asset, amount):
    asset = make_asset(case, debtors[0], ACCOUNT)

    with pytest.raises(ValidationError) as error:
        freeze(officer, asset, amount=amount)
    assert "amount" in error.value.message_dict


def test_agency_without_action_rejected(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT, agency="bank-queryonly")

    with pytest.raises(ValidationError, match="does not accept"):
        freeze(officer, asset)


def test_same_asset_twice_in_case_rejected(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    freeze(officer, asset)

    with pytest.raises(ValidationError, match="already holds"):
        freeze(officer, asset)


# Periods


def test_period_below_maximum_and_later_start(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = freeze(officer, asset, period_months=6, start_date=datetime.date(2026, 12, 10))

    assert measure.end_date == datetime.date(2027, 6, 9)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"period_months": 13}, "period_months"),
        ({"period_months": 0}, "period_months"),
        ({"start_date": datetime.date(2026, 12, 3)}, "start_date"),
        ({"start_date": datetime.date(2027, 1, 10)}, "start_date"),
    ],
)
def test_period_out_of_range(officer, case, debtors, make_asset, values, field):
    asset = make_asset(case, debtors[0], ACCOUNT)

    with pytest.raises(ValidationError) as error:
        freeze(officer, asset, **values)
    assert field in error.value.message_dict


@pytest.mark.parametrize(
    ("kind", "record", "agency", "category", "months"),
    [
        ("seize_real_estate", HOME, "housing-gd", "real_estate", 36),
        ("seize_vehicle", CAR, "traffic-gd", "vehicle", 24),
        ("distrain", CAR, "traffic-gd", "vehicle", 24),
    ],
)
def test_seizure_periods_2015(
    officer, case, debtors, make_asset, kind, record, agency, category, months
):
    asset = make_asset(case, debtors[0], record, agency=agency, category=category)

    measure = services.request_measure(officer, asset, kind, now=NOW)

    assert measure.period_months == months
    assert measure.amount is None
    item = GatewayItem.objects.get(pk=measure.steps.get().item_id)
    assert item.action == "seize"


def test_deduction_has_no_period(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = services.request_measure(officer, asset, "deduct", amount="1000.00", now=NOW)

    assert measure.end_date is None
    assert measure.queue_position is None
    assert services.renewal_refusal(measure, NOW.date())
    assert services.release_refusal(measure)


# Documents


def test_documents_sealed_and_verified(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    measure = freeze(officer, asset)
    step = measure.steps.get()

    documents = {document.role: document for document in MeasureDocument.objects.filter(step=step)}

    assert set(documents) == {"ruling", "notice"}
    assert documents["ruling"].kind == "ruling_freeze"
    assert documents["notice"].kind == "assistance_notice_freeze"
    for document in documents.values():
        pdf = bytes(document.pdf)
        assert hashlib.sha256(pdf).hexdigest() == document.sha256
        report = verification.verify_pdf(pdf)
        assert report.valid, report
        assert report.signatures[0].court_code == "粤0104"


def test_document_for_item(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    measure = freeze(officer, asset)
    step = measure.steps.get()

    document = services.document_for_item(step.item_id)

    assert document["kind"] == "assistance_notice_freeze"
    pdf = base64.b64decode(document["pdf_base64"])
    assert hashlib.sha256(pdf).hexdigest() == document["sha256"]
    assert verification.verify_pdf(pdf).valid
    assert [attachment["kind"] for attachment in document["attachments"]] == ["ruling_freeze"]
    assert services.document_for_item(str(step.item_id)) == document


def test_document_for_query_item_is_none(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)

    assert services.document_for_item(asset.item_id) is None
    assert services.document_for_item("not-a-uuid") is None


def test_batch_message_carries_document_and_measure(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    apply = measure.steps.get()
    renewal = services.renew_measure(officer, measure, now=NOW + datetime.timedelta(days=300))
    items = list(GatewayItem.objects.filter(pk__in=[apply.item_id, renewal.item_id]))
    batch = GatewayBatch.objects.create(agency=items[0].agency, court=case.court)

    entries = {entry["item_id"]: entry for entry in gateway.batch_message(batch, items)["items"]}

    first = entries[str(apply.item_id)]
    assert first["document"] == services.document_for_item(apply.item_id)
    assert first["document"]["attachments"][0]["kind"] == "ruling_freeze"
    assert first["measure"] == {
        "asset_type": "bank_account",
        "identifier": ACCOUNT["account_number"],
        "amount": "50000.00",
        "start": "2026-12-04",
        "end": "2027-12-03",
        "reference": None,
    }
    second = entries[str(renewal.item_id)]
    assert second["action"] == "renew"
    assert second["document"]["kind"] == "assistance_notice_renew_freeze"
    assert "attachments" not in second["document"]
    assert second["measure"]["reference"] == str(apply.item_id)
    assert second["measure"]["end"] == renewal.end_date.isoformat()


@pytest.mark.parametrize(
    ("kind", "record", "agency", "category", "ruling", "notice"),
    [
        (
            "seize_real_estate",
            HOME,
            "housing-gd",
            "real_estate",
            "ruling_seize",
            "assistance_notice_seize_real_estate",
        ),
        (
            "seize_vehicle",
            CAR,
            "traffic-gd",
            "vehicle",
            "ruling_seize_vehicle",
            "assistance_notice_seize_vehicle",
        ),
        ("distrain", CAR, "traffic-gd", "vehicle", "ruling_distrain", "assistance_notice_distrain"),
    ],
)
def test_seizure_documents(
    officer, case, debtors, make_asset, kind, record, agency, category, ruling, notice
):
    asset = make_asset(case, debtors[0], record, agency=agency, category=category)

    measure = services.request_measure(officer, asset, kind, now=NOW)

    kinds = set(
        MeasureDocument.objects.filter(step__measure=measure).values_list("kind", flat=True)
    )
    assert kinds == {ruling, notice}
    for document in MeasureDocument.objects.filter(step__measure=measure):
        assert verification.verify_pdf(bytes(document.pdf)).valid


# Queue position


def test_queue_counts_reported_and_own_seizures(officer, case, debtors, make_asset, file_case):
    home = {
        **HOME,
        "existing_seizures": [
            {
                "court": "某法院",
                "case_number": "(2025)粤0105执9号",
                "since": "2025-01-01",
                "until": None,
            },
            # Ended before the measure: not counted.
            {
                "court": "某法院",
                "case_number": "(2022)粤0105执1号",
                "since": "2022-01-01",
                "until": "2025-01-01",
            },
        ],
    }
    asset = make_asset(case, debtors[0], home, agency="housing-gd", category="real_estate")
    first = services.request_measure(officer, asset, "seize_real_estate", now=NOW)
    assert first.queue_position == 1

    other_case = file_case(first=1)
    other_debtor = other_case.parties.filter(case_roles__role="debtor").order_by("case_roles__id")[
        0
    ]
    other_asset = make_asset(
        other_case, other_debtor, home, agency="housing-gd", category="real_estate"
    )
    second = services.request_measure(officer, other_asset, "seize_real_estate", now=NOW)

    assert second.queue_position == 2


def test_frozen_account_counts_once(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], {**ACCOUNT, "state": "frozen"})

    assert freeze(officer, asset).queue_position == 1


def test_release_moves_later_measures_up(officer, case, debtors, make_asset, file_case):
    asset = make_asset(case, debtors[0], ACCOUNT)
    first = freeze(officer, asset)
    other_case = file_case(first=1)
    other_debtor = other_case.parties.filter(case_roles__role="debtor").order_by("case_roles__id")[
        0
    ]
    second = freeze(officer, make_asset(other_case, other_debtor, ACCOUNT))
    assert (first.queue_position, second.queue_position) == (0, 1)
    answer_step(first.steps.get(), {"type": "freeze", "frozen_amount": "50000.00"})
    record(first.steps.get())

    release = services.release_measure(officer, first, reason="paid", now=NOW)
    answer_step(release, {"type": "release"})
    record(release)

    second.refresh_from_db()
    assert second.queue_position == 0


# Answers


def test_full_answer_puts_measure_in_force(officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    answer_step(
        step,
        {
            "type": "freeze",
            "account_number": ACCOUNT["account_number"],
            "frozen_amount": "50000.00",
            "start": "2026-12-05",
            "end": "2027-12-04",
            "queue_position": 0,
        },
    )

    # The gateway's answer hook recorded the answer.
    measure.refresh_from_db()
    assert measure.state == State.IN_FORCE
    assert measure.actual_amount == Decimal("50000.00")
    assert measure.start_date == datetime.date(2026, 12, 5)
    assert measure.end_date == datetime.date(2027, 12, 4)
    assert measure.queue_reported
    assert MeasureStep.objects.get(pk=step.pk).state == "done"
    assert AuditRecord.objects.filter(detail__event="measure_state", detail__to="in_force").exists()
    assert Event.objects.filter(kind="measures.answered", user=officer).exists()
    # The same answer again changes nothing.
    assert record(step) == 0


def test_answer_stored_without_the_hook_is_recorded_once(officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    record_ = {"type": "freeze", "account_number": ACCOUNT["account_number"]}
    GatewayItem.objects.filter(pk=step.item_id).update(
        state=GatewayItem.State.ANSWERED, answer=found(step.item_id, record_)
    )

    assert record(step) == 1
    assert record(step) == 0
    measure.refresh_from_db()
    assert measure.state == State.IN_FORCE


def test_partial_answer(officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    answer_step(step, {"type": "freeze", "frozen_amount": "15230.55", "queue_position": 2})

    record(step)

    measure.refresh_from_db()
    assert measure.state == State.PARTLY_IN_FORCE
    assert measure.actual_amount == Decimal("15230.55")
    assert measure.queue_position == 2
    assert measure.end_date == datetime.date(2027, 12, 3)


def test_rejected_answer(officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    answer_step(step, {"type": "freeze", "result": "rejected", "reason": "account closed"})

    record(step)

    measure.refresh_from_db()
    assert measure.state == State.REJECTED
    assert measure.outcome_note == "account closed"


def test_not_found_answer_rejects(officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    answer_step(step, status="not_found")

    record(step)

    measure.refresh_from_db()
    assert measure.state == State.REJECTED


def test_answer_without_record_leaves_step_open(officer, case, debtors, make_asset, caplog):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    step = measure.steps.get()
    answer_step(step, {"type": "bank_account", **ACCOUNT})

    assert record(step) == 0

    measure.refresh_from_db()
    assert measure.state == State.REQUESTED
    assert "left for a person" in caplog.text


def test_sync_reads_acknowledged_failed_and_answered(officer, case, debtors, make_asset):
    first = freeze(officer, make_asset(case, debtors[0], ACCOUNT))
    other_account = {**ACCOUNT, "account_number": "6212269999999999999"}
    second = freeze(officer, make_asset(case, debtors[1], other_account))
    GatewayItem.objects.filter(pk=first.steps.get().item_id).update(state="acknowledged")
    GatewayItem.objects.filter(pk=second.steps.get().item_id).update(
        state="failed", last_error="rejected by bank-icbc: account closed"
    )

    assert services.sync_gateway_states(NOW) == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == State.SENT
    assert second.state == State.REJECTED
    assert "account closed" in second.outcome_note
    assert services.sync_gateway_states(NOW) == 0

    # An answer stored without the answer hook, as before the gateway passed answers on.
    item_id = first.steps.get().item_id
    GatewayItem.objects.filter(pk=item_id).update(
        state="answered", answer=found(item_id, {"type": "freeze", "frozen_amount": "50000.00"})
    )
    assert services.sync_gateway_states(NOW) == 1
    first.refresh_from_db()
    assert first.state == State.IN_FORCE


# Renewal and release


def in_force(officer, asset, **values):
    measure = freeze(officer, asset, **values)
    step = measure.steps.get()
    answer_step(step, {"type": "freeze", "frozen_amount": str(measure.amount)})
    record(step)
    measure.refresh_from_db()
    return measure


def test_renewal_2015_same_period(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    later = NOW + datetime.timedelta(days=300)

    with pytest.raises(ValidationError):
        services.renew_measure(officer, measure, period_months=13, now=later)
    step = services.renew_measure(officer, measure, now=later)

    assert step.period_months == 12
    assert step.start_date == datetime.date(2027, 12, 4)
    assert step.end_date == datetime.date(2028, 12, 3)
    notice = step.documents.get()
    assert notice.kind == "assistance_notice_renew_freeze"
    assert verification.verify_pdf(bytes(notice.pdf)).valid
    assert GatewayItem.objects.get(pk=step.item_id).action == "renew"
    with pytest.raises(ValidationError, match="awaits"):
        services.renew_measure(officer, measure, now=later)

    answer_step(step, {"type": "renew", "end": "2028-12-03"})
    record(step)
    measure.refresh_from_db()
    assert measure.end_date == datetime.date(2028, 12, 3)
    assert measure.renewals == 1
    assert measure.state == State.IN_FORCE


def test_renewal_after_end_rejected(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))

    with pytest.raises(ValidationError, match="before the end"):
        services.renew_measure(officer, measure, now=NOW + datetime.timedelta(days=400))


def test_measure_answer_not_announced_as_query(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], ACCOUNT)
    query_events = Event.objects.filter(kind="inquiry.answers").count()

    measure = in_force(officer, asset)

    assert measure.state == State.IN_FORCE
    assert Event.objects.filter(kind="inquiry.answers").count() == query_events
    assert Event.objects.filter(kind="measures.answered").exists()


def test_renewal_before_window_rejected(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    assert measure.end_date == datetime.date(2027, 12, 3)
    day_before = datetime.datetime(2027, 6, 3, 10, 0, tzinfo=CHINA)

    with pytest.raises(ValidationError) as error:
        services.renew_measure(officer, measure, now=day_before)

    message = " ".join(error.value.message_dict["measure"])
    assert "too early" in message
    assert "2027-06-04" in message
    assert "2027-12-03" in message
    assert measure.steps.count() == 1
    assert not GatewayItem.objects.filter(action="renew").exists()
    first_day = datetime.datetime(2027, 6, 4, 10, 0, tzinfo=CHINA)
    assert services.renew_measure(officer, measure, now=first_day).end_date == datetime.date(
        2028, 12, 3
    )


def test_seizure_renewals_do_not_stack(officer, case, debtors, make_asset):
    home = make_asset(case, debtors[0], HOME, agency="housing-gd", category="real_estate")
    measure = services.request_measure(officer, home, "seize_real_estate", now=NOW)
    answer_step(measure.steps.get(), {"type": "seize", "queue_position": 0})
    record(measure.steps.get())
    measure.refresh_from_db()
    assert measure.end_date == datetime.date(2029, 12, 3)

    # On the day the seizure is made, no renewal of 36 months is possible.
    with pytest.raises(ValidationError, match="2029-06-04"):
        services.renew_measure(officer, measure, period_months=36, now=NOW)

    # Renewed on the first day of the window, and confirmed at once by the agency.
    window = datetime.datetime(2029, 6, 4, 10, 0, tzinfo=CHINA)
    renewal = services.renew_measure(officer, measure, period_months=36, now=window)
    with pytest.raises(ValidationError, match="awaits"):
        services.renew_measure(officer, measure, period_months=36, now=window)
    answer_step(renewal, {"type": "renew"})
    record(renewal)
    measure.refresh_from_db()
    assert measure.end_date == datetime.date(2032, 12, 3)

    # The new period is not in its window yet, so a second renewal the same day is rejected.
    with pytest.raises(ValidationError, match="2032-06-04"):
        services.renew_measure(officer, measure, period_months=36, now=window)
    assert measure.steps.filter(kind="renew").count() == 1
    assert services.renewal_refusal(measure, window.date()) != ""


def test_measure_of_2004_keeps_its_rule(officer, case, debtors, make_asset):
    # The clock is set back to 2014 for the measure; the case's own dates do not matter here.
    old_now = datetime.datetime(2014, 6, 1, 10, 0, tzinfo=CHINA)
    asset = make_asset(case, debtors[0], ACCOUNT)

    measure = services.request_measure(officer, asset, "freeze", amount="1000.00", now=old_now)
    assert measure.rule == "2004"
    assert measure.period_months == 6
    assert measure.end_date == datetime.date(2014, 11, 30)
    answer_step(measure.steps.get(), {"type": "freeze", "frozen_amount": "1000.00"})
    record(measure.steps.get())
    measure.refresh_from_db()

    # Renewed in 2014, and again years later: half of 6 months both times.
    renew_now = datetime.datetime(2014, 11, 20, 10, 0, tzinfo=CHINA)
    with pytest.raises(ValidationError) as error:
        services.renew_measure(officer, measure, period_months=4, now=renew_now)
    assert "period_months" in error.value.message_dict
    step = services.renew_measure(officer, measure, now=renew_now)
    assert step.period_months == 3
    assert step.end_date == datetime.date(2015, 2, 28)
    assert services.plan_renewal(measure).max_months == 3


def test_release(officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))

    with pytest.raises(ValidationError, match="reason"):
        services.release_measure(officer, measure, reason=" ", now=NOW)
    step = services.release_measure(officer, measure, reason="The debtor paid.", now=NOW)

    notice = step.documents.get()
    assert notice.kind == "assistance_notice_release_freeze"
    assert verification.verify_pdf(bytes(notice.pdf)).valid
    assert GatewayItem.objects.get(pk=step.item_id).action == "release"
    answer_step(step, {"type": "release", "released_on": "2026-12-05"})
    record(step)
    measure.refresh_from_db()
    assert measure.state == State.RELEASED
    assert Event.objects.filter(kind="measures.released").exists()


def test_release_of_vehicle_seizure(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], CAR, agency="traffic-gd", category="vehicle")
    measure = services.request_measure(officer, asset, "seize_vehicle", now=NOW)
    answer_step(measure.steps.get(), {"type": "seize", "queue_position": 0})
    record(measure.steps.get())
    measure.refresh_from_db()
    assert measure.state == State.IN_FORCE

    renewal = services.renew_measure(officer, measure, now=NOW + datetime.timedelta(days=700))
    assert renewal.documents.get().kind == "assistance_notice_renew_seizure"
    answer_step(renewal, {"type": "renew"})
    record(renewal)
    release = services.release_measure(officer, measure, reason="sold", now=NOW)

    assert release.documents.get().kind == "assistance_notice_release_vehicle"


def test_no_renewal_of_unconfirmed_measure(officer, case, debtors, make_asset):
    measure = freeze(officer, make_asset(case, debtors[0], ACCOUNT))

    with pytest.raises(ValidationError, match="in force"):
        services.renew_measure(officer, measure, now=NOW)
    with pytest.raises(ValidationError, match="in force"):
        services.release_measure(officer, measure, reason="x", now=NOW)


def test_stranger_may_not_renew(make_user, officer, case, debtors, make_asset):
    measure = in_force(officer, make_asset(case, debtors[0], ACCOUNT))
    stranger = make_user("x", "粤0105", "commander")

    with pytest.raises(PermissionDenied):
        services.renew_measure(stranger, measure, now=timezone.now())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_requests_make_one_measure(officer, case, debtors, make_asset):
    asset = make_asset(case, debtors[0], HOME)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def request_one() -> None:
        try:
            barrier.wait()
            services.request_measure(officer, asset, "seize_real_estate", now=NOW)
            outcomes.append("made")
        except ValidationError as error:
            outcomes.append("asset" if "asset" in error.message_dict else str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=request_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["asset", "asset", "asset", "made"]
    assert ControlMeasure.objects.filter(asset=asset).count() == 1
