"""The gateway worker: one pass forms and sends batches, collects answers, expires and sweeps.

``zhixing gateway-worker`` runs :func:`run_gateway_worker` in its own process. Several workers
may run at once, on one host or several, because every step claims its rows with a lease.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from dataclasses import dataclass

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from zhixing.linkage import gateway
from zhixing.linkage.adapters import Adapter, batchfile
from zhixing.linkage.adapters.manual import ManualAdapter
from zhixing.linkage.adapters.online import OnlineAdapter
from zhixing.linkage.models import Agency, GatewayBatch

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
# Items one pass claims and sends, in whole batches, before it collects answers. A bound
# lets one worker store answers while another waits for an agency to acknowledge its batch.
ITEMS_PER_PASS = 1000
# Seconds an online agency's acknowledged batch waits before its items are marked
# acknowledged one by one. Most items of a quick agency are answered by then and need no
# such write (see gateway.settle_acknowledgements).
# NOTE: 5 s comes from the simulator's reply times; a slower real agency costs only the write.
SETTLE_SECONDS = 5.0

_online = OnlineAdapter()
_manual = ManualAdapter()
_batch_file = batchfile.BatchFileAdapter()

# The acknowledged batches of this process whose items wait to be settled, with the time
# of their acknowledgement. Should the process stop first, the sweep settles them.
_unsettled: list[tuple[float, GatewayBatch, gateway.DispatchResult]] = []
_unsettled_lock = threading.Lock()


def forget_unsettled() -> None:
    """Drop the batches waiting to be settled, as a test does after rolling back their rows."""
    with _unsettled_lock:
        _unsettled.clear()


def settle_due(*, everything: bool = False) -> int:
    """Settle the acknowledged batches older than ``SETTLE_SECONDS``, or all of them."""
    cutoff = time.monotonic() - SETTLE_SECONDS
    with _unsettled_lock:
        due = [entry for entry in _unsettled if everything or entry[0] <= cutoff]
        del _unsettled[: len(due)]
    return gateway.settle_acknowledgements((batch, outcome) for _at, batch, outcome in due)


def adapter_for(agency: Agency) -> Adapter | None:
    """Return the adapter that reaches ``agency``, or None when its kind is not built yet."""
    if agency.adapter == Agency.Adapter.ONLINE:
        return _online
    if agency.adapter == Agency.Adapter.MANUAL:
        return _manual
    if agency.adapter == Agency.Adapter.BATCH_FILE:
        return _batch_file
    return None


@dataclass
class PassResult:
    """Counts of the work that one pass of the gateway worker did."""

    swept: int = 0
    expired: int = 0
    batches: int = 0
    acknowledged: int = 0
    answered: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.swept or self.batches or self.answered)


def run_gateway_once(
    now: datetime.datetime | None = None,
    *,
    owner: str = gateway.DEFAULT_OWNER,
    adapters: dict[str, Adapter] | None = None,
) -> PassResult:
    """Sweep lapsed leases, expire overdue items, send due batches and collect answers.

    Answers come from polling online agencies and from the inboxes of batch-file agencies.
    One pass sends whole batches until they hold ``ITEMS_PER_PASS`` items, and the next pass
    sends more, so a caller that wants everything sent runs passes while they are busy.

    ``adapters`` maps agency codes to adapters that replace the default ones, as tests do.
    """
    now = now or timezone.now()
    result = PassResult()
    result.swept = gateway.sweep(now)
    result.expired = gateway.expire_overdue(now)

    def pick(agency: Agency) -> Adapter | None:
        if adapters is not None and agency.code in adapters:
            return adapters[agency.code]
        return adapter_for(agency)

    reachable = Agency.objects.filter(
        Q(adapter=Agency.Adapter.ONLINE)
        | Q(adapter=Agency.Adapter.MANUAL)
        | Q(adapter=Agency.Adapter.BATCH_FILE)
        | Q(code__in=list(adapters or {}))
    )
    for batch in gateway.form_batches(
        now, owner=owner, agencies=reachable, item_limit=ITEMS_PER_PASS
    ):
        adapter = pick(batch.agency)
        assert adapter is not None
        # Only online agencies reply within seconds, so only their items are settled later.
        settle_later = isinstance(adapter, OnlineAdapter)
        try:
            outcome = gateway.dispatch_batch(batch, adapter, owner=owner, settle_later=settle_later)
        except Exception:
            # The batch's lease runs out and the sweep sends its items again.
            logger.exception("Sending batch %s to agency %s failed", batch.pk, batch.agency.code)
            continue
        result.batches += 1
        result.acknowledged += outcome.acknowledged
        if outcome.unsettled:
            with _unsettled_lock:
                _unsettled.append((time.monotonic(), batch, outcome))

    # Items of the batches waiting to be settled are still sent.
    outstanding = gateway.awaited_agencies()
    for agency in reachable.filter(pk__in=outstanding, active=True):
        adapter = pick(agency)
        # Staff type in the answers of manual agencies, so there is nothing to poll, and
        # batch-file agencies answer with result files that the loop below reads.
        if adapter is None or isinstance(adapter, ManualAdapter | batchfile.BatchFileAdapter):
            continue
        try:
            result.answered += gateway.poll_answers(agency, adapter, now=now)
        except Exception:
            logger.exception("Polling agency %s failed", agency.code)

    # Every pass empties the inboxes, so that late answers and bad files do not wait there.
    for agency in Agency.objects.filter(adapter=Agency.Adapter.BATCH_FILE, active=True):
        try:
            result.answered += batchfile.read_inbox(agency, now=now)
        except Exception:
            logger.exception("Reading the inbox of agency %s failed", agency.code)
    settle_due()
    return result


def run_gateway_worker(stop: threading.Event, *, poll_seconds: float = POLL_SECONDS) -> None:
    """Run gateway passes until ``stop`` is set, resting ``poll_seconds`` after an idle pass."""
    logger.info("Gateway worker %s started", gateway.DEFAULT_OWNER)
    while not stop.is_set():
        close_old_connections()
        try:
            result = run_gateway_once()
        except Exception:
            logger.exception("Gateway worker pass failed; trying again")
            result = PassResult()
        finally:
            close_old_connections()
        if not result.busy:
            stop.wait(poll_seconds)
    try:
        settle_due(everything=True)
    except Exception:
        logger.exception("Settling acknowledged batches failed; the sweep settles them")
    finally:
        close_old_connections()
    logger.info("Gateway worker %s stopped", gateway.DEFAULT_OWNER)
