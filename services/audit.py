"""What auditors run: the whole chain re-checked, and a learner's record as it stood then.

The replay consults no read model: the learner's stream is read from the log, cut at a
global position or at a recording time, and projected in memory with the same projection
the runner uses — so what an auditor sees is what the live record showed then (personal
data is decrypted only while the learner's key exists).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.errors import LedgerError
from ledger.integrity import HASH_LEN, AuditReport, StoredRow
from ledger.merkle import EMPTY_ROOT, CompactRange, ProofError, leaf_hash, verify_consistency
from ledger.notes import (
    LogCheckpoint,
    NoteError,
    NoteVerifier,
    SignedCheckpoint,
    b64,
    open_checkpoint,
)
from ledger.records import parse_instant
from ledger.tree import LogTree
from projections.learner_record import LearnerRecordProjection
from projections.store import Document
from services.ports import ChainAudit, LearnerHistory, LogAudit


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


@dataclass
class LogCheck:
    """What ``ledger audit check`` found: the chain re-checked, the log's roots recomputed
    from its events and compared with a checkpoint saved earlier and with the log's
    latest one, and the consistency proof between them verified."""

    chain: AuditReport
    saved: LogCheckpoint | None = None
    latest: SignedCheckpoint | None = None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "failure": self.failure,
            "eventsChecked": self.chain.events_checked,
            "chainCheckpointsChecked": self.chain.checkpoints_checked,
            "chainFailure": None if self.chain.ok else self.chain.as_dict()["failure"],
            "saved": None
            if self.saved is None
            else {"treeSize": self.saved.size, "rootHash": b64(self.saved.root)},
            "latest": None
            if self.latest is None
            else {"treeSize": self.latest.size, "rootHash": b64(self.latest.root)},
        }


def check_log(
    ledger: LogAudit,
    saved_note: str,
    log_key: NoteVerifier,
    *,
    progress: Callable[[int], None] | None = None,
) -> LogCheck:
    """Prove the current log extends a checkpoint saved earlier, trusting nothing the
    operator stores but the events themselves: the chain is re-checked from the first
    event; the Merkle roots are recomputed from the events, at the saved checkpoint's size
    and at the log's latest checkpoint's; both must match the signed roots, and the
    stored tree's consistency proof between them must verify. A log rewritten whole, chain
    and checkpoints and tree re-made, fails at the saved checkpoint's root.

    Args:
        saved_note: the checkpoint as saved (a signed note).
        log_key: the log's verifier key, as the auditor pinned it.
    """
    try:
        saved, _ = open_checkpoint(saved_note, log_key)
    except NoteError as exc:
        return LogCheck(AuditReport(), failure=f"the saved checkpoint: {exc}")
    tree = ledger.tree
    latest = tree.latest()
    stored = tree.size()
    wanted = {saved.size, stored} | ({latest.size} if latest else set())
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    compact = CompactRange()

    def observe(rows: Sequence[StoredRow]) -> None:
        for row in rows:
            compact.append(leaf_hash(row.state[:HASH_LEN]))
            if compact.size in wanted:
                roots[compact.size] = compact.root()

    chain = ledger.audit(progress, observe=observe)
    check = LogCheck(chain, saved, latest)
    if not chain.ok:
        assert chain.failure is not None
        check.failure = (
            f"the chain breaks at position {chain.failure.position}: {chain.failure.reason}"
        )
        return check
    events = chain.events_checked
    if saved.size > events:
        check.failure = (
            f"the log holds {events} events, fewer than the {saved.size} the saved "
            "checkpoint committed to: events were removed"
        )
    elif roots[saved.size] != saved.root:
        check.failure = (
            f"the log's first {saved.size} events are not those the saved checkpoint "
            f"committed to (their root is {b64(roots[saved.size])}, the checkpoint's "
            f"{b64(saved.root)}): the log was rewritten"
        )
    elif stored > events or tree.reader().root() != roots.get(stored):
        check.failure = "the stored Merkle tree does not match the log's events"
    elif latest is None or latest.size < saved.size:
        check.failure = (
            "the log keeps no checkpoint as large as the saved one: its checkpoints "
            "were removed or rolled back"
        )
    else:
        check.failure = _latest_failure(tree, saved, latest, roots, log_key)
    return check


def _latest_failure(
    tree: LogTree,
    saved: LogCheckpoint,
    latest: SignedCheckpoint,
    roots: dict[int, bytes],
    log_key: NoteVerifier,
) -> str | None:
    try:
        head, _ = open_checkpoint(latest.note, log_key)
    except NoteError as exc:
        return f"the log's latest checkpoint (size {latest.size}): {exc}"
    if (head.size, head.root) != (latest.size, latest.root) or roots[latest.size] != head.root:
        return f"the log's latest checkpoint (size {latest.size}) does not match its events"
    if saved.size == 0:
        return None
    try:
        proof = tree.reader(head.size).consistency_proof(saved.size, head.size)
        verify_consistency(saved.size, head.size, proof, saved.root, head.root)
    except ProofError as exc:
        return f"no consistency from the saved checkpoint to the latest: {exc}"
    return None
