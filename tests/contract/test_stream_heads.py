"""Stream versions stay exact when stores cache them: several writers, rollbacks, limits.

Each store keeps the last version of recently written streams (``StreamHeads``) instead
of asking the database for every stream of every batch. These tests open several stores
on one database, as several ingest workers would, and check every version against a
model of what was written.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import Tracking

from ledger.application import open_recorder
from ledger.errors import StoreError
from ledger.persistence import LedgerRecorder, StreamHeads
from ledger.records import Appended, learner_stream
from ledger.settings import Settings
from tests.conftest import BACKENDS, NewEventBuilder
from tests.contract.test_store import audit


@pytest.fixture(params=BACKENDS)
def two_stores(request: pytest.FixtureRequest) -> Iterator[tuple[LedgerRecorder, LedgerRecorder]]:
    """Two stores (two connection pools, two caches) on one fresh database."""
    url = request.getfixturevalue("database_url") if request.param == "sqlite" else None
    if request.param == "postgres":
        url = str(request.getfixturevalue("pg_schema_url"))
    assert url is not None
    stores = [open_recorder(Settings.from_env({}, database_url=url)) for _ in range(2)]
    stores[0].create_tables()
    yield stores[0], stores[1]
    for s in stores:
        s.close()


def test_writers_taking_turns_on_the_same_learners_get_consecutive_versions(
    two_stores: tuple[LedgerRecorder, LedgerRecorder], new_event: NewEventBuilder
) -> None:
    a, b = two_stores
    a.append([new_event("1", "lrn_A")])
    b.append([new_event("2", "lrn_A"), new_event("3", "lrn_B")])
    outcomes = a.append([new_event("4", "lrn_A"), new_event("5", "lrn_B")])
    assert outcomes == [
        Appended(4, learner_stream("lrn_A"), 3),
        Appended(5, learner_stream("lrn_B"), 2),
    ]
    audit(a)


def test_rolled_back_append_does_not_advance_versions(
    two_stores: tuple[LedgerRecorder, LedgerRecorder], new_event: NewEventBuilder
) -> None:
    a, b = two_stores
    a.append([new_event("1", "lrn_A")], tracking=Tracking("kafka:t:0", 7))
    with pytest.raises(StoreError):
        a.append([new_event("2", "lrn_A")], tracking=Tracking("kafka:t:0", 7))
    assert a.append([new_event("3", "lrn_A")]) == [Appended(2, learner_stream("lrn_A"), 2)]
    assert b.append([new_event("4", "lrn_A")]) == [Appended(3, learner_stream("lrn_A"), 3)]


@pytest.mark.parametrize(("capacity", "max_catch_up"), [(500_000, 100_000), (3, 5)])
def test_random_interleaving_of_writers_matches_a_model(
    two_stores: tuple[LedgerRecorder, LedgerRecorder],
    new_event: NewEventBuilder,
    capacity: int,
    max_catch_up: int,
) -> None:
    """Small limits force the cache to forget and to skip catching up; versions hold."""
    stores = list(two_stores)
    for store in stores:
        store._heads = StreamHeads(capacity=capacity, max_catch_up=max_catch_up)  # type: ignore[attr-defined]
    rng = random.Random(20261129)
    model: Counter[str] = Counter()
    position = 0
    for n in range(60):
        learners = [f"lrn_{rng.randrange(8)}" for _ in range(rng.randrange(1, 6))]
        store = rng.choice(stores)
        outcomes = store.append([new_event(f"e{n}.{i}", lrn) for i, lrn in enumerate(learners)])
        for lrn, outcome in zip(learners, outcomes, strict=True):
            model[lrn] += 1
            position += 1
            assert outcome == Appended(position, learner_stream(lrn), model[lrn])
    for lrn, count in model.items():
        rows = stores[0].select_stream(learner_stream(lrn))
        assert [r.version for r in rows] == list(range(1, count + 1))
    audit(stores[1])
