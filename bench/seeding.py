"""How a benchmark fills a ledger: a demo population, its issuers registered, its events ingested
as a file would hand them over."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from demo import IssuerSpec, Population, generate_at_least
from ledger.application import Ledger
from ledger.outcomes import Accepted, Channel

SEED_BATCH = 2000


def demo_population(
    events: int,
    *,
    seed: int,
    learners: int = 50,
    events_per_learner: int = 18,
    exclude_source: str | None = None,
) -> tuple[Population, list[dict[str, Any]]]:
    """A demo population of at least ``events`` events (those of ``exclude_source`` not
    counted), from about one learner per ``events_per_learner`` events, ``learners`` at least;
    the population and its counted events."""
    return generate_at_least(
        events,
        seed=seed,
        learners=max(learners, events // events_per_learner),
        exclude_source=exclude_source,
    )


def register_issuers(ledger: Ledger, issuers: Iterable[IssuerSpec], *, suffix: str = "") -> None:
    """Register each issuer (its id with ``suffix`` added, when given)."""
    for s in issuers:
        ledger.registry.register(
            s.id + suffix, name=s.name, source=s.source, kind=s.kind, types=s.types
        )


def seed(
    ledger: Ledger,
    issuers: Iterable[IssuerSpec],
    lines: Sequence[bytes],
    *,
    batch: int = SEED_BATCH,
) -> int:
    """Register ``issuers``, then ingest ``lines`` as a file, ``batch`` to an append; how many
    were accepted."""
    register_issuers(ledger, issuers)
    batches = ((lines[i : i + batch], Channel("file")) for i in range(0, len(lines), batch))
    return sum(
        isinstance(r, Accepted) for results in ledger.ingest_stream(batches) for r in results
    )
