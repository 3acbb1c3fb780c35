"""An erasure made by one process holds in every other: an ingest worker or a reader that
cached the learner's key before the erasure neither accepts the learner's new events nor
decrypts their personal data afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from demo import generate
from ledger.application import Ledger
from ledger.crypto import generate_key
from ledger.errors import ErasedMeanwhileError
from ledger.outcomes import Accepted, Channel, Rejected
from ledger.settings import Settings

backends = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)

Two = tuple[Ledger, Ledger, list[dict[str, Any]], str]


@pytest.fixture
def two(database_url: str) -> Iterator[Two]:
    """A worker and an operator (two ledgers, as two processes would open them) on one
    store; the worker has ingested the first half of a demo population, so it holds the
    keys of those learners; ``learner`` has events in both halves."""
    settings = Settings.from_env({}, database_url=database_url, _master_key=generate_key())
    population = generate(seed=4, learners=6)
    with Ledger.open(settings) as worker, Ledger.open(settings) as operator:
        for s in population.issuers:
            worker.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
        half = len(population.events) // 2
        first = worker.ingest([orjson.dumps(e) for e in population.events[:half]], Channel("file"))
        assert all(isinstance(r, Accepted) for r in first)
        later = population.events[half:]
        earlier = {e.get("subject") for e in population.events[:half]}
        learner = next(e["subject"] for e in later if e.get("subject") in earlier)
        yield worker, operator, later, learner


def _about(events: list[dict[str, Any]], learner: str) -> list[bytes]:
    return [orjson.dumps(e) for e in events if e.get("subject") == learner]


@backends
def test_a_worker_refuses_the_events_of_a_learner_another_process_erased(two: Two) -> None:
    worker, operator, later, learner = two
    operator.erase(learner)
    head = worker.recorder.max_position()
    results = worker.ingest(_about(later, learner), Channel("file"))
    assert results
    assert all(isinstance(r, Rejected) for r in results)
    assert {r.problems[0].rule for r in results if isinstance(r, Rejected)} == {"not-erased"}
    assert worker.recorder.max_position() == head


@backends
def test_an_erasure_between_preparing_and_appending_a_batch_refuses_the_append(two: Two) -> None:
    worker, operator, later, learner = two
    prepared = worker.pipeline.prepare(_about(later, learner), Channel("file"))
    assert prepared.events
    operator.erase(learner)
    head = worker.recorder.max_position()
    with pytest.raises(ErasedMeanwhileError):
        worker.pipeline.commit(prepared)
    assert worker.recorder.max_position() == head
    # Prepared again, the learner's events are refused.
    again = worker.pipeline.commit(worker.pipeline.prepare(_about(later, learner), Channel("file")))
    assert all(isinstance(r, Rejected) for r in again)


@backends
def test_other_learners_batches_are_appended_across_an_erasure(two: Two) -> None:
    worker, operator, later, learner = two
    others = [orjson.dumps(e) for e in later if e.get("subject") not in (None, learner)]
    prepared = worker.pipeline.prepare(others, Channel("file"))
    operator.erase(learner)
    results = worker.pipeline.commit(prepared)
    assert results
    assert all(isinstance(r, Accepted) for r in results)


@backends
def test_a_reader_no_longer_decrypts_what_another_process_erased(two: Two) -> None:
    worker, operator, _, learner = two
    before = [e for e in worker.learner_events(learner) if e.envelope.get("data")]
    sealed = [
        e.position for e in before if not e.erased and e.envelope["type"].endswith("registered.v1")
    ]
    assert sealed  # decrypted from the key this process cached
    operator.erase(learner)
    after = {e.position: e for e in worker.learner_events(learner)}
    assert all(after[p].erased for p in sealed)
    assert all("name" not in after[p].envelope["data"] for p in sealed)
