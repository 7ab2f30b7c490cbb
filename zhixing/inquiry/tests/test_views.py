"""Pages of debtor queries: scope, the query form, progress polling, masking and the inbox."""

from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from zhixing.audit.models import AuditRecord
from zhixing.inquiry import services
from zhixing.inquiry.models import QueryRequest
from zhixing.linkage import gateway
from zhixing.linkage.models import AgencyHealth, GatewayItem

ACCOUNT = {
    "type": "bank_account",
    "bank": "中国工商银行",
    "account_number": "6212261234567890123",
    "balance": "15230.55",
    "currency": "CNY",
    "account_type": "debit",
    "state": "normal",
}


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def answer_bank(officer, case, debtors):
    items = services.request_query(officer, case, debtors[:1], ["bank_account"]).queued
    item = next(item for item in items if item.agency.code == "bank-icbc")
    gateway.apply_answers(
        item.agency,
        [
            {
                "item_id": str(item.pk),
                "status": "found",
                "answered_at": timezone.now().isoformat(),
                "records": [ACCOUNT],
            }
        ],
    )
    return item


@pytest.mark.parametrize(
    "path",
    ["/inquiry/cases/{pk}/new/", "/inquiry/cases/{pk}/assets/"],
)
def test_case_pages_outside_scope_are_404(make_user, case, agencies, path):
    sibling = client_for(make_user("sibling", "粤0105", "commander"))
    city = client_for(make_user("city", "粤01", "commander"))

    assert sibling.get(path.format(pk=case.pk)).status_code == 404
    assert city.get(path.format(pk=case.pk)).status_code == 200


def test_reveal_outside_scope_is_404(make_user, case, agencies):
    sibling = client_for(make_user("sibling", "粤0105", "bureau_head"))

    assert sibling.post(f"/inquiry/cases/{case.pk}/assets/reveal/").status_code == 404


def test_query_form_sends_the_query(officer, case, debtors, agencies):
    client = client_for(officer)
    page = client.get(f"/inquiry/cases/{case.pk}/new/")
    assert page.status_code == 200
    assert "No recent answers" in page.content.decode()

    response = client.post(
        f"/inquiry/cases/{case.pk}/new/",
        {"parties": [str(debtors[0].pk)], "categories": ["bank_account"]},
    )

    assert response.status_code == 302
    assert QueryRequest.objects.get().items.count() == 2
    again = client.get(f"/inquiry/cases/{case.pk}/new/").content.decode()
    assert "bank-icbc" in again  # shown as reused


def test_query_form_shows_the_rule_that_failed(officer, case, debtors, agencies):
    response = client_for(officer).post(
        f"/inquiry/cases/{case.pk}/new/",
        {"parties": [str(debtors[0].pk)], "force": "on", "reason": ""},
    )

    assert response.status_code == 400
    assert "Give the reason for querying again" in response.content.decode()


def test_query_form_refuses_an_unauthorised_user(make_user, case, debtors, agencies):
    clerk = client_for(make_user("clerk", "粤0104", "clerk"))

    response = clerk.post(f"/inquiry/cases/{case.pk}/new/", {"parties": [str(debtors[0].pk)]})

    assert response.status_code == 400
    assert not QueryRequest.objects.exists()


def test_request_list_polls_while_items_are_open(officer, make_user, case, debtors, agencies):
    services.request_query(officer, case, debtors, ["bank_account"])
    client = client_for(officer)

    page = client.get("/inquiry/").content.decode()
    partial = client.get("/inquiry/", HTTP_HX_REQUEST="true").content.decode()

    assert 'hx-trigger="zhixing-live from:body, every 5s"' in page
    assert "<html" not in partial
    assert "bank-icbc" in partial
    assert "<script" not in partial
    assert "style=" not in partial
    sibling = client_for(make_user("sibling", "粤0105", "commander"))
    assert "bank-icbc" not in sibling.get("/inquiry/").content.decode()


def test_request_list_stops_polling_when_all_answered(officer, case, debtors, agencies):
    items = services.request_query(officer, case, debtors[:1], ["real_estate"]).queued
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

    page = client_for(officer).get("/inquiry/").content.decode()
    assert "every 5s" not in page
    assert 'hx-trigger="zhixing-live from:body"' in page


def test_answers_announced_to_officer(officer, case, debtors, agencies):
    from zhixing.events.models import Event

    items = services.request_query(officer, case, debtors[:1], ["real_estate"]).queued

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

    event = Event.objects.get(kind="inquiry.answers")
    assert event.user == officer
    assert event.data["count"] == 1


def test_expiry_announced_to_officer(officer, case, debtors, agencies):
    from zhixing.events.models import Event

    services.request_query(officer, case, debtors[:1], ["real_estate"])
    gateway.expire_overdue(timezone.now() + datetime.timedelta(days=30))

    event = Event.objects.get(kind="inquiry.item_expired")
    assert event.user == officer
    assert event.data["url"] == "/inquiry/inbox/"


