"""The batch-file adapter: signed CSV request files in an outbox, result files from an inbox.

Agencies that work T+1 take requests as files. Each batch becomes one file
``<batch id>.csv`` in the agency's outbox folder, written to a temporary name and renamed, so
the agency never sees half a file. Each item carries what it carries online, including the
sealed documents and the ``measure`` of a control measure. Writing the file is the
acknowledgement: every item of the batch becomes acknowledged. Sending the same batch again
rewrites the same file name.

The agency writes result files to the inbox folder. Each worker pass reads them, verifies the
agency's signature and stores the answers through :func:`gateway.apply_answers`, the path of
online answers, so asset records are created once and repeated or late answers change nothing.
A processed file moves to ``done/``. A malformed file, one with a bad signature or one of an
unknown agency moves to ``quarantine/`` with a ``.reason.txt`` file beside it, and nothing of
it is stored.

Both kinds of file are CSV in UTF-8 with record types: a header ``H``, one detail record ``D``
per item or answer, a trailer ``T`` with the count of ``D`` records, and a last line ``S`` with
the signer and the signature of every byte before that line, as :mod:`zhixing.linkage.keys`
makes it (in certificate mode followed by ``;`` and the signing certificate).
``docs/protocol.md`` (section "Batch-file exchange") is the specification for agencies.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from zhixing.courts.models import Court
from zhixing.linkage import gateway, keys
from zhixing.linkage.adapters import PermanentFailure, SignedReply, TransientFailure
from zhixing.linkage.models import Agency

logger = logging.getLogger(__name__)

PROTOCOL = "zhixing-gateway/1"
FILE_SUFFIX = ".csv"
DONE_FOLDER = "done"
QUARANTINE_FOLDER = "quarantine"
REASON_SUFFIX = ".reason.txt"
# Larger result files are quarantined unread. By estimate, 1,000 answers take a few MB.
MAX_FILE_BYTES = 64 * 1024 * 1024
ANSWER_STATUSES = ("found", "not_found", "error")

REQUEST_HEADER = ("H", PROTOCOL, "request")
RESULT_HEADER = ("H", PROTOCOL, "result")
# The request file's D record: the type, item_id, action, category, case_number, the four
# fields of the subject, deadline, and document kind, pdf_base64, sha256, attachments and the
# measure (see request_content).
REQUEST_DETAIL_FIELDS = 15
# Number of fields of a result file's records, counting the record type as the first.
RESULT_HEADER_FIELDS = 5
RESULT_DETAIL_FIELDS = 6


def allow_fields_up_to_file_size() -> None:
    """Raise the csv module's field size limit to ``MAX_FILE_BYTES`` if it is lower.

    The default limit of 131,072 characters rejects a result's records field that is longer,
    although the file is valid. No field can be longer than the largest file that is read. The
    limit belongs to the whole process, and the module offers no limit per reader. This
    function therefore never lowers it, because a lower limit could fail a reader in another
    thread.
    """
    if csv.field_size_limit() < MAX_FILE_BYTES:
        csv.field_size_limit(MAX_FILE_BYTES)


class FileFormatError(ValueError):
    """Raised when a batch file breaks the file format. The message names the record."""


@dataclass(frozen=True)
class SignedFile:
    """A batch file split into its signed content and the signature line."""

    content: bytes
    signer: str
    signature: str


# The file format


def encode_records(records: Sequence[Sequence[str]]) -> bytes:
    """Encode records as CSV in UTF-8, one per line ending in LF, quoting where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(records)
    return buffer.getvalue().encode("utf-8")


def signature_line(signer: str, signature: str) -> bytes:
    """Return the ``S`` line that ends a file: the percent-encoded signer and the signature."""
    return f"S,{quote(signer, safe='')},{signature}\n".encode("ascii")


def split_signature(data: bytes) -> SignedFile:
    """Split a file into the content before its last line and the ``S`` line's fields.

    The last line cannot hold a line break, so the split is exact even when quoted fields of
    the content contain line breaks.
    """
    if not data.endswith(b"\n"):
        raise FileFormatError("the file does not end with a line break after the S line")
    body = data[:-1]
    cut = body.rfind(b"\n") + 1
    parts = body[cut:].rstrip(b"\r").split(b",")
    if len(parts) != 3 or parts[0] != b"S":
        raise FileFormatError("the last line is not an S line 'S,<signer>,<signature>'")
    if cut == 0:
        raise FileFormatError("the file has no records before the S line")
    try:
        signer = unquote(parts[1].decode("ascii"), encoding="utf-8", errors="strict")
        signature = parts[2].decode("ascii")
    except UnicodeError as error:
        raise FileFormatError(
            f"the S line is not ASCII with a percent-encoded signer: {error}"
        ) from error
    return SignedFile(content=data[:cut], signer=signer, signature=signature)


