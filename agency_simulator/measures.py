"""Control measures: applying freezes, deductions, seizures, renewals, releases and exit
restrictions to the simulator's assets, and listing them for the admin endpoint.

Every function that changes a measure runs inside the transaction that stores the item's
answer (Store.save_answers), which SQLite holds with BEGIN IMMEDIATE. Measures on one asset
are therefore applied one after another even when batches arrive together, and a measure is
stored exactly when its answer is. Balances and holds follow the rules of
agency_simulator.holdings; the answers follow docs/protocol.md, section 8.
"""

from __future__ import annotations

import calendar
import dataclasses
import json
import logging
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from agency_simulator import protocol
from agency_simulator.holdings import (
    ASSET_TYPES,
    UNUSABLE_STATES,
    ZERO,
    AssetType,
    Hold,
    allocate,
    money,
    original_balance,
    synthetic_holds,
)
from agency_simulator.measure_requests import MeasureRequest, parse_measure
from agency_simulator.population import build_profile
from agency_simulator.store import Item, hold_of, holds_in_force

logger = logging.getLogger("agency_simulator.measures")

# The actions that a renewal or release may refer to.
HOLD_ACTIONS = ("freeze", "seize", "restrict_exit")
# Chinese names of the actions, for the notes in answers: the simulated agencies are Chinese
# institutions, and the court's pages show these notes to their users as written.
ACTION_NAMES = {
    "freeze": "冻结",
    "seize": "查封",
    "deduct": "扣划",
    "renew": "续行",
    "release": "解除",
    "restrict_exit": "限制出境",
}


class RetryLater(Exception):
    """The item cannot be answered yet; it is answered with status `error` and sent again."""


class Rejected(Exception):
    """The agency does not apply the item; the answer's record has result `rejected`."""


@dataclasses.dataclass
class Asset:
    """An asset row: the generated record and, for deposits, the current balance."""

    id: int
    type: AssetType
    identifier: str
    record: dict[str, Any]
    balance: Decimal | None


