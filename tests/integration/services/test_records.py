"""A learner's record and activity as every front end shows them."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import Ledger
from projections.reading import LedgerRecords, NoRecordError
from projections.sqlite import SQLiteProjectionStore
from services.erasure import erase_learner
from services.records import learner_activity, learner_record
from tests.integration.services.test_consent_view import read, world  # noqa: F401 - the fixture

World = tuple[Ledger, SQLiteProjectionStore, dict[str, Any]]


def test_learner_record_is_caught_up_and_presented_for_today(world: World) -> None:  # noqa: F811
    ledger, store, c = world
    doc = learner_record(LedgerRecords(ledger, store), c["learner"], today=c["now"].date())
    assert doc["learner"] == c["learner"]
    assert "pathways" in doc
    assert all("status" in item for item in doc.get("credentials", ()))


def test_learner_record_of_an_unknown_learner_is_no_record(world: World) -> None:  # noqa: F811
    ledger, store, c = world
    with pytest.raises(NoRecordError):
        learner_record(
            LedgerRecords(ledger, store), "lrn_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", today=c["now"].date()
        )


def test_learner_activity_lists_a_read_under_consent_and_none_once_erased(
    world: World,  # noqa: F811
) -> None:
    ledger, store, c = world
    records = LedgerRecords(ledger, store)
    read(world)
    activity = learner_activity(records, c["learner"])
    assert [d["consentId"] for d in activity["disclosures"]] == [c["consentId"]]
    assert any(x["consentId"] == c["consentId"] for x in activity["consents"])
    erase_learner(records, ledger, c["learner"], channel="api")
    assert learner_activity(records, c["learner"])["disclosures"] == []
