"""Answers to control measures typed in for manual agencies: the form, the list and the measure.

A measure made from an asset record goes to a manual agency, the worker sends its batch, and
staff type the agency's paper answer in. The measure must then change as it does for the same
answer from an online agency.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agency_simulator.tests.schemas import errors as schema_errors
from zhixing.audit.models import AuditRecord
from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.inquiry import services as inquiry
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import gateway, worker
from zhixing.linkage.answer_forms import MeasureAnswerEntry, MeasureRecordForm, RequestedMeasure
from zhixing.linkage.models import Agency, GatewayBatch, GatewayItem
from zhixing.measures import services as measures
from zhixing.measures.models import ControlMeasure, MeasureStep
from zhixing.measures.tests.conftest import ACCOUNT, HOME, found

State = GatewayItem.State
MeasureState = ControlMeasure.State
ENVELOPE = {"protocol": "zhixing-gateway/1", "agency": "x", "sent_at": "2026-12-04T16:31:02+08:00"}
SECOND_ACCOUNT = {**ACCOUNT, "account_number": "6212269876543210987"}


def client_for(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def page_text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def officer(make_user):
    return make_user("officer0104", "粤0104", "case_officer")


@pytest.fixture
def clerk(make_user):
    return make_user("clerk0104", "粤0104", "clerk")


def _manual_agency(code: str, kind: str, categories: list[str], actions: list[str]) -> Agency:
    return Agency.objects.create(
        code=code,
        name=code,
        kind=kind,
        categories=categories,
        actions=actions,
        adapter=Agency.Adapter.MANUAL,
        batch_window_seconds=1,
    )


@pytest.fixture
def manual_bank(db):
    actions = ["query", "freeze", "renew", "release", "deduct", "seize"]
    return _manual_agency("bank-manual", Agency.Kind.BANK, ["bank_account"], actions)


@pytest.fixture
def manual_housing(db):
    actions = ["query", "seize", "renew", "release"]
    return _manual_agency("housing-manual", Agency.Kind.HOUSING, ["real_estate"], actions)


@pytest.fixture
def measure_case(courts, officer) -> EnforcementCase:
    return case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=[
            PartyInput(
                name=f"债务人{index}",
                document_type="resident_id",
                document_number=make_resident_id("440104", "19850101", index),
            )
            for index in (1, 2)
        ],
        claim_amount="100000.00",
        basis_court="广州市越秀区人民法院",
        basis_document_number="（2025）粤0104民初5678号",
        case_officer=officer,
    )


@pytest.fixture
def make_asset(officer, measure_case):
    """Query a debtor of the case and store the agency's answer ``record``; return the asset."""

    def make(agency: Agency, record: dict[str, Any], *, debtor: int = 0) -> AssetRecord:
        party = measure_case.parties.filter(case_roles__role="debtor").order_by("pk")[debtor]
        result = inquiry.request_query(
            officer, measure_case, [party], [agency.categories[0]], force=True, reason="test"
        )
        item = next(item for item in result.queued if item.agency_id == agency.pk)
        gateway.apply_answers(agency, [found(item.pk, record)])
        return AssetRecord.objects.get(item=item)

    return make


def send_batches() -> None:
    """Run the gateway worker once, which hands the queued items to their manual agencies."""
    worker.run_gateway_once(timezone.now() + datetime.timedelta(seconds=10), owner="w1")


def item_of(measure: ControlMeasure, kind: str = MeasureStep.Kind.APPLY) -> GatewayItem:
    step = measure.steps.get(kind=kind)
    return GatewayItem.objects.select_related("party").get(pk=step.item_id)


@pytest.fixture
def freeze(officer, manual_bank, make_asset):
    """A freeze of at most 50,000.00 yuan on a deposit, handed to the manual bank."""
    measure = measures.request_measure(
        officer, make_asset(manual_bank, ACCOUNT), "freeze", amount="50000.00"
    )
    send_batches()
    return measure


@pytest.fixture
def seizure(officer, manual_housing, make_asset):
    measure = measures.request_measure(
        officer, make_asset(manual_housing, HOME), "seize_real_estate"
    )
    send_batches()
    return measure


