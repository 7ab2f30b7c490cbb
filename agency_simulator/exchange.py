"""Batch-file exchange: request files from the courts, result files back, in shared folders.

With ``--exchange-dir DIR`` the simulator reads the request files that courts write to
``DIR/<agency code>/outbox`` and writes result files to ``DIR/<agency code>/inbox``, as
``docs/protocol.md`` (section "Batch-file exchange") specifies. A request file goes through
the same checks and storage as a batch sent over HTTP, and its items are answered by the same
background task from the same synthetic population. This module writes the answers of each
court that sent files into result files, after the position up to which it has written them,
kept in the table ``exchange_positions``. A position moves only after its file is in place,
so a restarted simulator writes the answers again rather than losing them.

Faults apply where they make sense for files: outages and service hours hold reading and
writing back, ``error_rate`` leaves a request file unread for one pass, ``garbage_rate`` and
``bad_signature_rate`` write a spoiled result file (the answers follow in a correct file
later), and the answer delay and ``item_error_rate`` work as over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import logging
import random
import time
import urllib.parse
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agency_simulator import PROTOCOL, protocol, reasons
from agency_simulator.agencies import CHINA_TZ, Agency
from agency_simulator.signing import SignatureError

if TYPE_CHECKING:
    from agency_simulator.app import Simulator

logger = logging.getLogger("agency_simulator.exchange")

SCHEMA = """
-- Courts that sent request files to an agency, and the highest answer sequence number
-- already written to that agency's inbox for them.
CREATE TABLE IF NOT EXISTS exchange_positions (
    agency TEXT NOT NULL,
    court TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    PRIMARY KEY (agency, court)
);
"""

PASS_INTERVAL_S = 0.5
# After a spoiled result file, the correct one follows after this many seconds.
SPOILED_RETRY_S = 2.0
MAX_ANSWERS_PER_FILE = 1000
MAX_FILE_BYTES = 64 * 1024 * 1024
FILE_SUFFIX = ".csv"
REASON_SUFFIX = ".reason.txt"
REQUEST_HEADER_FIELDS = 8
REQUEST_DETAIL_FIELDS = 15
# The earlier layout of request D records ends after document pdf_base64, without the fields
# document sha256, document attachments and measure. Its measure items are rejected with
# "document.sha256 missing", and its queries are processed as before.
# NOTE: read for as long as courts may still write the earlier layout.
EARLIER_REQUEST_DETAIL_FIELDS = 12

# The csv module rejects fields longer than 131,072 characters by default, and a sealed PDF
# in base64 is longer. No field can be longer than the largest file that is read.
csv.field_size_limit(MAX_FILE_BYTES)


class FileFormatError(ValueError):
    """A batch file that breaks the file format."""


# The file format


def encode_records(records: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(records)
    return buffer.getvalue().encode("utf-8")


def signed(content: bytes, key: Ed25519PrivateKey, signer: str) -> bytes:
    """Append the S line: the percent-encoded signer and the signature of `content`."""
    signature = base64.b64encode(key.sign(content)).decode("ascii")
    line = f"S,{urllib.parse.quote(signer, safe='')},ed25519:{signature}\n"
    return content + line.encode("ascii")


def split_signed(data: bytes) -> tuple[bytes, str, str]:
    """Return (content, percent-encoded signer, signature) of a file ending in an S line."""
    if not data.endswith(b"\n"):
        raise FileFormatError("the file does not end with a line break after the S line")
    cut = data[:-1].rfind(b"\n") + 1
    parts = data[cut:-1].rstrip(b"\r").split(b",")
    if len(parts) != 3 or parts[0] != b"S":
        raise FileFormatError("the last line is not 'S,<signer>,<algorithm>:<signature>'")
    if cut == 0:
        raise FileFormatError("the file has no records before the S line")
    try:
        return data[:cut], parts[1].decode("ascii"), parts[2].decode("ascii")
    except UnicodeDecodeError:
        raise FileFormatError("the S line is not ASCII") from None


def decode_records(content: bytes) -> list[list[str]]:
    """Return the H and D records of a file's content after checking the T record."""
    try:
        text = content.decode("utf-8-sig")
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (UnicodeDecodeError, csv.Error) as error:
        raise FileFormatError(f"the file is not CSV in UTF-8: {error}") from None
    if len(records) < 2 or records[0][:1] != ["H"]:
        raise FileFormatError("the first record is not an H record")
    trailer, details = records[-1], records[1:-1]
    if len(trailer) != 2 or trailer[0] != "T":
        raise FileFormatError("the record before the S line is not 'T,<count>'")
    for number, record in enumerate(details, start=2):
        if record[:1] != ["D"]:
            raise FileFormatError(f"record {number} is not a D record")
    if trailer[1] != str(len(details)):
        raise FileFormatError(f"the T record counts {trailer[1]!r} records, not {len(details)}")
    return records[:-1]


