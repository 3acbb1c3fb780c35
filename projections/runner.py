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
from dataclasses import dataclass
from typing import Protocol

from ledger.application import Ledger
from ledger.records import LedgerEvent
from projections.store import Document, PositionConflictError, ProjectionStore

PAGE = 2000


class Projection(Protocol):
    """A read model: which documents an event touches, and how it changes them."""

    name: str

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        """The documents ``event`` changes (none: the event does not concern this model)."""
        ...

    def apply(self, docs: dict[str, Document | None], event: LedgerEvent) -> None:
        """Change ``docs`` (its :meth:`keys`, loaded; ``None`` when absent) in place.
        Setting a document to ``None`` deletes it."""
        ...

    def finish(self, doc: Document) -> Document:
        """Derive what is cheaper to compute once per saved document than per event."""
        ...


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


class ProjectionRunner:
    """Keeps one projection up to date with the ledger.

    Args:
        ledger: the ledger to follow (its store and its keys, to decrypt).
        store: where the read model and its position live.
        projection: the read model.
        page: most log rows per transaction.
    """

    def __init__(
        self, ledger: Ledger, store: ProjectionStore, projection: Projection, *, page: int = PAGE
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.projection = projection
        self.page = page

    def status(self) -> ProjectionStatus:
        return ProjectionStatus(
            self.projection.name,
            self.store.position(self.projection.name),
            self.ledger.recorder.max_position(),
        )

    def step(self) -> int:
        """Apply the next page of the log; returns how many log rows it covered (0: caught up).

        Raises:
            StoreError: the database failed; nothing of the page was saved.
        """
        name = self.projection.name
        position = self.store.position(name)
        rows = self.ledger.recorder.select_log(position + 1, self.page)
        if not rows:
            return 0
        events = [
            self.ledger.decode(r.position, r.stream, r.version, r.topic, r.state) for r in rows
        ]
        touched = [list(dict.fromkeys(self.projection.keys(e))) for e in events]
        wanted = list(dict.fromkeys(k for keys in touched for k in keys))
        loaded = self.store.load(name, wanted) if wanted else {}
        docs: dict[str, Document | None] = {k: loaded.get(k) for k in wanted}
        for event, keys in zip(events, touched, strict=True):
            if keys:
                view = {k: docs[k] for k in keys}
                self.projection.apply(view, event)
                docs.update(view)
        changes = {
            k: None if d is None else self.projection.finish(d)
            for k, d in docs.items()
            if d is not None or k in loaded
        }
        try:
            self.store.save(name, changes, expected=position, position=rows[-1].position)
        except PositionConflictError:
            return len(rows)  # another runner got there first; the next step re-reads
        return len(rows)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Step until the projection reaches the log's end; returns rows covered."""
        total = 0
        while covered := self.step():
            total += covered
            if progress is not None:
                progress(covered)
        return total

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Forget the read model and project the whole log again."""
        self.store.reset(self.projection.name)
        return self.catch_up(progress)

    def follow(self, stop: threading.Event, *, poll_s: float = 0.5) -> None:
        """Keep catching up until ``stop`` is set (a daemon's main loop)."""
        while not stop.is_set():
            if not self.catch_up():
                stop.wait(poll_s)
