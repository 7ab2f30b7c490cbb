"""The request file's layout: what the platform writes, the agency simulator reads back.

The platform's writer (``adapters.batchfile.request_content``) and the simulator's reader
(``agency_simulator.exchange.request_document``) are separate code that follows
``docs/protocol.md`` section 7, so a round trip checks that both read the layout the same way.
"""

from __future__ import annotations

import base64
import copy
import csv
import datetime
import hashlib
import io
import json
import os
from typing import Any

import pytest

from agency_simulator import exchange
from agency_simulator import protocol as simulator_protocol
from agency_simulator.agencies import DEFAULT_AGENCIES_FILE, load_agencies
from zhixing.linkage import gateway
from zhixing.linkage.adapters import batchfile

SENT_AT = datetime.datetime(
    2026, 12, 4, 16, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
)
DEADLINE = "2026-12-07T16:30:00+08:00"
SUBJECT = {
    "kind": "person",
    "name": "张三",
    "document_type": "resident_id",
    "document_number": "440104198501010012",
}
# The index of each field of a request D record, as docs/protocol.md section 7 lists them.
FIELDS = {
    name: index
    for index, name in enumerate(
        [
            "type",
            "item_id",
            "action",
            "category",
            "case_number",
            "subject.kind",
            "subject.name",
            "subject.document_type",
            "subject.document_number",
            "deadline",
            "document.kind",
            "document.pdf_base64",
            "document.sha256",
            "document.attachments",
            "measure",
        ]
    )
}


def sealed_pdf(kind: str, size: int) -> dict[str, str]:
    """Return a document entry with a stand-in PDF of ``size`` bytes, as the gateway sends it.

    Sealed notices and rulings are PDFs of about 160 kB, so their base64 is longer than the
    131,072 characters that Python's csv module accepts in a field by default.
    """
    data = b"%PDF-1.7\n" + os.urandom(size)
    return {
        "kind": kind,
        "sha256": hashlib.sha256(data).hexdigest(),
        "pdf_base64": base64.b64encode(data).decode("ascii"),
    }


def query_item() -> dict[str, Any]:
    return {
        "item_id": "a3c1e0f2-5b7d-4e8a-9c1b-2d3e4f5a6b7c",
        "action": "query",
        "category": "provident_fund",
        "case_number": "(2026)粤0104执123号",
        "subject": SUBJECT,
        "deadline": DEADLINE,
        "document": None,
    }


def freeze_item() -> dict[str, Any]:
    """A freeze of a provident fund account with its notice and the ruling as attachment."""
    document: dict[str, Any] = sealed_pdf("assistance_notice_freeze", 150_000)
    document["attachments"] = [sealed_pdf("ruling_freeze", 140_000)]
    return {
        "item_id": "b4d2f1a3-6c8e-4f9b-8d2c-3e4f5a6b7c8d",
        "action": "freeze",
        "category": "provident_fund",
        "case_number": "(2026)粤0104执123号",
        "subject": SUBJECT,
        "deadline": DEADLINE,
        "document": document,
        "measure": {
            "asset_type": "provident_fund",
            "identifier": "440300123456",
            "amount": "50000.00",
            "start": "2026-12-04",
            "end": "2027-12-03",
            "reference": None,
        },
    }


def batch_message(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "protocol": gateway.PROTOCOL,
        "batch_id": "5f0c8a7e-1d0b-4c41-9a43-0d7a7c1f0d11",
        "agency": "hpf-sz",
        "court": {"code": "粤0104", "name": "广州市越秀区人民法院"},
        "sent_at": SENT_AT.isoformat(),
        "items": list(items),
    }


def detail_records(content: bytes) -> list[list[str]]:
    return [row for row in exchange.decode_records(content) if row[0] == "D"]


def test_freeze_with_attachments_round_trip():
    message = batch_message(query_item(), freeze_item())

    content = batchfile.request_content(message)
    body = exchange.request_document(content)

    assert body == message


def test_freeze_record_fields():
    freeze = freeze_item()

    record = detail_records(batchfile.request_content(batch_message(freeze)))[0]

    assert len(record) == batchfile.REQUEST_DETAIL_FIELDS == exchange.REQUEST_DETAIL_FIELDS
    assert record[FIELDS["document.kind"]] == "assistance_notice_freeze"
    assert record[FIELDS["document.pdf_base64"]] == freeze["document"]["pdf_base64"]
    assert record[FIELDS["document.sha256"]] == freeze["document"]["sha256"]
    attachments = json.loads(record[FIELDS["document.attachments"]])
    assert attachments == freeze["document"]["attachments"]
    assert json.loads(record[FIELDS["measure"]]) == freeze["measure"]
    assert record[FIELDS["measure"]].startswith('{"asset_type":"provident_fund",')