def answer_url(item: GatewayItem) -> str:
    return f"/agencies/manual/items/{item.pk}/"


def freeze_post(status: str = "found", **values: str) -> dict[str, str]:
    """Return a submission of a freeze outcome; ``values`` are the record's fields."""
    data = {"status": status}
    for name, value in values.items():
        data[f"freeze-{name}"] = value
    return data


def seize_post(status: str = "found", **values: str) -> dict[str, str]:
    data = {"status": status}
    for name, value in values.items():
        data[f"seize-{name}"] = value
    return data


# The answer page


def test_freeze_page_shows_request_and_prefills(freeze, clerk):
    item = item_of(freeze)

    response = client_for(clerk).get(answer_url(item))

    text = page_text(response)
    assert response.status_code == 200
    assert 'data-testid="records-freeze"' in text
    assert 'data-testid="measure-action">Freeze<' in text
    assert "at most 50,000.00" in text
    start, end = freeze.start_date.isoformat(), freeze.end_date.isoformat()
    assert f"{start} – {end}" in text
    assert "Assistance notice: freeze" in text
    assert "Enforcement ruling: freeze" in text
    # The facts mask the account number; the form starts with it in full.
    assert "621226*********0123" in text
    assert text.count(ACCOUNT["account_number"]) == 1
    assert f'name="freeze-account_number" value="{ACCOUNT["account_number"]}"' in text
    assert f'name="freeze-start" value="{start}"' in text
    assert f'name="freeze-end" value="{end}"' in text
    assert 'name="real_estate-TOTAL_FORMS"' not in text
    assert 'name="add_record"' not in text
    read = AuditRecord.objects.get(action="read_personal", object_type="cases.party")
    assert read.user_id == clerk.pk
    assert read.detail["fields"] == ["asset_identifier"]
    assert read.detail["item_id"] == str(item.pk)
    assert ACCOUNT["account_number"] not in str(read.detail)


def test_page_of_other_court_shows_no_full_account(freeze, make_user):
    item = item_of(freeze)
    head = client_for(make_user("head01", "粤01", "bureau_head"))

    text = page_text(head.get(answer_url(item)))

    assert 'data-testid="answer-form"' not in text
    assert ACCOUNT["account_number"] not in text
    assert 'data-testid="document-0"' not in text
    assert not AuditRecord.objects.filter(action="read_personal").exists()


def test_batch_page_names_action(freeze, clerk):
    item = item_of(freeze)

    text = page_text(client_for(clerk).get(f"/agencies/manual/{item.batch_id}/"))

    assert f'data-testid="action-{item.pk}">Freeze<' in text


# Storing the outcome


def test_partial_freeze_updates_measure_as_online(freeze, officer, make_asset, manual_bank, clerk):
    online = measures.request_measure(
        officer, make_asset(manual_bank, SECOND_ACCOUNT, debtor=1), "freeze", amount="50000.00"
    )
    start = freeze.start_date + datetime.timedelta(days=1)
    end = freeze.end_date + datetime.timedelta(days=1)
    typed = {
        "account_number": ACCOUNT["account_number"],
        "frozen_amount": "15230.55",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "queue_position": "1",
        "result": "partial",
        "reason": "余额不足",
    }
    item = item_of(freeze)

    response = client_for(clerk).post(answer_url(item), freeze_post(**typed))

    assert response.status_code == 302
    assert response["Location"] == f"/agencies/manual/{item.batch_id}/"
    item.refresh_from_db()
    assert item.state == State.ANSWERED
    assert schema_errors("answers", {**ENVELOPE, "answers": [item.answer]}) == []
    (record,) = item.answer["records"]
    expected = {"type": "freeze", **typed, "queue_position": 1}
    assert record == expected
    # The same record from an online agency, stored by the gateway's callback handling.
    gateway.apply_answers(manual_bank, [found(item_of(online).pk, {**expected})])
    freeze.refresh_from_db()
    online.refresh_from_db()
    assert freeze.state == MeasureState.PARTLY_IN_FORCE
    assert freeze.actual_amount == Decimal("15230.55")
    assert freeze.start_date == start
    assert freeze.end_date == end
    assert freeze.queue_position == 1
    assert freeze.queue_reported
    assert freeze.outcome_note == "余额不足"
    assert freeze.steps.get().state == MeasureStep.State.PARTLY_DONE
    for field in ("state", "actual_amount", "start_date", "end_date", "queue_position"):
        assert getattr(freeze, field) == getattr(online, field), field
    stored = AuditRecord.objects.get(object_type="linkage.gatewayitem", object_id=str(item.pk))
    assert stored.detail == {"event": "manual_answer", "status": "found", "records": 1}


