"""The simulator's SQLite database: received batches and items, answers, callbacks and assets.

One connection is used from the event loop's thread only. Each method that writes runs one
transaction, so a process killed at any point leaves either all of a batch or none of it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from agency_simulator.holdings import ASSET_TYPES, Hold, present
from agency_simulator.jsontext import compact_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS agency_keys (
    agency TEXT PRIMARY KEY,
    private_key_pem BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    agency TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    court TEXT NOT NULL,
    received_at TEXT NOT NULL,
    callback_url TEXT,
    body_sha256 TEXT NOT NULL,
    acknowledgement TEXT NOT NULL,
    PRIMARY KEY (agency, batch_id)
);
-- One row per item id; a re-sent item keeps its row and counts a new attempt.
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    court TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    action TEXT NOT NULL,
    category TEXT NOT NULL,
    case_number TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    deadline TEXT NOT NULL,
    document TEXT,
    callback_url TEXT,
    received_at TEXT NOT NULL,
    due_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'answered')),
    attempts INTEGER NOT NULL DEFAULT 1,
    measure TEXT,
    court_name TEXT
);
CREATE INDEX IF NOT EXISTS items_pending ON items (due_at) WHERE state = 'pending';
-- The sequence number is the polling cursor; it only grows.
CREATE TABLE IF NOT EXISTS answers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items (item_id),
    agency TEXT NOT NULL,
    court TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_court ON answers (agency, court, seq);
CREATE INDEX IF NOT EXISTS answers_by_item ON answers (item_id, seq);
CREATE TABLE IF NOT EXISTS deliveries (
    answer_seq INTEGER PRIMARY KEY REFERENCES answers (seq),
    agency TEXT NOT NULL,
    court TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (next_attempt_at)
    WHERE state = 'pending';
-- The highest cursor each court has polled with: the answers it has fetched.
CREATE TABLE IF NOT EXISTS poll_positions (
    agency TEXT NOT NULL,
    court TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    PRIMARY KEY (agency, court)
);
-- Marks a subject whose records an agency has generated, including subjects with none.
CREATE TABLE IF NOT EXISTS subjects (
    agency TEXT NOT NULL,
    category TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    generated_at TEXT NOT NULL,
    PRIMARY KEY (agency, category, subject_key)
);
-- Every record an agency returns, as generated. Deposits keep their current balance in
-- `amount`, which deductions lower; `state` is the generated state (normal, frozen, ...).
-- Query answers show both with the measures in force (agency_simulator.holdings).
CREATE TABLE IF NOT EXISTS assets (
    id INTEGER PRIMARY KEY,
    agency TEXT NOT NULL,
    category TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    record TEXT NOT NULL,
    amount TEXT,
    state TEXT,
    UNIQUE (agency, category, subject_key, position)
);
-- Control measures the simulator applied, one row per item; `id` gives the precedence.
-- Freezes, seizures and exit restrictions hold an asset (or a person) from `starts_on` to
-- `ends_on`; renewals, releases and deductions name the hold they act on in `reference_id`.
-- `amount` is the limit a freeze of a deposit has left after deductions, or the money a
-- deduction moved. `period_days` is the length of a hold's first period, which bounds its
-- renewals. Holds stay `active` until released or, for freezes, `spent` by deductions; one
-- whose `ends_on` has passed counts as expired without a change of row.
CREATE TABLE IF NOT EXISTS measures (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL UNIQUE REFERENCES items (item_id),
    agency TEXT NOT NULL,
    asset_id INTEGER REFERENCES assets (id),
    subject_key TEXT NOT NULL,
    court TEXT NOT NULL,
    court_name TEXT NOT NULL,
    case_number TEXT NOT NULL,
    action TEXT NOT NULL,
    reference_id INTEGER REFERENCES measures (id),
    amount TEXT,
    asked_amount TEXT,
    starts_on TEXT,
    ends_on TEXT,
    period_days INTEGER,
    state TEXT NOT NULL CHECK (state IN ('active', 'released', 'spent', 'done')),
    ended_on TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS measures_by_asset ON measures (asset_id, state);
CREATE INDEX IF NOT EXISTS measures_by_agency ON measures (agency, id);
"""
# Columns added to `items` after its first version, added to older databases on opening.
LATER_ITEM_COLUMNS = {"measure": "TEXT", "court_name": "TEXT"}


