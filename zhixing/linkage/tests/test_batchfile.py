"""The batch-file adapter: request files in the outbox, result files from the inbox."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from zhixing.esign import services
from zhixing.inquiry.models import AssetRecord
from zhixing.linkage import gateway, keys
from zhixing.linkage.adapters import PermanentFailure, batchfile
from zhixing.linkage.models import Agency, GatewayBatch, GatewayItem
from zhixing.linkage.tests.helpers import NOW, AgencyKeys
from zhixing.linkage.worker import run_gateway_once

State = GatewayItem.State


@pytest.fixture
def registry(tmp_path: Path, make_agency) -> AgencyKeys:
    """A batch-file bank whose folders lie in ``tmp_path``."""
    return make_agency(
        "bank-files",
        adapter=Agency.Adapter.BATCH_FILE,
        base_url="",
        outbox_dir=str(tmp_path / "outbox"),
        inbox_dir=str(tmp_path / "inbox"),
        batch_window_seconds=0,
    )


@pytest.fixture
def sent(registry: AgencyKeys, enqueue, courts) -> list[GatewayItem]:
    """Three items written to the outbox in one request file by a worker pass."""
    items = enqueue(registry.agency, 3)
    run_gateway_once(NOW, owner="w1")
    return items


def outbox(agency: Agency) -> Path:
    return Path(agency.outbox_dir)


def inbox(agency: Agency) -> Path:
    return Path(agency.inbox_dir)


def records_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def found(item: GatewayItem, balance: str = "15230.55") -> dict[str, Any]:
    return {
        "item_id": str(item.pk),
        "status": "found",
        "answered_at": "2026-12-04T16:31:01+08:00",
        "error": "",
        "records": [
            {
                "type": "bank_account",
                "bank": "文件银行",
                "account_number": "6222021234567890123",
                "balance": balance,
                "currency": "CNY",
                "account_type": "debit",
                "state": "normal",
            }
        ],
    }


def result_file(
    agency: AgencyKeys,
    answers: list[dict[str, Any]],
    *,
    header_agency: str | None = None,
    signer: str | None = None,
    count: int | None = None,
) -> bytes:
    """Build a result file as an agency writes it, signed with the agency's key."""
    sent_at = "2026-12-04T18:00:00+08:00"
    records = [["H", gateway.PROTOCOL, "result", header_agency or agency.agency.code, sent_at]]
    for answer in answers:
        records.append(
            [
                "D",
                answer["item_id"],
                answer["status"],
                answer["answered_at"],
                answer.get("error", ""),
                json.dumps(answer["records"], ensure_ascii=False),
            ]
        )
    records.append(["T", str(len(answers) if count is None else count)])
    content = batchfile.encode_records(records)
    signature = base64.b64encode(agency.private_key.sign(content)).decode("ascii")
    return content + batchfile.signature_line(
        signer or agency.agency.code, keys.ED25519_PREFIX + signature
    )


def drop(agency: Agency, name: str, data: bytes) -> Path:
    folder = inbox(agency)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def reason_of(agency: Agency, name: str) -> str:
    return (inbox(agency) / "quarantine" / f"{name}.reason.txt").read_text(encoding="utf-8")


# Request files


def test_request_file_written_and_acknowledged(registry, sent):
    batch = GatewayBatch.objects.get()
    files = sorted(path.name for path in outbox(registry.agency).iterdir())

    assert files == [f"{batch.pk}.csv"]
    assert batch.state == GatewayBatch.State.ACKNOWLEDGED
    states = set(GatewayItem.objects.values_list("state", flat=True))
    assert states == {State.ACKNOWLEDGED}


def test_request_file_content_and_signature(registry, sent, courts):
    batch = GatewayBatch.objects.get()
    data = (outbox(registry.agency) / f"{batch.pk}.csv").read_bytes()

    signed = batchfile.split_signature(data)
    records = records_of(signed.content)

    assert signed.signer == "粤0104"
    assert keys.verify_court(courts["粤0104"], signed.content, signed.signature)
    assert data.endswith(b"\n")
    header = records[0]
    assert header[:5] == ["H", gateway.PROTOCOL, "request", str(batch.pk), "bank-files"]
    assert header[5] == "粤0104"
    assert header[6] == courts["粤0104"].name
    details = records[1:-1]
    assert {row[1] for row in details} == {str(item.pk) for item in sent}
    assert all(len(row) == batchfile.REQUEST_DETAIL_FIELDS for row in details)
    assert {tuple(row[10:]) for row in details} == {("", "", "", "", "")}
    assert {row[2] for row in details} == {"query"}
    assert {row[3] for row in details} == {"bank_account"}
    assert {row[7] for row in details} == {"resident_id"}
    assert records[-1] == ["T", "3"]