def test_freeze_done_puts_measure_in_force(freeze, clerk):
    item = item_of(freeze)
    data = freeze_post(
        account_number=ACCOUNT["account_number"],
        frozen_amount="50000",
        start=freeze.start_date.isoformat(),
        end=freeze.end_date.isoformat(),
        queue_position="0",
        result="done",
    )

    response = client_for(clerk).post(answer_url(item), data)

    assert response.status_code == 302
    (record,) = GatewayItem.objects.get(pk=item.pk).answer["records"]
    assert record["frozen_amount"] == "50000.00"
    assert "reason" not in record
    freeze.refresh_from_db()
    assert freeze.state == MeasureState.IN_FORCE
    assert freeze.actual_amount == Decimal("50000.00")
    assert freeze.queue_position == 0


def test_rejected_seizure_needs_reason(seizure, clerk):
    item = item_of(seizure)
    client = client_for(clerk)
    data = seize_post(identifier=HOME["certificate_number"], result="rejected")

    without_reason = client.post(answer_url(item), data)

    assert without_reason.status_code == 400
    assert "Enter the reason the agency gave for rejecting the request." in page_text(
        without_reason
    )
    assert GatewayItem.objects.get(pk=item.pk).state == State.ACKNOWLEDGED
    seizure.refresh_from_db()
    assert seizure.state == MeasureState.REQUESTED
    assert not AuditRecord.objects.filter(object_type="linkage.gatewayitem").exists()

    response = client.post(answer_url(item), {**data, "seize-reason": "该不动产已被注销登记"})

    assert response.status_code == 302
    (record,) = GatewayItem.objects.get(pk=item.pk).answer["records"]
    assert record["result"] == "rejected"
    assert "queue_position" not in record
    assert schema_errors("records", record) == []
    seizure.refresh_from_db()
    assert seizure.state == MeasureState.REJECTED
    assert seizure.outcome_note == "该不动产已被注销登记"


def test_seizure_page_shows_certificate_unaudited(seizure, clerk):
    text = page_text(client_for(clerk).get(answer_url(item_of(seizure))))

    assert f'name="seize-identifier" value="{HOME["certificate_number"]}"' in text
    assert 'name="seize-queue_position"' in text
    assert 'name="seize-frozen_amount"' not in text
    assert not AuditRecord.objects.filter(action="read_personal").exists()


def test_not_found_rejects_measure(freeze, clerk):
    item = item_of(freeze)
    untouched = freeze_post(
        status="not_found",
        account_number=ACCOUNT["account_number"],
        start=freeze.start_date.isoformat(),
        end=freeze.end_date.isoformat(),
    )

    response = client_for(clerk).post(answer_url(item), untouched)

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.answer["status"] == "not_found"
    assert item.answer["records"] == []
    freeze.refresh_from_db()
    assert freeze.state == MeasureState.REJECTED


def test_not_found_with_outcome_rejected(freeze, clerk):
    item = item_of(freeze)
    data = freeze_post(
        status="not_found",
        account_number=ACCOUNT["account_number"],
        result="rejected",
        reason="账户已销户",
    )

    response = client_for(clerk).post(answer_url(item), data)

    text = page_text(response)
    assert response.status_code == 400
    assert "You chose not found but filled in an outcome" in text
    # The record is ignored for not found, so its own checks stay silent.
    assert "Enter the start of the period" not in text
    assert GatewayItem.objects.get(pk=item.pk).state == State.ACKNOWLEDGED


