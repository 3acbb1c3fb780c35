"""What one append writes, decided under the events table's write lock: each event new
(with its stream version and chain hash), a repeat of an earlier one of the batch, or
already stored. SQLite's append keeps the new rows (:func:`plan_append`); PostgreSQL's
gets them as one COPY block and the outcomes as columns (:func:`plan_copy_block`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from ledger.batch import EventBatch, stream_of
from ledger.integrity import HASH_LEN, seal
from ledger.native import PlanCopy
from ledger.records import Appended, AppendOutcome, Duplicate, NewEvent

# A row of the events table: stream (originator id), version, topic, state.
Row = tuple[UUID, int, str, bytes]


@dataclass
class AppendPlan:
    """What one append will write, decided under the write lock.

    ``slots[i]`` says what became of input ``i``: an index into ``stored`` (new, or a
    repeat of an earlier event of the same batch) or the position of an existing event.
    """

    stored: list[Row] = field(default_factory=list)
    slots: list[tuple[str, int]] = field(default_factory=list)
    head: bytes = b""
    # Stream and version of each new event, in order.
    versions: list[tuple[UUID, int]] = field(default_factory=list)
    # The new events' chain hashes, in order: what the append checkpoint keeps for the
    # Merkle tree (which then never reads the events themselves).
    hashes: bytes = b""

    @property
    def count(self) -> int:
        """How many events are new."""
        return len(self.versions)

    def outcomes(self, positions: Sequence[int]) -> list[AppendOutcome]:
        """Resolve the plan once the database has assigned ``positions`` to the new events."""
        out: list[AppendOutcome] = []
        for kind, ref in self.slots:
            if kind == "new":
                stream, version = self.versions[ref]
                out.append(Appended(positions[ref], stream, version))
            elif kind == "repeat":
                out.append(Duplicate(positions[ref]))
            else:
                out.append(Duplicate(ref))
        return out


def _place(
    plan: AppendPlan, events: Sequence[NewEvent], existing: dict[bytes, int], heads: dict[UUID, int]
) -> list[tuple[NewEvent, int]]:
    """Fill ``plan.slots``: which events are new (with their stream versions, moving
    ``heads``), repeats of an earlier one of the batch, or already stored."""
    new: list[tuple[NewEvent, int]] = []
    in_batch: dict[bytes, int] = {}
    slots = plan.slots
    for ev in events:
        if ev.key in existing:
            slots.append(("stored", existing[ev.key]))
            continue
        earlier = in_batch.get(ev.key)
        if earlier is not None:
            slots.append(("repeat", earlier))
            continue
        version = heads.get(ev.stream, 0) + 1
        heads[ev.stream] = version
        in_batch[ev.key] = len(new)
        plan.versions.append((ev.stream, version))
        new.append((ev, version))
        slots.append(("new", len(new) - 1))
    return new


def plan_append(
    events: Sequence[NewEvent],
    existing: dict[bytes, int],
    heads: dict[UUID, int],
    prev: bytes,
) -> AppendPlan:
    """Decide versions, chain hashes and duplicates for a batch.

    Args:
        events: the batch, in the order it must be stored.
        existing: positions of already stored events, by idempotency key.
        heads: current last version of each stream the batch touches.
        prev: the hash of the last stored event (the chain head).
    """
    plan = AppendPlan(head=prev)
    for ev, version in _place(plan, events, existing, heads):
        state, prev = seal(prev, ev.stream, version, ev.topic, ev.key, ev.body, ev.content)
        plan.stored.append((ev.stream, version, ev.topic, state))
    plan.head = prev
    plan.hashes = b"".join([row[3][:HASH_LEN] for row in plan.stored])
    return plan


@dataclass(frozen=True, slots=True)
class CopyPlan:
    """What one PostgreSQL append writes, decided under the write lock by ``plan_copy``
    (:mod:`ledger.native`): its new rows as one binary COPY block, and what became of each
    event, as columns.

    Attributes:
        block: the new rows, hash-linked, as one binary COPY block.
        hashes: the new rows' chain hashes, concatenated (the checkpoint keeps them).
        head: the chain head after the last new row.
        positions: each event's position (a duplicate's: the earlier one's).
        fresh: a byte per event, 1 for a new one.
        versions: each event's stream version (0 for a duplicate).
        heads: the last version of each stream written.
    """

    block: bytes
    hashes: bytes
    head: bytes
    positions: list[int]
    fresh: bytes
    versions: list[int]
    heads: dict[UUID, int]

    @property
    def count(self) -> int:
        """How many events are new."""
        return len(self.hashes) // HASH_LEN

    def outcomes(self, events: Sequence[NewEvent]) -> list[AppendOutcome]:
        """An outcome object per event (for callers of ``append``; the pipeline reads the
        columns)."""
        return [
            Appended(position, event.stream, version) if new else Duplicate(position)
            for event, position, new, version in zip(
                events, self.positions, self.fresh, self.versions, strict=True
            )
        ]


def plan_copy_block(
    events: EventBatch,
    existing: dict[bytes, int],
    heads: dict[UUID, int],
    prev: bytes,
    first: int,
    plan: PlanCopy,
) -> CopyPlan:
    """Place ``events`` and encode their new rows with ``plan`` (``plan_copy``, compiled
    or its twin), new positions from ``first``, linked after ``prev``.

    Args:
        existing: positions of already stored events, by idempotency key.
        heads: current last version of each stream the batch touches.
    """
    block, hashes, head, positions, fresh, versions, ends = plan(
        prev, first, events.parts(), existing, {s.bytes: v for s, v in heads.items()}
    )
    written = {stream_of(s): v for s, v in ends.items()}
    return CopyPlan(block, hashes, head, positions, fresh, versions, written)
