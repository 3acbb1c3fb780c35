"""Erasure against fakes of its ports: request recorded, key destroyed, read models purged at
once; a refused erasure destroys nothing."""

from __future__ import annotations

import pytest

from ledger.errors import LearnerErasedError, LedgerError, StoreError
from projections.reading import NoRecordError
from schemas.names import ERASURE_COMPLETED, ERASURE_REQUESTED
from services.erasure import erase_learner
from tests.unit.services.conftest import LEARNER, UNKNOWN, World


def test_erasure_records_the_request_then_destroys_the_key_and_purges_the_record(
    world: World,
) -> None:
    world.records.record(LEARNER)  # the read model holds the live record
    done = erase_learner(world.records, world.ledger, LEARNER, channel="cli")
    (requested,) = world.ledger.published(ERASURE_REQUESTED, LEARNER)
    assert (requested["requestId"], requested["channel"]) == (done.request_id, "cli")
    assert done.request_id.startswith("erasure-")
    assert world.ledger.erased == {LEARNER: done.request_id}
    last = world.ledger.events[-1]
    assert (last.topic, last.position) == (ERASURE_COMPLETED, done.position)
    assert (done.learner, done.position) == (LEARNER, world.ledger.head)
    # Purged now, not at the next read.
    assert world.records.stored(LEARNER) == {
        "learner": LEARNER,
        "erased": True,
        "lastPosition": done.position,
    }


def refused(world: World, error: type[Exception], learner: str = LEARNER) -> None:
    head = world.ledger.head
    with pytest.raises(error):
        erase_learner(world.records, world.ledger, learner, channel="api")
    assert world.ledger.head == head
    assert learner not in world.ledger.erased


def test_erasing_an_unknown_learner_is_no_record_and_writes_nothing(world: World) -> None:
    refused(world, NoRecordError, UNKNOWN)


def test_erasing_twice_is_refused_the_second_time(world: World) -> None:
    first = erase_learner(world.records, world.ledger, LEARNER, channel="api")
    head = world.ledger.head
    with pytest.raises(LearnerErasedError):
        erase_learner(world.records, world.ledger, LEARNER, channel="cli")
    assert world.ledger.head == head
    assert world.ledger.erased == {LEARNER: first.request_id}


def test_erasing_when_the_store_fails_is_a_store_error_and_destroys_nothing(
    world: World,
) -> None:
    world.records.failing = True
    refused(world, StoreError)


def test_a_refused_request_destroys_no_key(world: World) -> None:
    world.ledger.refuse = ERASURE_REQUESTED
    refused(world, LedgerError)
