"""The Server-Sent Events stream of the event log, and what wakes it.

A page opens ``/events/stream`` and receives each event addressed to its user or court as an
SSE message whose id is the event id. The browser reconnects on its own after a dropped
connection and sends the last id it saw (``Last-Event-ID``), and the stream resumes after
it, so no event is lost. Each stream ends after ``STREAM_SECONDS`` and the browser
reconnects, which bounds how long a server worker is held.

Streams sleep on the :data:`waker` of their process. A commit that published events bumps it
in the same process, and on PostgreSQL a listener thread bumps it on every ``NOTIFY`` from
other processes. Without PostgreSQL, a stream also reads the log every ``FALLBACK_SECONDS``
so that events of other processes (a separate worker on SQLite) arrive as well.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

STREAM_SECONDS = 60.0
TICK_SECONDS = 0.2
FALLBACK_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
# Milliseconds the browser waits before reconnecting (the SSE ``retry`` field).
RETRY_MS = 2000
LISTEN_RECONNECT_SECONDS = 5.0


class Waker:
    """A counter that commits of new events raise; streams compare it with what they saw."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.generation = 0

    def bump(self) -> None:
        with self._lock:
            self.generation += 1


waker = Waker()

# Seconds the listener waits for notifications before it checks whether it should stop.
LISTEN_CHECK_SECONDS = 1.0

_listener_lock = threading.Lock()
_listener: threading.Thread | None = None
_listener_stop = threading.Event()


def _listen(params: dict[str, Any], channel: str, stop: threading.Event) -> None:
    """Bump the waker on every notification on ``channel`` until ``stop`` is set.

    Reconnects after failures.
    """
    import psycopg

    while not stop.is_set():
        try:
            with psycopg.connect(**params, autocommit=True) as conn:
                conn.execute(f"LISTEN {channel}")
                logger.info("Listening for event notifications on %s", channel)
                waker.bump()
                while not stop.is_set():
                    for _notify in conn.notifies(timeout=LISTEN_CHECK_SECONDS):
                        waker.bump()
        except Exception as error:
            logger.warning(
                "Event listener lost its connection; reconnecting in %s s: %s",
                LISTEN_RECONNECT_SECONDS,
                error,
            )
            stop.wait(LISTEN_RECONNECT_SECONDS)


def ensure_listener(channel: str) -> bool:
    """Start this process's listener thread on PostgreSQL; return whether one runs."""
    global _listener, _listener_stop
    if connection.vendor != "postgresql":
        return False
    with _listener_lock:
        if _listener is None or not _listener.is_alive():
            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            _listener_stop = threading.Event()
            _listener = threading.Thread(
                target=_listen,
                args=(params, channel, _listener_stop),
                name="zhixing-event-listener",
                daemon=True,
            )
            _listener.start()
    return True


def stop_listener(timeout: float = LISTEN_CHECK_SECONDS * 5) -> None:
    """Stop this process's listener thread, if one runs, and close its connection.

    The next stream starts a new one. Tests call this so that no session stays open on the
    test database when it is dropped.
    """
    global _listener
    with _listener_lock:
        thread, _listener = _listener, None
        _listener_stop.set()
    if thread is not None:
        thread.join(timeout)


def message(event_id: int, kind: str, data: dict[str, Any]) -> bytes:
    """Format one SSE message with the kind inside its JSON data, on one line.

    The message has no SSE ``event`` field, so the browser's ``onmessage`` receives every kind.
    """
    body = json.dumps({**data, "kind": kind}, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\ndata: {body}\n\n".encode()


class Stream:
    """The messages of one page's stream, produced by :meth:`sync` or :meth:`asynchronous`.

    ``read(last_id)`` returns the events after ``last_id`` as (id, kind, data) triples.
    """

    def __init__(
        self,
        read: Callable[[int], Sequence[tuple[int, str, dict[str, Any]]]],
        last_id: int,
        *,
        listening: bool,
        seconds: float | None = None,
    ) -> None:
        self.read = read
        self.last_id = last_id
        self.listening = listening
        self.seconds = STREAM_SECONDS if seconds is None else seconds

    def _due(self, seen: int, read_at: float, now: float) -> bool:
        if waker.generation != seen:
            return True
        return not self.listening and now - read_at >= FALLBACK_SECONDS

    def _messages(self, rows: Sequence[tuple[int, str, dict[str, Any]]]) -> list[bytes]:
        chunks = []
        for event_id, kind, data in rows:
            chunks.append(message(event_id, kind, data))
            self.last_id = event_id
        return chunks

    def _read_or_stop(
        self, read: Callable[[int], Sequence[tuple[int, str, dict[str, Any]]]]
    ) -> Sequence[tuple[int, str, dict[str, Any]]] | None:
        """Return the events after the last id, or None to end the stream after a failure.

        The browser reconnects after the stream ends and resumes at the last id it received.
        """
        try:
            return read(self.last_id)
        except Exception as error:
            logger.warning("Event stream ended after event %s: %s", self.last_id, error)
            return None

    def sync(self) -> Iterator[bytes]:
        yield f"retry: {RETRY_MS}\n\n".encode()
        started = time.monotonic()
        beat = started
        seen, read_at = -1, 0.0
        try:
            while time.monotonic() - started < self.seconds:
                now = time.monotonic()
                if self._due(seen, read_at, now):
                    seen, read_at = waker.generation, now
                    rows = self._read_or_stop(self.read)
                    if rows is None:
                        return
                    chunks = self._messages(rows)
                    # A thread of a threaded WSGI server keeps no connection between reads,
                    # so an idle stream holds no database session. Inside a transaction (a
                    # test's) the connection stays open.
                    if not connection.in_atomic_block:
                        connection.close()
                    if chunks:
                        beat = now
                        yield b"".join(chunks)
                if now - beat >= HEARTBEAT_SECONDS:
                    beat = now
                    yield b": keep-alive\n\n"
                time.sleep(TICK_SECONDS)
        finally:
            close_old_connections()

    async def asynchronous(self) -> AsyncIterator[bytes]:
        yield f"retry: {RETRY_MS}\n\n".encode()
        started = time.monotonic()
        beat = started
        seen, read_at = -1, 0.0
        while time.monotonic() - started < self.seconds:
            now = time.monotonic()
            if self._due(seen, read_at, now):
                seen, read_at = waker.generation, now
                rows = await sync_to_async(self._read_or_stop)(self.read)
                if rows is None:
                    return
                chunks = self._messages(rows)
                if chunks:
                    beat = now
                    yield b"".join(chunks)
            if now - beat >= HEARTBEAT_SECONDS:
                beat = now
                yield b": keep-alive\n\n"
            await asyncio.sleep(TICK_SECONDS)
