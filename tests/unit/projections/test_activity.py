"""Disclosures and exports are logged apart from the learner record (no database)."""

from __future__ import annotations

from typing import Any

from projections.activity import LearnerActivityProjection
from projections.learner_record import LearnerRecordProjection
from projections.store import Document
from tests.unit.projections.feeding import feed
from tests.unit.projections.test_learner_record import LEARNER, Recorder, credential

LEDGER = "urn:lll:ledger"


class Both(Recorder):
    """Feeds each event to the learner record and to the activity log, as two runners would."""

    def __init__(self) -> None:
        super().__init__()
        self.activity = LearnerActivityProjection()
        self.logs: dict[str, Document | None] = {}

    def emit(self, topic: str, data: dict[str, Any], **kwargs: Any) -> Any:
        event = super().emit(topic, data, **kwargs)
        feed(self.activity, self.logs, event)
        return event

    @property
    def log(self) -> Document:
        doc = self.logs[LEARNER]
        assert doc is not None
        return doc


def test_disclosures_and_exports_go_to_the_activity_log_not_the_record() -> None:
    both = Both()
    both.emit("credentials.issued", credential("c1"))
    record_before = dict(both.record)
    both.emit(
        "learner.record-disclosed",
        {"consentId": "k1", "granteeId": "talentco", "scope": {"categories": ["work"]}},
        source=LEDGER,
    )
    both.emit(
        "learner.record-exported",
        {"exportId": "x1", "format": "clr2-jwt", "scope": {"items": [{"source": "s", "id": "i"}]}},
        source=LEDGER,
    )
    assert both.record == record_before  # the record was not even touched
    assert "disclosures" not in both.record
    assert "exports" not in both.record
    ((disclosure,), (export,)) = both.log["disclosures"], both.log["exports"]
    assert disclosure["consentId"] == "k1"
    assert disclosure["ref"] == {"source": LEDGER, "id": "e2", "position": 2}
    assert export["exportId"] == "x1"
    assert export["ref"]["position"] == 3
    assert both.log["lastPosition"] == 3


def test_erasure_leaves_a_tombstone_in_the_activity_log() -> None:
    both = Both()
    both.emit("learner.record-disclosed", {"consentId": "k1", "granteeId": "v"}, source=LEDGER)
    both.emit("learner.erasure-completed", {"requestId": "r"}, source=LEDGER)
    both.emit("learner.record-exported", {"exportId": "x2"}, source=LEDGER)
    assert both.log == {"learner": LEARNER, "erased": True, "lastPosition": 2}


def test_the_activity_log_ignores_everything_else() -> None:
    both = Both()
    both.emit("credentials.issued", credential("c1"))
    both.emit("learner.consent-granted", {"consentId": "k1"}, source=LEDGER)
    assert LEARNER not in both.logs


def test_a_record_projected_with_the_logs_inside_loses_them_when_saved_again() -> None:
    projection = LearnerRecordProjection()
    both = Both()
    both.emit("credentials.issued", credential("c1"))
    legacy = {**both.record, "disclosures": [{"consentId": "k"}], "exports": [{"exportId": "x"}]}
    finished = projection.finish(legacy)
    assert "disclosures" not in finished
    assert "exports" not in finished
    assert finished["credentials"] == both.record["credentials"]
