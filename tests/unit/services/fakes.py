"""In-memory fakes of the service ports: a chain audit that reports what it is told."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.integrity import AuditFailure, AuditReport


@dataclass
class FakeChainAudit:
    """A log of ``rows`` rows, checked in pages of ``page``; tampered at ``tampered`` (the
    first failing position) when set, as the real audit stops at the first failure."""

    rows: int = 5
    page: int = 2
    tampered: int | None = None
    reason: str = "hash mismatch"
    audits: list[int] = field(default_factory=list)

    def audit(self, progress: Callable[[int], None] | None = None) -> AuditReport:
        end = self.rows if self.tampered is None else self.tampered - 1
        checked = 0
        while checked < end:
            n = min(self.page, end - checked)
            checked += n
            if progress:
                progress(n)
        self.audits.append(checked)
        failure = None if self.tampered is None else AuditFailure(self.tampered, self.reason)
        return AuditReport(events_checked=checked, last_position=checked or None, failure=failure)
