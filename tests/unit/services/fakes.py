"""In-memory fakes of the service ports: a chain audit, a ledger's log, its read models, a signer.

No database anywhere. `FakeLedger` keeps the log in a list and checks every event against
its type's schema as the real pipeline does, so a service that writes a malformed event is
refused here too. `FakeRecords` projects that list with the real read models (learner
record, pathways, activity) into dicts when caught up, as the projector would: a service
reads in a test what it would read in production, without the SQL.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ledger.errors import LedgerError, StoreError
from ledger.integrity import AuditFailure, AuditReport, StoredRow
from ledger.records import LEDGER_ISSUER_ID, LEDGER_SOURCE, LedgerEvent, learner_stream
from projections.activity import NAME as ACTIVITY
from projections.activity import LearnerActivityProjection, empty_activity
from projections.export import SignedExport
from projections.grants import NAME as GRANTS
from projections.grants import ConsentGrantsProjection
from projections.learner_record import NAME as RECORD
from projections.learner_record import LearnerRecordProjection
from projections.pathways import NAME as PATHWAYS
from projections.pathways import PathwaysProjection
from projections.reading import NoRecordError
from projections.runner import ReadModel
from projections.store import Document
from schemas.catalogue import load_catalogue
from schemas.names import ERASURE_COMPLETED
from schemas.times import utc_seconds
from schemas.validation import EventValidator
from tests.unit.projections.feeding import feed

UNI = "https://uni.example"
# The log's clock: the event at position N was recorded N minutes after this.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_VALIDATOR = EventValidator(load_catalogue())


def recorded_at(position: int) -> str:
    """When the fake log recorded the event at ``position`` (RFC 3339, UTC)."""
    return utc_seconds(EPOCH + timedelta(minutes=position))


@dataclass
class FakeChainAudit:
    """A log of ``rows`` rows, checked in pages of ``page``; tampered at ``tampered`` (the
    first failing position) when set, as the real audit stops at the first failure."""

    rows: int = 5
    page: int = 2
    tampered: int | None = None
    reason: str = "hash mismatch"
    audits: list[int] = field(default_factory=list)

    def audit(
        self,
        progress: Callable[[int], None] | None = None,
        *,
        observe: Callable[[Sequence[StoredRow]], None] | None = None,
    ) -> AuditReport:
        end = self.rows if self.tampered is None else self.tampered - 1
        checked = 0
        while checked < end:
            n = min(self.page, end - checked)
            if observe:
                observe([self.row(p) for p in range(checked + 1, checked + n + 1)])
            checked += n
            if progress:
                progress(n)
        self.audits.append(checked)
        failure = None if self.tampered is None else AuditFailure(self.tampered, self.reason)
        return AuditReport(events_checked=checked, last_position=checked or None, failure=failure)

    @staticmethod
    def row(position: int) -> StoredRow:
        """A stand-in row: its chain hash is a digest of its position."""
        chain = hashlib.sha256(position.to_bytes(8, "big")).digest()
        return StoredRow(position, uuid.UUID(int=0), position, "t", chain + bytes(48))


class FakeLedger:
    """A ledger's log in a list: the ``LearnerHistory`` and ``LearnerLog`` ports.

    Attributes:
        events: the log, position N at index N - 1.
        erased: the learners whose key was destroyed, with the request that did it.
        refuse: a type name ``publish_own`` refuses, as the pipeline refuses an event.
    """

    def __init__(self) -> None:
        self.events: list[LedgerEvent] = []
        self.erased: dict[str, str] = {}
        self.refuse: str | None = None

    @property
    def head(self) -> int:
        return len(self.events)

    def append(
        self,
        type_name: str,
        subject: str | None,
        data: dict[str, Any],
        *,
        source: str = UNI,
        issuer: str = "uni",
        event_id: str | None = None,
    ) -> LedgerEvent:
        """Store an event as the pipeline would, after checking it against its schema.

        Raises:
            LedgerError: the event breaks its schema (the message names the first problem).
        """
        position = self.head + 1
        envelope: dict[str, Any] = {
            "specversion": "1.0",
            "id": event_id or f"e{position}",
            "source": source,
            "type": type_name,
            **({"subject": subject} if subject is not None else {}),
            "time": recorded_at(position),
            "datacontenttype": "application/json",
            "data": data,
        }
        problems = _VALIDATOR.validate(envelope)
        if problems:
            raise LedgerError(f"{type_name} refused: {problems[0].path}: {problems[0].message}")
        stream = learner_stream(subject) if subject is not None else uuid.uuid4()
        version = 1 + sum(e.stream == stream for e in self.events)
        event = LedgerEvent(
            position, stream, version, type_name, envelope, issuer, recorded_at(position),
            False, f"{position:064x}",
        )  # fmt: skip
        self.events.append(event)
        return event

    def publish_own(self, type_name: str, learner_id: str, data: dict[str, Any]) -> int:
        if type_name == self.refuse:
            raise LedgerError(f"{type_name} refused: data: refused by the test")
        event = self.append(
            type_name, learner_id, data, source=LEDGER_SOURCE, issuer=LEDGER_ISSUER_ID
        )
        return event.position

    def erase(self, learner_id: str, *, request_id: str) -> int:
        self.erased[learner_id] = request_id
        data = {"requestId": request_id, "completedAt": recorded_at(self.head + 1)}
        event = self.append(
            ERASURE_COMPLETED,
            learner_id,
            {**data, "keyDestroyed": True},
            source=LEDGER_SOURCE,
            issuer=LEDGER_ISSUER_ID,
            event_id=f"{request_id}:completed",
        )
        return event.position

    def learner_events(self, learner_id: str) -> list[LedgerEvent]:
        return [e for e in self.events if e.envelope.get("subject") == learner_id]

    def published(self, type_name: str, learner: str | None = None) -> list[dict[str, Any]]:
        """The data of every event of ``type_name`` in the log (about ``learner``)."""
        return [
            e.envelope["data"]
            for e in self.events
            if e.topic == type_name and learner in (None, e.envelope.get("subject"))
        ]


class FakeRecords:
    """The read models of a `FakeLedger` in dicts, projected by the real read models when
    caught up: the ``Records`` port.

    Attributes:
        failing: every read raises StoreError, as a database that went away.
    """

    def __init__(self, ledger: FakeLedger) -> None:
        self.ledger = ledger
        self.models: dict[str, ReadModel] = {
            RECORD: LearnerRecordProjection(),
            PATHWAYS: PathwaysProjection(),
            ACTIVITY: LearnerActivityProjection(),
            GRANTS: ConsentGrantsProjection(),
        }
        self.docs: dict[str, dict[str, Document | None]] = {name: {} for name in self.models}
        self.positions = dict.fromkeys(self.models, 0)
        self.failing = False

    def record(self, learner: str, *, catch_up: bool = True) -> Document:
        self._check()
        if catch_up:
            self.catch_up(RECORD, PATHWAYS)
        doc = self.docs[RECORD].get(learner)
        if doc is None:
            raise NoRecordError(learner)
        return copy.deepcopy(doc)

    def pathways(self) -> list[Document]:
        self._check()
        found = self.docs[PATHWAYS]
        return [copy.deepcopy(d) for _, d in sorted(found.items()) if d is not None]

    def activity(self, learner: str) -> Document:
        self._check()
        self.catch_up(ACTIVITY)
        return copy.deepcopy(self.docs[ACTIVITY].get(learner) or empty_activity(learner))

    def count(self) -> int:
        self._check()
        return sum(1 for d in self.docs[RECORD].values() if d is not None)

    def grants(self, grantee: str) -> list[Document]:
        self._check()
        self.catch_up(GRANTS)
        doc = self.docs[GRANTS].get(grantee)
        return copy.deepcopy(doc["consents"]) if doc else []

    def catch_up(self, *names: str) -> None:
        """Project what the log holds beyond each named read model's position."""
        for name in names or tuple(self.models):
            for event in self.ledger.events[self.positions[name] :]:
                feed(self.models[name], self.docs[name], event)
            self.positions[name] = self.ledger.head

    def stored(self, learner: str) -> Document | None:
        """The learner's record as it stands, not caught up."""
        return self.docs[RECORD].get(learner)

    def _check(self) -> None:
        if self.failing:
            raise StoreError("read-model store unavailable")


@dataclass
class FakeSigner:
    """Signs nothing: its "file" names the learner, the format, the credential ids it holds
    and the pathways it was given, so a test sees exactly what the service asked for.

    Attributes:
        signed: the learner and credential ids of every export signed, in order.
    """

    signed: list[tuple[str, list[str]]] = field(default_factory=list)

    def sign(
        self,
        record: Document,
        items: Sequence[Mapping[str, Any]],
        pathways: Sequence[Mapping[str, Any]],
        *,
        fmt: str,
        now: datetime,
    ) -> SignedExport:
        ids = [str(i["data"].get("credentialId")) for i in items]
        self.signed.append((str(record["learner"]), ids))
        data = orjson.dumps(
            {
                "learner": record["learner"],
                "format": fmt,
                "credentials": ids,
                "pathways": [p["pathwayId"] for p in pathways],
            }
        )
        refs = [{"source": i["ref"]["source"], "id": i["ref"]["id"]} for i in items]
        return SignedExport(f"export-{len(self.signed)}", data, fmt, len(items), refs, now)
