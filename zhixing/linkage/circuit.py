"""Per-agency circuit breaker, request counters and the send rate limit of this process."""

from __future__ import annotations

import datetime
import logging
import threading
import time

from django.db.models import F, Q

from zhixing.linkage.models import Agency, AgencyHealth

logger = logging.getLogger(__name__)

Circuit = AgencyHealth.Circuit

# Consecutive failed requests after which an agency's circuit opens.
FAILURE_THRESHOLD = 5
# Time an open circuit waits before it lets one probe request through.
COOL_DOWN = datetime.timedelta(seconds=60)


def health(agency: Agency) -> AgencyHealth:
    """Return the agency's health row, creating it on first use."""
    # bulk_create skips the audit signal: the counters change on every request.
    AgencyHealth.objects.bulk_create([AgencyHealth(agency=agency)], ignore_conflicts=True)
    return AgencyHealth.objects.get(agency=agency)


def allowance(
    agency: Agency, now: datetime.datetime, probe_lease: datetime.timedelta
) -> int | None:
    """Return how many requests the circuit lets through now: None for no limit, else 0 or 1.

    An open circuit whose cool-down has passed turns half-open, and the caller that made the
    change may send one probe, a batch or a poll for answers. A half-open circuit whose probe
    lease ran out (its worker died) lets the next caller probe again. The guarded updates
    make sure only one caller wins.
    """
    row = health(agency)
    if row.circuit == Circuit.CLOSED:
        return None
    if row.circuit == Circuit.OPEN:
        if row.opened_at is not None and row.opened_at > now - COOL_DOWN:
            return 0
        taken = AgencyHealth.objects.filter(
            pk=row.pk, circuit=Circuit.OPEN, opened_at=row.opened_at
        ).update(circuit=Circuit.HALF_OPEN, probe_until=now + probe_lease)
        if taken:
            logger.info("Circuit of agency %s is half-open; letting one probe through", agency.code)
        return 1 if taken else 0
    if row.probe_until is not None and row.probe_until > now:
        return 0
    taken = AgencyHealth.objects.filter(
        pk=row.pk, circuit=Circuit.HALF_OPEN, probe_until=row.probe_until
    ).update(probe_until=now + probe_lease)
    return 1 if taken else 0


def record_success(agency: Agency, latency_ms: int) -> None:
    """Count a successful request and close the agency's circuit if it was not closed."""
    rows = AgencyHealth.objects.filter(agency=agency)
    counted = {
        "consecutive_failures": 0,
        "requests": F("requests") + 1,
        "latency_ms_total": F("latency_ms_total") + latency_ms,
        "last_latency_ms": latency_ms,
    }
    # Every batch comes here, so the usual case, a row that exists, takes one statement.
    if not rows.update(**counted):
        health(agency)
        rows.update(**counted)
    closed = rows.exclude(circuit=Circuit.CLOSED)
    if closed.update(circuit=Circuit.CLOSED, opened_at=None, probe_until=None):
        logger.info("Circuit of agency %s closed after a successful request", agency.code)


def record_recovery(agency: Agency) -> None:
    """Reset the agency's failure run and close its circuit after a success that is not counted.

    A poll that finds no new answers is such a success: workers poll every agency they await
    many times a minute, and counting each would add a write per poll. The row of an agency
    without failures is left as it is.
    """
    rows = AgencyHealth.objects.filter(agency=agency).filter(
        Q(consecutive_failures__gt=0) | ~Q(circuit=Circuit.CLOSED)
    )
    closed = rows.update(
        consecutive_failures=0, circuit=Circuit.CLOSED, opened_at=None, probe_until=None
    )
    if closed:
        logger.info("Circuit of agency %s closed after a successful request", agency.code)


def record_failure(
    agency: Agency, error: str, now: datetime.datetime, *, latency_ms: int | None = None
) -> None:
    """Count a failed request; open the circuit after too many in a row or a failed probe.

    ``latency_ms`` is the time until the request failed, where the caller measured it. It adds
    to the latency total like a success does. Without it the failure adds nothing there.
    """
    row = health(agency)
    counted = {
        "consecutive_failures": F("consecutive_failures") + 1,
        "requests": F("requests") + 1,
        "errors": F("errors") + 1,
        "last_error": error[:1000],
    }
    if latency_ms is not None:
        counted["latency_ms_total"] = F("latency_ms_total") + latency_ms
        counted["last_latency_ms"] = latency_ms
    AgencyHealth.objects.filter(pk=row.pk).update(**counted)
    row.refresh_from_db()
    trips = row.circuit == Circuit.HALF_OPEN or (
        row.circuit == Circuit.CLOSED and row.consecutive_failures >= FAILURE_THRESHOLD
    )
    if trips:
        opened = AgencyHealth.objects.filter(pk=row.pk, circuit=row.circuit).update(
            circuit=Circuit.OPEN, opened_at=now, probe_until=None
        )
        if opened:
            logger.warning(
                "Circuit of agency %s opened after %s consecutive failures; cool-down %s s",
                agency.code,
                row.consecutive_failures,
                int(COOL_DOWN.total_seconds()),
            )


class RateLimiter:
    """Spaces the requests of this process to each agency by the agency's rate limit.

    NOTE: the limit applies to each worker process on its own, so several workers together may
    send up to their number times the agency's rate. A shared limit needs a counter in the
    database or the broker.
    """

    def __init__(self) -> None:
        self._next_allowed: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, agency: Agency) -> None:
        """Sleep until the next request to ``agency`` is allowed, and reserve its slot."""
        interval = 1.0 / agency.rate_limit if agency.rate_limit > 0 else 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_allowed.get(agency.code, now))
            self._next_allowed[agency.code] = start + interval
        if start > now:
            time.sleep(start - now)


rate_limiter = RateLimiter()