def decode_records(content: bytes) -> list[list[str]]:
    """Decode the CSV records of a file's content and check its header and trailer.

    Returns the ``H`` record followed by the ``D`` records. A leading UTF-8 byte order mark
    is allowed.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileFormatError(f"the file is not UTF-8: {error}") from error
    allow_fields_up_to_file_size()
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise FileFormatError(f"the file is not valid CSV: {error}") from error
    if not records or not records[0] or records[0][0] != "H":
        raise FileFormatError("the first record is not an H record")
    trailer = records[-1]
    if len(records) < 2 or len(trailer) != 2 or trailer[0] != "T":
        raise FileFormatError("the record before the S line is not a T record 'T,<count>'")
    details = records[1:-1]
    for number, record in enumerate(details, start=2):
        if not record or record[0] != "D":
            raise FileFormatError(f"record {number} is not a D record")
    if trailer[1] != str(len(details)):
        raise FileFormatError(
            f"the T record counts {trailer[1]!r} D records, but the file has {len(details)}"
        )
    return records[:-1]


def _json_field(value: Any) -> str:
    """Return ``value`` as the compact JSON text of a CSV field, or an empty field for None."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def request_content(message: dict[str, Any]) -> bytes:
    """Return the content of a request file for a batch message of the online protocol.

    Each item becomes one ``D`` record of ``REQUEST_DETAIL_FIELDS`` fields. The last three
    carry what the online protocol adds for control measures: the notice's ``sha256``, its
    ``attachments`` as a JSON array and the ``measure`` as a JSON object. Each is empty when
    the item has none, as for every query.
    """
    court = message["court"]
    records: list[list[str]] = [
        [
            *REQUEST_HEADER,
            message["batch_id"],
            message["agency"],
            court["code"],
            court["name"],
            message["sent_at"],
        ]
    ]
    for item in message["items"]:
        subject = item["subject"]
        document = item.get("document") or {}
        records.append(
            [
                "D",
                item["item_id"],
                item["action"],
                item["category"],
                item["case_number"],
                subject["kind"],
                subject["name"],
                subject["document_type"],
                subject["document_number"],
                item["deadline"],
                str(document.get("kind", "")),
                str(document.get("pdf_base64", "")),
                str(document.get("sha256", "")),
                _json_field(document.get("attachments")),
                _json_field(item.get("measure")),
            ]
        )
    records.append(["T", str(len(records) - 1)])
    return encode_records(records)


def _answer(record: list[str], number: int) -> dict[str, Any]:
    if len(record) != RESULT_DETAIL_FIELDS:
        raise FileFormatError(
            f"record {number} has {len(record)} fields; a result D record has "
            f"{RESULT_DETAIL_FIELDS}: D,item_id,status,answered_at,error,records"
        )
    _, item_id, status, answered_at, error, records_text = record
    if status not in ANSWER_STATUSES:
        raise FileFormatError(
            f"record {number}: status {status!r} is not one of {', '.join(ANSWER_STATUSES)}"
        )
    moment = parse_datetime(answered_at)
    if moment is None or timezone.is_naive(moment):
        raise FileFormatError(
            f"record {number}: answered_at {answered_at!r} is not an RFC 3339 time with offset"
        )
    try:
        records = json.loads(records_text)
    except ValueError as failure:
        raise FileFormatError(f"record {number}: records are not JSON: {failure}") from failure
    if not isinstance(records, list) or not all(isinstance(entry, dict) for entry in records):
        raise FileFormatError(f"record {number}: records must be a JSON array of objects")
    answer: dict[str, Any] = {
        "item_id": item_id,
        "status": status,
        "answered_at": answered_at,
        "records": records,
    }
    if status == "error":
        answer["error"] = error or "no reason given"
    return answer


def parse_result(content: bytes) -> tuple[str, list[dict[str, Any]]]:
    """Return the agency code and the answers of a result file's signed content."""
    records = decode_records(content)
    header = records[0]
    if len(header) != RESULT_HEADER_FIELDS or tuple(header[:3]) != RESULT_HEADER:
        raise FileFormatError(
            f"the H record must be 'H,{PROTOCOL},result,<agency>,<sent_at>', got {header!r}"
        )
    answers = [_answer(record, number) for number, record in enumerate(records[1:], start=2)]
    return header[3], answers


# Folders and files


def folder_path(value: str) -> Path:
    """Return an agency's folder, taking a relative one as inside the data folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(settings.DATA_DIR) / path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a hidden temporary file beside ``path``, then rename it to ``path``."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("xb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def free_path(folder: Path, name: str) -> Path:
    """Return ``folder / name``, or a numbered variant of it when that name is taken."""
    path = folder / name
    number = 1
    while path.exists() or path.with_name(path.name + REASON_SUFFIX).exists():
        number += 1
        path = folder / f"{Path(name).stem}-{number}{Path(name).suffix}"
    return path


def batch_files(folder: Path) -> list[Path]:
    """Return the files of ``folder`` to read, by name: ``*.csv`` except hidden ones."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    return sorted(
        entry
        for entry in entries
        if entry.name.endswith(FILE_SUFFIX) and not entry.name.startswith(".") and entry.is_file()
    )


