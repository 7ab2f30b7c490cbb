"""Background tasks of the simulator: answering items when they are due, and sending callbacks.

Both read their work from the database, so after a restart they go on where they stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpx

from agency_simulator import protocol
from agency_simulator.holdings import present
from agency_simulator.measures import apply_measure
from agency_simulator.population import generate_records
from agency_simulator.store import Delivery, Item, Store

if TYPE_CHECKING:
    from agency_simulator.app import Simulator

logger = logging.getLogger("agency_simulator.workers")

ANSWER_BATCH = 1000
CALLBACK_BATCH = 500
CALLBACK_TIMEOUT_S = 10.0
# A delivery being sent is hidden from other workers for this long; after a crash it is sent
# again once this lease has run out.
CALLBACK_LEASE_S = CALLBACK_TIMEOUT_S + 5
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 60.0
IDLE_WAKE_S = 0.5
# The maximum number of new items kept in memory for the answer loop. Further items are read
# back from the database, as after a restart.
REMEMBERED_ITEMS = 50_000


class Background:
    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.answers_due = asyncio.Event()
        self.callbacks_due = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.queue: asyncio.Queue[list[Delivery]] = asyncio.Queue()
        self.client: httpx.AsyncClient | None = None
        # Pending items as the batch request stored them, by item id. Only new items are
        # kept: a pending item changes only when it is answered, which removes it here.
        self.received: dict[str, Item] = {}

    def start(self) -> None:
        # trust_env=False: proxy variables must never route a callback off this machine.
        self.client = httpx.AsyncClient(
            timeout=CALLBACK_TIMEOUT_S, trust_env=False, follow_redirects=False
        )
        self.tasks = [
            asyncio.create_task(self.answer_loop(), name="answers"),
            asyncio.create_task(self.callback_loop(), name="callbacks"),
            *(
                asyncio.create_task(self.callback_worker(), name=f"callback-worker-{number}")
                for number in range(self.simulator.settings.callback_workers)
            ),
        ]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.client is not None:
            await self.client.aclose()

    def remember(self, items: Iterable[Item]) -> None:
        """Keep newly stored pending items, so that answering them reads no row back."""
        for item in items:
            if len(self.received) >= REMEMBERED_ITEMS:
                return
            self.received[item.item_id] = item

    def due_items(self, store: Store, paused: Iterable[str]) -> list[Item]:
        """Return the due items, the earliest first: from memory, or else from the database."""
        ids = store.due_item_ids(time.time(), paused, ANSWER_BATCH)
        loaded = store.items(item_id for item_id in ids if item_id not in self.received)
        due = []
        for item_id in ids:
            item = self.received.get(item_id) or loaded.get(item_id)
            if item is not None:
                due.append(item)
        return due

    def wake_answers(self) -> None:
        self.answers_due.set()

    def wake_callbacks(self) -> None:
        self.callbacks_due.set()

    async def sleep(self, event: asyncio.Event, next_at: float | None) -> None:
        timeout = IDLE_WAKE_S if next_at is None else min(IDLE_WAKE_S, next_at - time.time())
        # Always give the event loop a turn, so that a loop with work due cannot starve requests.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), max(timeout, 0.001))
        event.clear()

    # Answers

    async def answer_loop(self) -> None:
        store = self.simulator.db()
        while True:
            try:
                paused = self.simulator.paused_agencies()
                items = self.due_items(store, paused)
                if items:
                    self.answer(items)
                    for item in items:
                        self.received.pop(item.item_id, None)
                    self.wake_callbacks()
                    await asyncio.sleep(0)
                    continue
                next_at = store.next_due_at(paused)
            except Exception:
                logger.exception("answering due items failed; trying again")
                next_at = None
            await self.sleep(self.answers_due, next_at)

    def answer(self, items: list[Item]) -> None:
        """Answer due items: queries from the subject's stored records, or from newly drawn
        ones, and measures by applying them to those records."""
        store = self.simulator.db()
        now = protocol.now_text()
        today = self.simulator.today()
        answers: list[tuple[Item, str, dict[str, Any]]] = []
        measure_items: list[Item] = []
        new_assets: list[tuple[str, str, str, list[dict[str, Any]]]] = []
        # One look-up for the whole page. Subjects drawn in this page are kept here as well.
        known = store.subject_assets(
            ((item.agency, item.category, item.subject_key) for item in items), today
        )
        for item in items:
            agency = self.simulator.agencies.get(item.agency)
            faults = self.simulator.faults.get(item.agency)
            if agency is None or faults is None:
                message = "模拟器中已无此机构的配置"
                error = protocol.answer(item.item_id, "error", [], message, answered_at=now)
                answers.append((item, "error", error))
                continue
            if self.simulator.chance(faults.item_error_rate):
                message = "模拟的处理错误，请重新发送本事项"
                error = protocol.answer(item.item_id, "error", [], message, answered_at=now)
                answers.append((item, "error", error))
                continue
            subject = (item.agency, item.category, item.subject_key)
            records = known.get(subject)
            if records is None:
                generated = generate_records(agency, item.category, item.subject)
                new_assets.append((*subject, generated))
                records = known[subject] = [
                    present(record, None, [], today) for record in generated
                ]
            if item.action != "query":
                # Applied in the transaction that stores the answers, after the new assets.
                measure_items.append(item)
                continue
            status = "found" if records else "not_found"
            answers.append(
                (
                    item,
                    status,
                    protocol.answer(item.item_id, status, records, None, answered_at=now),
                )
            )
        apply = functools.partial(apply_measure, today=today, now=now)
        store.save_answers(answers, new_assets, now, measure_items, apply)

    # Callbacks

    async def callback_loop(self) -> None:
        store = self.simulator.db()
        workers = self.simulator.settings.callback_workers
        while True:
            try:
                paused = self.simulator.paused_agencies()
                due = store.due_deliveries(time.time(), paused, CALLBACK_BATCH * workers)
                if due:
                    store.postpone_deliveries(
                        [delivery.answer_seq for delivery in due], time.time() + CALLBACK_LEASE_S
                    )
                    for group in group_deliveries(due):
                        self.queue.put_nowait(group)
                    await asyncio.sleep(0)
                    continue
                next_at = store.next_delivery_at(paused)
            except Exception:
                logger.exception("collecting due callbacks failed; trying again")
                next_at = None
            await self.sleep(self.callbacks_due, next_at)

    async def callback_worker(self) -> None:
        while True:
            group = await self.queue.get()
            try:
                await self.deliver(group)
            except Exception:
                logger.exception("sending a callback failed unexpectedly")
            finally:
                self.queue.task_done()

    async def deliver(self, group: list[Delivery]) -> None:
        store = self.simulator.db()
        first = group[0]
        seqs = [delivery.answer_seq for delivery in group]
        agency = self.simulator.agencies.get(first.agency)
        if agency is None:
            return
        try:
            protocol.check_callback_url(first.callback_url)
        except protocol.InvalidRequest as invalid:
            logger.error("not sending %d answers: %s", len(seqs), invalid)
            store.fail_deliveries(seqs, str(invalid), time.time() + MAX_BACKOFF_S)
            return
        answers = [entry.answer for entry in store.answers_by_seq(seqs)]
        payload, headers = self.simulator.answer_body(
            agency, protocol.envelope(agency.code, answers)
        )
        assert self.client is not None
        failure: str | None
        try:
            response = await self.client.post(
                first.callback_url,
                content=payload,
                headers=[("Content-Type", "application/json"), *headers],
            )
            failure = None if response.is_success else f"HTTP {response.status_code}"
        except httpx.HTTPError as exception:
            failure = f"{type(exception).__name__}: {exception}"
        if failure is None:
            store.finish_deliveries(seqs)
            return
        attempts = max(delivery.attempts for delivery in group) + 1
        backoff = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (attempts - 1))
        backoff *= 0.5 + self.simulator.rng.random() / 2
        logger.warning(
            "callback of %d answers from %s to %s failed (%s, attempt %d); retrying in %.1f s",
            len(seqs),
            agency.code,
            first.callback_url,
            failure,
            attempts,
            backoff,
        )
        store.fail_deliveries(seqs, failure, time.time() + backoff)
        self.wake_callbacks()


def group_deliveries(due: list[Delivery]) -> list[list[Delivery]]:
    """Split deliveries into callback bodies: one agency, court and URL, CALLBACK_BATCH at most."""
    groups: dict[tuple[str, str, str], list[Delivery]] = defaultdict(list)
    for delivery in due:
        groups[(delivery.agency, delivery.court, delivery.callback_url)].append(delivery)
    bodies = []
    for deliveries in groups.values():
        for start in range(0, len(deliveries), CALLBACK_BATCH):
            bodies.append(deliveries[start : start + CALLBACK_BATCH])
    return bodies