def request_document(content: bytes) -> dict[str, Any]:
    """Turn a request file's content into the batch body of the HTTP protocol.

    A D record has the fields of REQUEST_DETAIL_FIELDS or of EARLIER_REQUEST_DETAIL_FIELDS.
    Raises FileFormatError when the file breaks the format, including a document attachments
    or measure field that is not JSON. JSON of the wrong shape is left to the item checks of
    `protocol.parse_batch`, which reject the item as they would over HTTP.
    """
    records = decode_records(content)
    header = records[0]
    if len(header) != REQUEST_HEADER_FIELDS or header[1:3] != [PROTOCOL, "request"]:
        raise FileFormatError(
            "the H record must be 'H,zhixing-gateway/1,request,<batch_id>,<agency>,<court code>"
            ",<court name>,<sent_at>'"
        )
    _, _, _, batch_id, agency, court_code, court_name, sent_at = header
    items = [request_item(record, number) for number, record in enumerate(records[1:], start=2)]
    return {
        "protocol": PROTOCOL,
        "batch_id": batch_id,
        "agency": agency,
        "court": {"code": court_code, "name": court_name},
        "sent_at": sent_at,
        "items": items,
    }


def request_item(record: list[str], number: int) -> dict[str, Any]:
    """Turn the D record numbered `number` of a request file into an item of a batch body."""
    if len(record) == EARLIER_REQUEST_DETAIL_FIELDS:
        record = [*record, "", "", ""]
    if len(record) != REQUEST_DETAIL_FIELDS:
        raise FileFormatError(
            f"record {number} has {len(record)} fields; a request D record has"
            f" {REQUEST_DETAIL_FIELDS} (or {EARLIER_REQUEST_DETAIL_FIELDS} in the earlier layout)"
        )
    (_, item_id, action, category, case_number, kind, name, document_type) = record[:8]
    document_number, deadline = record[8:10]
    document_kind, pdf_base64, sha256, attachments, measure = record[10:]
    item: dict[str, Any] = {
        "item_id": item_id,
        "action": action,
        "category": category,
        "case_number": case_number,
        "subject": {
            "kind": kind,
            "name": name,
            "document_type": document_type,
            "document_number": document_number,
        },
        "deadline": deadline,
        "document": None,
    }
    if document_kind or pdf_base64 or sha256 or attachments:
        document: dict[str, Any] = {"kind": document_kind, "pdf_base64": pdf_base64}
        if sha256:
            document["sha256"] = sha256
        if attachments:
            document["attachments"] = json_field(attachments, "document attachments", number)
        item["document"] = document
    if measure:
        item["measure"] = json_field(measure, "measure", number)
    return item


def json_field(text: str, name: str, number: int) -> Any:
    """Return the JSON value of a field of the D record numbered `number`."""
    try:
        return json.loads(text)
    except ValueError as error:
        raise FileFormatError(f"record {number}: the {name} field is not JSON: {error}") from None


def result_content(agency: str, answers: list[dict[str, Any]]) -> bytes:
    """Return the content of a result file (everything before the S line)."""
    records: list[list[str]] = [["H", PROTOCOL, "result", agency, protocol.now_text()]]
    for answer in answers:
        records.append(
            [
                "D",
                answer["item_id"],
                answer["status"],
                answer["answered_at"],
                answer.get("error") or "",
                json.dumps(answer["records"], ensure_ascii=False, separators=(",", ":")),
            ]
        )
    records.append(["T", str(len(answers))])
    return encode_records(records)