@dataclasses.dataclass
class Context:
    db: sqlite3.Connection
    item: Item
    request: MeasureRequest
    asset: Asset | None
    today: date
    now: str

    def record(self, **fields: Any) -> dict[str, Any]:
        """Return an answer record of the item's action that names the asset."""
        record: dict[str, Any] = {"type": self.item.action}
        if self.asset is not None:
            key = "account_number" if self.asset.type.is_deposit else "identifier"
            record[key] = self.asset.identifier
        record.update(fields)
        return record

    def holds(self) -> list[Hold]:
        """Return the holds in force on the asset, in order of precedence."""
        assert self.asset is not None
        stored = holds_in_force(self.db, "asset_id = ?", (self.asset.id,), self.today)
        return synthetic_holds(self.asset.record, self.today) + stored.get(self.asset.id, [])

    def insert(self, **columns: Any) -> int:
        """Store the item's measure row and return its id."""
        item = self.item
        values: dict[str, Any] = {
            "item_id": item.item_id,
            "agency": item.agency,
            "asset_id": self.asset.id if self.asset is not None else None,
            "subject_key": item.subject_key,
            "court": item.court,
            "court_name": item.court_name or item.court,
            "case_number": item.case_number,
            "action": item.action,
            "created_at": self.now,
            **columns,
        }
        names = ", ".join(values)
        marks = ", ".join("?" * len(values))
        cursor = self.db.execute(
            f"INSERT INTO measures ({names}) VALUES ({marks})",  # noqa: S608 (fixed column names)
            list(values.values()),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def apply_measure(
    db: sqlite3.Connection, item: Item, *, today: date, now: str
) -> tuple[str, dict[str, Any]]:
    """Apply a measure item and return (status, answer). Runs inside the answer transaction.

    `not_found` when the asset or person is unknown to the agency, `error` when the item
    refers to an item that has no answer yet, otherwise `found` with one record whose
    `result` says what was applied.
    """
    # The item passed the same check at acknowledgement, so this does not raise.
    request = parse_measure(item.action, item.category, item.measure)
    asset: Asset | None = None
    if request.asset_type is None:
        profile = build_profile(item.subject)
        if not (profile.known and profile.is_person):
            return "not_found", protocol.answer(
                item.item_id, "not_found", [], None, answered_at=now
            )
    else:
        asset = find_asset(db, item, request)
        if asset is None:
            return "not_found", protocol.answer(
                item.item_id, "not_found", [], None, answered_at=now
            )
    context = Context(db, item, request, asset, today, now)
    try:
        record = ACTIONS[item.action](context)
    except RetryLater as retry:
        logger.info(
            "%s item %s of %s answered with error: %s",
            item.action,
            item.item_id,
            item.agency,
            retry,
        )
        return "error", protocol.answer(item.item_id, "error", [], str(retry), answered_at=now)
    except Rejected as rejected:
        record = rejection_record(context, str(rejected))
    logger.info(
        "%s item %s of %s from %s: %s%s",
        item.action,
        item.item_id,
        item.agency,
        item.court,
        record["result"],
        f" ({record['reason']})" if "reason" in record else "",
    )
    return "found", protocol.answer(item.item_id, "found", [record], None, answered_at=now)


def find_asset(db: sqlite3.Connection, item: Item, request: MeasureRequest) -> Asset | None:
    """Return the subject's asset that the measure names, among the records that a query of
    the same agency and category returns; None when there is none or it cannot be held."""
    assert request.asset_type is not None and request.identifier is not None
    asset_type = ASSET_TYPES[request.asset_type]
    identifier = request.identifier.strip()
    rows = db.execute(
        "SELECT id, record, amount FROM assets WHERE agency = ? AND category = ?"
        " AND subject_key = ? ORDER BY position",
        (item.agency, item.category, item.subject_key),
    )
    for row in rows:
        record = json.loads(row["record"])
        if record.get("type") != asset_type.record_type:
            continue
        if str(record.get(asset_type.identifying_field, "")) != identifier:
            continue
        unusable = UNUSABLE_STATES.get(asset_type.record_type)
        if unusable is not None and record.get("state") == unusable:
            return None
        balance = None
        if asset_type.is_deposit:
            stored = row["amount"]
            balance = (
                Decimal(stored) if stored is not None else original_balance(asset_type, record)
            )
        return Asset(row["id"], asset_type, identifier, record, balance)
    return None


def rejection_record(context: Context, reason: str) -> dict[str, Any]:
    """Return the record of an item that is not applied, with the period and amounts asked."""
    request, action = context.request, context.item.action
    fields: dict[str, Any] = {}
    if action == "deduct":
        fields["deducted_amount"] = money(ZERO)
    elif action == "freeze" and context.asset is not None and context.asset.type.is_deposit:
        fields["frozen_amount"] = money(ZERO)
    if request.start is not None and request.end is not None:
        fields["start"] = request.start.isoformat()
        fields["end"] = request.end.isoformat()
    return context.record(**fields, result="rejected", reason=reason)


def _check_period(context: Context) -> tuple[date, date]:
    start, end = context.request.start, context.request.end
    assert start is not None and end is not None
    if end < context.today:
        raise Rejected(f"期限截止于 {end}，早于今天（{context.today}）")
    return start, end


def _period_columns(start: date, end: date) -> dict[str, Any]:
    return {
        "starts_on": start.isoformat(),
        "ends_on": end.isoformat(),
        "period_days": (end - start).days + 1,
        "state": "active",
    }


# Actions


def freeze(context: Context) -> dict[str, Any]:
    """Freeze money of a deposit up to the limit, or hold shares whole like a seizure."""
    asset = context.asset
    assert asset is not None
    if not asset.type.is_deposit:
        return seize(context)

    start, end = _check_period(context)
    limit, balance = context.request.amount, asset.balance
    assert limit is not None
    assert balance is not None
    holds = context.holds()
    unfrozen = max(balance - sum(allocate(balance, holds), ZERO), ZERO)
    frozen = min(limit, unfrozen)
    context.insert(amount=money(limit), asked_amount=money(limit), **_period_columns(start, end))

    fields: dict[str, Any] = {
        "frozen_amount": money(frozen),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "queue_position": len(holds),
        "result": "done" if frozen == limit else "partial",
    }
    if frozen == limit:
        return context.record(**fields)
    if frozen == 0 and holds:
        reason = (
            f"轮候冻结：排在在先的 {len(holds)} 项冻结之后，它们已冻结全部余额"
            f" {money(balance)} 元；其解除冻结的款项转入本次冻结"
        )
    elif frozen == 0:
        reason = f"账户余额为 {money(balance)} 元；冻结已登记，未冻结到款项"
    else:
        reason = (
            f"未冻结余额仅 {money(frozen)} 元，已全部冻结；在先冻结解除的款项转入本次冻结，"
            f"直至冻结限额 {money(limit)} 元"
        )
    return context.record(**fields, reason=reason)


def seize(context: Context) -> dict[str, Any]:
    """Hold a whole asset (home, land, vehicle, ship or shares), queued behind earlier holds."""
    start, end = _check_period(context)
    holds = context.holds()
    context.insert(**_period_columns(start, end))
    fields: dict[str, Any] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "queue_position": len(holds),
        "result": "done",
    }
    if holds:
        fields["reason"] = (
            f"轮候查封：排在在先的 {len(holds)} 项冻结或查封之后，待其解除或到期后生效"
        )
    return context.record(**fields)


