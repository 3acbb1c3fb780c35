"""Hash-linking of stored events, and the audit that re-checks the whole chain.

Each stored event's state is ``hash (32) | prev (32) | key (16) | body``: ``key`` is the
idempotency key of its (source, id), on which the database keeps a unique index. ``hash``
is SHA-256 over ``prev``, the stream id, the stream version and the SHA-256 of topic, key
and body, so a change to any
byte of a row, a removed row or two swapped rows breaks the chain at a position the audit
can name. Each append also records a checkpoint (last position and head hash, and its
events' chain hashes for the Merkle tree), so removing rows from the end of the log is
detected too.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

HASH_LEN = 32
KEY_LEN = 16
KEY_OFFSET = 2 * HASH_LEN
HEADER_LEN = KEY_OFFSET + KEY_LEN
GENESIS = bytes(HASH_LEN)
SHORT_STATE = "stored state is shorter than the chain header"
_VERSION = struct.Struct(">Q")


def content_digest(topic: str, key: bytes, body: bytes) -> bytes:
    """SHA-256 of an event's topic, key and body: what it is, independent of where it sits."""
    h = hashlib.sha256(topic.encode())
    h.update(b"\x00")
    h.update(key)
    h.update(body)
    return h.digest()


def link(prev: bytes, stream: UUID, version: int, content: bytes) -> bytes:
    """The hash that seals one event (by its content digest) to its predecessor."""
    return hashlib.sha256(prev + stream.bytes + _VERSION.pack(version) + content).digest()


def seal(
    prev: bytes,
    stream: UUID,
    version: int,
    topic: str,
    key: bytes,
    body: bytes,
    content: bytes | None = None,
) -> tuple[bytes, bytes]:
    """Return ``(state, hash)`` for an event that follows the event hashed ``prev``.

    ``content`` is the event's :func:`content_digest` when already known (the ingest
    pipeline computes it before the append, off its critical path).
    """
    if content is None:
        content = content_digest(topic, key, body)
    digest = link(prev, stream, version, content)
    return digest + prev + key + body, digest


def split_state(state: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """Split a stored state into ``(hash, prev, key, body)``.

    Raises:
        ValueError: the state is too short to hold the chain header.
    """
    if len(state) < HEADER_LEN:
        raise ValueError(SHORT_STATE)
    return (
        state[:HASH_LEN],
        state[HASH_LEN:KEY_OFFSET],
        state[KEY_OFFSET:HEADER_LEN],
        state[HEADER_LEN:],
    )


class StoredRow(NamedTuple):
    """One row of the log as the audit sees it (a named tuple: every read builds one per
    row, and a tuple is several times cheaper to build than a frozen dataclass)."""

    position: int
    stream: UUID
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Checkpoint:
    """What an append committed: its last position and the chain head after it."""

    seq: int
    first_position: int
    last_position: int
    count: int
    head: bytes


@dataclass(frozen=True)
class AuditFailure:
    """The first place the log fails verification."""

    position: int
    reason: str


@dataclass
class AuditReport:
    """The outcome of re-checking the log."""

    events_checked: int = 0
    checkpoints_checked: int = 0
    last_position: int | None = None
    head: str | None = None
    failure: AuditFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "last_position": self.last_position,
            "head": self.head,
            "failure": None
            if self.failure is None
            else {"position": self.failure.position, "reason": self.failure.reason},
        }


class ChainVerifier:
    """Walks the log in position order and stops at the first broken link.

    Give it the recorded checkpoints, feed rows with :meth:`feed` (in ascending position
    order), then call :meth:`finish`. Memory is bounded by the number of checkpoints, not
    the number of events.
    """

    def __init__(self, checkpoints: Iterable[Checkpoint]) -> None:
        self.report = AuditReport()
        self._prev = GENESIS
        self._pending = {cp.last_position: cp for cp in checkpoints}

    def feed(self, rows: Iterable[StoredRow]) -> bool:
        """Check more rows; return False once a failure has been found."""
        if self.report.failure is not None:
            return False
        return all(self._check(row) for row in rows)

    def _fail(self, position: int, reason: str) -> bool:
        self.report.failure = AuditFailure(position, reason)
        return False

    def _check(self, row: StoredRow) -> bool:
        try:
            stored_hash, prev, key, body = split_state(row.state)
        except ValueError:
            return self._fail(row.position, "stored state is truncated (no chain header)")
        if prev != self._prev:
            return self._fail(
                row.position,
                "chain link broken: the previous event is missing, was altered or was "
                "reordered (this event does not follow the one before it)",
            )
        if link(prev, row.stream, row.version, content_digest(row.topic, key, body)) != stored_hash:
            return self._fail(
                row.position, "event content was altered (its hash no longer matches)"
            )
        cp = self._pending.pop(row.position, None)
        if cp is not None:
            if cp.head != stored_hash:
                return self._fail(
                    row.position, f"chain head differs from the one checkpoint {cp.seq} recorded"
                )
            self.report.checkpoints_checked += 1
        self._prev = stored_hash
        self.report.events_checked += 1
        self.report.last_position = row.position
        self.report.head = stored_hash.hex()
        return True

    def finish(self) -> AuditReport:
        """Report checkpoints whose event never appeared, and return the report."""
        if self.report.failure is None and self._pending:
            cp = min(self._pending.values(), key=lambda c: c.last_position)
            self._fail(
                cp.last_position,
                f"event missing: checkpoint {cp.seq} recorded an event at this position",
            )
        return self.report
