"""Erasing a learner: the request recorded, the key destroyed, the read models purged at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ledger.application import Ledger
from ledger.errors import LearnerErasedError
from ledger.records import utc_now
from projections.reading import read_learner_record
from projections.store import ProjectionStore
from schemas.names import ERASURE_REQUESTED


@dataclass(frozen=True)
class Erasure:
    """A completed erasure: who, under which request id, and the position that records it."""

    learner: str
    request_id: str
    position: int


def erase_learner(ledger: Ledger, store: ProjectionStore, learner: str, *, channel: str) -> Erasure:
    """Crypto-shred ``learner``: record the request (from ``channel``, e.g. ``cli`` or
    ``api``), destroy their key, record the completion, and purge their read models now
    rather than at the next read. Irreversible.

    Raises:
        NoRecordError: no event about this learner was ever accepted.
        LearnerErasedError: the learner was erased already.
        StoreError: the database failed.
    """
    doc, _ = read_learner_record(ledger, store, learner)
    if doc.get("erased"):
        raise LearnerErasedError(learner)
    request_id = f"erasure-{uuid.uuid4().hex}"
    ledger.publish_own(
        ERASURE_REQUESTED,
        learner,
        {"requestId": request_id, "requestedAt": utc_now(), "channel": channel},
    )
    position = ledger.erase(learner, request_id=request_id)
    read_learner_record(ledger, store, learner)
    return Erasure(learner, request_id, position)