@dataclass(frozen=True)
class Item:
    item_id: str
    agency: str
    court: str
    batch_id: str
    action: str
    category: str
    case_number: str
    subject: dict[str, Any]
    subject_key: str
    deadline: str
    document: Any
    callback_url: str | None
    state: str
    attempts: int
    # The `measure` of a measure item, and the name of the court that sent the item.
    measure: Any = None
    court_name: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Item:
        return cls(
            item_id=row["item_id"],
            agency=row["agency"],
            court=row["court"],
            batch_id=row["batch_id"],
            action=row["action"],
            category=row["category"],
            case_number=row["case_number"],
            subject=json.loads(row["subject"]),
            subject_key=row["subject_key"],
            deadline=row["deadline"],
            document=json.loads(row["document"]) if row["document"] else None,
            callback_url=row["callback_url"],
            state=row["state"],
            attempts=row["attempts"],
            measure=json.loads(row["measure"]) if row["measure"] else None,
            court_name=row["court_name"] or "",
        )

    @classmethod
    def stored(
        cls, new: NewItem, *, agency: str, court: str, batch_id: str, callback_url: str | None
    ) -> Item:
        """Return the item as save_batch stored it, as from_row would read it back."""
        return cls(
            item_id=new.item_id,
            agency=agency,
            court=court,
            batch_id=batch_id,
            action=new.action,
            category=new.category,
            case_number=new.case_number,
            subject=new.subject,
            subject_key=new.subject_key,
            deadline=new.deadline,
            document=new.document,
            callback_url=callback_url,
            state="pending",
            attempts=1,
            measure=new.measure,
            court_name=new.court_name,
        )


