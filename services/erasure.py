"""Erasing a learner: the request recorded, the key destroyed, the read models purged at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ledger.errors import LearnerErasedError
from ledger.records import utc_now
from schemas.names import ERASURE_REQUESTED
from services.ports import LearnerLog, Records


@dataclass(frozen=True)
class Erasure:
    """A completed erasure: who, under which request id, and the position that records it."""

    learner: str
    request_id: str
    position: int


def erase_learner(records: Records, log: LearnerLog, learner: str, *, channel: str) -> Erasure:
    """Crypto-shred ``learner``: record the request (from ``channel``, e.g. ``cli`` or
    ``api``), destroy their key, record the completion, and purge their read models now
    rather than at the next read. Irreversible.

    Raises:
        NoRecordError: no event about this learner was ever accepted.
        LearnerErasedError: the learner was erased already.
        StoreError: the database failed.
        LedgerError: the request is refused (nothing is erased).
    """
    doc = records.record(learner)
    if doc.get("erased"):
        raise LearnerErasedError(learner)
    request_id = f"erasure-{uuid.uuid4().hex}"
    log.publish_own(
        ERASURE_REQUESTED,
        learner,
        {"requestId": request_id, "requestedAt": utc_now(), "channel": channel},
    )
    position = log.erase(learner, request_id=request_id)
    records.record(learner)  # caught up: the record is a tombstone from now on
    return Erasure(learner, request_id, position)
