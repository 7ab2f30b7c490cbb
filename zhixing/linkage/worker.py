"""The gateway worker: one pass forms and sends batches, polls answers, expires and sweeps.

``zhixing gateway-worker`` runs :func:`run_gateway_worker` in its own process. Several workers
may run at once, on one host or several, because every step claims its rows with a lease.
"""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from zhixing.linkage import gateway
from zhixing.linkage.adapters import Adapter
from zhixing.linkage.adapters.online import OnlineAdapter
from zhixing.linkage.models import Agency, GatewayItem

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0

_online = OnlineAdapter()


def adapter_for(agency: Agency) -> Adapter | None:
    """Return the adapter that reaches ``agency``, or None when its kind is not built yet.

    NOTE: batch-file and manual agencies have no adapter yet, so their items wait and expire
    at their deadline. They plug in here.
    """
    if agency.adapter == Agency.Adapter.ONLINE:
        return _online
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
    """Sweep lapsed leases, expire overdue items, send due batches and poll for answers.

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
        Q(adapter=Agency.Adapter.ONLINE) | Q(code__in=list(adapters or {}))
    )
    for batch in gateway.form_batches(now, owner=owner, agencies=reachable):
        adapter = pick(batch.agency)
        assert adapter is not None
        try:
            outcome = gateway.dispatch_batch(batch, adapter, owner=owner)
        except Exception:
            # The batch's lease runs out and the sweep sends its items again.
            logger.exception("Sending batch %s to agency %s failed", batch.pk, batch.agency.code)
            continue
        result.batches += 1
        result.acknowledged += outcome.acknowledged

    outstanding = set(
        GatewayItem.objects.filter(state=GatewayItem.State.ACKNOWLEDGED)
        .values_list("agency_id", flat=True)
        .distinct()
    )
    for agency in reachable.filter(pk__in=outstanding, active=True):
        adapter = pick(agency)
        if adapter is None:
            continue
        try:
            result.answered += gateway.poll_answers(agency, adapter, now=now)
        except Exception:
            logger.exception("Polling agency %s failed", agency.code)
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
    logger.info("Gateway worker %s stopped", gateway.DEFAULT_OWNER)