def deduct(context: Context) -> dict[str, Any]:
    """Transfer money up to the limit: from this court's freeze named in `reference`, or
    without one from the balance that no freeze holds."""
    asset, request = context.asset, context.request
    assert asset is not None
    assert asset.balance is not None
    assert request.amount is not None
    limit, balance = request.amount, asset.balance
    holds = context.holds()
    held = allocate(balance, holds)

    source: sqlite3.Row | None = None
    if request.reference is not None:
        source = _referenced(context, ("freeze",))
        _require_in_force(context, source)
        position = next(i for i, hold in enumerate(holds) if hold.measure_id == source["id"])
        available = held[position]
        nothing = f"冻结 {request.reference} 未冻结到款项"
    else:
        available = max(balance - sum(held, ZERO), ZERO)
        nothing = (
            f"没有可扣划的款项：余额 {money(balance)} 元中的 {money(sum(held, ZERO))} 元已被冻结"
        )
    moved = min(limit, available)
    if moved == 0:
        raise Rejected(nothing)

    context.db.execute(
        "UPDATE assets SET amount = ? WHERE id = ?", (money(balance - moved), asset.id)
    )
    if source is not None:
        left = Decimal(source["amount"]) - moved
        spent = left == 0
        context.db.execute(
            "UPDATE measures SET amount = ?, state = ?, ended_on = ? WHERE id = ?",
            (
                money(left),
                "spent" if spent else "active",
                context.today.isoformat() if spent else None,
                source["id"],
            ),
        )
    context.insert(
        amount=money(moved),
        asked_amount=money(limit),
        reference_id=source["id"] if source is not None else None,
        state="done",
    )

    if moved == limit:
        return context.record(deducted_amount=money(moved), result="done")
    where = "冻结款项" if source is not None else "未冻结余额"
    return context.record(
        deducted_amount=money(moved),
        result="partial",
        reason=f"{where}仅 {money(moved)} 元，少于要求的 {money(limit)} 元",
    )


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months`` calendar months, clipped to the end of the month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_renewal_end(first_start: date, first_end: date, start: date) -> date:
    """Return the last day a renewal from ``start`` may reach: the first period's length.

    The length is counted in calendar months and remaining days, as courts count periods, so
    a year that holds a 29 February is as long as any other year.
    """
    after = first_end + timedelta(days=1)
    months = (after.year - first_start.year) * 12 + after.month - first_start.month
    while months > 0 and add_months(first_start, months) > after:
        months -= 1
    rest = (after - add_months(first_start, months)).days
    return add_months(start, months) + timedelta(days=rest - 1)


def renew(context: Context) -> dict[str, Any]:
    """Extend a hold of this court to the asked end, for at most the length of its first period."""
    start, end = context.request.start, context.request.end
    assert start is not None and end is not None
    hold = _referenced(context, HOLD_ACTIONS)
    _require_in_force(context, hold)
    current_end = date.fromisoformat(hold["ends_on"])
    first_start = date.fromisoformat(hold["starts_on"])
    first_end = first_start + timedelta(days=hold["period_days"] - 1)
    latest = latest_renewal_end(first_start, first_end, start)
    if end > latest:
        raise Rejected(
            f"续行期限截止于 {end}，晚于 {latest}，将长于首次期限（{first_start} 至 {first_end}）"
        )
    if start > current_end + timedelta(days=1):
        raise Rejected(
            f"续行期限始于 {start}，晚于现有期限届满的次日 {current_end + timedelta(days=1)}，"
            "措施将在其间失效"
        )
    if end <= current_end:
        raise Rejected(f"续行期限截止于 {end}，未晚于现有期限的截止日 {current_end}")

    context.db.execute(
        "UPDATE measures SET ends_on = ? WHERE id = ?", (end.isoformat(), hold["id"])
    )
    context.insert(
        reference_id=hold["id"], starts_on=start.isoformat(), ends_on=end.isoformat(), state="done"
    )

    fields: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
    asset = context.asset
    if hold["action"] == "freeze" and asset is not None and asset.type.is_deposit:
        assert asset.balance is not None
        holds = context.holds()
        held = allocate(asset.balance, holds)
        position = next(i for i, h in enumerate(holds) if h.measure_id == hold["id"])
        fields["frozen_amount"] = money(held[position])
    return context.record(**fields, result="done")