def garbage(content: bytes, rng: random.Random) -> bytes:
    """Spoil a result file's content: cut short, not CSV at all, or records of the wrong shape."""
    kind = rng.choice(("truncated", "not_csv", "wrong_shape"))
    if kind == "truncated":
        return content[: max(1, len(content) // 2)] + b"\n"
    if kind == "not_csv":
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"
    lines = content.decode("utf-8").splitlines(keepends=True)
    spoiled = [lines[0]]
    spoiled += ["D,not-an-item,maybe\n" for _ in lines[1:-1]]
    spoiled.append(lines[-1])
    return "".join(spoiled).encode("utf-8")


# Files and folders


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def free_path(folder: Path, name: str) -> Path:
    path = folder / name
    number = 1
    while path.exists() or path.with_name(path.name + REASON_SUFFIX).exists():
        number += 1
        path = folder / f"{Path(name).stem}-{number}{Path(name).suffix}"
    return path


def request_files(outbox: Path) -> list[Path]:
    return sorted(
        path
        for path in outbox.iterdir()
        if path.name.endswith(FILE_SUFFIX) and not path.name.startswith(".") and path.is_file()
    )


def move_to(path: Path, folder_name: str, reason: str | None = None) -> None:
    """Move a request file to `done/` or, with a reason file, to `quarantine/`."""
    folder = path.parent / folder_name
    folder.mkdir(exist_ok=True)
    target = free_path(folder, path.name)
    if reason is not None:
        text = f"file: {path.name}\nquarantined at: {protocol.now_text()}\nreason: {reason}\n"
        write_atomically(target.with_name(target.name + REASON_SUFFIX), text.encode("utf-8"))
    path.rename(target)


class Exchange:
    """The background task that reads request files and writes result files."""

    def __init__(self, simulator: Simulator, folder: Path) -> None:
        self.simulator = simulator
        self.folder = folder
        self.task: asyncio.Task[None] | None = None
        # (agency, court) -> time.time() before which no result file is written again.
        self.hold_until: dict[tuple[str, str], float] = {}

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.simulator.db().connection.executescript(SCHEMA)
        self.task = asyncio.create_task(self.loop(), name="exchange")
        logger.info("batch-file exchange in %s started", self.folder)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def loop(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception:
                logger.exception("batch-file exchange pass failed; trying again")
            await asyncio.sleep(PASS_INTERVAL_S)

    def run_once(self) -> None:
        """Read every waiting request file, then write the result files that are due."""
        for agency_folder in sorted(path for path in self.folder.iterdir() if path.is_dir()):
            outbox = agency_folder / "outbox"
            if outbox.is_dir():
                for path in request_files(outbox):
                    self.read_request(agency_folder.name, path)
        self.write_results()

    # Requests

    def read_request(self, code: str, path: Path) -> None:
        agency = self.simulator.agencies.get(code)
        if agency is None:
            self.quarantine(path, f"unknown agency {code!r}: no such agency in the simulator")
            return
        now = datetime.now(CHINA_TZ)
        if self.simulator.unavailable(agency, now) is not None:
            return
        if self.simulator.chance(self.simulator.faults[code].error_rate):
            logger.info("leaving request file %s for the next pass (simulated error)", path)
            return
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        try:
            batch, body = self.parse_request(agency, data, now)
        except (FileFormatError, SignatureError, protocol.InvalidRequest) as error:
            self.quarantine(path, str(error))
            return
        store = self.simulator.db()
        stored = store.batch(code, batch.batch_id)
        if stored is None:
            self.follow(code, batch.court_code)
            acknowledgement = self.simulator.store_batch(agency, batch, body, now)
            self.simulator.background.wake_answers()
        else:
            court, acknowledgement = stored
            if court != batch.court_code:
                self.quarantine(path, f"batch_id {batch.batch_id} was sent by another court")
                return
        self.write_rejections(agency, batch, acknowledgement)
        move_to(path, "done")

    def parse_request(
        self, agency: Agency, data: bytes, now: datetime
    ) -> tuple[protocol.BatchRequest, bytes]:
        if len(data) > MAX_FILE_BYTES:
            raise FileFormatError(f"the file has {len(data)} bytes, more than {MAX_FILE_BYTES}")
        content, signer, signature = split_signed(data)
        try:
            court = self.simulator.keyring.verify(signer, signature, content)
        except UnicodeDecodeError:
            raise FileFormatError("the signer is not a percent-encoded UTF-8 code") from None
        body = json.dumps(request_document(content), ensure_ascii=False).encode()
        return protocol.parse_batch(body, agency, court, now), data

    def follow(self, agency: str, court: str) -> None:
        """Start writing result files for `court`, after the answers it already has."""
        with self.simulator.db().transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO exchange_positions (agency, court, cursor)"
                " SELECT ?, ?, COALESCE(MAX(seq), 0) FROM answers WHERE agency = ? AND court = ?",
                (agency, court, agency, court),
            )

    def write_rejections(
        self, agency: Agency, batch: protocol.BatchRequest, acknowledgement: dict[str, Any]
    ) -> None:
        """Answer the items the agency rejected with `error`, since files carry no
        acknowledgement back. The name is fixed per batch, so a repeat rewrites the file."""
        rejected = acknowledgement.get("rejected") or []
        if not rejected:
            return
        answers = [
            protocol.answer(entry["item_id"], "error", [], reasons.file_error(entry))
            for entry in rejected
        ]
        content = result_content(agency.code, answers)
        path = self.inbox(agency.code) / f"{agency.code}-{batch.batch_id}-rejected{FILE_SUFFIX}"
        write_atomically(
            path, signed(content, self.simulator.agency_keys[agency.code], agency.code)
        )
        logger.info("rejected %d items of request file %s", len(rejected), batch.batch_id)

    # Results

    def inbox(self, code: str) -> Path:
        return self.folder / code / "inbox"

    def write_results(self) -> None:
        store = self.simulator.db()
        positions = store.connection.execute(
            "SELECT agency, court, cursor FROM exchange_positions ORDER BY agency, court"
        ).fetchall()
        now = datetime.now(CHINA_TZ)
        for code, court, cursor in positions:
            agency = self.simulator.agencies.get(code)
            if agency is None or self.simulator.unavailable(agency, now) is not None:
                continue
            if time.time() < self.hold_until.get((code, court), 0.0):
                continue
            stored = store.answers_after(code, court, cursor, MAX_ANSWERS_PER_FILE)
            if stored:
                self.write_result(agency, court, stored)

    def write_result(self, agency: Agency, court: str, stored: list[Any]) -> None:
        first, last = stored[0].seq, stored[-1].seq
        content = result_content(agency.code, [entry.answer for entry in stored])
        faults = self.simulator.faults[agency.code]
        key = self.simulator.agency_keys[agency.code]
        spoiled = self.simulator.chance(faults.garbage_rate)
        if spoiled:
            content = garbage(content, self.simulator.rng)
        if self.simulator.chance(faults.bad_signature_rate):
            key = self.simulator.wrong_key
            spoiled = True
        name = f"{agency.code}-{first:012d}-{last:012d}"
        if spoiled:
            # A name of its own, so that the correct file written later does not replace it.
            name += f"-{uuid.uuid4().hex[:8]}"
        write_atomically(
            self.inbox(agency.code) / f"{name}{FILE_SUFFIX}", signed(content, key, agency.code)
        )
        if spoiled:
            self.hold_until[(agency.code, court)] = time.time() + SPOILED_RETRY_S
            logger.info("wrote spoiled result file %s (simulated fault)", name)
            return
        with self.simulator.db().transaction() as db:
            db.execute(
                "UPDATE exchange_positions SET cursor = MAX(cursor, ?)"
                " WHERE agency = ? AND court = ?",
                (last, agency.code, court),
            )
        logger.info("wrote result file %s with %d answers", name, len(stored))

    def quarantine(self, path: Path, reason: str) -> None:
        try:
            move_to(path, "quarantine", reason)
        except FileNotFoundError:
            return
        logger.warning("quarantined request file %s: %s", path, reason)