# Function that applies one measure item inside the transaction of save_answers and returns
# (status, answer).
ApplyMeasure = Callable[[sqlite3.Connection, "Item"], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class StoredAnswer:
    seq: int
    item_id: str
    agency: str
    court: str
    status: str
    answer: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    answer_seq: int
    agency: str
    court: str
    callback_url: str
    attempts: int


@dataclass(frozen=True)
class NewItem:
    """An accepted item of a batch, ready to store."""

    item_id: str
    action: str
    category: str
    case_number: str
    subject: dict[str, Any]
    subject_key: str
    deadline: str
    document: Any
    due_at: float
    measure: Any = None
    court_name: str = ""


class Store:
    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.row_factory = sqlite3.Row
        self.connection.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode survives a killed process; only a power loss can lose the last
        # transactions, which a simulator may accept.
        self.connection.execute("PRAGMA synchronous = NORMAL")
        self.connection.execute("PRAGMA foreign_keys = ON")
        self._drop_unused_measures_table()
        self.connection.executescript(SCHEMA)
        self._add_later_item_columns()

    def _drop_unused_measures_table(self) -> None:
        """Drop the `measures` table of earlier versions, which never stored a row."""
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(measures)")}
        if not columns or "period_days" in columns:
            return
        rows = self.connection.execute("SELECT COUNT(*) FROM measures").fetchone()[0]
        if rows:
            raise ValueError(
                f"the measures table of an earlier simulator version holds {rows} rows;"
                " move the database aside and start with a new one"
            )
        self.connection.execute("DROP TABLE measures")

    def _add_later_item_columns(self) -> None:
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(items)")}
        for name, kind in LATER_ITEM_COLUMNS.items():
            if name not in columns:
                self.connection.execute(f"ALTER TABLE items ADD COLUMN {name} {kind}")

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    # Keys

    def agency_private_key(self, agency: str) -> bytes | None:
        row = self.connection.execute(
            "SELECT private_key_pem FROM agency_keys WHERE agency = ?", (agency,)
        ).fetchone()
        return bytes(row[0]) if row else None

    def save_agency_private_key(self, agency: str, pem: bytes, now: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO agency_keys (agency, private_key_pem, created_at)"
                " VALUES (?, ?, ?)",
                (agency, pem, now),
            )

    # Batches and items

    def batch(self, agency: str, batch_id: str) -> tuple[str, dict[str, Any]] | None:
        """Return (court, acknowledgement) of a stored batch."""
        row = self.connection.execute(
            "SELECT court, acknowledgement FROM batches WHERE agency = ? AND batch_id = ?",
            (agency, batch_id),
        ).fetchone()
        return (row["court"], json.loads(row["acknowledgement"])) if row else None

    def items(self, item_ids: Iterable[str]) -> dict[str, Item]:
        ids = list(item_ids)
        found: dict[str, Item] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.connection.execute(
                f"SELECT * FROM items WHERE item_id IN ({marks})",  # noqa: S608 (only ? marks)
                chunk,
            )
            found.update((row["item_id"], Item.from_row(row)) for row in rows)
        return found

    def save_batch(
        self,
        *,
        agency: str,
        batch_id: str,
        court: str,
        now: str,
        callback_url: str | None,
        body_sha256: str,
        acknowledgement: dict[str, Any],
        new_items: list[NewItem],
        retried: list[tuple[str, float]],
        resent_answers: list[str],
    ) -> None:
        """Store a batch, its new items, retries of items that ended in an error, and copies
        of final answers to items that were sent again."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO batches (agency, batch_id, court, received_at, callback_url,"
                " body_sha256, acknowledgement) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    agency,
                    batch_id,
                    court,
                    now,
                    callback_url,
                    body_sha256,
                    compact_json(acknowledgement).decode(),
                ),
            )
            db.executemany(
                "INSERT INTO items (item_id, agency, court, batch_id, action, category,"
                " case_number, subject, subject_key, deadline, document, callback_url,"
                " received_at, due_at, state, measure, court_name) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                [
                    (
                        item.item_id,
                        agency,
                        court,
                        batch_id,
                        item.action,
                        item.category,
                        item.case_number,
                        compact_json(item.subject).decode(),
                        item.subject_key,
                        item.deadline,
                        compact_json(item.document).decode() if item.document is not None else None,
                        callback_url,
                        now,
                        item.due_at,
                        compact_json(item.measure).decode() if item.measure is not None else None,
                        item.court_name,
                    )
                    for item in new_items
                ],
            )
            db.executemany(
                "UPDATE items SET state = 'pending', due_at = ?, attempts = attempts + 1,"
                " batch_id = ?, callback_url = ? WHERE item_id = ?",
                [(due_at, batch_id, callback_url, item_id) for item_id, due_at in retried],
            )
            for item_id in resent_answers:
                db.execute(
                    "UPDATE items SET batch_id = ?, callback_url = ? WHERE item_id = ?",
                    (batch_id, callback_url, item_id),
                )
                self._copy_last_answer(db, item_id, now, callback_url)

    def _copy_last_answer(
        self, db: sqlite3.Connection, item_id: str, now: str, callback_url: str | None
    ) -> None:
        row = db.execute(
            "SELECT agency, court, status, answer FROM answers WHERE item_id = ?"
            " ORDER BY seq DESC LIMIT 1",
            (item_id,),
        ).fetchone()
        if row is None:
            return
        cursor = db.execute(
            "INSERT INTO answers (item_id, agency, court, status, answer, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (item_id, row["agency"], row["court"], row["status"], row["answer"], now),
        )
        if callback_url:
            self._add_delivery(db, cursor.lastrowid, row["agency"], row["court"], callback_url)

    def last_status(self, item_ids: Iterable[str]) -> dict[str, str]:
        statuses: dict[str, str] = {}
        for item_id in item_ids:
            row = self.connection.execute(
                "SELECT status FROM answers WHERE item_id = ? ORDER BY seq DESC LIMIT 1",
                (item_id,),
            ).fetchone()
            if row:
                statuses[item_id] = row[0]
        return statuses

    def due_item_ids(self, now: float, paused: Iterable[str], limit: int) -> list[str]:
        """Return the ids of pending items due by `now`, the earliest first."""
        paused = list(paused)
        marks = ",".join("?" * len(paused))
        rows = self.connection.execute(
            "SELECT item_id FROM items WHERE state = 'pending' AND due_at <= ?"  # noqa: S608
            f" AND agency NOT IN ({marks}) ORDER BY due_at LIMIT ?",
            [now, *paused, limit],
        )
        return [row[0] for row in rows]

    def next_due_at(self, paused: Iterable[str]) -> float | None:
        paused = list(paused)
        marks = ",".join("?" * len(paused))
        row = self.connection.execute(
            "SELECT MIN(due_at) FROM items WHERE state = 'pending'"  # noqa: S608
            f" AND agency NOT IN ({marks})",
            paused,
        ).fetchone()
        return row[0]

    def save_answers(
        self,
        answers: list[tuple[Item, str, dict[str, Any]]],
        new_assets: list[tuple[str, str, str, list[dict[str, Any]]]],
        now: str,
        measure_items: Sequence[Item] = (),
        apply_measure: ApplyMeasure | None = None,
    ) -> None:
        """Store (item, status, answer) triples, mark the items answered and queue callbacks.

        `new_assets` contains (agency, category, subject key, records) of subjects generated
        for these answers, which are stored in the same transaction. `apply_measure` answers
        each of `measure_items` inside that transaction, after the new assets, so that a
        measure and its answer are stored together or not at all, and concurrent measures on
        one asset see each other. Items that are no longer pending get no answer.
        """
        with self.transaction() as db:
            self._insert_assets(db, new_assets, now)
            answers = list(answers)
            if measure_items:
                assert apply_measure is not None
                pending = self._pending(db, [item.item_id for item in measure_items])
                for item in measure_items:
                    if item.item_id in pending:
                        status, answer = apply_measure(db, item)
                        answers.append((item, status, answer))
            answered: set[str] = set()
            ids = [item.item_id for item, _status, _answer in answers]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                answered.update(
                    row[0]
                    for row in db.execute(
                        "UPDATE items SET state = 'answered' WHERE state = 'pending'"  # noqa: S608
                        f" AND item_id IN ({marks}) RETURNING item_id",
                        chunk,
                    )
                )
            rows = [
                (item, (item.item_id, item.agency, item.court, status, encode(answer), now))
                for item, status, answer in answers
                if item.item_id in answered
            ]
            insert = (
                "INSERT INTO answers (item_id, agency, court, status, answer, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
            )
            db.executemany(insert, [row for item, row in rows if not item.callback_url])
            # A callback needs the answer's sequence number, so those rows go one by one.
            for item, row in rows:
                if item.callback_url:
                    cursor = db.execute(insert, row)
                    self._add_delivery(
                        db, cursor.lastrowid, item.agency, item.court, item.callback_url
                    )

    @staticmethod
    def _pending(db: sqlite3.Connection, item_ids: list[str]) -> set[str]:
        pending: set[str] = set()
        for start in range(0, len(item_ids), 500):
            chunk = item_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            pending.update(
                row[0]
                for row in db.execute(
                    "SELECT item_id FROM items WHERE state = 'pending'"  # noqa: S608
                    f" AND item_id IN ({marks})",
                    chunk,
                )
            )
        return pending

    @staticmethod
    def _add_delivery(
        db: sqlite3.Connection, seq: int | None, agency: str, court: str, url: str
    ) -> None:
        db.execute(
            "INSERT INTO deliveries (answer_seq, agency, court, callback_url, state,"
            " next_attempt_at) VALUES (?, ?, ?, ?, 'pending', 0)",
            (seq, agency, court, url),
        )

    # Polling

    def answer_texts_after(
        self, agency: str, court: str, after: int, limit: int
    ) -> list[tuple[int, str]]:
        """Return (sequence number, answer as stored JSON text) of a court's answers after
        `after`, oldest first, for pages that are sent without decoding the answers."""
        rows = self.connection.execute(
            "SELECT seq, answer FROM answers"
            " WHERE agency = ? AND court = ? AND seq > ? ORDER BY seq LIMIT ?",
            (agency, court, after, limit),
        )
        return [(row[0], row[1]) for row in rows]

    def answers_after(self, agency: str, court: str, after: int, limit: int) -> list[StoredAnswer]:
        rows = self.connection.execute(
            "SELECT seq, item_id, agency, court, status, answer FROM answers"
            " WHERE agency = ? AND court = ? AND seq > ? ORDER BY seq LIMIT ?",
            (agency, court, after, limit),
        )
        return [_stored_answer(row) for row in rows]

    def poll_position(self, agency: str, court: str) -> int:
        row = self.connection.execute(
            "SELECT cursor FROM poll_positions WHERE agency = ? AND court = ?", (agency, court)
        ).fetchone()
        return int(row[0]) if row else 0

    def advance_poll_position(self, agency: str, court: str, cursor: int) -> None:
        # Most polls repeat the stored position. Positions only grow, so those need no write
        # transaction.
        if cursor <= self.poll_position(agency, court):
            return
        with self.transaction() as db:
            db.execute(
                "INSERT INTO poll_positions (agency, court, cursor) VALUES (?, ?, ?)"
                " ON CONFLICT (agency, court) DO UPDATE SET cursor = MAX(cursor, excluded.cursor)",
                (agency, court, cursor),
            )

    # Callbacks

    def due_deliveries(self, now: float, paused: Iterable[str], limit: int) -> list[Delivery]:
        paused = list(paused)
        marks = ",".join("?" * len(paused))
        rows = self.connection.execute(
            "SELECT answer_seq, agency, court, callback_url, attempts FROM deliveries"  # noqa: S608
            f" WHERE state = 'pending' AND next_attempt_at <= ? AND agency NOT IN ({marks})"
            " ORDER BY next_attempt_at, answer_seq LIMIT ?",
            [now, *paused, limit],
        )
        return [Delivery(*row) for row in rows]

    def next_delivery_at(self, paused: Iterable[str]) -> float | None:
        paused = list(paused)
        marks = ",".join("?" * len(paused))
        row = self.connection.execute(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'"  # noqa: S608
            f" AND agency NOT IN ({marks})",
            paused,
        ).fetchone()
        return row[0]

    def answers_by_seq(self, seqs: list[int]) -> list[StoredAnswer]:
        marks = ",".join("?" * len(seqs))
        rows = self.connection.execute(
            "SELECT seq, item_id, agency, court, status, answer FROM answers"  # noqa: S608
            f" WHERE seq IN ({marks}) ORDER BY seq",
            seqs,
        )
        return [_stored_answer(row) for row in rows]

    def postpone_deliveries(self, seqs: list[int], next_attempt_at: float) -> None:
        """Hold deliveries back while a worker sends them, so that no other worker takes them."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE deliveries SET next_attempt_at = ? WHERE answer_seq = ?",
                [(next_attempt_at, seq) for seq in seqs],
            )

    def finish_deliveries(self, seqs: list[int]) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,"
                " last_error = NULL WHERE answer_seq = ?",
                [(seq,) for seq in seqs],
            )

    def fail_deliveries(self, seqs: list[int], error: str, next_attempt_at: float) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE answer_seq = ?",
                [(error, next_attempt_at, seq) for seq in seqs],
            )

    # Assets

    def assets(
        self, agency: str, category: str, subject_key: str, today: date
    ) -> list[dict[str, Any]] | None:
        """Return the records of a subject, or None when they were never generated."""
        return self.subject_assets([(agency, category, subject_key)], today).get(
            (agency, category, subject_key)
        )

    def subject_assets(
        self, subjects: Iterable[tuple[str, str, str]], today: date
    ) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
        """Return the records of each (agency, category, subject key) that has been generated,
        as a query answers them on `today`: with current balances and the holds in force.

        Subjects never generated are missing from the result. One query per agency, category
        and 500 subjects reads the subjects, one more their records, and one the holds.
        """
        keys_by_kind: dict[tuple[str, str], set[str]] = {}
        for agency, category, key in subjects:
            keys_by_kind.setdefault((agency, category), set()).add(key)
        found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for (agency, category), key_set in keys_by_kind.items():
            keys = sorted(key_set)
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                condition = f"agency = ? AND category = ? AND subject_key IN ({marks})"
                for (key,) in self.connection.execute(
                    f"SELECT subject_key FROM subjects WHERE {condition}",  # noqa: S608
                    (agency, category, *chunk),
                ):
                    found[(agency, category, key)] = []
                rows = self.connection.execute(
                    "SELECT id, subject_key, record, amount FROM assets"  # noqa: S608
                    f" WHERE {condition} ORDER BY subject_key, position",
                    (agency, category, *chunk),
                ).fetchall()
                holds = holds_in_force(
                    self.connection,
                    f"asset_id IN (SELECT id FROM assets WHERE {condition})",  # noqa: S608
                    (agency, category, *chunk),
                    today,
                )
                for row in rows:
                    record = present(
                        json.loads(row["record"]),
                        Decimal(row["amount"]) if row["amount"] is not None else None,
                        holds.get(row["id"], []),
                        today,
                    )
                    found[(agency, category, row["subject_key"])].append(record)
        return found

    @staticmethod
    def _insert_assets(
        db: sqlite3.Connection,
        subjects: list[tuple[str, str, str, list[dict[str, Any]]]],
        now: str,
    ) -> None:
        """Store generated subjects with their records, and leave those stored before as they are.

        A subject's records are drawn from its document number, so a repeat draws the same
        positions, which the unique key of the assets skips.
        """
        db.executemany(
            "INSERT OR IGNORE INTO subjects (agency, category, subject_key, generated_at)"
            " VALUES (?, ?, ?, ?)",
            [(agency, category, key, now) for agency, category, key, _records in subjects],
        )
        db.executemany(
            "INSERT OR IGNORE INTO assets (agency, category, subject_key, position, record,"
            " amount, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    agency,
                    category,
                    key,
                    position,
                    compact_json(record).decode(),
                    balance_of(record),
                    record.get("state"),
                )
                for agency, category, key, records in subjects
                for position, record in enumerate(records)
            ],
        )

    # Statistics for the admin endpoint

    def counts(self, agency: str) -> dict[str, int]:
        def count(sql: str) -> int:
            return int(self.connection.execute(sql, (agency,)).fetchone()[0])

        return {
            "batches": count("SELECT COUNT(*) FROM batches WHERE agency = ?"),
            "items": count("SELECT COUNT(*) FROM items WHERE agency = ?"),
            "pending_items": count(
                "SELECT COUNT(*) FROM items WHERE agency = ? AND state = 'pending'"
            ),
            "answers": count("SELECT COUNT(*) FROM answers WHERE agency = ?"),
            "pending_callbacks": count(
                "SELECT COUNT(*) FROM deliveries WHERE agency = ? AND state = 'pending'"
            ),
        }


