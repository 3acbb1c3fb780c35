"""The projection runner: follows the ledger's global sequence into read models, exactly once.

Each step reads the next page of the log after the projection's stored position, decodes
it (personal data decrypted where the learner's key still exists), applies every event
to the documents it touches, and saves those documents together with the new position in
one transaction. Killed at any moment, a runner resumes from its last commit; two runners
of one projection cannot both apply a page (the second's save is refused and it re-reads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Protocol

from ledger.application import Ledger
from ledger.records import LedgerEvent
from projections.store import Document, PositionConflictError, ProjectionStore

# Held documents beyond which a runner saves before its flush_rows are reached.
MAX_HELD_DOCUMENTS = 20_000


class ReadModel(Protocol):
    """A read model: which documents an event touches, and how it changes them."""

    name: str

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        """The documents ``event`` changes (none: the event does not concern this model)."""
        ...

    def apply(self, docs: dict[str, Document | None], event: LedgerEvent) -> None:
        """Change the documents of ``event``'s :meth:`keys` in ``docs`` in place (each
        loaded; ``None`` when absent); setting one to ``None`` deletes it. ``docs`` holds
        the runner's other documents too (no per-event copy): leave them alone."""
        ...

    def finish(self, doc: Document) -> Document:
        """Derive what is cheaper to compute once per saved document than per event."""
        ...


