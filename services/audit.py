"""What auditors run: the whole chain re-checked, and a learner's record as it stood then."""

from __future__ import annotations

from collections.abc import Callable

from ledger.application import Ledger
from ledger.integrity import AuditReport
from projections.replay import replay_learner
from projections.store import Document
from services.ports import ChainAudit


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
    ledger: Ledger, learner: str, *, at_sequence: int | None = None, as_of: str | None = None
) -> Document | None:
    """The learner's record rebuilt from the log alone, including exactly the events at or
    before the cut (``at_sequence``: last global position; ``as_of``: last recording time,
    RFC 3339); None when the learner had no event by then.

    Raises:
        LedgerError: neither or both cuts given.
    """
    return replay_learner(ledger, learner, at_sequence=at_sequence, as_of=as_of)