def test_request_file_signature_line_is_percent_encoded(registry, sent):
    batch = GatewayBatch.objects.get()
    last_line = (outbox(registry.agency) / f"{batch.pk}.csv").read_bytes().splitlines()[-1]

    assert last_line.startswith(b"S,%E7%B2%A40104,ecdsa-sha256:")


def test_request_file_signature_carries_certificate(registry, sent, courts):
    batch = GatewayBatch.objects.get()
    signed = batchfile.split_signature((outbox(registry.agency) / f"{batch.pk}.csv").read_bytes())

    value, certificate = keys.split_file_field(signed.signature)

    seal = services.current_seal_certificate(courts["粤0104"])
    der = x509.load_pem_x509_certificate(seal.certificate_pem.encode()).public_bytes(
        serialization.Encoding.DER
    )
    assert base64.b64decode(certificate) == der
    assert keys.verify_court(courts["粤0104"], signed.content, value, certificate)
    assert not keys.verify_court(courts["粤0104"], signed.content + b"\n", value, certificate)


def test_resent_batch_rewrites_same_file(registry, sent):
    batch = GatewayBatch.objects.get()
    message = gateway.batch_message(batch, list(batch.items.select_related("case", "party")))
    body = json.dumps(message, ensure_ascii=False).encode()
    adapter = batchfile.BatchFileAdapter()

    ack = adapter.send_batch(registry.agency, body, {})

    files = sorted(path.name for path in outbox(registry.agency).iterdir())
    assert files == [f"{batch.pk}.csv"]
    assert sorted(ack["accepted"]) == sorted(str(item.pk) for item in sent)
    assert ack["rejected"] == []


def test_missing_outbox_setting_fails_items(registry, enqueue, courts):
    Agency.objects.filter(pk=registry.agency.pk).update(outbox_dir="")
    enqueue(registry.agency, 3)

    run_gateway_once(NOW, owner="w1")

    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.FAILED}
    assert "no outbox folder" in GatewayItem.objects.first().last_error


def test_unwritable_outbox_retries_items(registry, enqueue, courts, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    Agency.objects.filter(pk=registry.agency.pk).update(outbox_dir=str(blocker / "outbox"))
    enqueue(registry.agency, 3)

    run_gateway_once(NOW, owner="w1")

    items = list(GatewayItem.objects.all())
    assert {item.state for item in items} == {State.PENDING}
    assert all("could not be written" in item.last_error for item in items)
    assert GatewayBatch.objects.get().state == GatewayBatch.State.RETRY


def test_adapter_errors_are_typed(registry):
    adapter = batchfile.BatchFileAdapter()
    Agency.objects.filter(pk=registry.agency.pk).update(outbox_dir="")
    registry.agency.refresh_from_db()

    with pytest.raises(PermanentFailure):
        adapter.send_batch(registry.agency, b"{}", {})
    with pytest.raises(PermanentFailure):
        adapter.fetch_answers(registry.agency, court_code="粤0104", cursor="", limit=1, headers={})


def test_relative_folder_in_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path

    assert batchfile.folder_path("exchange/ship-gd/outbox") == tmp_path / "exchange/ship-gd/outbox"
    assert batchfile.folder_path(str(tmp_path / "x")) == tmp_path / "x"


# Result files


def test_result_file_stores_answers_and_assets(registry, sent, case):
    path = drop(registry.agency, "r1.csv", result_file(registry, [found(sent[0])]))

    stored = batchfile.read_inbox(registry.agency, now=NOW)

    item = GatewayItem.objects.get(pk=sent[0].pk)
    assert stored == 1
    assert item.state == State.ANSWERED
    assert item.answer["records"][0]["balance"] == "15230.55"
    assert AssetRecord.objects.filter(case=case).count() == 1
    assert not path.exists()
    assert (inbox(registry.agency) / "done" / "r1.csv").exists()


def test_result_file_read_again_changes_nothing(registry, sent, case):
    drop(registry.agency, "r1.csv", result_file(registry, [found(sent[0])]))
    batchfile.read_inbox(registry.agency, now=NOW)
    done = inbox(registry.agency) / "done"
    shutil.copy(done / "r1.csv", inbox(registry.agency) / "r1.csv")
    drop(
        registry.agency,
        "r2.csv",
        result_file(registry, [found(sent[0], balance="0.00")]),
    )

    stored = batchfile.read_inbox(registry.agency, now=NOW)

    item = GatewayItem.objects.get(pk=sent[0].pk)
    assert stored == 0
    assert item.answer["records"][0]["balance"] == "15230.55"
    assert AssetRecord.objects.filter(case=case).count() == 1
    assert sorted(path.name for path in done.iterdir()) == ["r1-2.csv", "r1.csv", "r2.csv"]


def test_error_answer_sends_item_again(registry, sent):
    answer = {**found(sent[1]), "status": "error", "error": "system busy", "records": []}
    drop(registry.agency, "r1.csv", result_file(registry, [answer]))

    batchfile.read_inbox(registry.agency, now=NOW)

    item = GatewayItem.objects.get(pk=sent[1].pk)
    assert item.state == State.PENDING
    assert item.batch_id is None
    assert "system busy" in item.last_error


def test_unknown_item_ids_are_ignored(registry, sent):
    answer = {**found(sent[0]), "item_id": "5f0c8a7e-1d0b-4c41-9a43-0d7a7c1f0d11"}
    drop(registry.agency, "r1.csv", result_file(registry, [answer]))

    stored = batchfile.read_inbox(registry.agency, now=NOW)

    assert stored == 0
    assert (inbox(registry.agency) / "done" / "r1.csv").exists()
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.ACKNOWLEDGED}


