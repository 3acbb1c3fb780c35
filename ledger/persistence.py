"""The store port: what every storage adapter provides (the append plan they share is
:mod:`ledger.plan`).

Adapters (``ledger.sqlite``, ``ledger.postgres``) wrap the ``eventsourcing`` recorders
for the events table, the notification log and tracking, and add the tables the ledger
needs beside them: a unique index on each event's idempotency key (inside its stored
state), append checkpoints, wrapped learner keys, and the log's Merkle tree (its tiles and
size) with its signed checkpoints. Every
append runs in one transaction under the events table's write lock, so the chain head,
stream versions and the idempotency check are read and extended atomically.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Tracking

from ledger.errors import ErasedMeanwhileError
from ledger.integrity import HASH_LEN, Checkpoint, StoredRow
from ledger.notes import SignedCheckpoint
from ledger.records import AppendOutcome, NewEvent, Outcomes, learner_stream
from ledger.tiles import TileKey

# Streams fall into this many slices (the low 4 bits of their id); a read of the log can
# be limited to the streams of one part of them, so that work on different streams (a
# projection's rebuild) can be shared out.
STREAM_SLICES = 16


def partition_of(stream: UUID, partitions: int) -> int:
    """Which of ``partitions`` parts (a divisor of 16) a stream falls in: every adapter's
    partitioned log read agrees with this."""
    return (stream.int & (STREAM_SLICES - 1)) % partitions


def check_partition(partition: tuple[int, int] | None) -> None:
    """Raises ValueError unless ``partition`` is ``(k, n)`` with ``n`` dividing 16, ``k < n``."""
    if partition is None:
        return
    k, n = partition
    if n < 1 or STREAM_SLICES % n or not 0 <= k < n:
        raise ValueError(
            f"partition: expected (k, n) with n dividing 16 and 0 <= k < n, got {partition}"
        )


@dataclass(frozen=True)
class KeyRecord:
    """A learner's wrapped data key, or its tombstone once erased."""

    learner_id: str
    key_id: str
    wrapped: bytes | None
    erased_at: str | None

    @property
    def erased(self) -> bool:
        return self.wrapped is None


@dataclass(frozen=True)
class HeadsUpdate:
    """What a committed append did to stream heads: read at ``base``, wrote up to ``last``."""

    base: int
    last: int
    heads: dict[UUID, int]


class StreamHeads:
    """The last version of recently written streams, exact as of one log position.

    Looking up every stream of a batch costs the database an index probe per stream; the
    ingest worker appends to the same learners again and again. Adapters consult this
    cache under the events table's write lock, where ``last`` (the log's last position)
    is exact: rows written since the cache's position — by this process or any other —
    are read back first (one range scan on the position index), then only streams the
    cache has never seen are looked up. A committed append moves the cache forward;
    a rolled-back one leaves it as it was. Entries are only ever exact committed
    versions, so the cache can be stale but never wrong.
    """

    def __init__(self, *, capacity: int = 500_000, max_catch_up: int = 100_000) -> None:
        self.capacity = capacity
        self.max_catch_up = max_catch_up
        self._versions: dict[UUID, int] = {}
        self._position: int | None = None
        self._mutex = threading.Lock()

    def unknown(self, streams: Sequence[UUID]) -> list[UUID]:
        """Which of ``streams`` the cache has no version of (an adapter may read theirs
        together with the log's last position, then hand them to :meth:`read`'s load)."""
        with self._mutex:
            return [s for s in streams if s not in self._versions]

    def read(
        self,
        streams: Sequence[UUID],
        last: int,
        *,
        changed_since: Callable[[int], dict[UUID, int]],
        load: Callable[[list[UUID]], dict[UUID, int]],
    ) -> dict[UUID, int]:
        """Current versions of ``streams`` (0 for a new stream), with the log at ``last``.

        Args:
            changed_since: last version of each stream with rows after a position.
            load: last version of each of these streams that has rows.
        """
        with self._mutex:
            if self._position != last:
                since = self._position
                if since is None or last < since or last - since > self.max_catch_up:
                    self._versions.clear()
                else:
                    self._versions.update(changed_since(since))
                self._position = last
            known = self._versions
            heads = {s: v for s in streams if (v := known.get(s)) is not None}
            missing = [s for s in streams if s not in heads]
            if missing:
                found = load(missing)
                if len(known) + len(missing) > self.capacity:
                    known.clear()
                for s in missing:
                    heads[s] = known[s] = found.get(s, 0)
            return heads

    def committed(self, update: HeadsUpdate) -> None:
        """Record a committed append's new heads (ignored if the cache moved meanwhile:
        its next read catches up from the log instead)."""
        with self._mutex:
            if self._position == update.base:
                self._versions.update(update.heads)
                self._position = update.last


