"""A learner's record and activity as every front end shows them."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import Ledger
from projections.reading import NoRecordError
from projections.sqlite import SQLiteProjectionStore
from services.erasure import erase_learner
from services.records import learner_activity, learner_record
from tests.unit.services.test_consent_view import read, world  # noqa: F401 - the fixture

World = tuple[Ledger, SQLiteProjectionStore, dict[str, Any]]


def test_learner_record_is_caught_up_and_presented_for_today(world: World) -> None:  # noqa: F811
    ledger, store, c = world
    doc = learner_record(ledger, store, c["learner"], today=c["now"].date())
    assert doc["learner"] == c["learner"]
    assert "pathways" in doc
    assert all("status" in item for item in doc.get("credentials", ()))


def test_learner_record_of_an_unknown_learner_is_no_record(world: World) -> None:  # noqa: F811
    ledger, store, c = world
    with pytest.raises(NoRecordError):
        learner_record(ledger, store, "lrn_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", today=c["now"].date())


def test_learner_activity_lists_a_read_under_consent_and_none_once_erased(
    world: World,  # noqa: F811
) -> None:
    ledger, store, c = world
    read(world)
    activity = learner_activity(ledger, store, c["learner"])
    assert [d["consentId"] for d in activity["disclosures"]] == [c["consentId"]]
    assert any(x["consentId"] == c["consentId"] for x in activity["consents"])
    erase_learner(ledger, store, c["learner"], channel="api")
    assert learner_activity(ledger, store, c["learner"])["disclosures"] == []