# A read model whose events may change documents found only through others (a list named
# by a position another document holds) also has ``related(docs, event)``: the further
# documents ``event`` changes, read from its keys' documents, which are loaded by then; the
# runner loads those too just before applying the event.
Related = Callable[[dict[str, Document | None], LedgerEvent], Iterable[str]]


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands against the log."""

    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)

    def as_dict(self) -> dict[str, object]:
        return {
            "projection": self.name,
            "position": self.position,
            "head": self.head,
            "lag": self.lag,
        }


def _distinct(keys: Iterable[str]) -> tuple[str, ...]:
    found = tuple(keys)
    return found if len(found) < 2 else tuple(dict.fromkeys(found))


@dataclass
class _Pending:
    """What a runner applied since its last save: documents (``None``: absent or deleted)
    and the position reached."""

    base: int
    applied: int
    rows: int = 0
    docs: dict[str, Document | None] = field(default_factory=dict)
    # Keys of the documents found stored: only these need deleting when now None.
    stored: set[str] = field(default_factory=set)


class Projector:
    """Keeps one read model up to date with the ledger (named apart from eventsourcing's
    ``ProjectionRunner``, which this is not).

    Args:
        ledger: the ledger to follow (its store and its keys, to decrypt).
        store: where the read model and its position live.
        projection: the read model.
        page: most log rows per transaction (default: the store's ``page_rows``).
    """

    def __init__(
        self,
        ledger: Ledger,
        store: ProjectionStore,
        projection: ReadModel,
        *,
        page: int | None = None,
        name: str | None = None,
        partition: tuple[int, int] | None = None,
        until: int | None = None,
        flush_rows: int | None = None,
    ) -> None:
        """
        Args:
            name: where documents and position are stored (default: the projection's name;
                a rebuild writes under shadow names, see :mod:`projections.rebuild`).
            partition: ``(k, n)``: only the streams of part ``k`` of ``n`` (see
                ``ledger.persistence.partition_of``); for projections whose documents each
                draw on one stream.
            until: the last log position to apply (default: follow the log's end).
            flush_rows: log rows applied in memory between saves (default: one page, so
                that readers see each page). More saves each document once however many
                pages touch it: worth it where learners have many events close together
                (on the demo population, whose learners' events are spread out, holding
                more cost more than it saved).
        """
        self.ledger = ledger
        self.store = store
        self.projection = projection
        self.page = page or store.page_rows
        self.name = name or projection.name
        self.partition = partition
        self.until = until
        self.flush_rows = flush_rows
        self._pending: _Pending | None = None

    def status(self) -> ProjectionStatus:
        return ProjectionStatus(
            self.projection.name,
            self.store.position(self.name),
            self.ledger.recorder.max_position(),
        )

    def step(self) -> int:
        """Apply the next page of the log; returns how many log rows it covered (0: caught up).

        Pages are applied to documents held in memory and saved with the position every
        ``flush_rows`` rows (by default every page), and whenever the log's end is reached.

        Raises:
            StoreError: the database failed; nothing since the last save was saved.
        """
        pending = self._pending
        if pending is None:
            base = self.store.position(self.name)
            pending = _Pending(base=base, applied=base)
        rows = self.ledger.recorder.select_log(
            pending.applied + 1, self.page, until=self.until, partition=self.partition
        )
        if not rows:
            self._flush()
            return 0
        # Whatever fails midway, what is held may be half applied: drop it (the next step
        # starts again from the stored position).
        self._pending = None
        events = self.ledger.decode_rows(rows)
        keys_of, apply = self.projection.keys, self.projection.apply
        touched = [_distinct(keys_of(e)) for e in events]
        docs = pending.docs
        self._load(pending, (k for keys in touched for k in keys))
        related: Related | None = getattr(self.projection, "related", None)
        for event, keys in zip(events, touched, strict=True):
            if keys:
                if related is not None:
                    self._load(pending, related(docs, event))
                apply(docs, event)
        pending.applied = rows[-1].position
        pending.rows += len(rows)
        self._pending = pending
        caught_up = len(rows) < self.page
        held_enough = pending.rows >= (self.flush_rows or self.page)
        if caught_up or held_enough or len(docs) >= MAX_HELD_DOCUMENTS:
            self._flush()
        return len(rows)

    def _load(self, pending: _Pending, keys: Iterable[str]) -> None:
        """Load into ``pending`` the documents of ``keys`` it does not hold yet."""
        docs = pending.docs
        missing = [k for k in dict.fromkeys(keys) if k not in docs]
        if missing:
            loaded = self.store.load(self.name, missing)
            pending.stored.update(loaded)
            docs.update((k, loaded.get(k)) for k in missing)

    def _flush(self) -> None:
        """Save the documents held and the position reached, in one transaction."""
        pending, self._pending = self._pending, None
        if pending is None or pending.applied == pending.base:
            return
        changes = {
            k: None if d is None else self.projection.finish(d)
            for k, d in pending.docs.items()
            if d is not None or k in pending.stored
        }
        # On a conflict another runner got there first; the next step reads from its position.
        with suppress(PositionConflictError):
            self.store.save(self.name, changes, expected=pending.base, position=pending.applied)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Step until the projection reaches the log's end; returns rows covered."""
        total = 0
        while covered := self.step():
            total += covered
            if progress is not None:
                progress(covered)
        return total

    def rebuild(
        self, progress: Callable[[int], None] | None = None, *, workers: int | None = None
    ) -> int:
        """Project the whole log again from zero, then swap the result in for the read model
        (which keeps serving reads meanwhile) and catch up; returns rows covered.

        Args:
            workers: processes sharing the work, this one included (default: one per
                core, at most 2, for long logs — see :mod:`projections.rebuild`); only
                projections that declare ``partition_by_stream`` are shared out.

        Raises:
            StoreError: the database failed, or a worker process did; the read model in
                place is untouched.
        """
        from projections.rebuild import rebuild_from_zero

        covered = rebuild_from_zero(
            self.ledger,
            self.store,
            self.projection,
            page=self.page,
            workers=workers,
            progress=progress,
        )
        return covered + self.catch_up(progress)

    def follow(self, stop: threading.Event, *, poll_s: float = 0.5) -> None:
        """Keep catching up until ``stop`` is set (a daemon's main loop)."""
        while not stop.is_set():
            if not self.catch_up():
                stop.wait(poll_s)
