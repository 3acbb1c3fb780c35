"""Preparation in a child process, beside the appends instead of under one GIL.

Parsing, validating and encrypting are pure Python work; appending is mostly database
work plus the hash chain. In one process they share the GIL, so a long ingest tops out
at the Python cost of both. :class:`PreparerProcess` runs
:meth:`~ledger.pipeline.IngestPipeline.prepare_groups` in a child process with its own
ledger connections (registry, learner keys, correction checks) while the caller appends,
in order, one transaction per batch. The Kafka worker uses it by default, file ingest
with ``--prepare-process``; :class:`PreparerThread` is the in-process alternative.

The child ignores SIGINT and SIGTERM (the parent decides when to stop and drains first)
and exits by itself when its parent dies, even by SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import ClassVar, Protocol

from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.outcomes import Channel, PreparedBatch, Result
from ledger.pipeline import IngestPipeline
from ledger.settings import Settings

# How many batches file ingest may prepare ahead of the append.
DEPTH = 2
# Batches prepared but maybe not yet committed whose keys a later correction may refer to:
# file ingest keeps DEPTH + 1 ahead of the one appending; the Kafka worker two.
RECENT_BATCHES = DEPTH + 2
# How often the child checks that its parent is still alive (seconds).
PARENT_CHECK_S = 0.5

Groups = Sequence[tuple[Sequence[bytes | str], Channel]]


class _Sequence:
    """Prepares batches one after another, remembering the keys of the last few.

    A batch is prepared while earlier ones are still on their way to the database, so a
    correction may refer to an event that is prepared but not yet stored: those keys
    count as stored for the corrections check.
    """

    def __init__(self, pipeline: IngestPipeline) -> None:
        self.pipeline = pipeline
        self.recent: deque[frozenset[bytes]] = deque(maxlen=RECENT_BATCHES)

    def prepare(self, groups: Groups) -> PreparedBatch:
        in_flight = frozenset[bytes]().union(*self.recent)
        prepared = self.pipeline.prepare_groups(groups, in_flight=in_flight)
        self.recent.append(frozenset(e.key for e in prepared.events))
        return prepared


class Preparer(Protocol):
    """Prepares batches in order, off the appending thread (see :class:`_Sequence`)."""

    def ready(self) -> Future[bool]:
        """Resolves once the preparer can take work."""
        ...

    def submit(self, groups: Groups) -> Future[PreparedBatch]:
        """:meth:`~ledger.pipeline.IngestPipeline.prepare_groups`, after the batches
        submitted before."""
        ...

    def close(self) -> None: ...


class _Child:
    """State of the preparing process (built by the pool initializer)."""

    ledger: ClassVar[Ledger | None] = None
    sequence: ClassVar[_Sequence | None] = None


def _init(settings: Settings, parent: int) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    threading.Thread(target=exit_with_parent, args=(parent,), daemon=True).start()
    _Child.ledger = Ledger.open(settings)
    _Child.sequence = _Sequence(_Child.ledger.pipeline)
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

    def __init__(self, settings: Settings) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(settings, os.getpid()),
        )

    def ready(self) -> Future[bool]:
        return self._pool.submit(_ready)

    def submit(self, groups: Groups) -> Future[PreparedBatch]:
        return self._pool.submit(_prepare, [(list(raws), channel) for raws, channel in groups])

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class PreparerThread:
    """The same in a thread of this process (one interpreter lock for all the work)."""

    def __init__(self, pipeline: IngestPipeline) -> None:
        self._sequence = _Sequence(pipeline)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-prepare")

    def ready(self) -> Future[bool]:
        done: Future[bool] = Future()
        done.set_result(True)
        return done

    def submit(self, groups: Groups) -> Future[PreparedBatch]:
        return self._thread.submit(self._sequence.prepare, groups)

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)


def ingest_in_parallel(
    ledger: Ledger, batches: Iterable[tuple[Sequence[bytes | str], Channel]]
) -> Iterator[list[Result]]:
    """Like :meth:`Ledger.ingest_stream`, with preparation in a child process.

    Worth it for long runs (thousands of events): starting the child costs about a
    second.
    """
    preparer = PreparerProcess(ledger.settings)
    try:
        pending: deque[Future[PreparedBatch]] = deque()
        for raws, channel in batches:
            pending.append(preparer.submit([(raws, channel)]))
            if len(pending) > DEPTH:
                yield ledger.pipeline.commit(pending.popleft().result())
        while pending:
            yield ledger.pipeline.commit(pending.popleft().result())
    finally:
        preparer.close()