def release(context: Context) -> dict[str, Any]:
    """End a hold of this court; its money or its place goes to the holds behind it."""
    hold = _referenced(context, HOLD_ACTIONS)
    _require_in_force(context, hold)
    today = context.today.isoformat()
    context.db.execute(
        "UPDATE measures SET state = 'released', ended_on = ? WHERE id = ?", (today, hold["id"])
    )
    context.insert(reference_id=hold["id"], state="done")
    return context.record(released_on=today, result="done")


def restrict_exit(context: Context) -> dict[str, Any]:
    """Record a restriction on leaving the country for the person, for the asked period."""
    start, end = _check_period(context)
    others = context.db.execute(
        "SELECT COUNT(*) FROM measures WHERE agency = ? AND subject_key = ?"
        " AND action = 'restrict_exit' AND state = 'active' AND ends_on >= ?",
        (context.item.agency, context.item.subject_key, context.today.isoformat()),
    ).fetchone()[0]
    context.insert(**_period_columns(start, end))
    fields: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat(), "result": "done"}
    if others:
        fields["reason"] = f"此人另有 {others} 项在先的限制出境措施"
    return context.record(**fields)


ACTIONS = {
    "freeze": freeze,
    "seize": seize,
    "deduct": deduct,
    "renew": renew,
    "release": release,
    "restrict_exit": restrict_exit,
}


def _referenced(context: Context, actions: tuple[str, ...]) -> sqlite3.Row:
    """Return the measure row that the item's `reference` names, after checking that it is a
    hold of this court on the same asset (or person) and of one of `actions`."""
    reference, item = context.request.reference, context.item
    row = context.db.execute(
        "SELECT * FROM measures WHERE item_id = ? AND agency = ?", (reference, item.agency)
    ).fetchone()
    if row is None:
        state = context.db.execute(
            "SELECT state FROM items WHERE item_id = ? AND agency = ?", (reference, item.agency)
        ).fetchone()
        if state is not None and state[0] == "pending":
            raise RetryLater(f"所引用的事项 {reference} 尚无答复，请稍后重新发送本事项")
        raise Rejected(f"所引用的事项 {reference} 不是本机构实施的措施")
    if row["action"] not in actions:
        expected = "或".join(ACTION_NAMES[action] for action in actions)
        actual = ACTION_NAMES.get(row["action"], row["action"])
        raise Rejected(f"所引用的措施 {reference} 是{actual}，不是{expected}")
    if row["court"] != item.court:
        raise Rejected(f"所引用的措施 {reference} 是其他法院的措施")
    asset_id = context.asset.id if context.asset is not None else None
    if row["asset_id"] != asset_id or row["subject_key"] != item.subject_key:
        raise Rejected(f"所引用的措施 {reference} 针对的是其他财产或人员")
    return row


def _require_in_force(context: Context, hold: sqlite3.Row) -> None:
    reference = context.request.reference
    if hold["state"] == "released":
        raise Rejected(f"措施 {reference} 已于 {hold['ended_on']} 解除")
    if hold["state"] == "spent":
        raise Rejected(f"措施 {reference} 已于 {hold['ended_on']} 因扣划用尽")
    if date.fromisoformat(hold["ends_on"]) < context.today:
        raise Rejected(f"措施 {reference} 已于 {hold['ends_on']} 到期")


# Admin listing


