"""Ingest with preparation in a worker process, beside the appends instead of under one GIL.

Parsing, validating and encrypting are pure Python work; appending is mostly database
work. In one process they share the GIL, so a long ingest tops out at the Python cost of
both. Here one worker process prepares batches (it opens its own ledger connections for
the registry, keys and correction checks) while this process appends them, in order,
one transaction each.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import ClassVar

from ledger.application import Ledger
from ledger.pipeline import Channel, PreparedBatch, Result
from ledger.settings import Settings

# How many batches may be prepared ahead of the append.
DEPTH = 2
# Keys of recently prepared batches a later correction may refer to before they commit.
RECENT_BATCHES = DEPTH + 2


class _Worker:
    """State of the preparing process (one per worker, built by the pool initializer)."""

    ledger: ClassVar[Ledger | None] = None
    recent: ClassVar[deque[frozenset[bytes]]] = deque(maxlen=RECENT_BATCHES)


def _init(settings: Settings) -> None:
    _Worker.ledger = Ledger.open(settings)


def _prepare(raws: Sequence[bytes | str], channel: Channel) -> PreparedBatch:
    ledger = _Worker.ledger
    if ledger is None:
        raise RuntimeError("worker process was not initialised")
    in_flight = frozenset().union(*_Worker.recent)
    prepared = ledger.pipeline.prepare(raws, channel, in_flight=in_flight)
    _Worker.recent.append(frozenset(e.key for e in prepared.events))
    return prepared


def ingest_in_parallel(
    ledger: Ledger, batches: Iterable[tuple[Sequence[bytes | str], Channel]]
) -> Iterator[list[Result]]:
    """Like :meth:`Ledger.ingest_stream`, with preparation in a worker process.

    Worth it for long runs (thousands of events): starting the worker costs a fraction
    of a second.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=1, mp_context=context, initializer=_init, initargs=(ledger.settings,)
    ) as pool:
        pending: deque[Future[PreparedBatch]] = deque()
        for raws, channel in batches:
            pending.append(pool.submit(_prepare, list(raws), channel))
            if len(pending) > DEPTH:
                yield ledger.pipeline.commit(pending.popleft().result())
        while pending:
            yield ledger.pipeline.commit(pending.popleft().result())
