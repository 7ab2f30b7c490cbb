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
from zhixing.cases import services as case_services
from zhixing.cases.identity import mask_id_number
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.cases.tests.factories import make_resident_id
from zhixing.inquiry import services
from zhixing.inquiry.models import QueryRequest
from zhixing.linkage import gateway
from zhixing.linkage.models import Action, Agency, AgencyHealth, GatewayItem

ACCOUNT = {
    "type": "bank_account",
    "bank": "中国工商银行",
    "account_number": "6212261234567890123",
    "balance": "15230.55",
    "currency": "CNY",
    "account_type": "debit",
    "state": "normal",
}


# Credit codes whose check characters are right: the worked example of GB 32100-2015, and one
# built for these tests.
COMPANY_CODE = "91350100M000100Y43"
EMPLOYER_CODE = "91440101MA59T7K09F"
PERSON_ID = make_resident_id("440104", "19800202", 7)


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


def test_request_list_says_agency_closed(officer, case, debtors, agencies):
    local = timezone.localtime()
    closed = agencies["bank-icbc"]
    closed.service_start = (local + datetime.timedelta(hours=2)).time()
    closed.service_end = (local + datetime.timedelta(hours=3)).time()
    closed.save()
    services.request_query(officer, case, debtors[:1], ["bank_account"])

    partial = client_for(officer).get("/inquiry/", HTTP_HX_REQUEST="true").content.decode()

    notes = re.findall(r'<small data-testid="agency-waiting">([^<]+)</small>', partial)
    start = closed.service_start.strftime("%H:%M")
    assert notes == [
        f"Outside its service hours ({start} to {closed.service_end.strftime('%H:%M')}); "
        "waiting requests go out when they begin."
    ]


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
    assert record.object_type == "cases.enforcementcase"
    assert record.object_id == str(case.pk)
    assert record.detail["purpose"] == "asset summary"
    assert ACCOUNT["account_number"] not in str(record.detail)


def answer_records(officer, case, party, category, agency, records):
    items = services.request_query(officer, case, [party], [category]).queued
    item = next(item for item in items if item.agency == agency)
    gateway.apply_answers(
        agency,
        [
            {
                "item_id": str(item.pk),
                "status": "found",
                "answered_at": timezone.now().isoformat(),
                "records": records,
            }
        ],
    )


def asset_table(page: str, party, record_type: str) -> str:
    """Return the HTML of one debtor's table of ``record_type`` records on the assets page."""
    section = re.search(
        rf'<section data-testid="debtor-{party.pk}">(.*?)</section>', page, re.DOTALL
    )
    assert section, f"no assets of {party.name}"
    table = re.search(
        rf'<table[^>]*data-testid="assets-{record_type}">(.*?)</table>', section.group(1), re.DOTALL
    )
    assert table, f"no {record_type} records of {party.name}"
    return table.group(1)


def amounts(table: str) -> list[str]:
    return re.findall(r'<td class="number" data-testid="amount">([^<]*)</td>', table)


def test_assets_show_amounts_with_currency(officer, case, debtors, agencies):
    records = [
        ACCOUNT,
        {**ACCOUNT, "account_number": "6212260000000000001", "balance": "100", "currency": "USD"},
        {**ACCOUNT, "account_number": "6212260000000000002", "balance": "2500", "currency": "HKD"},
        {**ACCOUNT, "account_number": "6212260000000000003", "balance": "7", "currency": "CHF"},
    ]
    answer_records(officer, case, debtors[0], "bank_account", agencies["bank-icbc"], records)
    client = client_for(officer)
    path = f"/inquiry/cases/{case.pk}/assets/"

    english = client.get(path).content.decode()
    chinese = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "Amount (yuan)" not in english
    assert '<th class="number">Amount</th>' in english
    assert amounts(asset_table(english, debtors[0], "bank_account")) == [
        "15,230.55 yuan",
        "100.00 USD",
        "2,500.00 HKD",
        "7.00 CHF",
    ]
    assert "金额（元）" not in chinese
    assert '<th class="number">金额</th>' in chinese
    assert amounts(asset_table(chinese, debtors[0], "bank_account")) == [
        "15230.55 元",
        "100.00 美元",
        "2500.00 港元",
        "7.00 CHF",
    ]


@pytest.fixture
def company_case(courts, officer) -> EnforcementCase:
    """A case against a company and a person, for the tests of their tax and register records."""
    return case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=datetime.date(2026, 11, 2),
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=[
            PartyInput(
                name="欠款贸易有限公司",
                kind="organisation",
                document_type="uscc",
                document_number=COMPANY_CODE,
            ),
            PartyInput(name="债务人7", document_type="resident_id", document_number=PERSON_ID),
        ],
        claim_amount="100000.00",
        type_code="执",
        case_officer=officer,
    )


@pytest.fixture
def register_agencies(db) -> dict[str, Agency]:
    rows = [
        ("tax-gd", Agency.Kind.TAX, "tax"),
        ("uscc-center", Agency.Kind.CREDIT_CODE_REGISTER, "credit_code"),
        ("hrss-gd", Agency.Kind.SOCIAL_SECURITY, "social_security"),
    ]
    return {
        category: Agency.objects.create(
            code=code,
            name=code,
            kind=kind,
            categories=[category],
            base_url=f"http://127.0.0.1:9/agencies/{code}",
        )
        for code, kind, category in rows
    }