def applied_freeze(measure: Any, **values: str) -> dict[str, str]:
    typed = {
        "account_number": ACCOUNT["account_number"],
        "frozen_amount": "15230.55",
        "start": measure.start_date.isoformat(),
        "end": measure.end_date.isoformat(),
        "queue_position": "0",
        "result": "partial",
        **values,
    }
    return freeze_post(**typed)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"result": ""}, "Choose the result the agency reported"),
        ({"frozen_amount": "60000.00"}, "60000.00 is more than the 50000.00 asked"),
        ({"frozen_amount": "100.555"}, "Enter at most two decimal places"),
        ({"frozen_amount": "-1"}, "-1 is negative"),
        ({"frozen_amount": ""}, "Enter the amount the agency reports"),
        ({"result": "done"}, "The agency applied 15230.55 of the 50000.00 asked"),
        ({"result": "rejected", "reason": "账户已冻结"}, "A rejected request applied nothing"),
        ({"queue_position": ""}, "Enter the queue position the agency reported"),
        ({"queue_position": "-2"}, "-2 is negative; enter 0 or more."),
        ({"queue_position": "1.5"}, "Enter the queue position as a whole number"),
        ({"start": "2026/12/04"}, "Enter a date such as 2025-06-30."),
        ({"end": ""}, "Enter the end of the period the agency registered."),
        ({"end": "2020-01-01"}, "The end 2020-01-01 lies before the start"),
        ({"account_number": ""}, "Enter the asset that the agency&#x27;s answer names"),
        ({"account_number": "62 12"}, "Enter 6 to 40 digits, letters or hyphens"),
        ({"reason": "长" * 501}, "The reason has 501 characters; shorten it to at most 500."),
    ],
)
def test_freeze_form_errors(freeze, clerk, values, expected):
    item = item_of(freeze)
    state = freeze.state

    response = client_for(clerk).post(answer_url(item), applied_freeze(freeze, **values))

    assert response.status_code == 400
    assert expected in page_text(response)
    assert GatewayItem.objects.get(pk=item.pk).state == State.ACKNOWLEDGED
    freeze.refresh_from_db()
    assert freeze.state == state


def test_rejected_freeze_stores_zero_amount(freeze, clerk):
    item = item_of(freeze)
    data = applied_freeze(
        freeze, result="rejected", reason="账户已销户", frozen_amount="", queue_position=""
    )

    response = client_for(clerk).post(answer_url(item), data)

    assert response.status_code == 302
    (record,) = GatewayItem.objects.get(pk=item.pk).answer["records"]
    assert record["frozen_amount"] == "0.00"
    assert schema_errors("records", record) == []
    freeze.refresh_from_db()
    assert freeze.state == MeasureState.REJECTED
    assert freeze.actual_amount == Decimal("0.00")


def test_measure_answer_needs_handler(freeze, make_user):
    item = item_of(freeze)
    police = client_for(make_user("police0104", "粤0104", "judicial_police"))

    response = police.post(answer_url(item), applied_freeze(freeze))

    assert response.status_code == 403
    assert GatewayItem.objects.get(pk=item.pk).state == State.ACKNOWLEDGED


# The printed list and the sealed documents


