"""Preparation in a child process, beside the appends instead of under one GIL.

Parsing, validating and encrypting are pure Python work; appending is mostly database
work plus the hash chain. In one process they share the GIL, so a long ingest tops out
at the Python cost of both. :class:`PreparerProcess` runs
:meth:`~ledger.pipeline.IngestPipeline.prepare_groups` in a child process with its own
ledger connections (registry, learner keys, correction checks) while the caller appends,
in order, one transaction per batch (the order kept by :class:`~ledger.sequencer.Sequencer`).
The Kafka worker uses it by default, file ingest with ``--prepare-process``;
:class:`~ledger.sequencer.PreparerThread` is the in-process alternative.

The child ignores SIGINT and SIGTERM (the parent decides when to stop and drains first)
and exits by itself when its parent dies, even by SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import ClassVar

from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.outcomes import PreparedBatch, Result
from ledger.sequencer import Batches, Groups, InFlight, Sequencer, commit_in_order
from ledger.settings import Settings

# How many batches file ingest may prepare ahead of the append.
DEPTH = 2
# Batches prepared but maybe not yet committed whose keys a later correction may refer to:
# file ingest keeps DEPTH + 1 ahead of the one appending; the Kafka worker two.
RECENT_BATCHES = DEPTH + 2
# How often the child checks that its parent is still alive (seconds).
PARENT_CHECK_S = 0.5


class _Child:
    """State of the preparing process (built by the pool initializer)."""

    ledger: ClassVar[Ledger | None] = None
    sequence: ClassVar[InFlight | None] = None


def _init(settings: Settings, parent: int, recent: int) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    threading.Thread(target=exit_with_parent, args=(parent,), daemon=True).start()
    _Child.ledger = Ledger.open(settings)
    _Child.sequence = InFlight(_Child.ledger.pipeline, recent)
    tune_gc()


def exit_with_parent(parent: int) -> None:
    """Exit this (child) process once ``parent`` is gone; run it in a daemon thread.

    A parent killed with SIGKILL cannot shut its children down: they are re-parented.
    """
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _ready() -> bool:
    return _Child.sequence is not None


def _prepare(groups: Groups) -> PreparedBatch:
    if _Child.sequence is None:
        raise RuntimeError("preparer process was not initialised")
    return _Child.sequence.prepare(groups)


class PreparerProcess:
    """A child process preparing batches for this process's appends.

    Starting it costs about a second (the child imports the ledger and opens its own
    connections); :meth:`ready` resolves once that is done.
    """

    def __init__(self, settings: Settings, *, recent: int = RECENT_BATCHES) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(settings, os.getpid(), recent),
        )

    def ready(self) -> Future[bool]:
        return self._pool.submit(_ready)

    def submit(self, groups: Groups) -> Future[PreparedBatch]:
        return self._pool.submit(_prepare, [(list(raws), channel) for raws, channel in groups])

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def ingest_in_parallel(ledger: Ledger, batches: Batches) -> Iterator[list[Result]]:
    """Like :meth:`Ledger.ingest_stream`, with preparation in a child process.

    Worth it for long runs (thousands of events): starting the child costs about a
    second.
    """
    sequencer: Sequencer[None] = Sequencer(PreparerProcess(ledger.settings), depth=DEPTH)
    try:
        yield from commit_in_order(sequencer, batches, ledger.pipeline.commit)
    finally:
        sequencer.close()
