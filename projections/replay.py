"""The auditor's replay: a learner's record as it stood at a past moment, from the log alone.

No read model is consulted: the learner's stream is read from the ledger, cut at a global
position or at a recording time, and projected in memory with the same projection the
runner uses — so what an auditor sees is what the live record showed then (personal data
is decrypted only while the learner's key exists).
"""

from __future__ import annotations

from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.records import learner_stream, parse_instant
from projections.learner_record import LearnerRecordProjection
from projections.store import Document


def replay_learner(
    ledger: Ledger,
    learner: str,
    *,
    at_sequence: int | None = None,
    as_of: str | None = None,
) -> Document | None:
    """The learner's record including exactly the events at or before the cut.

    Args:
        at_sequence: last global position to include.
        as_of: last recording time to include (RFC 3339, UTC, as ``recordedAt``).

    Returns:
        The record, or ``None`` when the learner had no events by then.

    Raises:
        LedgerError: neither or both cuts given.
    """
    if (at_sequence is None) == (as_of is None):
        raise LedgerError("replay: give exactly one of --at-sequence and --as-of")
    cut = parse_instant(as_of, "--as-of") if as_of is not None else None
    projection = LearnerRecordProjection()
    docs: dict[str, Document | None] = {}
    for row in ledger.recorder.select_stream(learner_stream(learner)):
        if at_sequence is not None and row.position > at_sequence:
            break
        event = ledger.decode(row.position, row.stream, row.version, row.topic, row.state)
        if cut is not None and parse_instant(event.recorded_at, "recordedAt") > cut:
            break
        if list(projection.keys(event)) == [learner]:
            projection.apply(docs, event)
    doc = docs.get(learner)
    return None if doc is None else projection.finish(doc)
