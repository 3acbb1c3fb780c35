"""Reading a learner's record from the read models: caught up with the log, then presented.

`LedgerRecords` is what the services read through (their ``Records`` port), so a record
looks the same whichever front end asks for it.
"""

from __future__ import annotations

from datetime import date

from ledger.application import Ledger
from ledger.errors import LedgerError
from projections.activity import NAME as ACTIVITY
from projections.activity import LearnerActivityProjection, empty_activity
from projections.grants import NAME as GRANTS
from projections.grants import ConsentGrantsProjection
from projections.learner_record import NAME, LearnerRecordProjection, credential_status
from projections.pathways import NAME as PATHWAYS
from projections.pathways import PathwaysProjection, progress
from projections.runner import Projector, ReadModel
from projections.store import Document, ProjectionStore


class NoRecordError(LedgerError):
    """The learner has no record (no event about them was ever accepted)."""

    def __init__(self, learner_id: str) -> None:
        super().__init__(f"no record for learner {learner_id!r}")
        self.learner_id = learner_id


def catch_up_records(ledger: Ledger, store: ProjectionStore, *more: ReadModel) -> None:
    """Bring the learner record and pathway read models, and ``more``, up to the log's end
    (those at it already cost a position read each, no log query)."""
    catch_up_all(ledger, store, [LearnerRecordProjection(), PathwaysProjection(), *more])


def catch_up_all(ledger: Ledger, store: ProjectionStore, projections: list[ReadModel]) -> None:
    """Catch up each of ``projections`` that is behind the log's head as read now."""
    head = ledger.recorder.max_position()
    for projection in projections:
        if store.position(projection.name) < head:
            Projector(ledger, store, projection).catch_up()


class LedgerRecords:
    """The read models of ``store``, caught up with ``ledger``'s log as they are read (the
    services' ``Records`` port)."""

    def __init__(self, ledger: Ledger, store: ProjectionStore) -> None:
        self.ledger = ledger
        self.store = store

    def record(self, learner: str, *, catch_up: bool = True) -> Document:
        """The learner's record, the record and pathway read models caught up with the log
        first (unless ``catch_up`` is off).

        Raises:
            NoRecordError: the learner has no record.
            StoreError: the database failed.
        """
        if catch_up:
            catch_up_records(self.ledger, self.store)
        doc = self.store.get(NAME, learner)
        if doc is None:
            raise NoRecordError(learner)
        return doc

    def pathways(self) -> list[Document]:
        """Every pathway definition, as the read model holds it now."""
        return [d for _, d in self.store.scan(PATHWAYS)]

    def activity(self, learner: str) -> Document:
        """The learner's disclosures and exports (lists empty when there are none yet),
        caught up with the log first.

        Raises:
            StoreError: the database failed.
        """
        catch_up_all(self.ledger, self.store, [LearnerActivityProjection()])
        return self.store.get(ACTIVITY, learner) or empty_activity(learner)

    def count(self) -> int:
        """How many learners the record read model holds now (tombstones included)."""
        return sum(1 for _ in self.store.scan(NAME))

    def grants(self, grantee: str) -> list[Document]:
        """The (learner, consentId) of every consent given to ``grantee``, oldest first,
        caught up with the log first.

        Raises:
            StoreError: the database failed.
        """
        catch_up_all(self.ledger, self.store, [ConsentGrantsProjection()])
        doc = self.store.get(GRANTS, grantee)
        return list(doc["consents"]) if doc else []


def present_record(doc: Document, pathways: list[Document], today: date) -> Document:
    """The record as shown to its learner: progress on each pathway begun, and each
    credential's status judged on ``today`` (expiry is not an event). Changes ``doc``."""
    if not doc.get("erased"):
        doc["pathways"] = progress(doc, pathways, today)
    for item in doc.get("credentials", ()):
        item["status"] = credential_status(item, today)
    return doc
