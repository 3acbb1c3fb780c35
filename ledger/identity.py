"""What the ledger records about itself as an issuer: its public signing keys, and the
status-list slots it reserves for the credentials it issues.

Both are kept as events in dedicated streams of the same hash-linked log, like the issuer
registry: which keys spoke for the ledger, and since when, is tamper-evident and survives
every rotation (a DID document lists them all, so credentials signed before a rotation
still verify); a reserved slot's log position is what places a credential in a status
list (see ``credentials.statuslist.slot``), so a rebuild finds every slot again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import uuid5

import orjson

from ledger.errors import LedgerError
from ledger.integrity import split_state
from ledger.persistence import LedgerRecorder
from ledger.records import (
    LEDGER_NAMESPACE,
    LEDGER_SOURCE,
    Appended,
    NewEvent,
    idempotency_key,
    utc_now,
)

SIGNING_KEYS_STREAM = uuid5(LEDGER_NAMESPACE, "identity:signing-keys")
STATUS_SLOTS_STREAM = uuid5(LEDGER_NAMESPACE, "identity:status-slots")
TOPIC_KEY_ADDED = "ledger.identity.signing-key-added"
TOPIC_SLOT_RESERVED = "ledger.identity.status-slot-reserved"


@dataclass(frozen=True)
class RecordedKey:
    """A public signing key the ledger has used, as its Multikey (``z6Mk…``), and when it
    was first recorded."""

    multikey: str
    added_at: str


def signing_keys(recorder: LedgerRecorder) -> list[RecordedKey]:
    """Every signing key recorded, oldest first."""
    found: list[RecordedKey] = []
    for row in recorder.select_stream(SIGNING_KEYS_STREAM):
        _, _, _, body = split_state(row.state)
        record = orjson.loads(body)
        found.append(RecordedKey(record["publicKeyMultibase"], record["recordedAt"]))
    return found


def record_signing_key(recorder: LedgerRecorder, multikey: str) -> RecordedKey:
    """Record ``multikey`` as one of the ledger's signing keys (once: recording it again
    returns the first record)."""
    for known in signing_keys(recorder):
        if known.multikey == multikey:
            return known
    record = {"publicKeyMultibase": multikey, "recordedAt": utc_now()}
    # One key is recorded once, whoever records it first: its idempotency key is the key.
    key = idempotency_key(LEDGER_SOURCE + "/signing-keys", multikey)
    recorder.append([NewEvent.of(key, SIGNING_KEYS_STREAM, TOPIC_KEY_ADDED, orjson.dumps(record))])
    for known in signing_keys(recorder):
        if known.multikey == multikey:
            return known
    raise LedgerError(f"the signing key {multikey} was not recorded")


def reserve_status_slot(recorder: LedgerRecorder, reference: str) -> int:
    """Reserve the status-list slot of a credential about to be issued, named ``reference``
    (an id that holds no personal data, e.g. an export id); returns its log position.

    Raises:
        LedgerError: the reference was reserved before.
    """
    record = {"reference": reference, "recordedAt": utc_now()}
    key = idempotency_key(LEDGER_SOURCE + "/status-slots", reference)
    (outcome,) = recorder.append(
        [NewEvent.of(key, STATUS_SLOTS_STREAM, TOPIC_SLOT_RESERVED, orjson.dumps(record))]
    )
    if not isinstance(outcome, Appended):
        raise LedgerError(f"reference: a status slot for {reference!r} was reserved before")
    return outcome.position


def new_reference(prefix: str) -> str:
    """A fresh reference for :func:`reserve_status_slot` (random, so it says nothing)."""
    return f"{prefix}-{uuid.uuid4().hex}"
