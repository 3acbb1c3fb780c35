"""What left each learner's record: the disclosure log (every verifier read) and the exports
(each marked once the learner withdraws it).

One document per learner, apart from the learner record: these logs only grow (a record a
verifier reads daily gains a disclosure a day, each export lists what it held), and the
record is read on every view and export, which need none of it. The learner lists them
(`GET …/disclosures`, `…/exports`, `ledger consent list`). An erasure leaves a tombstone
here as in the record.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.records import LedgerEvent
from projections.learner_record import ACTIVITY_LOGS as LOGS
from projections.learner_record import subject_of, tombstone
from projections.store import Document
from schemas.names import ERASURE_COMPLETED, EXPORT_WITHDRAWN

NAME = "learner-activity"
# Events that change a learner's logs without adding to them.
_MARKS = (ERASURE_COMPLETED, EXPORT_WITHDRAWN)


def empty_activity(learner: str) -> Document:
    return {
        "learner": learner,
        "erased": False,
        "disclosures": [],
        "exports": [],
        "lastPosition": 0,
    }


class LearnerActivityProjection:
    """Projection of each learner's disclosures and exports."""

    name = NAME
    # Each document draws on one stream, the learner's: a rebuild can share streams out.
    partition_by_stream = True

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        return subject_of(event) if event.topic in LOGS or event.topic in _MARKS else ()

    def apply(self, docs: dict[str, Document | None], event: LedgerEvent) -> None:
        envelope = event.envelope
        learner: str = envelope["subject"]
        doc = docs.get(learner) or empty_activity(learner)
        if doc["erased"]:
            return
        if event.topic == ERASURE_COMPLETED:
            docs[learner] = tombstone(learner, event.position)
            return
        ref = {"source": envelope["source"], "id": envelope["id"], "position": event.position}
        if event.topic == EXPORT_WITHDRAWN:
            data = envelope.get("data") or {}
            for export in doc["exports"]:
                if export.get("exportId") == data.get("exportId") and "withdrawn" not in export:
                    export["withdrawn"] = {
                        "at": data.get("withdrawnAt"),
                        "reason": data.get("reason"),
                        "ref": ref,
                    }
            doc["lastPosition"] = event.position
            docs[learner] = doc
            return
        doc[LOGS[event.topic]].append({**(envelope.get("data") or {}), "ref": ref})
        doc["lastPosition"] = event.position
        docs[learner] = doc

    def finish(self, doc: Document) -> Document:
        return doc
