"""What auditors run: the whole chain re-checked, and a learner's record as it stood then.

The replay consults no read model: the learner's stream is read from the log, cut at a
global position or at a recording time, and projected in memory with the same projection
the runner uses — so what an auditor sees is what the live record showed then (personal
data is decrypted only while the learner's key exists).
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.errors import LedgerError
from ledger.integrity import AuditReport
from ledger.records import parse_instant
from projections.learner_record import LearnerRecordProjection
from projections.store import Document
from services.ports import ChainAudit, LearnerHistory


def verify_chain(
    ledger: ChainAudit, *, progress: Callable[[int], None] | None = None
) -> AuditReport:
    """Re-check the hash chain from the first event and every signed checkpoint; the report
    names the first position that fails and why.

    Args:
        progress: called with the number of rows checked after each page.
    """
    return ledger.audit(progress=progress)


def replay_record(
    history: LearnerHistory,
    learner: str,
    *,
    at_sequence: int | None = None,
    as_of: str | None = None,
) -> Document | None:
    """The learner's record rebuilt from the log alone, including exactly the events at or
    before the cut.

    Args:
        at_sequence: last global position to include.
        as_of: last recording time to include (RFC 3339, UTC, as ``recordedAt``).

    Returns:
        The record, or ``None`` when the learner had no event by then.

    Raises:
        LedgerError: neither or both cuts given, or ``as_of`` is no RFC 3339 instant.
    """
    if (at_sequence is None) == (as_of is None):
        raise LedgerError("replay: give exactly one of --at-sequence and --as-of")
    cut = parse_instant(as_of, "--as-of") if as_of is not None else None
    projection = LearnerRecordProjection()
    docs: dict[str, Document | None] = {}
    for event in history.learner_events(learner):
        if at_sequence is not None and event.position > at_sequence:
            break
        if cut is not None and parse_instant(event.recorded_at, "recordedAt") > cut:
            break
        if list(projection.keys(event)) == [learner]:
            projection.apply(docs, event)
    doc = docs.get(learner)
    return None if doc is None else projection.finish(doc)
