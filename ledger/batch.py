"""An append's events as the batch preparer left them: runs of sealed rows, not objects.

The compiled preparer (:mod:`ledger.fastpath`) seals each group of a batch into a
:class:`Run` that keeps the rows (key, stream id, topic, body, content digest) on its
side of the interpreter; the few inputs the pipeline seals itself are :class:`NewEvent`
objects. An :class:`EventBatch` holds both, in input order, as segments. PostgreSQL's
append hands its :meth:`~EventBatch.parts` to ``plan_copy``, which reads the rows where
they are; anything else that iterates the batch (SQLite's append, the registry, tests)
gets ordinary :class:`NewEvent` objects, made once, on first use.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, overload
from uuid import UUID

from ledger.records import NewEvent

# Stream ids kept as objects (a learner's recur batch after batch).
MAX_STREAMS_CACHED = 100_000

_streams: dict[bytes, UUID] = {}


def stream_of(raw: bytes) -> UUID:
    """The stream id of 16 bytes, one object per stream (a batch repeats its learners)."""
    stream = _streams.get(raw)
    if stream is None:
        if len(_streams) >= MAX_STREAMS_CACHED:
            _streams.clear()
        stream = _streams[raw] = UUID(bytes=raw)
    return stream


class Run(Protocol):
    """The inputs of one group a batch preparer sealed, in input order (``lll_native.Run``
    or :class:`PythonRun`). Rows are numbered from 0; ``stop`` None means the last."""

    def __len__(self) -> int: ...

    def indexes(self) -> list[int]:
        """Each row's input index within its group."""
        ...

    def keys(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """The idempotency keys of rows ``start`` to ``stop``."""
        ...

    def streams(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """The stream ids (16 bytes) of rows ``start`` to ``stop``, each once, in order."""
        ...

    def columns(self, start: int = 0, stop: int | None = None) -> Sequence[list[Any]]:
        """Rows ``start`` to ``stop`` as five columns: keys, stream ids, topics, bodies,
        content digests."""
        ...


class PythonRun:
    """The pure-Python twin of ``lll_native.Run``: the same rows, as Python columns."""

    def __init__(self, indexes: list[int], columns: list[list[Any]]) -> None:
        self._indexes = indexes
        self._columns = columns

    def __len__(self) -> int:
        return len(self._indexes)

    def _span(self, start: int, stop: int | None) -> slice:
        stop = len(self) if stop is None else stop
        if not 0 <= start <= stop <= len(self):
            raise ValueError(f"rows {start}..{stop} are not within the run's {len(self)}")
        return slice(start, stop)

    def indexes(self) -> list[int]:
        return list(self._indexes)

    def keys(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        return self._columns[0][self._span(start, stop)]

    def streams(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        return list(dict.fromkeys(self._columns[1][self._span(start, stop)]))

    def columns(self, start: int = 0, stop: int | None = None) -> list[list[Any]]:
        span = self._span(start, stop)
        return [column[span] for column in self._columns]


# Rows start to stop of a run, or events the pipeline sealed itself.
Segment = tuple[Run, int, int] | list[NewEvent]


class EventBatch(Sequence[NewEvent]):
    """The events of one append, in order, as segments (see the module's text)."""

    __slots__ = ("_events", "_size", "segments")

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments
        self._size = sum(s[2] - s[1] if isinstance(s, tuple) else len(s) for s in segments)
        self._events: list[NewEvent] | None = None

    @classmethod
    def of(cls, events: Sequence[NewEvent]) -> EventBatch:
        """``events`` as a batch (itself when it is one)."""
        if isinstance(events, EventBatch):
            return events
        return cls([list(events)] if events else [])

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> NewEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[NewEvent]: ...

    def __getitem__(self, index: int | slice) -> NewEvent | list[NewEvent]:
        return self.events()[index]

    def __iter__(self) -> Iterator[NewEvent]:
        return iter(self.events())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventBatch | list | tuple):
            return self.events() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EventBatch({len(self)} events in {len(self.segments)} segments)"

    def events(self) -> list[NewEvent]:
        """Every event as a :class:`NewEvent` (made on the first call, then kept)."""
        if self._events is None:
            events: list[NewEvent] = []
            for segment in self.segments:
                if isinstance(segment, list):
                    events.extend(segment)
                    continue
                run, start, stop = segment
                keys, streams, topics, bodies, contents = run.columns(start, stop)
                events.extend(
                    map(NewEvent, keys, map(stream_of, streams), topics, bodies, contents)
                )
            self._events = events
        return self._events

    def keys(self) -> list[bytes]:
        """Every event's idempotency key, in order."""
        keys: list[bytes] = []
        for segment in self.segments:
            if isinstance(segment, list):
                keys.extend(e.key for e in segment)
            else:
                keys.extend(segment[0].keys(segment[1], segment[2]))
        return keys

    def stream_ids(self) -> list[UUID]:
        """The streams the events belong to, each once, in order."""
        seen: dict[UUID, None] = {}
        for segment in self.segments:
            if isinstance(segment, list):
                seen.update(dict.fromkeys(e.stream for e in segment))
            else:
                seen.update(dict.fromkeys(map(stream_of, segment[0].streams(*segment[1:]))))
        return list(seen)

    def parts(self) -> list[tuple[Any, ...]]:
        """The batch as ``plan_copy`` reads it: ``(run, start, stop)`` for the rows of a
        run, ``(key, stream id, topic, body, content digest)`` for each other event."""
        parts: list[tuple[Any, ...]] = []
        for segment in self.segments:
            if isinstance(segment, list):
                parts.extend((e.key, e.stream.bytes, e.topic, e.body, e.content) for e in segment)
            else:
                parts.append(segment)
        return parts


def interleaved(
    runs: Sequence[tuple[Run, int, int]], singles: dict[int, NewEvent]
) -> tuple[list[int], EventBatch]:
    """One batch's events in input order, and the input index of each.

    Args:
        runs: each group's run, with the group's first input index and the one past its
            last (in group order).
        singles: the events the pipeline sealed itself, by input index.
    """
    pending = sorted(singles.items())
    segments: list[Segment] = []
    indexes: list[int] = []
    k = 0

    def single(index: int, event: NewEvent) -> None:
        if segments and isinstance(segments[-1], list):
            segments[-1].append(event)
        else:
            segments.append([event])
        indexes.append(index)

    def rows(run: Run, base: int, local: list[int], start: int, stop: int) -> None:
        if stop > start:
            segments.append((run, start, stop))
            indexes.extend([base + i for i in local[start:stop]])

    for run, base, end in runs:
        local = run.indexes()
        start = 0
        while k < len(pending) and pending[k][0] < end:
            index, event = pending[k]
            cut = bisect_left(local, index - base, start)
            rows(run, base, local, start, cut)
            start = cut
            single(index, event)
            k += 1
        rows(run, base, local, start, len(local))
    for index, event in pending[k:]:
        single(index, event)
    return indexes, EventBatch(segments)
