"""What the ledger stores: stream ids, idempotency keys, and the stored record of an event."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID, uuid5

from ledger.errors import LedgerError
from ledger.integrity import content_digest

LEDGER_NAMESPACE = UUID("6f1d5c1e-3b7a-5d2e-9a41-0c8e7b2f4d10")
REGISTRY_STREAM = uuid5(LEDGER_NAMESPACE, "registry:issuers")
LEDGER_SOURCE = "urn:lll:ledger"
LEDGER_ISSUER_ID = "ledger"


def parse_instant(text: str, field: str) -> datetime:
    """An RFC 3339 date-time with its zone ("Z" or an offset).

    Raises:
        LedgerError: not a date-time, or no zone (which instant it means is unknown); the
            message names ``field``.
    """
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise LedgerError(f"{field}: {text!r} is not an RFC 3339 date-time") from None
    if value.tzinfo is None:
        raise LedgerError(f"{field}: {text!r} has no time zone; add Z for UTC")
    return value


def utc_now() -> str:
    """Now, as the ledger records it: RFC 3339, UTC, microseconds, ``Z``."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@functools.lru_cache(maxsize=1 << 16)
def learner_stream(learner_id: str) -> UUID:
    """The stream (eventsourcing originator id) holding one learner's events."""
    return uuid5(LEDGER_NAMESPACE, "learner:" + learner_id)


@functools.lru_cache(maxsize=1 << 10)
def issuer_stream(issuer_id: str) -> UUID:
    """The stream for an issuer's events that concern no learner (e.g. pathway definitions)."""
    return uuid5(LEDGER_NAMESPACE, "issuer:" + issuer_id)


def idempotency_key(source: str, event_id: str) -> bytes:
    """16-byte key under which (source, id) is stored exactly once."""
    return hashlib.blake2b(source.encode() + b"\x00" + event_id.encode(), digest_size=16).digest()


class NewEvent(NamedTuple):
    """An event ready to append: validated, authorised, personal data encrypted.

    A named tuple: batches of them cross to and from the preparing process, and tuples
    are the cheapest thing to pickle and build.

    Attributes:
        key: the idempotency key of its (source, id).
        stream: the stream it belongs to (a learner's, an issuer's, the registry's).
        topic: the CloudEvents type.
        body: the serialised stored record (without the chain header).
        content: SHA-256 of topic and body, computed off the append's critical path.
    """

    key: bytes
    stream: UUID
    topic: str
    body: bytes
    content: bytes

    @classmethod
    def of(cls, key: bytes, stream: UUID, topic: str, body: bytes) -> NewEvent:
        """Build one, computing the content digest the hash chain links (see integrity)."""
        return cls(key, stream, topic, body, content_digest(topic, key, body))


@dataclass(frozen=True, slots=True)
class Appended:
    """The event was stored at ``position`` (its place in the global sequence)."""

    position: int
    stream: UUID
    version: int


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An event with the same (source, id) is already stored at ``position``."""

    position: int


AppendOutcome = Appended | Duplicate


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What became of each event of an append, as two columns, not an object per event
    (see :meth:`ledger.persistence.LedgerRecorder.append_batch`).

    Attributes:
        positions: each event's position (a duplicate's: the one stored before it).
        fresh: a byte per event: 1 when this append stored it, 0 for a duplicate.
    """

    positions: list[int]
    fresh: bytes

    @classmethod
    def of(cls, outcomes: Sequence[AppendOutcome]) -> Outcomes:
        """The columns of these outcome objects."""
        return cls([o.position for o in outcomes], bytes(isinstance(o, Appended) for o in outcomes))


class LedgerEvent(NamedTuple):
    """A stored event read back, with personal data decrypted where the key still exists.

    A named tuple: projections decode the whole log into these, and a tuple is several
    times cheaper to build than a frozen dataclass.

    Attributes:
        position: place in the global sequence.
        stream: the stream id; ``version`` is the place within it.
        envelope: the CloudEvent as the issuer sent it (personal fields omitted if erased).
        issuer: the registered issuer id it was accepted from.
        recorded_at: when the ledger stored it (RFC 3339, UTC).
        erased: True when personal data existed but its key was destroyed.
        hash: the chain hash sealing this event (hex).
        verification: how the ledger checked the issuer-signed credential the event
            embeds (``status``, ``method``, ``checkedAt``, an expiry ``note``), if any.
    """

    position: int
    stream: UUID
    version: int
    topic: str
    envelope: dict[str, Any]
    issuer: str
    recorded_at: str
    erased: bool
    hash: str
    verification: dict[str, str] | None = None
