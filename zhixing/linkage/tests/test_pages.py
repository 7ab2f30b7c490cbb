"""Agency registry pages and the manual adapter: permissions, validation, audit, print, answers."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.test import Client
from django.utils import timezone

from agency_simulator.tests.schemas import errors as schema_errors
from zhixing.audit.models import AuditRecord
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import worker
from zhixing.linkage.adapters.manual import ManualAdapter
from zhixing.linkage.answer_forms import CATEGORY_FORMS, RecordForm
from zhixing.linkage.forms import AgencyForm
from zhixing.linkage.models import Agency, AnswerCursor, Category, GatewayBatch, GatewayItem

State = GatewayItem.State


def _pem(private_key: Any) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


PUBLIC_KEY = _pem(Ed25519PrivateKey.generate())
# A key-agreement key, which signs nothing, so the gateway cannot verify signatures with it.
X25519_KEY = _pem(X25519PrivateKey.generate())


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def page_text(response) -> str:
    return response.content.decode()


# Agency registry


def agency_post(**values: Any) -> dict[str, Any]:
    """Return a complete, valid form submission for a new online agency."""
    data: dict[str, Any] = {
        "code": "bank-test",
        "name": "测试银行",
        "kind": "bank",
        "active": "on",
        "adapter": "online",
        "base_url": "https://fep.bank.example/zhixing",
        "timeout_seconds": "12.5",
        "outbox_dir": "",
        "inbox_dir": "",
        "public_key_pem": PUBLIC_KEY,
        "categories": ["bank_account"],
        "actions": ["query", "freeze"],
        "batch_size": "150",
        "batch_window_seconds": "4",
        "rate_limit": "7.5",
        "concurrency": "3",
        "poll_interval_seconds": "20",
        "service_start": "08:30",
        "service_end": "20:00",
        "service_days": ["1", "2", "3", "4", "5"],
        "deadline_query": "48",
        "deadline_freeze": "12.5",
    }
    data.update(values)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def admin(make_user):
    return make_user("admin", "粤", "administrator")


@pytest.mark.parametrize("role", ["clerk", "case_officer", "bureau_head", "commander"])
def test_registry_pages_refuse_non_administrators(make_user, make_agency, role):
    agency = make_agency().agency
    client = client_for(make_user("someone", "粤", role))

    assert client.get("/agencies/").status_code == 403
    assert client.get("/agencies/new/").status_code == 403
    assert client.post("/agencies/new/", agency_post()).status_code == 403
    assert client.get(f"/agencies/{agency.pk}/").status_code == 403
    assert client.post(f"/agencies/{agency.pk}/active/", {"active": "0"}).status_code == 403
    agency.refresh_from_db()
    assert agency.active
    assert not Agency.objects.filter(code="bank-test").exists()


@pytest.mark.parametrize("court_code", ["粤01", "粤0104"])
def test_registry_refuses_administrators_below(make_user, make_agency, court_code):
    agency = make_agency().agency
    client = client_for(make_user("someone", court_code, "administrator"))

    page = client.get(f"/agencies/{agency.pk}/")
    response = client.post(f"/agencies/{agency.pk}/active/", {"active": "0"})

    assert page.status_code == 403
    assert "high court" in page.content.decode()
    assert response.status_code == 403
    agency.refresh_from_db()
    assert agency.active


def test_registry_needs_login(make_agency):
    response = Client().get("/agencies/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_navigation_links_registry_for_administrators(admin, make_user):
    clerk = make_user("clerk0104", "粤0104", "clerk")

    assert 'href="/agencies/"' in page_text(client_for(admin).get("/"))
    assert 'href="/agencies/"' not in page_text(client_for(clerk).get("/"))


def test_agency_list_shows_health(admin, make_agency):
    from zhixing.linkage import circuit

    agency = make_agency().agency
    make_agency("manual-land", adapter="manual", base_url="", public_key_pem="")
    circuit.record_success(agency, 40)
    for _attempt in range(circuit.FAILURE_THRESHOLD):
        circuit.record_failure(agency, "timed out", timezone.now())

    text = page_text(client_for(admin).get("/agencies/"))

    assert "bank-icbc" in text
    assert "manual-land" in text
    assert "Open" in text
    # 5 failures of 6 requests.
    assert "83.3 %" in text
    assert "Manual" in text


def test_create_form_stores_every_setting(admin):
    response = client_for(admin).post("/agencies/new/", agency_post())

    assert response.status_code == 302
    agency = Agency.objects.get(code="bank-test")
    assert agency.name == "测试银行"
    assert agency.base_url == "https://fep.bank.example/zhixing"
    assert agency.timeout_seconds == 12.5
    assert agency.public_key_pem == PUBLIC_KEY
    assert agency.categories == ["bank_account"]
    assert agency.actions == ["query", "freeze"]
    assert agency.batch_size == 150
    assert agency.batch_window_seconds == 4
    assert agency.rate_limit == 7.5
    assert agency.concurrency == 3
    assert agency.poll_interval_seconds == 20
    assert agency.service_start == datetime.time(8, 30)
    assert agency.service_end == datetime.time(20, 0)
    assert agency.service_days == [1, 2, 3, 4, 5]
    assert agency.deadlines == {"query": 48, "freeze": 12.5}


def test_base_url_without_scheme_gets_http(admin):
    values = {**agency_post(), "base_url": "fep.bank.example/zhixing"}

    response = client_for(admin).post("/agencies/new/", values)

    assert response.status_code == 302
    assert Agency.objects.get(code="bank-test").base_url == "http://fep.bank.example/zhixing"


def test_agency_pages_say_agency_name(admin, make_agency):
    make_agency()
    client = client_for(admin)

    form_page = page_text(client.get("/agencies/new/"))
    list_page = page_text(client.get("/agencies/"))

    assert "Agency name" in form_page
    assert "Agency name" in list_page


def test_create_is_audited(admin):
    client_for(admin).post("/agencies/new/", agency_post())

    agency = Agency.objects.get(code="bank-test")
    record = AuditRecord.objects.get(
        action="create", object_type="linkage.agency", object_id=str(agency.pk)
    )
    assert record.user_id == admin.pk


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"batch_size": "5000"}, "batch_size", "5000 is too large; enter 1000 or less."),
        ({"batch_size": "0"}, "batch_size", "0 is too small; enter 1 or more."),
        ({"concurrency": "x"}, "concurrency", "Enter a whole number"),
        ({"rate_limit": "0"}, "rate_limit", "0.0 is too small; enter 0.01 or more."),
        ({"base_url": ""}, "base_url", "An online agency needs its base URL"),
        ({"public_key_pem": ""}, "public_key_pem", "needs its public key"),
        ({"public_key_pem": "not a key"}, "public_key_pem", "The public key cannot be read"),
        ({"public_key_pem": X25519_KEY}, "public_key_pem", "RSA and SM2 signatures only"),
        (
            {"public_key_pem": "sm2:04ab"},
            "public_key_pem",
            "The SM2 public key sm2:04ab is invalid",
        ),
        ({"service_end": ""}, "service_end", "Enter both the start and the end"),
        ({"service_end": "08:30"}, "service_end", "start and end at 08:30"),
        ({"service_days": []}, "service_days", "Choose at least one service day"),
        ({"categories": []}, "categories", "Choose at least one category"),
        ({"deadline_query": "-2"}, "deadline_query", "-2 is too small"),
        ({"code": "bank icbc"}, "code", "Enter a valid"),
        (
            {"adapter": "batch_file", "outbox_dir": "outbox", "inbox_dir": "/srv/in"},
            "outbox_dir",
            "outbox is a relative path",
        ),
        (
            {"adapter": "batch_file", "outbox_dir": "/srv/x", "inbox_dir": "/srv/x/"},
            "inbox_dir",
            "The inbox must differ from the outbox",
        ),
    ],
)
def test_create_form_names_value_and_fix(admin, values, field, expected):
    response = client_for(admin).post("/agencies/new/", agency_post(**values))

    assert response.status_code == 400
    form = response.context["form"]
    assert any(expected in message for message in form.errors.get(field, [])), form.errors
    assert not Agency.objects.filter(code__in=["bank-test", "bank icbc"]).exists()


def test_create_form_rejects_duplicate_code(admin, make_agency):
    make_agency("bank-test")

    response = client_for(admin).post("/agencies/new/", agency_post())

    assert response.status_code == 400
    assert "code" in response.context["form"].errors
    assert Agency.objects.filter(code="bank-test").count() == 1


def test_manual_agency_needs_no_connection(admin):
    response = client_for(admin).post(
        "/agencies/new/",
        agency_post(adapter="manual", base_url="", public_key_pem="", code="land-manual"),
    )

    assert response.status_code == 302
    assert Agency.objects.get(code="land-manual").adapter == Agency.Adapter.MANUAL


def test_form_groups_cover_every_field(make_agency):
    form = AgencyForm(instance=make_agency().agency)
    grouped = [
        field.name
        for group in (
            form.identity_fields,
            form.connection_fields,
            form.key_fields,
            form.request_fields,
            form.limit_fields,
            form.hour_fields,
            form.day_fields,
            form.deadline_fields,
        )
        for field in group
    ]

    assert sorted(grouped) == sorted(form.fields)


def test_edit_form_changes_settings_and_audits(admin, make_agency):
    agency = make_agency().agency
    client = client_for(admin)
    page = client.get(f"/agencies/{agency.pk}/")
    assert page.status_code == 200
    data = agency_post(code="renamed", batch_size="50", public_key_pem=agency.public_key_pem)

    response = client.post(f"/agencies/{agency.pk}/", data)

    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.code == "bank-icbc"
    assert agency.batch_size == 50
    record = AuditRecord.objects.get(
        action="update", object_type="linkage.agency", object_id=str(agency.pk)
    )
    assert record.user_id == admin.pk
    assert record.detail["changes"]["batch_size"] == [3, 50]
    assert record.detail["changes"]["service_start"] == [None, "08:30:00"]
    assert "code" not in record.detail["changes"]


def test_deactivate_and_activate_are_audited(admin, make_agency):
    agency = make_agency().agency
    client = client_for(admin)

    off = client.post(f"/agencies/{agency.pk}/active/", {"active": "0"})
    again = client.post(f"/agencies/{agency.pk}/active/", {"active": "0"}, follow=True)
    agency.refresh_from_db()
    assert not agency.active
    on = client.post(f"/agencies/{agency.pk}/active/", {"active": "1"})

    assert off.status_code == 302
    assert on.status_code == 302
    assert "already in that state" in page_text(again)
    agency.refresh_from_db()
    assert agency.active
    changes = [
        record.detail["changes"]["active"]
        for record in AuditRecord.objects.filter(
            action="update", object_type="linkage.agency", object_id=str(agency.pk)
        ).order_by("at", "id")
    ]
    assert changes == [[True, False], [False, True]]


def test_activate_needs_post(admin, make_agency):
    agency = make_agency().agency

    assert client_for(admin).get(f"/agencies/{agency.pk}/active/").status_code == 405


# Manual adapter


@pytest.fixture
def land(make_agency):
    return make_agency(
        "land-manual",
        name="某区不动产登记中心",
        kind=Agency.Kind.NATURAL_RESOURCES,
        adapter=Agency.Adapter.MANUAL,
        categories=["real_estate", "land"],
        base_url="",
        public_key_pem="",
    ).agency


@pytest.fixture
def manual_bank(make_agency):
    return make_agency(
        "bank-manual",
        name="某农村商业银行",
        adapter=Agency.Adapter.MANUAL,
        base_url="",
        public_key_pem="",
    ).agency


@pytest.fixture
def sent(land, enqueue):
    """Three real-estate requests to the manual land registry, sent by the worker."""
    now = timezone.now()
    items = enqueue(land, 3, now=now)
    worker.run_gateway_once(now + datetime.timedelta(seconds=10), owner="w1")
    return [GatewayItem.objects.get(pk=item.pk) for item in items]


@pytest.fixture
def clerk(make_user):
    return make_user("clerk0104", "粤0104", "clerk")


def test_worker_sends_manual_batch_acknowledged(sent, land):
    batch = GatewayBatch.objects.get()

    assert [item.state for item in sent] == [State.ACKNOWLEDGED] * 3
    assert batch.agency == land
    assert batch.state == GatewayBatch.State.ACKNOWLEDGED
    assert batch.ack["adapter"] == "manual"
    assert sorted(batch.ack["accepted"]) == sorted(str(item.pk) for item in sent)


def test_worker_does_not_poll_manual_agency(sent, land):
    result = worker.run_gateway_once(timezone.now() + datetime.timedelta(minutes=5), owner="w1")

    assert result.answered == 0
    assert not AnswerCursor.objects.filter(agency=land).exists()


def test_adapter_for_manual_agency(land):
    assert isinstance(worker.adapter_for(land), ManualAdapter)


def test_manual_adapter_rejects_garbled_batch(land):
    from zhixing.linkage.adapters import PermanentFailure

    with pytest.raises(PermanentFailure):
        ManualAdapter().send_batch(land, b"{not json", {})


def test_batch_list_in_scope_only(sent, clerk, make_user):
    batch = GatewayBatch.objects.get()
    city = client_for(make_user("head01", "粤01", "bureau_head"))
    sibling = client_for(make_user("clerk0105", "粤0105", "clerk"))

    assert str(batch.pk)[:8] in page_text(client_for(clerk).get("/agencies/manual/"))
    assert str(batch.pk)[:8] in page_text(city.get("/agencies/manual/"))
    assert str(batch.pk)[:8] not in page_text(sibling.get("/agencies/manual/"))
    assert sibling.get(f"/agencies/manual/{batch.pk}/").status_code == 404
    assert sibling.post(f"/agencies/manual/{batch.pk}/print/").status_code == 404
    assert sibling.get(f"/agencies/manual/items/{sent[0].pk}/").status_code == 404


def test_batch_list_leaves_out_answered_batches(sent, clerk):
    GatewayItem.objects.update(state=State.ANSWERED)

    text = page_text(client_for(clerk).get("/agencies/manual/"))

    assert "No manual requests wait for an answer." in text


def test_batch_page_masks_document_numbers(sent, clerk):
    batch = GatewayBatch.objects.get()

    text = page_text(client_for(clerk).get(f"/agencies/manual/{batch.pk}/"))

    for item in sent:
        assert item.party.name in text
        assert item.party.document_number not in text
    assert not AuditRecord.objects.filter(action="read_personal").exists()


def test_print_list_shows_requests_and_audits(sent, clerk, land, courts):
    batch = GatewayBatch.objects.get()

    response = client_for(clerk).post(f"/agencies/manual/{batch.pk}/print/")

    text = page_text(response)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert courts["粤0104"].name in text
    assert land.name in text
    assert str(batch.pk) in text
    assert "linkage/manual.css" in text
    assert "style=" not in text
    for item in sent:
        assert item.case.case_number in text
        assert item.party.name in text
        assert item.party.document_number in text
        assert timezone.localtime(item.deadline).strftime("%Y-%m-%d %H:%M") in text
    assert "Real estate" in text
    assert "Resident ID card" in text
    records = AuditRecord.objects.filter(action="read_personal", object_type="cases.party")
    assert sorted(records.values_list("object_id", flat=True)) == sorted(
        str(item.party_id) for item in sent
    )
    for record in records:
        assert record.user_id == clerk.pk
        assert record.detail["fields"] == ["document_number"]
        assert record.detail["batch_id"] == str(batch.pk)
        assert record.subject_court_path == courts["粤0104"].path
        assert all(item.party.document_number not in str(record.detail) for item in sent)


@pytest.mark.parametrize(
    ("court_code", "role"),
    [("粤01", "bureau_head"), ("粤0104", "judicial_police"), ("粤0104", "commander")],
)
def test_print_list_needs_handler_of_sending_court(sent, make_user, court_code, role):
    batch = GatewayBatch.objects.get()
    client = client_for(make_user("other", court_code, role))

    assert client.get(f"/agencies/manual/{batch.pk}/").status_code == 200
    assert client.post(f"/agencies/manual/{batch.pk}/print/").status_code == 403
    assert not AuditRecord.objects.filter(action="read_personal").exists()


def test_print_list_needs_post(sent, clerk):
    batch = GatewayBatch.objects.get()

    assert client_for(clerk).get(f"/agencies/manual/{batch.pk}/print/").status_code == 405


def management(prefix: str, total: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "50",
    }


HOME = {
    "location": "广州市越秀区中山路1号1201房",
    "certificate_number": "粤(2020)广州市不动产权第0123456号",
    "area": "89.5",
    "share": "0.50",
    "use": "residential",
    "existing_seizures": "广州市天河区人民法院 | (2025)粤0106执100号 | 2025-03-01 | 2028-02-29\n"
    "广州市海珠区人民法院 | (2024)粤0105执9号 | 2024-01-05 |",
}


def real_estate_post(*records: dict[str, str], status: str = "found") -> dict[str, str]:
    data = {"status": status, **management("real_estate", max(len(records), 1))}
    for index, record in enumerate(records):
        for name, value in record.items():
            data[f"real_estate-{index}-{name}"] = value
    return data


def test_answer_form_stores_assets(sent, clerk):
    item = sent[0]
    url = f"/agencies/manual/items/{item.pk}/"
    client = client_for(clerk)
    assert 'data-testid="answer-form"' in page_text(client.get(url))

    response = client.post(url, real_estate_post(HOME))

    assert response.status_code == 302
    assert response["Location"] == f"/agencies/manual/{item.batch_id}/"
    item.refresh_from_db()
    assert item.state == State.ANSWERED
    assert item.answer["status"] == "found"
    assert schema_errors("answers", {**ENVELOPE, "answers": [item.answer]}) == []
    (record,) = item.answer["records"]
    assert record["area"] == "89.50"
    assert record["share"] == "0.5"
    assert record["existing_seizures"][1] == {
        "court": "广州市海珠区人民法院",
        "case_number": "(2024)粤0105执9号",
        "since": "2024-01-05",
        "until": None,
    }
    asset = AssetRecord.objects.get(item=item)
    assert asset.case_id == item.case_id
    assert asset.party_id == item.party_id
    assert asset.record_type == "real_estate"
    assert asset.location == HOME["location"]
    assert asset.identifier == HOME["certificate_number"]
    assert asset.status == "seized"


def test_answer_is_audited(sent, clerk):
    item = sent[0]

    client_for(clerk).post(f"/agencies/manual/items/{item.pk}/", real_estate_post(HOME))

    record = AuditRecord.objects.get(object_type="linkage.gatewayitem", object_id=str(item.pk))
    assert record.user_id == clerk.pk
    assert record.detail == {"event": "manual_answer", "status": "found", "records": 1}


def test_answer_with_two_records(sent, make_user):
    officer = make_user("officer0104", "粤0104", "case_officer")
    second = {**HOME, "location": "广州市越秀区北京路2号", "existing_seizures": ""}

    response = client_for(officer).post(
        f"/agencies/manual/items/{sent[1].pk}/", real_estate_post(HOME, second)
    )

    assert response.status_code == 302
    assert AssetRecord.objects.filter(item=sent[1]).count() == 2
    item = GatewayItem.objects.get(pk=sent[1].pk)
    assert item.answer["records"][1]["existing_seizures"] == []


def test_blank_extra_record_left_out(sent, clerk):
    blank = dict.fromkeys(HOME, "")

    response = client_for(clerk).post(
        f"/agencies/manual/items/{sent[0].pk}/", real_estate_post(HOME, blank)
    )

    assert response.status_code == 302
    assert len(GatewayItem.objects.get(pk=sent[0].pk).answer["records"]) == 1


def test_not_found_answer_stores_no_assets(sent, clerk):
    item = sent[2]

    response = client_for(clerk).post(
        f"/agencies/manual/items/{item.pk}/", real_estate_post(status="not_found")
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == State.ANSWERED
    assert item.answer["status"] == "not_found"
    assert item.answer["records"] == []
    assert not AssetRecord.objects.filter(item=item).exists()


def test_second_answer_changes_nothing(sent, clerk):
    item = sent[0]
    url = f"/agencies/manual/items/{item.pk}/"
    client = client_for(clerk)
    client.post(url, real_estate_post(HOME))
    stored = GatewayItem.objects.get(pk=item.pk).answer

    response = client.post(url, real_estate_post(status="not_found"), follow=True)

    text = page_text(response)
    assert "already answered" in text
    assert "nothing changed" in text
    assert GatewayItem.objects.get(pk=item.pk).answer == stored
    assert AssetRecord.objects.filter(item=item).count() == 1
    assert AuditRecord.objects.filter(object_type="linkage.gatewayitem").count() == 1


def test_answer_to_expired_item_is_not_stored(sent, clerk):
    item = sent[0]
    GatewayItem.objects.filter(pk=item.pk).update(state=State.EXPIRED)

    response = client_for(clerk).post(
        f"/agencies/manual/items/{item.pk}/", real_estate_post(HOME), follow=True
    )

    assert "expired" in page_text(response)
    assert GatewayItem.objects.get(pk=item.pk).answer is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (real_estate_post(), "Enter at least one record"),
        (real_estate_post(HOME, status="not_found"), "You chose not found but entered records"),
        ({**real_estate_post(HOME), "status": ""}, "Choose whether the agency found anything"),
        (real_estate_post({**HOME, "share": "1.5"}), "1.5 is more than the whole"),
        (real_estate_post({**HOME, "area": "abc"}), "Enter the area in square metres"),
        (
            real_estate_post({**HOME, "existing_seizures": "某法院 | (2025)某执1号 | 2025/03/01"}),
            "Line 1: 2025/03/01 is not a date",
        ),
        (
            real_estate_post({**HOME, "existing_seizures": "只有法院"}),
            "Line 1, 只有法院, needs a court",
        ),
    ],
)
def test_answer_form_errors(sent, clerk, data, expected):
    item = sent[0]

    response = client_for(clerk).post(f"/agencies/manual/items/{item.pk}/", data)

    assert response.status_code == 400
    assert expected in page_text(response)
    assert GatewayItem.objects.get(pk=item.pk).state == State.ACKNOWLEDGED


def test_add_record_keeps_typed_values(sent, clerk):
    data = {**real_estate_post(HOME), "add_record": "real_estate"}

    response = client_for(clerk).post(f"/agencies/manual/items/{sent[0].pk}/", data)

    text = page_text(response)
    assert response.status_code == 200
    assert 'name="real_estate-1-location"' in text
    assert HOME["location"] in text
    assert 'class="error"' not in text
    assert GatewayItem.objects.get(pk=sent[0].pk).state == State.ACKNOWLEDGED


@pytest.mark.parametrize(
    ("court_code", "role"),
    [("粤01", "bureau_head"), ("粤0104", "judicial_police"), ("粤0104", "administrator")],
)
def test_answer_needs_handler_of_sending_court(sent, make_user, court_code, role):
    item = sent[0]
    client = client_for(make_user("other", court_code, role))
    url = f"/agencies/manual/items/{item.pk}/"

    page = client.get(url)
    response = client.post(url, real_estate_post(HOME))

    assert page.status_code == 200
    assert 'data-testid="answer-form"' not in page_text(page)
    assert response.status_code == 403
    assert GatewayItem.objects.get(pk=item.pk).state == State.ACKNOWLEDGED


def test_answer_page_of_online_item_is_404(bank, enqueue, fake_agency, clerk):
    now = timezone.now()
    (item,) = enqueue(bank.agency, 1, now=now)
    worker.run_gateway_once(
        now + datetime.timedelta(seconds=10),
        owner="w1",
        adapters={bank.agency.code: fake_agency.adapter()},
    )

    assert client_for(clerk).get(f"/agencies/manual/items/{item.pk}/").status_code == 404


def test_bank_answer_through_form(manual_bank, enqueue, clerk):
    now = timezone.now()
    (item,) = enqueue(manual_bank, 1, now=now)
    worker.run_gateway_once(now + datetime.timedelta(seconds=10), owner="w1")
    data = {
        "status": "found",
        **management("bank_account", 1),
        "bank_account-0-bank": "某农村商业银行",
        "bank_account-0-account_number": "6228 4800 1234 5678",
        "bank_account-0-balance": "-120.5",
        "bank_account-0-currency": "cny",
        "bank_account-0-account_type": "credit",
        "bank_account-0-state": "normal",
    }

    response = client_for(clerk).post(f"/agencies/manual/items/{item.pk}/", data)

    assert response.status_code == 302
    asset = AssetRecord.objects.get(item=item)
    assert asset.identifier == "6228480012345678"
    assert str(asset.amount) == "-120.50"
    assert asset.currency == "CNY"


def test_adapter_change_blocked_by_waiting_items(sent, admin, land):
    data = agency_post(
        code=land.code,
        adapter="online",
        categories=["real_estate", "land"],
        base_url="https://land.example/zhixing",
    )

    response = client_for(admin).post(f"/agencies/{land.pk}/", data)

    assert response.status_code == 400
    assert "3 manual requests" in response.context["form"].errors["adapter"][0]
    land.refresh_from_db()
    assert land.adapter == Agency.Adapter.MANUAL


# Record forms against the protocol

ENVELOPE = {"protocol": "zhixing-gateway/1", "agency": "x", "sent_at": "2026-12-04T16:31:02+08:00"}
CREDIT_CODE = "91440101MA59UL6J7K"
SAMPLES: dict[str, dict[str, str]] = {
    "household": {
        "address": "广州市越秀区",
        "registered_at": "1990-05-01",
        "authority": "越秀派出所",
    },
    "residence": {"address": "深圳市罗湖区", "since": "2024-01-01", "until": ""},
    "hotel": {"place": "某酒店", "at": "2026-11-01T21:30"},
    "crossing": {"kind": "exit", "port": "罗湖口岸", "at": "2026-10-01T08:00"},
    "shareholding": {
        "company": "某公司",
        "credit_code": CREDIT_CODE.lower(),
        "share": "0.25",
        "capital": "100000",
    },
    "business": {"company": "某公司", "credit_code": CREDIT_CODE, "role": "director"},
    "bank_account": {
        "bank": "某银行",
        "account_number": "6222021234567890123",
        "balance": "15230.55",
        "currency": "CNY",
        "account_type": "debit",
        "state": "frozen",
    },
    "real_estate": {**HOME},
    "tax": {"taxpayer_id": CREDIT_CODE, "last_filing": "", "arrears": "0"},
    "employment": {
        "employer": "某公司",
        "credit_code": CREDIT_CODE,
        "monthly_contribution": "1200.5",
        "since": "2020-03-01",
    },
    "family": {"spouse_name": "", "children": "2"},
    "organisation": {
        "name": "某公司",
        "credit_code": CREDIT_CODE,
        "legal_representative": "张三",
        "address": "广州市",
    },
    "vehicle": {
        "plate": "粤A 12345",
        "model": "某轿车",
        "vin": "lsvaa4182e2123456",
        "registered_at": "2019-06-30",
        "state": "mortgaged",
    },
    "securities": {"account": "A123456789", "holdings_value": "5000"},
    "provident_fund": {"account": "GZ0012345", "balance": "32000.1"},
    "payment_account": {"platform": "支付宝", "account": "138****0000", "balance": "88.8"},
    "ship": {"name": "粤航1号", "registration_number": "粤440100001", "tonnage": "1200"},
}
FORM_CLASSES = sorted(
    {form for forms in CATEGORY_FORMS.values() for form in forms}, key=lambda form: form.key
)


def test_every_category_has_record_forms():
    assert set(CATEGORY_FORMS) == set(Category.values)
    assert set(SAMPLES) == {form.key for form in FORM_CLASSES}


@pytest.mark.parametrize("form_class", FORM_CLASSES, ids=lambda form: form.key)
def test_record_form_builds_protocol_record(form_class: type[RecordForm]):
    form = form_class(SAMPLES[form_class.key])

    assert form.is_valid(), form.errors
    record = form.record()
    assert record["type"] == form_class.record_type
    assert schema_errors("records", record) == []


def test_record_values_in_protocol_format():
    vehicle = CATEGORY_FORMS["vehicle"][0](SAMPLES["vehicle"])
    crossing = CATEGORY_FORMS["exit_entry"][0](SAMPLES["crossing"])
    family = CATEGORY_FORMS["family_planning"][0](SAMPLES["family"])
    assert vehicle.is_valid()
    assert crossing.is_valid()
    assert family.is_valid()

    assert vehicle.record()["vin"] == "LSVAA4182E2123456"
    assert vehicle.record()["plate"] == "粤A12345"
    assert crossing.record()["at"] == "2026-10-01T08:00:00+08:00"
    assert family.record() == {"type": "family", "spouse_name": None, "children": 2}


@pytest.mark.parametrize(
    ("key", "field", "value", "expected"),
    [
        ("vehicle", "vin", "LSVAA4182E212345O", "17-character VIN"),
        ("business", "credit_code", "91440101MA59UL6J7", "18-character unified social credit"),
        ("bank_account", "account_number", "12 34", "6 to 40 digits"),
        ("bank_account", "balance", "1.234", "at most two decimal places"),
        ("bank_account", "currency", "RMB1", "three-letter currency code"),
        ("household", "registered_at", "1990/05/01", "Enter a date such as 2025-06-30."),
        ("securities", "holdings_value", "-5", "-5 is negative"),
    ],
)
def test_record_form_errors(key, field, value, expected):
    form_class = next(form for form in FORM_CLASSES if form.key == key)

    form = form_class({**SAMPLES[key], field: value})

    assert not form.is_valid()
    assert any(expected in message for message in form.errors[field]), form.errors