def test_assets_mask_account_numbers_until_revealed(officer, case, debtors, agencies):
    answer_bank(officer, case, debtors)
    client = client_for(officer)

    page = client.get(f"/inquiry/cases/{case.pk}/assets/").content.decode()
    assert "621226*********0123" in page
    assert ACCOUNT["account_number"] not in page
    assert "15,230.55" in page or "15230.55" in page

    revealed = client.post(f"/inquiry/cases/{case.pk}/assets/reveal/")
    assert ACCOUNT["account_number"] in revealed.content.decode()
    assert "no-store" in revealed["Cache-Control"]
    record = AuditRecord.objects.filter(action="read_personal").last()
    assert record.object_type == "inquiry.assetrecord"
    assert ACCOUNT["account_number"] not in str(record.detail)


def test_reveal_forbidden_to_commander(make_user, officer, case, debtors, agencies):
    answer_bank(officer, case, debtors)
    commander = client_for(make_user("cmd", "粤01", "commander"))

    assert commander.post(f"/inquiry/cases/{case.pk}/assets/reveal/").status_code == 403


def test_assets_per_debtor(officer, case, debtors, agencies):
    answer_bank(officer, case, debtors)
    client = client_for(officer)

    first = client.get(f"/inquiry/cases/{case.pk}/assets/", {"party": debtors[0].pk})
    second = client.get(f"/inquiry/cases/{case.pk}/assets/", {"party": debtors[1].pk})

    assert 'data-testid="assets-bank_account"' in first.content.decode()
    assert 'data-testid="assets-bank_account"' not in second.content.decode()
    assert client.get(f"/inquiry/cases/{case.pk}/assets/", {"party": 999}).status_code == 404


def test_inbox_lists_new_answers_until_seen(officer, make_user, case, debtors, agencies):
    answer_bank(officer, case, debtors)
    client = client_for(officer)

    assert case.case_number in client.get("/inquiry/inbox/").content.decode()
    other = client_for(make_user("other", "粤0104", "case_officer"))
    assert case.case_number not in other.get("/inquiry/inbox/").content.decode()

    client.post("/inquiry/inbox/seen/")

    assert case.case_number not in client.get("/inquiry/inbox/").content.decode()


def test_batch_form_queries_cases_by_number(officer, case, file_case, agencies):
    second = file_case(first=3)

    response = client_for(officer).post(
        "/inquiry/batch/",
        {"numbers": f"{case.case_number}\n{second.case_number}\n(2026)粤0104执999号"},
    )

    assert response.status_code == 302
    assert QueryRequest.objects.count() == 2


def test_nav_links_to_debtor_queries(officer):
    page = client_for(officer).get("/inquiry/inbox/").content.decode()

    assert 'data-testid="nav-inquiry"' in page


def test_case_lookup_opens_the_query_form(officer, make_user, case):
    client = client_for(officer)

    found = client.get("/inquiry/case/", {"number": case.case_number})
    missing = client_for(make_user("sibling", "粤0105", "commander")).get(
        "/inquiry/case/", {"number": case.case_number}
    )

    assert found["Location"] == f"/inquiry/cases/{case.pk}/new/"
    assert missing["Location"] == "/inquiry/"


def test_gateway_page_counts_scope_and_health(officer, make_user, case, debtors, agencies):
    services.request_query(officer, case, debtors, ["bank_account"])
    AgencyHealth.objects.create(
        agency=agencies["bank-icbc"], requests=4, errors=1, latency_ms_total=800
    )

    page = client_for(make_user("cmd", "粤01", "commander")).get("/inquiry/gateway/")
    sibling = client_for(make_user("cmd2", "粤0105", "commander")).get("/inquiry/gateway/")

    text = page.content.decode()
    assert "4 requests queued" in text
    assert "200" in text
    assert "25.0 %" in text
    assert "0 requests queued" in sibling.content.decode()
    assert client_for(officer).get("/inquiry/gateway/").status_code == 403


def _agency_counts(page: str, name: str) -> list[str]:
    """Return the queued, waiting and failed cells of the gateway page's row of ``name``."""
    row = re.search(rf"<tr><td>{re.escape(name)}</td>(.*?)</tr>", page)
    assert row is not None, page
    return re.findall(r"<td>([^<]*)</td>", row.group(1))[:3]


