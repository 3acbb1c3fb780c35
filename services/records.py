"""Reading a learner's own record and activity, as the learner (or an operator) sees them."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.application import Ledger
from projections.reading import present_record, read_learner_activity, read_learner_record
from projections.store import Document, ProjectionStore

ACTIVITY = ("consents", "disclosures", "exports")


def learner_record(
    ledger: Ledger, store: ProjectionStore, learner: str, *, today: date, catch_up: bool = True
) -> Document:
    """The learner's comprehensive record, caught up with the log (unless ``catch_up`` is
    off), with progress on each pathway begun and each credential's status on ``today``.

    Raises:
        NoRecordError: no event about this learner was ever accepted.
        StoreError: the database failed.
    """
    doc, pathways = read_learner_record(ledger, store, learner, catch_up=catch_up)
    return present_record(doc, pathways, today)


def learner_activity(ledger: Ledger, store: ProjectionStore, learner: str) -> dict[str, Any]:
    """The learner's consents (from the record) and who read or exported it (logged apart;
    none are kept once the learner is erased), newest last.

    Raises:
        NoRecordError: no event about this learner was ever accepted.
        StoreError: the database failed.
    """
    record, _ = read_learner_record(ledger, store, learner)
    activity = record if record.get("erased") else read_learner_activity(ledger, store, learner)
    return {
        "consents": record.get("consents", []),
        "disclosures": activity.get("disclosures", []),
        "exports": activity.get("exports", []),
    }