def test_bad_signature_quarantined(registry, sent, make_agency):
    other = make_agency("bank-other")
    data = result_file(other, [found(sent[0])], header_agency="bank-files", signer="bank-files")
    drop(registry.agency, "forged.csv", data)

    stored = batchfile.read_inbox(registry.agency, now=NOW)

    quarantined = inbox(registry.agency) / "quarantine" / "forged.csv"
    assert stored == 0
    assert quarantined.read_bytes() == data
    assert "signature does not verify" in reason_of(registry.agency, "forged.csv")
    assert GatewayItem.objects.get(pk=sent[0].pk).state == State.ACKNOWLEDGED


def test_unknown_agency_quarantined(registry, sent):
    data = result_file(registry, [found(sent[0])], signer="bank-nobody")
    drop(registry.agency, "stranger.csv", data)

    batchfile.read_inbox(registry.agency, now=NOW)

    assert "unknown agency 'bank-nobody'" in reason_of(registry.agency, "stranger.csv")
    assert GatewayItem.objects.get(pk=sent[0].pk).state == State.ACKNOWLEDGED


def test_header_of_other_agency_quarantined(registry, sent, make_agency):
    make_agency("bank-other")
    data = result_file(registry, [found(sent[0])], header_agency="bank-other")
    drop(registry.agency, "misfiled.csv", data)

    batchfile.read_inbox(registry.agency, now=NOW)

    assert "names agency 'bank-other'" in reason_of(registry.agency, "misfiled.csv")


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("truncated.csv", lambda data: data[: len(data) // 2], "does not end with a line break"),
        ("html.csv", lambda data: b"<html>502</html>\n", "not an S line"),
        ("count.csv", None, "the T record counts"),
        ("status.csv", "maybe", "status 'maybe'"),
    ],
)
def test_malformed_file_quarantined(registry, sent, name, change, reason):
    answers = [found(sent[0])]
    if change == "maybe":
        answers[0]["status"] = "maybe"
    data = result_file(registry, answers, count=5 if change is None else None)
    if callable(change):
        data = change(data)
    drop(registry.agency, name, data)

    batchfile.read_inbox(registry.agency, now=NOW)

    assert reason in reason_of(registry.agency, name)
    assert (inbox(registry.agency) / "quarantine" / name).read_bytes() == data
    assert GatewayItem.objects.get(pk=sent[0].pk).state == State.ACKNOWLEDGED


def test_one_bad_answer_stores_nothing_of_file(registry, sent):
    bad = {**found(sent[1]), "records": "none"}
    answers = [found(sent[0]), bad]
    drop(registry.agency, "mixed.csv", result_file(registry, answers))

    batchfile.read_inbox(registry.agency, now=NOW)

    assert "records" in reason_of(registry.agency, "mixed.csv")
    assert GatewayItem.objects.get(pk=sent[0].pk).state == State.ACKNOWLEDGED


def test_quarantine_keeps_each_copy(registry, sent):
    for _ in range(2):
        drop(registry.agency, "junk.csv", b"junk\n")
        batchfile.read_inbox(registry.agency, now=NOW)

    names = sorted(path.name for path in (inbox(registry.agency) / "quarantine").iterdir())
    assert names == ["junk-2.csv", "junk-2.csv.reason.txt", "junk.csv", "junk.csv.reason.txt"]


def test_hidden_and_other_files_left_alone(registry, sent):
    drop(registry.agency, ".r1.csv.tmp", b"half a file")
    drop(registry.agency, ".r2.csv", b"being written")
    drop(registry.agency, "notes.txt", b"not a result file")

    batchfile.read_inbox(registry.agency, now=NOW)

    names = sorted(path.name for path in inbox(registry.agency).iterdir())
    assert names == [".r1.csv.tmp", ".r2.csv", "notes.txt"]


def test_worker_pass_reads_inbox(registry, sent, case):
    drop(registry.agency, "r1.csv", result_file(registry, [found(item) for item in sent]))

    result = run_gateway_once(NOW, owner="w1")

    assert result.answered == 3
    assert set(GatewayItem.objects.values_list("state", flat=True)) == {State.ANSWERED}
