"""What the ingest pipeline says of each input, and how a batch arrived and travels between processes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.batch import EventBatch
from ledger.records import NewEvent
from schemas.validation import Problem


@dataclass(frozen=True, slots=True)
class Accepted:
    """Stored at ``position`` of the global sequence."""

    position: int


@dataclass(frozen=True, slots=True)
class Duplicated:
    """Already stored (same source and id) at ``position``; not stored again."""

    position: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """Refused, for every reason listed."""

    problems: tuple[Problem, ...]

    def reasons(self) -> list[dict[str, str]]:
        return [p.as_dict() for p in self.problems]


Result = Accepted | Duplicated | Rejected


@dataclass(frozen=True)
class Channel:
    """How a batch arrived.

    Attributes:
        name: ``file``, ``kafka`` or ``http``.
        issuer_id: the issuer this channel authenticates (a Kafka topic only that issuer
            may write, an HTTP token). ``None`` marks an operator's trusted file, where the
            registered owner of each event's ``source`` is the issuer.
    """

    name: str
    issuer_id: str | None = None


@dataclass(frozen=True)
class PreparedBatch:
    """A batch ready to append: results so far (rejections), and the events to store."""

    results: list[Result | None]
    indexes: list[int]
    # The events to append, in input order; ``indexes[i]`` is the input of ``events[i]``.
    events: EventBatch
    # The last erasure its preparation knew of (KeyRing.catch_up): the append refuses the
    # batch if one of its learners was erased after it.
    erasures_seen: int | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Column by column: a fraction of the cost of pickling event by event.
        columns = list(zip(*self.events, strict=True))
        return (_unpickle_batch, (self.results, self.indexes, columns, self.erasures_seen))

    def rejected(self) -> list[tuple[int, Rejected]]:
        """Inputs already refused, with their index in the batch."""
        return [(i, r) for i, r in enumerate(self.results) if isinstance(r, Rejected)]


def _unpickle_batch(
    results: list[Result | None],
    indexes: list[int],
    columns: list[tuple[Any, ...]],
    erasures_seen: int | None,
) -> PreparedBatch:
    events = list(map(NewEvent._make, zip(*columns, strict=True)))
    return PreparedBatch(results, indexes, EventBatch.of(events), erasures_seen)