def answer_company_and_person(officer, case, register_agencies):
    company, person = case.parties.filter(case_roles__role="debtor").order_by("case_roles__id")
    tax = {"type": "tax", "last_filing": "2026-10-15", "arrears": "0.00"}
    answer_records(
        officer,
        case,
        company,
        "tax",
        register_agencies["tax"],
        [{**tax, "taxpayer_id": COMPANY_CODE}],
    )
    answer_records(
        officer,
        case,
        company,
        "credit_code",
        register_agencies["credit_code"],
        [
            {
                "type": "organisation",
                "name": "欠款贸易有限公司",
                "credit_code": COMPANY_CODE,
                "legal_representative": "王五",
                "address": "广州市越秀区东风中路1号",
            }
        ],
    )
    answer_records(
        officer, case, person, "tax", register_agencies["tax"], [{**tax, "taxpayer_id": PERSON_ID}]
    )
    answer_records(
        officer,
        case,
        person,
        "social_security",
        register_agencies["social_security"],
        [
            {
                "type": "employment",
                "employer": "雇主有限公司",
                "credit_code": EMPLOYER_CODE,
                "monthly_contribution": "1200.00",
                "since": "2020-01-01",
            }
        ],
    )
    return company, person


def test_assets_mask_debtor_numbers_not_employer(
    make_user, officer, company_case, register_agencies
):
    company, person = answer_company_and_person(officer, company_case, register_agencies)
    commander = client_for(make_user("cmd", "粤01", "commander"))

    page = commander.get(f"/inquiry/cases/{company_case.pk}/assets/").content.decode()

    assert mask_id_number(COMPANY_CODE) in asset_table(page, company, "tax")
    assert mask_id_number(COMPANY_CODE) in asset_table(page, company, "organisation")
    assert COMPANY_CODE not in page
    assert EMPLOYER_CODE in asset_table(page, person, "employment")
    assert mask_id_number(PERSON_ID) in asset_table(page, person, "tax")
    assert PERSON_ID not in page


def test_assets_reveal_debtor_numbers(officer, company_case, register_agencies):
    company, person = answer_company_and_person(officer, company_case, register_agencies)
    client = client_for(officer)

    page = client.post(f"/inquiry/cases/{company_case.pk}/assets/reveal/").content.decode()

    assert PERSON_ID in asset_table(page, person, "tax")
    assert COMPANY_CODE in asset_table(page, company, "tax")
    assert COMPANY_CODE in asset_table(page, company, "organisation")


HOME_ADDRESS = "广州市越秀区中山五路1号"


def answer_household(officer, case, person):
    police = Agency.objects.create(
        code="police-gd",
        name="police-gd",
        kind=Agency.Kind.POLICE,
        categories=["household"],
        base_url="http://127.0.0.1:9/agencies/police-gd",
    )
    record = {
        "type": "household",
        "authority": "越秀派出所",
        "address": HOME_ADDRESS,
        "registered_at": "2001-05-01",
    }
    answer_records(officer, case, person, "household", police, [record])


def test_assets_mask_person_addresses(make_user, officer, company_case, register_agencies):
    company, person = answer_company_and_person(officer, company_case, register_agencies)
    answer_household(officer, company_case, person)
    commander = client_for(make_user("cmd", "粤01", "commander"))

    page = commander.get(f"/inquiry/cases/{company_case.pk}/assets/").content.decode()

    assert "广州市越秀区****" in asset_table(page, person, "household")
    assert HOME_ADDRESS not in page
    assert "广州市越秀区东风中路1号" in asset_table(page, company, "organisation")


def test_assets_reveal_person_address(officer, company_case, register_agencies):
    _company, person = answer_company_and_person(officer, company_case, register_agencies)
    answer_household(officer, company_case, person)
    client = client_for(officer)
    path = f"/inquiry/cases/{company_case.pk}/assets/"

    assert HOME_ADDRESS not in client.get(path).content.decode()
    revealed = client.post(f"{path}reveal/").content.decode()

    assert HOME_ADDRESS in asset_table(revealed, person, "household")
    record = AuditRecord.objects.filter(action="read_personal").last()
    assert record.detail["fields"] == ["identifier", "location"]
    assert HOME_ADDRESS not in str(record.detail)


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


def test_inbox_leaves_out_measure_answers(officer, case, debtors, agencies):
    item = answer_bank(officer, case, debtors)
    # The same answer to a freeze: the measure pages show it, not the inbox of queries.
    GatewayItem.objects.filter(pk=item.pk).update(action=Action.FREEZE)

    page = client_for(officer).get("/inquiry/inbox/").content.decode()

    assert case.case_number not in page


def test_batch_form_queries_cases_by_number(officer, case, file_case, agencies):
    second = file_case(first=3)

    response = client_for(officer).post(
        "/inquiry/batch/",
        {"numbers": f"{case.case_number}\n{second.case_number}\n(2026)粤0104执999号"},
    )

    assert response.status_code == 302
    assert QueryRequest.objects.count() == 2


def full_width(number: str) -> str:
    """Return a case number as court documents print it, with full-width parentheses."""
    return number.replace("(", "（").replace(")", "）")


def test_batch_form_reads_full_width_numbers(officer, case, agencies):
    response = client_for(officer).post(
        "/inquiry/batch/", {"numbers": full_width(case.case_number)}
    )

    assert response.status_code == 302
    assert QueryRequest.objects.filter(case=case).count() == 1


def test_case_lookup_reads_full_width_numbers(officer, case):
    found = client_for(officer).get("/inquiry/case/", {"number": full_width(case.case_number)})

    assert found["Location"] == f"/inquiry/cases/{case.pk}/new/"


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
