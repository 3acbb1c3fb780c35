"""Scale-out on one PostgreSQL: one ingest worker process, then two sharing the partitions.

Part of ``ledger bench ingest --workers``. The same backlog (published first) is drained
by one worker process and, on fresh topics and a fresh schema, by two in one consumer
group (each takes half the partitions; each prepares in its own child process). Every
append takes the events table's EXCLUSIVE lock until it commits (the chain head, stream
versions and gap-free positions depend on it), so appends from any number of workers go
one at a time. Each worker reports how long its appends waited for that lock and held it;
the lock's occupancy (time held by all, over the run) says how much room a further
writer has before the lock itself is the limit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import replace
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from consumers.settings import WorkerConfig
from consumers.worker import IngestWorker
from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.postgres import PostgresLedgerRecorder
from ledger.settings import Settings

# How often the parent looks at how far the workers have got (seconds).
WATCH_S = 0.05


def _worker(
    settings: Settings, config: WorkerConfig, go: Any, stop: ProcessEvent, out: Any
) -> None:
    """One worker process: once every worker is ready (``go``, a barrier), consume until
    ``stop``, then put its figures on ``out``. Joining the group together, the workers
    share the partitions from the first rebalance on."""

    async def run() -> dict[str, Any]:
        with Ledger.open(settings) as ledger:
            tune_gc()
            worker = IngestWorker(ledger, config)
            await asyncio.to_thread(go.wait, 120)
            halt = asyncio.Event()
            task = asyncio.create_task(worker.run(halt))
            while not stop.is_set() and not task.done():
                await asyncio.sleep(WATCH_S)
            halt.set()
            await task
            recorder = ledger.recorder
            assert isinstance(recorder, PostgresLedgerRecorder)
            return {
                "accepted": worker.stats.accepted,
                "batches": worker.stats.batches,
                "first_records_at": worker.first_records_at,
                **recorder.lock.figures(),
            }

    out.put(asyncio.run(run()))


def drain_with_workers(
    settings: Settings, config: WorkerConfig, expected: int, workers: int
) -> dict[str, Any]:
    """Drain a published backlog of ``expected`` events with ``workers`` processes."""
    spawn = multiprocessing.get_context("spawn")
    go, stop, out = spawn.Barrier(workers), spawn.Event(), spawn.Queue()
    with Ledger.open(settings) as ledger:
        base = ledger.recorder.max_position()
        procs = [
            spawn.Process(
                target=_worker,
                args=(settings, _named(config, n), go, stop, out),
                name=f"bench-worker-{n}",
            )
            for n in range(workers)
        ]
        for p in procs:
            p.start()
        deadline = time.monotonic() + 600
        while ledger.recorder.max_position() < base + expected:
            if time.monotonic() > deadline or not all(p.is_alive() for p in procs):
                stop.set()
                raise RuntimeError("bench workers: the backlog was not drained")
            time.sleep(WATCH_S)
        finished = time.time()
    stop.set()
    figures = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    started = min(f["first_records_at"] for f in figures if f["first_records_at"])
    seconds = finished - started
    held = sum(f["lock_held_s"] for f in figures)
    return {
        "workers": workers,
        "events": expected,
        "seconds": round(seconds, 3),
        "events_per_second": round(expected / seconds),
        "lock_occupancy": round(held / seconds, 3),
        "lock_wait_ms_per_append": round(
            1000
            * sum(f["lock_waited_s"] for f in figures)
            / max(1, sum(f["appends"] for f in figures)),
            2,
        ),
        "lock_held_ms_per_append": round(
            1000 * held / max(1, sum(f["appends"] for f in figures)), 2
        ),
        "per_worker": [
            {
                k: (round(v, 3) if isinstance(v, float) else v)
                for k, v in f.items()
                if k != "first_records_at"
            }
            for f in figures
        ],
    }


def _named(config: WorkerConfig, n: int) -> WorkerConfig:
    return replace(config, client_id=f"bench-worker-{n}")
