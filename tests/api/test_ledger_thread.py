"""The ledger's own thread: work for the store runs one unit at a time, in the order it came."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from api.deps import LedgerContext
from api.routes import health
from tests.api.conftest import World


def _context(world: World) -> LedgerContext:
    context: LedgerContext = world.client.app.state.context  # type: ignore[attr-defined]
    return context


def test_work_runs_one_unit_at_a_time_in_arrival_order_on_one_thread_holding_the_lock(
    world: World,
) -> None:
    context = _context(world)
    ran: list[tuple[int, str, bool]] = []
    running = 0
    overlapped = False

    def work(index: int) -> int:
        nonlocal running, overlapped
        running += 1
        overlapped |= running > 1
        ran.append((index, threading.current_thread().name, context.lock.locked()))
        time.sleep(0.001)
        running -= 1
        return index * 10

    async def many() -> list[int]:
        return list(await asyncio.gather(*(context.run(work, i) for i in range(20))))

    assert asyncio.run(many()) == [i * 10 for i in range(20)]
    assert [index for index, _, _ in ran] == list(range(20))
    assert len({thread for _, thread, _ in ran}) == 1
    assert all(locked for _, _, locked in ran)
    assert not overlapped


def test_an_error_in_the_work_reaches_the_caller(world: World) -> None:
    def work() -> None:
        raise LookupError("from the ledger's thread")

    with pytest.raises(LookupError, match="ledger's thread"):
        asyncio.run(_context(world).run(work))


def test_readyz_is_busy_while_the_ledgers_thread_stays_occupied_and_ready_after(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "READY_WAIT_S", 0.2)
    # Occupied until released, not for a while: however slow the request, it finds it busy.
    release = threading.Event()
    occupied = _context(world).worker.submit(release.wait, 60)
    busy = world.client.get("/readyz")
    release.set()
    assert busy.status_code == 503
    assert busy.json() == {"status": "unavailable", "checks": {"store": "busy"}}
    occupied.result()
    ready = world.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"store": "ok"}}
