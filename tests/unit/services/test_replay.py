"""The auditor's replay against a fake learner history: the record as it stood at a cut."""

from __future__ import annotations

import pytest

from ledger.errors import LedgerError
from services.audit import replay_record
from tests.unit.services.conftest import LEARNER, UNKNOWN, World
from tests.unit.services.fakes import recorded_at


def test_replay_to_the_head_is_the_live_record(world: World) -> None:
    assert replay_record(world.ledger, LEARNER, at_sequence=world.ledger.head) == (
        world.records.record(LEARNER)
    )


def test_replay_to_a_position_holds_only_the_events_at_or_before_it(world: World) -> None:
    early = replay_record(world.ledger, LEARNER, at_sequence=3)
    assert early is not None
    assert early["lastPosition"] == 3
    assert [c["data"]["credentialId"] for c in early["credentials"]] == ["k1"]
    assert early["consents"] == []


def test_replay_as_of_a_time_equals_replay_to_the_last_position_recorded_by_then(
    world: World,
) -> None:
    by_time = replay_record(world.ledger, LEARNER, as_of=recorded_at(4))
    assert by_time == replay_record(world.ledger, LEARNER, at_sequence=4)


def test_replay_before_the_learners_first_event_or_of_an_unknown_learner_is_none(
    world: World,
) -> None:
    assert replay_record(world.ledger, LEARNER, at_sequence=0) is None
    assert replay_record(world.ledger, UNKNOWN, at_sequence=world.ledger.head) is None


def test_replay_of_an_erased_learner_after_the_erasure_is_a_tombstone(world: World) -> None:
    before = world.ledger.head
    world.ledger.erase(LEARNER, request_id="erasure-1")
    after = replay_record(world.ledger, LEARNER, at_sequence=world.ledger.head)
    assert after == {"learner": LEARNER, "erased": True, "lastPosition": world.ledger.head}
    assert replay_record(world.ledger, LEARNER, at_sequence=before) == (
        replay_record(world.ledger, LEARNER, as_of=recorded_at(before))
    )


@pytest.mark.parametrize(
    ("cuts", "message"),
    [
        ({}, "exactly one"),
        ({"at_sequence": 3, "as_of": "2026-01-01T00:00:00Z"}, "exactly one"),
        ({"as_of": "2026-01-01T00:00:00"}, "time zone"),
        ({"as_of": "yesterday"}, "RFC 3339"),
    ],
)
def test_replay_refuses_neither_or_both_cuts_or_a_time_without_a_zone(
    world: World, cuts: dict[str, object], message: str
) -> None:
    with pytest.raises(LedgerError, match=message):
        replay_record(world.ledger, LEARNER, **cuts)  # type: ignore[arg-type]