def test_gateway_page_counts_last_day(officer, make_user, case, debtors, agencies):
    services.request_query(officer, case, debtors, ["bank_account"])
    icbc = GatewayItem.objects.filter(agency=agencies["bank-icbc"]).order_by("pk")
    gzcb = GatewayItem.objects.filter(agency=agencies["bank-gzcb"]).order_by("pk")
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    # Failed now: counted. Expired two days ago: neither failed today nor waiting.
    icbc.filter(pk=icbc[0].pk).update(state=GatewayItem.State.FAILED)
    gzcb.filter(pk=gzcb[0].pk).update(state=GatewayItem.State.EXPIRED, updated_at=two_days_ago)
    # Queued two days ago and answered: not queued today, not waiting.
    gzcb.filter(pk=gzcb[1].pk).update(state=GatewayItem.State.ANSWERED, created_at=two_days_ago)

    page = client_for(make_user("cmd", "粤01", "commander")).get("/inquiry/gateway/")

    text = page.content.decode()
    assert _agency_counts(text, "bank-icbc") == ["2", "1", "1"]
    assert _agency_counts(text, "bank-gzcb") == ["1", "0", "0"]
    assert _agency_counts(text, "housing-gd") == ["0", "0", "0"]
    assert "3 requests queued, 1 failed or expired. Waiting for an answer: 1." in text


@pytest.mark.postgres
def test_gateway_page_counts_read_indexes(db):
    """Each count of the gateway page reads its own index, not every item ever queued."""
    since = timezone.now() - datetime.timedelta(hours=24)
    queued = GatewayItem.objects.filter(created_at__gte=since)
    failed = GatewayItem.objects.filter(
        state__in=(GatewayItem.State.FAILED, GatewayItem.State.EXPIRED), updated_at__gte=since
    )
    waiting = GatewayItem.objects.filter(state__in=GatewayItem.OPEN_STATES)
    with connection.cursor() as cursor:
        # On an empty table a scan would win; forbid it to see which index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = [query.values("agency_id").explain() for query in (queued, failed, waiting)]

    assert "gw_item_created_brin" in plans[0], plans[0]
    assert "gw_item_failed_at" in plans[1], plans[1]
    assert "gw_item_open_deadline" in plans[2], plans[2]


def test_batch_form_reads_uploaded_file(officer, case, file_case, agencies):
    second = file_case(first=3)
    upload = SimpleUploadedFile(
        "cases.csv", f"案号\n{case.case_number}\n{second.case_number}\n".encode()
    )

    response = client_for(officer).post("/inquiry/batch/", {"file": upload})

    assert response.status_code == 302
    assert QueryRequest.objects.count() == 2


def test_batch_form_reads_xlsx(officer, case, agencies):
    workbook = openpyxl.Workbook()
    workbook.active.append(["案号"])
    workbook.active.append([case.case_number])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("cases.xlsx", buffer.getvalue())

    client_for(officer).post("/inquiry/batch/", {"file": upload})

    assert QueryRequest.objects.get().case == case


def test_batch_form_rejects_other_file_types(officer, case, agencies):
    upload = SimpleUploadedFile("cases.pdf", b"%PDF-1.7")

    response = client_for(officer).post("/inquiry/batch/", {"file": upload}, follow=True)

    assert "cases.pdf is not a .txt, .csv or .xlsx file" in response.content.decode()
    assert not QueryRequest.objects.exists()


def test_ticked_cases_queried(officer, case, file_case, make_user, agencies):
    second = file_case(first=3)
    sibling_case = file_case("粤0105", first=5)

    response = client_for(officer).post(
        "/inquiry/batch/", {"case_ids": [case.pk, second.pk, sibling_case.pk]}, follow=True
    )

    assert set(QueryRequest.objects.values_list("case_id", flat=True)) == {case.pk, second.pk}
    assert f"{sibling_case.pk}: " in response.content.decode()


def test_case_list_offers_ticking_to_officers(officer, make_user, case):
    page = client_for(officer).get("/cases/").content.decode()
    clerk_page = client_for(make_user("clerk", "粤0104", "clerk")).get("/cases/").content.decode()

    assert f'name="case_ids" value="{case.pk}"' in page
    assert 'data-testid="query-selected"' in page
    assert 'name="case_ids"' not in clerk_page


def test_inbox_shows_expired_requests(officer, case, debtors, agencies):
    services.request_query(officer, case, debtors[:1], ["bank_account"])
    gateway.expire_overdue(timezone.now() + datetime.timedelta(days=30))

    page = client_for(officer).get("/inquiry/inbox/").content.decode()

    assert 'data-testid="inbox-problem"' in page
    assert "deadline passed" in page


def test_closed_case_offers_no_query(officer, case, debtors, agencies):
    from zhixing.cases.models import EnforcementCase

    EnforcementCase.objects.filter(pk=case.pk).update(status=EnforcementCase.Status.SUSPENDED)
    client = client_for(officer)

    form_page = client.get(f"/inquiry/cases/{case.pk}/new/").content.decode()
    assets_page = client.get(f"/inquiry/cases/{case.pk}/assets/").content.decode()

    assert 'data-testid="query-form"' not in form_page
    assert f"Case {case.case_number} is not open" in form_page
    assert f'href="/inquiry/cases/{case.pk}/new/"' not in assets_page