def describe(db: sqlite3.Connection, agency: str | None, today: date) -> dict[str, Any]:
    """Return the measures of one agency (or all) with the assets they act on: balances, the
    money each freeze holds and the queue positions on `today`."""
    rows = db.execute(
        "SELECT m.*, r.item_id AS reference_item FROM measures m"
        " LEFT JOIN measures r ON r.id = m.reference_id"
        " WHERE ? IS NULL OR m.agency = ? ORDER BY m.id",
        (agency, agency),
    ).fetchall()
    asset_ids = sorted({row["asset_id"] for row in rows if row["asset_id"] is not None})
    assets = [_describe_asset(db, asset_id, today) for asset_id in asset_ids]
    positions: dict[str, tuple[int, str | None]] = {}
    for entry in assets:
        for position, hold in enumerate(entry["holds"]):
            if hold["item_id"] is not None:
                positions[hold["item_id"]] = (position, hold["frozen_amount"])
    by_id = {entry["id"]: entry for entry in assets}
    return {
        "today": today.isoformat(),
        "measures": [_describe_measure(row, by_id, positions, today) for row in rows],
        "assets": assets,
    }


def _describe_measure(
    row: sqlite3.Row,
    assets: dict[int, dict[str, Any]],
    positions: dict[str, tuple[int, str | None]],
    today: date,
) -> dict[str, Any]:
    state = row["state"]
    if state == "active" and row["ends_on"] is not None and row["ends_on"] < today.isoformat():
        state = "expired"
    asset = assets.get(row["asset_id"]) if row["asset_id"] is not None else None
    position, frozen = positions.get(row["item_id"], (None, None))
    return {
        "item_id": row["item_id"],
        "agency": row["agency"],
        "action": row["action"],
        "court": row["court"],
        "court_name": row["court_name"],
        "case_number": row["case_number"],
        "subject_key": row["subject_key"],
        "asset_id": row["asset_id"],
        "asset_type": asset["type"] if asset else None,
        "identifier": asset["identifier"] if asset else None,
        "reference": row["reference_item"],
        "state": state,
        "start": row["starts_on"],
        "end": row["ends_on"],
        "period_days": row["period_days"],
        "ended_on": row["ended_on"],
        "asked_amount": row["asked_amount"],
        "amount": row["amount"],
        "frozen_amount": frozen,
        "queue_position": position,
        "created_at": row["created_at"],
    }


def _describe_asset(db: sqlite3.Connection, asset_id: int, today: date) -> dict[str, Any]:
    row = db.execute(
        "SELECT agency, category, subject_key, record, amount FROM assets WHERE id = ?",
        (asset_id,),
    ).fetchone()
    record = json.loads(row["record"])
    asset_type = ASSET_TYPES[record["type"]]
    stored = [
        hold_of(hold)
        for hold in db.execute(
            "SELECT * FROM measures WHERE asset_id = ? AND state = 'active'"
            " AND action IN ('freeze', 'seize') AND ends_on >= ? ORDER BY id",
            (asset_id, today.isoformat()),
        )
    ]
    holds = synthetic_holds(record, today) + stored
    entry: dict[str, Any] = {
        "id": asset_id,
        "agency": row["agency"],
        "category": row["category"],
        "subject_key": row["subject_key"],
        "type": asset_type.record_type,
        "identifier": record.get(asset_type.identifying_field),
        "original_balance": None,
        "balance": None,
        "frozen_amount": None,
        "unfrozen_amount": None,
    }
    held: list[Decimal | None] = [None] * len(holds)
    if asset_type.is_deposit:
        original = original_balance(asset_type, record)
        balance = Decimal(row["amount"]) if row["amount"] is not None else original
        amounts = allocate(balance, holds)
        held = list(amounts)
        total = sum(amounts, ZERO)
        entry.update(
            original_balance=money(original),
            balance=money(balance),
            frozen_amount=money(total),
            unfrozen_amount=money(balance - total),
        )
    entry["holds"] = [
        {
            "item_id": hold.item_id,
            "synthetic": hold.measure_id is None,
            "action": hold.action,
            "court": hold.court,
            "case_number": hold.case_number,
            "start": hold.start.isoformat() if hold.start else None,
            "end": hold.end.isoformat() if hold.end else None,
            "limit": money(hold.limit) if hold.limit is not None else None,
            "frozen_amount": money(amount) if amount is not None else None,
            "queue_position": position,
        }
        for position, (hold, amount) in enumerate(zip(holds, held, strict=True))
    ]
    return entry