def test_print_list_shows_measure_item(freeze, seizure, clerk):
    frozen, seized = item_of(freeze), item_of(seizure)
    batch = GatewayBatch.objects.get(pk=frozen.batch_id)

    response = client_for(clerk).post(f"/agencies/manual/{batch.pk}/print/")

    text = page_text(response)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "control measures" in text
    row = text[text.index(f'data-testid="sheet-item-{frozen.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "<strong>Freeze</strong>" in row
    assert f'Bank account <span class="document-number">{ACCOUNT["account_number"]}' in row
    assert "At most 50,000.00 yuan" in row
    assert f"Period {freeze.start_date.isoformat()} – {freeze.end_date.isoformat()}" in row
    assert "Assistance notice: freeze" in row
    assert frozen.party.document_number in row
    assert "Amount frozen (yuan): " in row
    assert "Queue position: " in row
    assert "☐ Partial: applied in part" in row
    records = AuditRecord.objects.filter(action="read_personal", object_type="cases.party")
    fields = {record.object_id: record.detail["fields"] for record in records}
    assert fields[str(frozen.party_id)] == ["asset_identifier", "document_number"]
    # The seizure is in another batch, to the housing registry.
    assert seized.batch_id != batch.pk


def test_print_list_of_seizure_names_certificate(seizure, clerk):
    item = item_of(seizure)

    text = page_text(client_for(clerk).post(f"/agencies/manual/{item.batch_id}/print/"))

    assert "<strong>Seize</strong>" in text
    assert HOME["certificate_number"] in text
    assert "At most" not in text
    records = AuditRecord.objects.filter(action="read_personal", object_type="cases.party")
    assert [record.detail["fields"] for record in records] == [["document_number"]]


def test_sealed_notice_download_audited(freeze, clerk):
    item = item_of(freeze)
    notice = freeze.steps.get().documents.get(role="notice")

    response = client_for(clerk).get(f"/agencies/manual/items/{item.pk}/documents/0/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert hashlib.sha256(response.content).hexdigest() == notice.sha256
    read = AuditRecord.objects.get(action="read_personal", object_type="linkage.gatewayitem")
    assert read.detail["sha256"] == notice.sha256
    assert read.detail["kind"] == "assistance_notice_freeze"
    assert (
        client_for(clerk).get(f"/agencies/manual/items/{item.pk}/documents/9/").status_code == 404
    )


def test_sealed_notice_needs_handler(freeze, make_user):
    item = item_of(freeze)
    head = client_for(make_user("head01", "粤01", "bureau_head"))

    response = head.get(f"/agencies/manual/items/{item.pk}/documents/0/")

    assert response.status_code == 403
    assert not AuditRecord.objects.filter(action="read_personal").exists()


# The record forms of every action


def bound(requested: RequestedMeasure, **values: str) -> MeasureRecordForm:
    data = {f"{requested.action}-{name}": value for name, value in values.items()}
    return MeasureRecordForm(requested, data)  # type: ignore[arg-type]


SHARES = RequestedMeasure(
    action="freeze",
    category="business_registration",
    asset_type="shareholding",
    identifier="91440101MA59UL6J7K",
    start=datetime.date(2026, 12, 4),
    end=datetime.date(2029, 12, 3),
)


@pytest.mark.parametrize(
    ("requested", "values", "expected"),
    [
        (
            SHARES,
            {
                "identifier": "91440101ma59ul6j7k",
                "start": "2026-12-04",
                "end": "2029-12-03",
                "queue_position": "2",
                "result": "done",
            },
            {
                "type": "freeze",
                "identifier": "91440101MA59UL6J7K",
                "start": "2026-12-04",
                "end": "2029-12-03",
                "queue_position": 2,
                "result": "done",
            },
        ),
        (
            RequestedMeasure(
                action="deduct",
                category="bank_account",
                asset_type="bank_account",
                identifier="6212261234567890123",
                amount=Decimal("20000.00"),
            ),
            {
                "account_number": "6212261234567890123",
                "deducted_amount": "20000",
                "result": "done",
            },
            {
                "type": "deduct",
                "account_number": "6212261234567890123",
                "deducted_amount": "20000.00",
                "result": "done",
            },
        ),
        (
            RequestedMeasure(
                action="renew",
                category="bank_account",
                asset_type="bank_account",
                identifier="6212261234567890123",
                start=datetime.date(2027, 12, 4),
                end=datetime.date(2028, 12, 3),
            ),
            {
                "account_number": "6212261234567890123",
                "frozen_amount": "15230.55",
                "start": "2027-12-04",
                "end": "2028-12-03",
                "result": "done",
            },
            {
                "type": "renew",
                "account_number": "6212261234567890123",
                "frozen_amount": "15230.55",
                "start": "2027-12-04",
                "end": "2028-12-03",
                "result": "done",
            },
        ),
        (
            RequestedMeasure(
                action="release",
                category="vehicle",
                asset_type="vehicle",
                identifier="粤A12345",
            ),
            {"identifier": "粤a 12345", "released_on": "2027-03-01", "result": "done"},
            {
                "type": "release",
                "identifier": "粤A12345",
                "released_on": "2027-03-01",
                "result": "done",
            },
        ),
        (
            RequestedMeasure(
                action="restrict_exit",
                category="exit_entry",
                start=datetime.date(2026, 12, 4),
                end=datetime.date(2027, 12, 3),
            ),
            {"start": "2026-12-04", "end": "2027-12-03", "result": "done"},
            {"type": "restrict_exit", "start": "2026-12-04", "end": "2027-12-03", "result": "done"},
        ),
    ],
)
def test_record_of_each_action(requested, values, expected):
    form = bound(requested, **values)

    assert form.is_valid(), form.errors
    assert form.record() == expected
    assert schema_errors("records", form.record()) == []


def test_share_freeze_has_no_amount_or_account():
    form = MeasureRecordForm(SHARES)

    assert "identifier" in form.fields
    assert "account_number" not in form.fields
    assert "frozen_amount" not in form.fields
    assert form["identifier"].value() == SHARES.identifier
    assert form["start"].value() == SHARES.start


def test_share_freeze_checks_credit_code():
    form = bound(
        SHARES,
        identifier="9144010",
        start="2026-12-04",
        end="2029-12-03",
        queue_position="0",
        result="done",
    )

    assert not form.is_valid()
    assert "18-character unified social credit code" in str(form.errors["identifier"])


def test_release_needs_date_unless_rejected():
    requested = RequestedMeasure(action="release", category="real_estate", identifier="粤(2020)1号")

    applied = bound(requested, identifier="粤(2020)1号", result="done")
    rejected = bound(requested, identifier="粤(2020)1号", result="rejected", reason="已解除")

    assert not applied.is_valid()
    assert "Enter the date on which the agency released" in str(applied.errors["released_on"])
    assert rejected.is_valid(), rejected.errors
    assert schema_errors("records", rejected.record()) == []


def test_restrict_exit_has_no_asset_field():
    requested = RequestedMeasure(action="restrict_exit", category="exit_entry")

    form = MeasureRecordForm(requested)

    assert set(form.fields) == {"result", "start", "end", "reason"}


def test_missing_measure_falls_back_to_category():
    requested = RequestedMeasure.from_message("freeze", "bank_account", None)

    form = MeasureRecordForm(requested)

    assert requested.asset_field == "account_number"
    assert "frozen_amount" in form.fields
    assert form["account_number"].value() is None


def test_entry_not_found_ignores_untouched_record():
    requested = RequestedMeasure.from_message(
        "seize",
        "vehicle",
        {"asset_type": "vehicle", "identifier": "粤A12345", "start": "2026-12-04"},
    )
    data = {"status": "not_found", "seize-identifier": "粤A12345", "seize-start": "2026-12-04"}

    entry = MeasureAnswerEntry(requested, data)  # type: ignore[arg-type]

    assert entry.is_valid(), entry.status.errors
    assert entry.records() == []


def test_requested_measure_reads_message():
    requested = RequestedMeasure.from_message(
        "freeze",
        "bank_account",
        {
            "asset_type": "bank_account",
            "identifier": "6212261234567890123",
            "amount": "50000.00",
            "start": "2026-12-04",
            "end": "not a date",
            "reference": None,
        },
    )

    assert requested.amount == Decimal("50000.00")
    assert requested.start == datetime.date(2026, 12, 4)
    assert requested.end is None
    assert requested.identifier_is_personal
    assert str(requested.asset_label) == "Bank account"


def test_document_kinds_without_template_named_by_title():
    from zhixing.linkage.pages import _document_label

    assert _document_label("ruling_seize_vehicle") == "执行裁定书"
    assert _document_label("assistance_notice_renew_seizure") == "协助执行通知书"
    assert _document_label("unknown_kind") == "unknown_kind"
