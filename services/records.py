"""Reading a learner's own record and activity, as the learner (or an operator) sees them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from projections.pathways import progress
from projections.reading import NoRecordError, present_record
from projections.store import Document
from services.ports import Records

__all__ = ["ACTIVITY", "NoRecordError", "learner_activity", "learner_record", "overview"]

ACTIVITY = ("consents", "disclosures", "exports")


def learner_record(
    records: Records, learner: str, *, today: date, catch_up: bool = True
) -> Document:
    """The learner's comprehensive record, caught up with the log (unless ``catch_up`` is
    off), with progress on each pathway begun and each credential's status on ``today``.

    Raises:
        NoRecordError: no event about this learner was ever accepted.
        StoreError: the database failed.
    """
    doc = records.record(learner, catch_up=catch_up)
    return present_record(doc, records.pathways(), today)


def learner_activity(records: Records, learner: str) -> dict[str, Any]:
    """The learner's consents (from the record) and who read or exported it (logged apart;
    none are kept once the learner is erased), newest last.

    Raises:
        NoRecordError: no event about this learner was ever accepted.
        StoreError: the database failed.
    """
    record = records.record(learner)
    activity = record if record.get("erased") else records.activity(learner)
    return {
        "consents": record.get("consents", []),
        "disclosures": activity.get("disclosures", []),
        "exports": activity.get("exports", []),
    }


def overview(
    records: Records, sample: str, erased: Collection[str], *, today: date
) -> dict[str, Any]:
    """The read models as they stand (not caught up): how many learner records and pathway
    definitions they hold, one learner's record in counts, and whether every erased
    learner's record is a tombstone (what `ledger demo` reports).

    Raises:
        StoreError: the database failed.
    """
    record = _stored(records, sample) or {}
    pathways = records.pathways()
    standing = progress(record, pathways, today)
    return {
        "learner_records": records.count(),
        "pathways": len(pathways),
        "sample": {
            "learning": len(record.get("learning", ())),
            "work": len(record.get("work", ())),
            "credentials": len(record.get("credentials", ())),
            "skills": len(record.get("skills", ())),
            "pathways_begun": len(standing),
            "pathways_complete": sum(1 for p in standing if p["complete"]),
        },
        "erased_are_tombstones": all(
            (_stored(records, lid) or {}).get("erased") is True for lid in erased
        ),
    }


def _stored(records: Records, learner: str) -> Document | None:
    try:
        return records.record(learner, catch_up=False)
    except NoRecordError:
        return None
