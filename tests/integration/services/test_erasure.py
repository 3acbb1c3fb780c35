"""Erasure as every front end runs it: request recorded, key destroyed, read models purged."""

from __future__ import annotations

import pytest

from ledger.application import Ledger
from ledger.errors import LearnerErasedError
from projections.learner_record import NAME
from projections.reading import LedgerRecords, NoRecordError
from projections.sqlite import SQLiteProjectionStore
from schemas.names import ERASURE_REQUESTED
from services.erasure import erase_learner
from tests.integration.services.conftest import Demo

COMPLETED = "org.lll.learner.erasure-completed.v1"


@pytest.fixture
def world(demo: Demo) -> tuple[Ledger, SQLiteProjectionStore, list[str]]:
    ledger, store, population = demo
    return ledger, store, population.learners


def test_erase_learner_records_the_request_then_the_erasure_and_purges_the_record(
    world: tuple[Ledger, SQLiteProjectionStore, list[str]],
) -> None:
    ledger, store, learners = world
    learner = learners[1]
    done = erase_learner(LedgerRecords(ledger, store), ledger, learner, channel="cli")
    events = ledger.learner_events(learner)
    requested = [e for e in events if e.envelope["type"] == ERASURE_REQUESTED]
    assert [e.envelope["data"]["channel"] for e in requested] == ["cli"]
    assert requested[0].envelope["data"]["requestId"] == done.request_id
    assert events[-1].envelope["type"] == COMPLETED
    assert events[-1].position == done.position
    (registered,) = [e for e in events if e.envelope["type"] == "org.lll.learner.registered.v1"]
    assert registered.erased
    assert "name" not in registered.envelope["data"]
    # The read model is purged now, not at the next read.
    record = store.get(NAME, learner)
    assert record is not None
    assert record["erased"] is True


def test_erase_learner_without_a_record_is_refused_and_writes_nothing(
    world: tuple[Ledger, SQLiteProjectionStore, list[str]],
) -> None:
    ledger, store, _ = world
    head = ledger.recorder.max_position()
    with pytest.raises(NoRecordError):
        erase_learner(
            LedgerRecords(ledger, store), ledger, "lrn_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", channel="api"
        )
    assert ledger.recorder.max_position() == head


def test_erase_learner_twice_is_refused_the_second_time_and_writes_nothing(
    world: tuple[Ledger, SQLiteProjectionStore, list[str]],
) -> None:
    ledger, store, learners = world
    records = LedgerRecords(ledger, store)
    erase_learner(records, ledger, learners[0], channel="api")
    head = ledger.recorder.max_position()
    with pytest.raises(LearnerErasedError):
        erase_learner(records, ledger, learners[0], channel="cli")
    assert ledger.recorder.max_position() == head
