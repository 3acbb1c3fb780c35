"""WorkerStats.count: each appended batch's outcomes added up by kind."""

from __future__ import annotations

from consumers.metrics import WorkerStats
from ledger.candidates import reject
from ledger.outcomes import Accepted, Duplicated, Rejected


def test_count_adds_each_kind_of_outcome_to_what_was_there() -> None:
    stats = WorkerStats(accepted=1)
    refused = reject("id", "required", "missing")
    assert isinstance(refused, Rejected)
    stats.count([Accepted(5), Duplicated(2), Accepted(6), refused, Accepted(7)])
    stats.count([Duplicated(3)])
    assert (stats.accepted, stats.duplicates, stats.rejected) == (4, 2, 1)
