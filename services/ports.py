"""The ports the services name: what an operation needs of the ledger, as structural types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ledger.integrity import AuditReport


@runtime_checkable
class ChainAudit(Protocol):
    """The chain audit: the whole log and every checkpoint re-checked."""

    def audit(self, progress: Callable[[int], None] | None = None) -> AuditReport:
        """The report of re-checking the log; ``progress`` gets each page's row count."""
        ...
