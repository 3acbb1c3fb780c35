"""Ingest sequencing: each batch prepared ahead of its append, in order, knowing what is in flight.

Preparation (parse, validate, authorise, encrypt) is Python work and the append mostly
database work, so every long ingest overlaps them: batches are prepared ahead while an
earlier one appends, and committed in order, one transaction each. File ingest
(:func:`ingest_stream`, :func:`ledger.parallel.ingest_in_parallel`) and the Kafka worker
all do it through one :class:`Sequencer`.

A batch is prepared while earlier ones are still on their way to the database, so a
correction may refer to an event that is prepared but not yet stored. The preparer keeps
the keys of the last few batches it prepared (:class:`InFlight`); they count as stored
for the corrections check. How many depends on how far ahead the caller prepares.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ledger.outcomes import Channel, PreparedBatch, Result
from ledger.pipeline import IngestPipeline

Groups = Sequence[tuple[Sequence[bytes | str], Channel]]
Batches = Iterable[tuple[Sequence[bytes | str], Channel]]
Tag = TypeVar("Tag")
Key = TypeVar("Key")

# Ledger.ingest_stream prepares one batch while the one before it appends; everything
# older is committed by then, so only that one batch's keys are in flight.
STREAM_DEPTH = 1
STREAM_RECENT = 1


class KeysOf(AbstractSet[bytes]):
    """The keys of several batches, as one set, without copying them into one: a batch
    asks only whether its corrections' targets are among them."""

    def __init__(self, batches: tuple[frozenset[bytes], ...]) -> None:
        self._batches = batches

    def __contains__(self, key: object) -> bool:
        return any(key in keys for keys in self._batches)

    @classmethod
    def _from_iterable(cls, keys: Iterable[Key]) -> AbstractSet[Key]:
        # What ``&`` and the other operators answer: a plain set (``wanted & in_flight``
        # looks up only the few keys wanted).
        return frozenset(keys)

    # Iterating or counting, never asked for by a batch, copies them into one after all.
    def __iter__(self) -> Iterator[bytes]:
        return iter(frozenset[bytes]().union(*self._batches))

    def __len__(self) -> int:
        return len(frozenset[bytes]().union(*self._batches))


class InFlight:
    """Prepares batches one after another, remembering the keys of the last ``recent``.

    Args:
        pipeline: prepares each batch.
        recent: how many of the batches prepared last may not be committed yet when the
            next one is prepared (their keys are passed on as in flight).
    """

    def __init__(self, pipeline: IngestPipeline, recent: int) -> None:
        self.pipeline = pipeline
        self.recent: deque[frozenset[bytes]] = deque(maxlen=recent)

    def prepare(self, groups: Groups) -> PreparedBatch:
        """:meth:`~ledger.pipeline.IngestPipeline.prepare_groups`, with the keys of the
        last ``recent`` batches in flight."""
        prepared = self.pipeline.prepare_groups(groups, in_flight=KeysOf(tuple(self.recent)))
        self.recent.append(frozenset(prepared.events.keys()))
        return prepared


class Preparer(Protocol):
    """Prepares batches in order, off the appending thread, through one :class:`InFlight`."""

    def ready(self) -> Future[bool]:
        """Resolves once the preparer can take work."""
        ...

    def submit(self, groups: Groups) -> Future[PreparedBatch]:
        """:meth:`InFlight.prepare`, after the batches submitted before."""
        ...

    def close(self) -> None: ...


class PreparerThread:
    """Prepares in a thread of this process (one interpreter lock for all the work; see
    :class:`ledger.parallel.PreparerProcess` for a child process)."""

    def __init__(self, pipeline: IngestPipeline, *, recent: int) -> None:
        self._sequence = InFlight(pipeline, recent)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-prepare")

    def ready(self) -> Future[bool]:
        done: Future[bool] = Future()
        done.set_result(True)
        return done

    def submit(self, groups: Groups) -> Future[PreparedBatch]:
        return self._thread.submit(self._sequence.prepare, groups)

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True, slots=True)
class Queued(Generic[Tag]):
    """A batch handed to the preparer, with what the caller needs to append it."""

    tag: Tag
    batch: Future[PreparedBatch]


class Sequencer(Generic[Tag]):
    """Batches prepared ahead of their appends, handed back oldest first.

    Args:
        preparer: prepares each batch in submission order (and knows what is in flight).
        depth: how many batches may wait, prepared or being prepared, before the oldest
            is handed back for its append.
    """

    def __init__(self, preparer: Preparer, *, depth: int) -> None:
        self.preparer = preparer
        self.depth = depth
        self._waiting: deque[Queued[Tag]] = deque()

    def __len__(self) -> int:
        """How many batches wait (prepared or being prepared)."""
        return len(self._waiting)

    def ready(self) -> Future[bool]:
        """Resolves once the preparer can take work."""
        return self.preparer.ready()

    def submit(self, groups: Groups, tag: Tag) -> Queued[Tag] | None:
        """Start preparing ``groups``; returns the oldest batch once more than ``depth``
        wait (its turn to append has come), else None."""
        self._waiting.append(Queued(tag, self.preparer.submit(groups)))
        return self._waiting.popleft() if len(self._waiting) > self.depth else None

    def next(self) -> Queued[Tag] | None:
        """The oldest batch waiting, taken out of the queue; None when none waits."""
        return self._waiting.popleft() if self._waiting else None

    def next_prepared(self) -> bool:
        """Whether the oldest batch waiting is prepared (False when none waits)."""
        return bool(self._waiting) and self._waiting[0].batch.done()

    def drop(self) -> None:
        """Forget every batch waiting: they will not be appended (their inputs are read
        again). The preparer still counts their keys as in flight, as it would for a
        batch whose append failed."""
        self._waiting.clear()

    def close(self) -> None:
        """Drop what waits and stop the preparer."""
        self.drop()
        self.preparer.close()


def commit_in_order(
    sequencer: Sequencer[None],
    batches: Batches,
    commit: Callable[[PreparedBatch], list[Result]],
) -> Iterator[list[Result]]:
    """Prepare ``batches`` through ``sequencer`` and ``commit`` each in order, here, while
    the ones after it are prepared; yields each batch's results once it is committed."""
    for raws, channel in batches:
        due = sequencer.submit([(raws, channel)], None)
        if due is not None:
            yield commit(due.batch.result())
    while (due := sequencer.next()) is not None:
        yield commit(due.batch.result())


def ingest_stream(pipeline: IngestPipeline, batches: Batches) -> Iterator[list[Result]]:
    """Process batches in order, preparing the next in a thread while the previous one is
    appended here.

    Results come out in batch order; each append is one atomic transaction, committed in
    order. A batch whose results are not asked for (the stream closed early) is not
    appended.
    """
    sequencer: Sequencer[None] = Sequencer(
        PreparerThread(pipeline, recent=STREAM_RECENT), depth=STREAM_DEPTH
    )
    try:
        yield from commit_in_order(sequencer, batches, pipeline.commit)
    finally:
        sequencer.close()