def test_query_record_leaves_measure_fields_empty():
    record = detail_records(batchfile.request_content(batch_message(query_item())))[0]

    assert len(record) == batchfile.REQUEST_DETAIL_FIELDS
    assert record[FIELDS["document.kind"] :] == ["", "", "", "", ""]


def test_document_without_attachments_round_trip():
    freeze = freeze_item()
    del freeze["document"]["attachments"]
    message = batch_message(freeze)

    record = detail_records(batchfile.request_content(message))[0]
    body = exchange.request_document(batchfile.request_content(message))

    assert record[FIELDS["document.attachments"]] == ""
    assert body["items"] == message["items"]


def test_simulator_accepts_freeze_from_file():
    agencies = load_agencies(DEFAULT_AGENCIES_FILE)
    content = batchfile.request_content(batch_message(query_item(), freeze_item()))
    body = json.dumps(exchange.request_document(content), ensure_ascii=False).encode()

    batch = simulator_protocol.parse_batch(body, agencies["hpf-sz"], "粤0104", SENT_AT)

    assert [item.reason for item in batch.items] == [None, None]
    assert batch.items[1].raw["measure"]["asset_type"] == "provident_fund"


def test_earlier_layout_still_read():
    freeze = freeze_item()
    records = exchange.decode_records(
        batchfile.request_content(batch_message(query_item(), freeze))
    )
    earlier = [records[0], *(row[: exchange.EARLIER_REQUEST_DETAIL_FIELDS] for row in records[1:])]
    content = batchfile.encode_records([*earlier, ["T", "2"]])

    query, measure = exchange.request_document(content)["items"]

    assert query == query_item()
    assert measure["document"] == {
        "kind": "assistance_notice_freeze",
        "pdf_base64": freeze["document"]["pdf_base64"],
    }
    assert "measure" not in measure


def _with_field(content: bytes, field: str, text: str) -> bytes:
    records = exchange.decode_records(content)
    records[1][FIELDS[field]] = text
    return batchfile.encode_records([*records, ["T", str(len(records) - 1)]])


@pytest.mark.parametrize(
    ("field", "text", "reason"),
    [
        ("measure", "{asset_type: provident_fund}", "record 2: the measure field is not JSON"),
        ("document.attachments", "[{", "record 2: the document attachments field is not JSON"),
    ],
)
def test_field_not_json_breaks_file(field, text, reason):
    content = _with_field(batchfile.request_content(batch_message(freeze_item())), field, text)

    with pytest.raises(exchange.FileFormatError, match=reason):
        exchange.request_document(content)


def test_wrong_field_count_breaks_file():
    content = batchfile.request_content(batch_message(freeze_item()))
    records = exchange.decode_records(content)
    records[1] = records[1][:13]
    short = batchfile.encode_records([*records, ["T", "1"]])

    with pytest.raises(exchange.FileFormatError, match="record 2 has 13 fields"):
        exchange.request_document(short)


def test_measure_of_wrong_shape_rejected():
    freeze = freeze_item()
    freeze["measure"] = copy.deepcopy(freeze["measure"]) | {"amount": "50000"}
    agencies = load_agencies(DEFAULT_AGENCIES_FILE)
    content = batchfile.request_content(batch_message(freeze))
    body = json.dumps(exchange.request_document(content), ensure_ascii=False).encode()

    batch = simulator_protocol.parse_batch(body, agencies["hpf-sz"], "粤0104", SENT_AT)

    assert batch.items[0].reason == (
        "measure.amount invalid: expected yuan with two decimals such as '50000.00', got '50000'"
    )


def test_csv_quoting_of_json_fields():
    freeze = freeze_item()
    freeze["measure"]["identifier"] = '粤,"海"\n18'

    content = batchfile.request_content(batch_message(freeze))
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))

    assert json.loads(rows[1][FIELDS["measure"]])["identifier"] == '粤,"海"\n18'
    assert exchange.request_document(content)["items"][0]["measure"] == freeze["measure"]