Trackings = Tracking | Sequence[Tracking] | None


def refuse_erased(learners: Iterable[str], streams: Iterable[UUID]) -> None:
    """Refuse a batch about any of ``learners``, erased since it was prepared.

    Args:
        streams: the streams of the batch's events.

    Raises:
        ErasedMeanwhileError: some of the events are about one of them.
    """
    theirs = {learner_stream(learner): learner for learner in learners}
    erased = {theirs[s] for s in streams if s in theirs} if theirs else set()
    if erased:
        raise ErasedMeanwhileError(
            f"{len(erased)} learner(s) of this batch were erased after it was prepared;"
            " nothing was appended: prepare it again"
        )


def as_trackings(tracking: Trackings) -> list[Tracking]:
    """Normalise one, several or no upstream positions to a list."""
    if tracking is None:
        return []
    if isinstance(tracking, Tracking):
        return [tracking]
    return list(tracking)


class LedgerRecorder(ABC):
    """Port: durable, append-only storage of the ledger's events and keys."""

    url_scheme: str = ""

    @abstractmethod
    def create_tables(self) -> None:
        """Create every table, index and guard if missing (idempotent)."""

    @abstractmethod
    def append(
        self,
        events: Sequence[NewEvent],
        *,
        tracking: Trackings = None,
        erasures_seen: int | None = None,
    ) -> list[AppendOutcome]:
        """Atomically append a batch: all of its new events or none.

        Events whose (source, id) is already stored, or repeated within the batch, are
        reported as :class:`Duplicate` and not stored again. Events keep their batch
        order within each stream and in the global sequence. ``tracking`` (consumed
        upstream positions, e.g. one per Kafka partition) is recorded in the same
        transaction; a position not beyond the one recorded fails the whole append.
        ``erasures_seen`` (the last erasure the batch's preparation knew of, see
        :meth:`erasures_after`): an event of a learner erased since then fails the whole
        append (:class:`~ledger.errors.ErasedMeanwhileError`).
        """

    def append_batch(
        self,
        events: Sequence[NewEvent],
        *,
        tracking: Trackings = None,
        erasures_seen: int | None = None,
    ) -> Outcomes:
        """:meth:`append`, answering with columns (each event's position, and whether it
        is new) rather than an object per event: what the ingest pipeline reads. An
        adapter whose append plans in columns answers without making those objects."""
        return Outcomes.of(self.append(events, tracking=tracking, erasures_seen=erasures_seen))

    @abstractmethod
    def select_log(
        self,
        start: int,
        limit: int,
        *,
        until: int | None = None,
        partition: tuple[int, int] | None = None,
    ) -> list[StoredRow]:
        """Rows of the global log with position ≥ ``start``, ascending, at most ``limit``.

        Args:
            until: the last position to include (default: the log's end).
            partition: ``(k, n)``: only rows of streams with ``partition_of(stream, n) == k``.

        Raises:
            ValueError: ``partition`` is not ``(k, n)`` with ``n`` dividing 16.
        """

    @abstractmethod
    def select_stream(self, stream: UUID, *, after_version: int = 0) -> list[StoredRow]:
        """A stream's rows in version order."""

    @abstractmethod
    def max_position(self) -> int:
        """The last position in the log, 0 when empty."""

    @abstractmethod
    def checkpoints(self) -> list[Checkpoint]:
        """Every recorded append checkpoint, in order."""

    @abstractmethod
    def positions_of(self, keys: Sequence[bytes]) -> dict[bytes, int]:
        """Positions of stored events, by idempotency key."""

    @abstractmethod
    def max_tracking_id(self, name: str) -> int | None:
        """The last position recorded for a tracked upstream (eventsourcing tracking)."""

    @abstractmethod
    def load_keys(self, learner_ids: Sequence[str]) -> dict[str, KeyRecord]:
        """Wrapped keys (or tombstones) of the learners that have one."""

    @abstractmethod
    def insert_keys(
        self, records: Sequence[KeyRecord], *, also: Sequence[str] = ()
    ) -> dict[str, KeyRecord]:
        """Store new wrapped keys; a learner that already has a key (or a tombstone) keeps
        it. Returns the stored record of each learner in ``records``: the one given, or
        the one kept; and, read in the same query, those of the learners in ``also`` that
        have one (as :meth:`load_keys`). The keys may be committed without waiting for
        them to be durable, but are durable by the time any append committed after this
        call is."""

    @abstractmethod
    def erasures_after(self, position: int | None) -> tuple[int, list[str]]:
        """The learners erased after the erasure at log ``position`` (each erasure is
        known by its event's position, in commit order), and the last erasure's position
        (0 before the first). ``None``: that position alone, no learners."""

    def changes_since(
        self, stream: UUID, after_version: int, erasures_after: int | None
    ) -> tuple[list[StoredRow], tuple[int, list[str]]]:
        """:meth:`select_stream` and :meth:`erasures_after` together: what a batch's
        preparation asks before anything else (the registry's new events, the learners
        erased meanwhile), in one round trip where the store can."""
        return (
            self.select_stream(stream, after_version=after_version),
            self.erasures_after(erasures_after),
        )

    @abstractmethod
    def destroy_key(self, learner_id: str, events: Sequence[NewEvent]) -> list[AppendOutcome]:
        """Crypto-shred: replace a learner's wrapped key by a tombstone and append
        ``events`` (the erasure record), in one transaction; the first event's position
        is the erasure's (:meth:`erasures_after`)."""

    # -- the Merkle tree over the log (see ledger.tree) -------------------------------------

    @abstractmethod
    def chain_hashes(self, start: int, limit: int) -> bytes:
        """The chain hashes of the events at positions ``start``, ``start + 1``, … (at
        most ``limit``, none past a missing position), joined: the tree's leaves. Read from
        the append checkpoints, which keep their events' hashes, and from the events
        themselves where a checkpoint kept none (written before it did)."""

    @abstractmethod
    def tree_size(self) -> int:
        """How many leaves the stored tree holds."""

    @abstractmethod
    def tree_tiles(self, keys: Sequence[TileKey]) -> dict[TileKey, bytes]:
        """The stored tiles of these keys (a key with no tile is left out)."""

    @abstractmethod
    def grow_tree(self, old_size: int, new_size: int, tiles: Mapping[TileKey, bytes]) -> bool:
        """Store ``tiles`` and the tree's new size, in one transaction, if the tree still
        holds ``old_size`` leaves; False (nothing written) when another writer grew it."""

    @abstractmethod
    def signed_checkpoints(
        self, *, after_size: int = -1, limit: int = 100, newest_first: bool = False
    ) -> list[SignedCheckpoint]:
        """Signed checkpoints of sizes above ``after_size``, by size."""

    @abstractmethod
    def add_signed_checkpoint(self, checkpoint: SignedCheckpoint) -> bool:
        """Keep a signed checkpoint (append-only); False when one of its size exists."""

    @abstractmethod
    def add_cosignature(self, size: int, name: str, line: str, created_at: str) -> bool:
        """Keep a witness's cosignature line of the checkpoint of ``size`` (append-only);
        False when that witness's line for that size is kept already."""

    @abstractmethod
    def cosignatures(self, size: int) -> list[str]:
        """The cosignature lines kept for the checkpoint of ``size``, by witness name."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def iter_log(self, start: int = 1, page: int = 5000) -> Iterator[list[StoredRow]]:
        """The whole log from ``start``, page by page."""
        while True:
            rows = self.select_log(start, page)
            if not rows:
                return
            yield rows
            start = rows[-1].position + 1


def hash_run(
    start: int, limit: int, checkpoints: Sequence[tuple[int, int, bytes | None]]
) -> tuple[bytes, int]:
    """Join the chain hashes the append checkpoints ``(first, last, hashes)`` (by
    position) keep from ``start`` on, at most ``limit``; the hashes and the position where
    they stop short (a checkpoint that kept none, or none at all)."""
    run = bytearray()
    expected, end = start, start + limit
    for first, last, hashes in checkpoints:
        if first > expected or hashes is None or len(hashes) != (last - first + 1) * HASH_LEN:
            break
        take_to = min(last + 1, end)
        run += hashes[(expected - first) * HASH_LEN : (take_to - first) * HASH_LEN]
        expected = take_to
        if expected >= end:
            break
    return bytes(run), expected


def contiguous_hashes(start: int, rows: Sequence[tuple[int, bytes]]) -> bytes:
    """The hashes of ``(position, hash)`` rows from ``start`` on, up to a missing one."""
    run = []
    for expected, (position, digest) in enumerate(rows, start=start):
        if position != expected:
            break
        run.append(digest)
    return b"".join(run)
