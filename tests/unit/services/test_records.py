"""A learner's record, activity and the read models' overview, against in-memory read models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from ledger.errors import StoreError
from projections.reading import NoRecordError
from schemas.names import CREDENTIAL_ISSUED, RECORD_DISCLOSED, RECORD_EXPORTED
from services.records import learner_activity, learner_record, overview
from tests.unit.services.conftest import CONSENT, LEARNER, UNKNOWN, VERIFIER, World, credential
from tests.unit.services.fakes import FakeRecords

TODAY = date(2026, 6, 1)


def disclosed(world: World) -> int:
    return world.ledger.publish_own(
        RECORD_DISCLOSED,
        LEARNER,
        {
            "disclosureId": "disclosure-1",
            "consentId": CONSENT,
            "granteeId": VERIFIER,
            "purpose": "recruitment",
            "items": [{"source": "https://uni.example", "id": "e3"}],
            "disclosedAt": "2026-06-01T00:00:00Z",
        },
    )


def exported(world: World) -> int:
    return world.ledger.publish_own(
        RECORD_EXPORTED,
        LEARNER,
        {
            "exportId": "export-1",
            "format": "clr2-di",
            "scope": {"items": [{"source": "https://uni.example", "id": "e3"}]},
            "exportedAt": "2026-06-01T00:00:00Z",
        },
    )


def test_learner_record_is_caught_up_with_pathway_progress_and_todays_statuses(
    world: World,
) -> None:
    world.ledger.append(CREDENTIAL_ISSUED, LEARNER, credential("k4", "a4", expiresOn="2026-01-01"))
    doc = learner_record(world.records, LEARNER, today=TODAY)
    statuses = {c["data"]["credentialId"]: c["status"] for c in doc["credentials"]}
    assert statuses == {"k1": "active", "k2": "active", "k3": "revoked", "k4": "expired"}
    (pathway,) = doc["pathways"]
    assert pathway["pathway"]["pathwayId"] == "p1"
    assert pathway["complete"] is True
    assert [h["achievementId"] for h in pathway["held"]] == ["a1", "a2"]


def test_learner_record_without_catching_up_shows_the_read_model_as_it_stands(
    world: World,
) -> None:
    learner_record(world.records, LEARNER, today=TODAY)
    world.ledger.append(CREDENTIAL_ISSUED, LEARNER, credential("k4", "a4"))
    stale = learner_record(world.records, LEARNER, today=TODAY, catch_up=False)
    assert [c["data"]["credentialId"] for c in stale["credentials"]] == ["k1", "k2", "k3"]
    fresh = learner_record(world.records, LEARNER, today=TODAY)
    assert len(fresh["credentials"]) == 4


def test_learner_record_of_an_erased_learner_is_the_tombstone(world: World) -> None:
    world.ledger.erase(LEARNER, request_id="erasure-1")
    doc = learner_record(world.records, LEARNER, today=TODAY)
    assert doc == {"learner": LEARNER, "erased": True, "lastPosition": world.ledger.head}


def test_learner_activity_lists_consents_disclosures_and_exports(world: World) -> None:
    disclosed(world)
    exported(world)
    activity = learner_activity(world.records, LEARNER)
    assert [c["consentId"] for c in activity["consents"]] == [CONSENT]
    assert [d["disclosureId"] for d in activity["disclosures"]] == ["disclosure-1"]
    assert [x["exportId"] for x in activity["exports"]] == ["export-1"]


def test_learner_activity_of_a_learner_nobody_read_is_empty_lists(world: World) -> None:
    activity = learner_activity(world.records, LEARNER)
    assert (activity["disclosures"], activity["exports"]) == ([], [])


def test_learner_activity_keeps_nothing_once_the_learner_is_erased(world: World) -> None:
    disclosed(world)
    exported(world)
    world.ledger.erase(LEARNER, request_id="erasure-1")
    assert learner_activity(world.records, LEARNER) == {
        "consents": [],
        "disclosures": [],
        "exports": [],
    }


@pytest.mark.parametrize(
    "read",
    [
        lambda records: learner_record(records, UNKNOWN, today=TODAY),
        lambda records: learner_activity(records, UNKNOWN),
    ],
    ids=["record", "activity"],
)
def test_reading_an_unknown_learner_is_no_record(
    world: World, read: Callable[[FakeRecords], object]
) -> None:
    with pytest.raises(NoRecordError):
        read(world.records)


def test_reading_when_the_store_fails_is_a_store_error(world: World) -> None:
    world.records.failing = True
    with pytest.raises(StoreError):
        learner_record(world.records, LEARNER, today=TODAY)
    with pytest.raises(StoreError):
        learner_activity(world.records, LEARNER)
    with pytest.raises(StoreError):
        overview(world.records, LEARNER, [], today=TODAY)


def test_overview_counts_what_the_read_models_hold_without_catching_up(world: World) -> None:
    empty = overview(world.records, LEARNER, [], today=TODAY)
    assert (empty["learner_records"], empty["pathways"]) == (0, 0)
    assert empty["sample"]["credentials"] == 0
    other = "lrn_" + "0" * 25 + "B"
    world.ledger.append(CREDENTIAL_ISSUED, other, credential("k9", "a9"))
    world.ledger.erase(other, request_id="erasure-1")
    world.records.catch_up()
    seen = overview(world.records, LEARNER, [other], today=TODAY)
    assert seen == {
        "learner_records": 2,
        "pathways": 1,
        "sample": {
            "learning": 1,
            "work": 0,
            "credentials": 3,
            "skills": 1,
            "pathways_begun": 1,
            "pathways_complete": 1,
        },
        "erased_are_tombstones": True,
    }
    assert (
        overview(world.records, LEARNER, [LEARNER], today=TODAY)["erased_are_tombstones"] is False
    )
