"""Tests of freezing the start-up objects of the long-running commands."""

from __future__ import annotations

import gc
import signal
import threading
import weakref
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from zhixing import heap
from zhixing.cases import jobs
from zhixing.linkage import worker


@pytest.fixture
def unfrozen() -> Iterator[None]:
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    gc.unfreeze()
    yield
    gc.unfreeze()
    for number, handler in handlers.items():
        signal.signal(number, handler)


class _Tracked:
    pass


def test_unit_freeze_moves_objects_aside(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0
    heap.freeze_startup_objects()
    assert gc.get_freeze_count() > 1000
    gc.unfreeze()
    tracked = _Tracked()
    reference = weakref.ref(tracked)
    heap.freeze_startup_objects()
    del tracked
    assert reference() is None, "a frozen object is still freed when its last reference goes"


@pytest.mark.parametrize(
    ("command", "module", "loop"),
    [("gateway-worker", worker, "run_gateway_worker"), ("worker", jobs, "run_worker")],
)
def test_unit_worker_commands_freeze_first(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch, command: str, module: object, loop: str
) -> None:
    frozen_at_start: list[int] = []

    def run(stop: threading.Event, **_options: object) -> None:
        frozen_at_start.append(gc.get_freeze_count())

    monkeypatch.setattr(module, loop, run)
    call_command(command)
    assert frozen_at_start and frozen_at_start[0] > 1000