def _local_text(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def move_to_done(path: Path) -> None:
    """Move a processed file to ``done/``, unless another worker has moved it first."""
    done = path.parent / DONE_FOLDER
    done.mkdir(exist_ok=True)
    try:
        path.rename(free_path(done, path.name))
    except FileNotFoundError:
        logger.info("Result file %s was moved by another worker", path)


def quarantine(path: Path, reason: str, now: datetime.datetime) -> None:
    """Move a rejected file to ``quarantine/`` and write the reason beside it."""
    folder = path.parent / QUARANTINE_FOLDER
    folder.mkdir(exist_ok=True)
    target = free_path(folder, path.name)
    reason_text = f"file: {path.name}\nquarantined at: {_local_text(now)}\nreason: {reason}\n"
    reason_path = target.with_name(target.name + REASON_SUFFIX)
    write_atomically(reason_path, reason_text.encode("utf-8"))
    try:
        path.rename(target)
    except FileNotFoundError:
        reason_path.unlink(missing_ok=True)
        logger.info("Result file %s was moved by another worker", path)
        return
    logger.warning("Quarantined batch file %s as %s: %s", path, target, reason)


# Sending


class BatchFileAdapter:
    """Writer of request files to an agency's outbox folder.

    Answers do not come through :meth:`fetch_answers`; the worker calls :func:`read_inbox`.
    """

    def send_batch(self, agency: Agency, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """Write the batch as a signed request file; return an acknowledgement of every item.

        ``headers`` sign the JSON body, so the file gets its own signature from the court that
        the body names.
        """
        if not agency.outbox_dir:
            raise PermanentFailure(
                f"{agency.code} has no outbox folder; set it in the agency registry."
            )
        message = json.loads(body)
        court_code = message["court"]["code"]
        court = Court.objects.filter(code=court_code).first()
        if court is None:
            raise PermanentFailure(f"The batch names court {court_code!r}, which is not known.")
        content = request_content(message)
        data = content + signature_line(court_code, keys.sign(court, content).file_field())
        outbox = folder_path(agency.outbox_dir)
        path = outbox / f"{message['batch_id']}{FILE_SUFFIX}"
        try:
            outbox.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data)
        except OSError as error:
            raise TransientFailure(
                f"The request file of {agency.code} could not be written to {outbox}: {error}"
            ) from error
        logger.info("Wrote request file %s with %s item(s)", path, len(message["items"]))
        accepted = [item["item_id"] for item in message["items"]]
        return {"batch_id": message["batch_id"], "accepted": accepted, "rejected": []}

    def fetch_answers(
        self,
        agency: Agency,
        *,
        court_code: str,
        cursor: str,
        limit: int,
        headers: dict[str, str],
    ) -> SignedReply:
        """Raise :class:`PermanentFailure`: batch-file agencies answer through their inbox."""
        raise PermanentFailure(
            f"{agency.code} answers with result files in its inbox folder; it cannot be polled."
        )


# Reading results


def _check_signed(agency: Agency, signed: SignedFile) -> None:
    """Raise FileFormatError unless ``agency`` signed the file with its registered key."""
    if signed.signer != agency.code:
        known = Agency.objects.filter(code=signed.signer).exists()
        kind = "agency" if known else "unknown agency"
        raise FileFormatError(f"the file is signed by {kind} {signed.signer!r}, not {agency.code}")
    if not agency.public_key_pem:
        raise FileFormatError(
            f"the registry has no public key of {agency.code}, so the signature cannot be checked"
        )
    if not keys.verify_agency(agency, signed.content, signed.signature):
        raise FileFormatError(f"the signature does not verify with the public key of {agency.code}")


def read_result_file(agency: Agency, path: Path) -> list[dict[str, Any]]:
    """Read and verify one result file of ``agency``; return its answers.

    Raises :class:`FileFormatError` with the reason to quarantine it.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileFormatError(f"the file has {size} bytes, more than the {MAX_FILE_BYTES} read")
    signed = split_signature(path.read_bytes())
    _check_signed(agency, signed)
    named, answers = parse_result(signed.content)
    if named != agency.code:
        kind = "agency" if Agency.objects.filter(code=named).exists() else "unknown agency"
        raise FileFormatError(f"the H record names {kind} {named!r}, not {agency.code}")
    return answers


def read_inbox(agency: Agency, *, now: datetime.datetime | None = None) -> int:
    """Store the answers of every result file in the agency's inbox; return how many.

    Answers are stored before their file moves to ``done/``, so a crash in between reads the
    file again, which changes nothing.
    """
    if not agency.inbox_dir:
        return 0
    now = now or timezone.now()
    answered = 0
    for path in batch_files(folder_path(agency.inbox_dir)):
        try:
            answers = read_result_file(agency, path)
        except FileNotFoundError:
            continue
        except FileFormatError as error:
            quarantine(path, str(error), now)
            continue
        receipt = gateway.apply_answers(agency, answers, now)
        answered += receipt.answered
        logger.info(
            "Result file %s of agency %s: %s answer(s), %s stored, %s unknown",
            path.name,
            agency.code,
            len(answers),
            receipt.answered,
            len(receipt.unknown),
        )
        move_to_done(path)
    return answered