def balance_of(record: dict[str, Any]) -> str | None:
    """Return the money of a deposit record (balance or holdings value), None for others."""
    asset_type = ASSET_TYPES.get(str(record.get("type")))
    if asset_type is None or asset_type.balance_field is None:
        return None
    value = record.get(asset_type.balance_field)
    return str(value) if value is not None else None


def holds_in_force(
    db: sqlite3.Connection, condition: str, parameters: Sequence[Any], today: date
) -> dict[int, list[Hold]]:
    """Return the simulator's freezes and seizures in force on `today`, by asset id, oldest
    first, for the assets that `condition` (SQL on `asset_id`, with ? marks) selects."""
    rows = db.execute(
        "SELECT id, item_id, asset_id, action, court_name, case_number, amount, starts_on,"  # noqa: S608
        f" ends_on FROM measures WHERE {condition} AND state = 'active'"
        " AND action IN ('freeze', 'seize') AND ends_on >= ? ORDER BY id",
        (*parameters, today.isoformat()),
    )
    holds: dict[int, list[Hold]] = {}
    for row in rows:
        holds.setdefault(row["asset_id"], []).append(hold_of(row))
    return holds


def hold_of(row: sqlite3.Row) -> Hold:
    return Hold(
        action=row["action"],
        court=row["court_name"],
        case_number=row["case_number"],
        start=date.fromisoformat(row["starts_on"]),
        end=date.fromisoformat(row["ends_on"]),
        limit=Decimal(row["amount"]) if row["amount"] is not None else None,
        measure_id=row["id"],
        item_id=row["item_id"],
    )


def encode(answer: dict[str, Any]) -> str:
    """Return the JSON text an answer is stored as, which answer pages splice together."""
    return compact_json(answer).decode()


def _stored_answer(row: sqlite3.Row) -> StoredAnswer:
    return StoredAnswer(
        seq=row["seq"],
        item_id=row["item_id"],
        agency=row["agency"],
        court=row["court"],
        status=row["status"],
        answer=json.loads(row["answer"]),
    )
