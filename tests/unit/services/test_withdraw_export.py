"""Withdrawing an export against fakes of its ports: one export-withdrawn event for an export
the learner made, the first one's position on a repeat, and nothing for any other id."""

from __future__ import annotations

import pytest

from ledger.errors import LearnerErasedError, LedgerError
from projections.reading import NoRecordError
from schemas.names import EXPORT_WITHDRAWN, LEARNER_REGISTERED, RECORD_EXPORTED
from services.export import NoSuchExportError, withdraw_export
from tests.unit.services.conftest import LEARNER, NOW, UNKNOWN, World

EXPORT = "export-0001"
OTHER = "lrn_" + "0" * 25 + "B"


def exported(world: World, learner: str = LEARNER, export_id: str = EXPORT) -> int:
    """Record that ``learner`` exported their record as ``export_id``; its position."""
    return world.ledger.publish_own(
        RECORD_EXPORTED,
        learner,
        {
            "exportId": export_id,
            "format": "clr2-di",
            "scope": {"categories": ["credentials"]},
            "exportedAt": "2026-05-01T00:00:00Z",
        },
    )


def test_withdrawing_an_export_records_one_event_and_marks_the_export(world: World) -> None:
    exported(world)
    position = withdraw_export(
        world.records, world.ledger, LEARNER, EXPORT, now=NOW, reason="Sent to the wrong person"
    )
    assert position == world.ledger.head
    assert world.ledger.published(EXPORT_WITHDRAWN, LEARNER) == [
        {
            "exportId": EXPORT,
            "withdrawnAt": "2026-06-01T12:00:00Z",
            "reason": "Sent to the wrong person",
        }
    ]
    (export,) = world.records.activity(LEARNER)["exports"]
    assert export["withdrawn"]["ref"]["position"] == position


def test_withdrawing_without_a_reason_records_none(world: World) -> None:
    exported(world)
    withdraw_export(world.records, world.ledger, LEARNER, EXPORT, now=NOW)
    (data,) = world.ledger.published(EXPORT_WITHDRAWN)
    assert "reason" not in data


def test_withdrawing_again_returns_the_first_position_and_records_nothing(world: World) -> None:
    exported(world)
    first = withdraw_export(world.records, world.ledger, LEARNER, EXPORT, now=NOW, reason="one")
    head = world.ledger.head
    again = withdraw_export(world.records, world.ledger, LEARNER, EXPORT, now=NOW, reason="two")
    assert again == first
    assert world.ledger.head == head
    assert len(world.ledger.published(EXPORT_WITHDRAWN)) == 1


def test_withdrawing_one_export_leaves_the_others_standing(world: World) -> None:
    exported(world)
    exported(world, export_id="export-0002")
    withdraw_export(world.records, world.ledger, LEARNER, "export-0002", now=NOW)
    exports = world.records.activity(LEARNER)["exports"]
    assert {x["exportId"]: "withdrawn" in x for x in exports} == {
        EXPORT: False,
        "export-0002": True,
    }


@pytest.mark.parametrize("export_id", ["export-9999", EXPORT.upper(), ""])
def test_withdrawing_an_unknown_export_is_refused_and_records_nothing(
    world: World, export_id: str
) -> None:
    exported(world)
    head = world.ledger.head
    with pytest.raises(NoSuchExportError, match=f"made no export {export_id!r}"):
        withdraw_export(world.records, world.ledger, LEARNER, export_id, now=NOW)
    assert world.ledger.head == head


def test_a_learner_cannot_withdraw_another_learners_export(world: World) -> None:
    world.ledger.append(
        LEARNER_REGISTERED,
        OTHER,
        {"name": {"given": "Grace", "family": "Hopper"}, "registeredAt": "2025-01-01T00:00:00Z"},
    )
    exported(world, learner=OTHER)
    head = world.ledger.head
    with pytest.raises(NoSuchExportError):
        withdraw_export(world.records, world.ledger, LEARNER, EXPORT, now=NOW)
    assert world.ledger.head == head


def test_withdrawing_for_an_unknown_learner_is_refused(world: World) -> None:
    with pytest.raises(NoRecordError):
        withdraw_export(world.records, world.ledger, UNKNOWN, EXPORT, now=NOW)


def test_withdrawing_after_erasure_is_refused(world: World) -> None:
    exported(world)
    world.ledger.erase(LEARNER, request_id="erasure-1")
    head = world.ledger.head
    with pytest.raises(LearnerErasedError):
        withdraw_export(world.records, world.ledger, LEARNER, EXPORT, now=NOW)
    assert world.ledger.head == head


def test_a_refused_withdrawal_event_records_nothing(world: World) -> None:
    exported(world)
    world.ledger.refuse = EXPORT_WITHDRAWN
    head = world.ledger.head
    with pytest.raises(LedgerError, match="refused"):
        withdraw_export(world.records, world.ledger, LEARNER, EXPORT, now=NOW)
    assert world.ledger.head == head
    assert "withdrawn" not in world.records.activity(LEARNER)["exports"][0]
