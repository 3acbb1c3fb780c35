"""The ledger application: one object wiring store, registry, keys and pipeline together."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson

from ledger import identity
from ledger.crypto import DecryptionError, open_personal, restore_personal
from ledger.dburl import PostgresUrl
from ledger.errors import LedgerError
from ledger.identity import RecordedKey
from ledger.integrity import (
    HASH_LEN,
    HEADER_LEN,
    KEY_OFFSET,
    SHORT_STATE,
    AuditReport,
    ChainVerifier,
    StoredRow,
)
from ledger.keys import KeyRing
from ledger.outcomes import Accepted, Channel, Duplicated, Rejected, Result
from ledger.persistence import LedgerRecorder, Trackings
from ledger.pipeline import IngestPipeline
from ledger.records import (
    LEDGER_ISSUER_ID,
    LEDGER_SOURCE,
    LedgerEvent,
    NewEvent,
    idempotency_key,
    learner_stream,
    utc_now,
)
from ledger.registry import IssuerRegistry
from ledger.sequencer import ingest_stream
from ledger.settings import Settings
from ledger.tree import LogTree
from schemas.catalogue import Catalogue, load_catalogue
from schemas.names import ERASURE_COMPLETED
from schemas.validation import EventValidator

# Names the status-list secret among those derived from the master key (never change it:
# every list issued so far is shuffled with it).
STATUS_LIST_LABEL = b"lll/status-list/v1"
# Names the seed of the key that signs the log's checkpoints when no key file is given
# (never change it: auditors and witnesses pin the key).
LOG_KEY_LABEL = b"lll/log-key/v1"

INTERNAL_KEYS = ("pd", "issuer", "recordedAt", "verification")


def open_recorder(settings: Settings) -> LedgerRecorder:
    """The store adapter the settings select (SQLite by default, PostgreSQL by URL)."""
    database = settings.database
    if isinstance(database, PostgresUrl):
        from ledger.postgres import PostgresLedgerRecorder

        return PostgresLedgerRecorder(database, native=settings.native)
    from ledger.sqlite import SQLiteLedgerRecorder

    return SQLiteLedgerRecorder(database.path)


class Ledger:
    """Composition of the ledger core. Open with :meth:`open`, close when done.

    Args:
        settings: configuration (database, master key, limits).
        recorder: the store; built from ``settings`` when omitted.
    """

    def __init__(self, settings: Settings, recorder: LedgerRecorder | None = None) -> None:
        self.settings = settings
        self.recorder = recorder or open_recorder(settings)
        self.catalogue: Catalogue = load_catalogue()
        self.validator = EventValidator(self.catalogue)
        self.registry = IssuerRegistry(self.recorder, self.catalogue)
        self.keyring = KeyRing(self.recorder, settings.master_key)
        self._recorded_keys: set[str] = set()
        self.tree = LogTree(self.recorder)
        self.pipeline = IngestPipeline(
            self.recorder,
            self.catalogue,
            self.validator,
            self.registry,
            self.keyring,
            max_event_bytes=settings.max_event_bytes,
            max_json_depth=settings.max_json_depth,
            native=settings.native,
        )

    @classmethod
    def open(cls, settings: Settings | None = None) -> Ledger:
        """Open (creating tables if needed) the ledger the settings point at."""
        ledger = cls(settings or Settings.from_env())
        ledger.recorder.create_tables()
        ledger.registry.refresh()
        return ledger

    def close(self) -> None:
        self.recorder.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------

    def ingest(
        self,
        raws: Sequence[bytes | str],
        channel: Channel,
        *,
        tracking: Trackings = None,
    ) -> list[Result]:
        """Run one batch through the shared pipeline (see :class:`IngestPipeline`)."""
        return self.pipeline.process(raws, channel, tracking=tracking)

    def ingest_stream(
        self, batches: Iterable[tuple[Sequence[bytes | str], Channel]]
    ) -> Iterator[list[Result]]:
        """Ingest many batches, overlapping preparation with appends (see
        :func:`ledger.sequencer.ingest_stream`)."""
        return ingest_stream(self.pipeline, batches)

    def publish_own(self, type_name: str, learner_id: str, data: dict[str, Any]) -> int:
        """Record a learner-side event the ledger itself publishes (consent, disclosure,
        export), through the same pipeline as every issuer's events.

        Returns:
            The event's position.

        Raises:
            LedgerError: the event is refused (the reason names the field and the rule).
        """
        now = utc_now()
        event = {
            "specversion": "1.0",
            "id": f"{type_name.split('.')[3]}-{uuid.uuid4().hex}",
            "source": LEDGER_SOURCE,
            "type": type_name,
            "subject": learner_id,
            "time": now,
            "datacontenttype": "application/json",
            "data": data,
        }
        (result,) = self.ingest([orjson.dumps(event)], Channel("ledger", LEDGER_ISSUER_ID))
        if isinstance(result, Rejected):
            problem = result.problems[0]
            raise LedgerError(f"{type_name} refused: {problem.path}: {problem.message}")
        return result.position

    def erase(self, learner_id: str, *, request_id: str | None = None) -> int:
        """Crypto-shred a learner: destroy their key and record the erasure.

        Returns:
            The position of the erasure-completed event.

        Raises:
            LedgerError: the id is not a learner id.
        """
        request_id = request_id or f"erasure-{uuid.uuid4().hex}"
        event_id = request_id + ":completed"
        now = utc_now()
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": event_id,
            "source": LEDGER_SOURCE,
            "type": ERASURE_COMPLETED,
            "subject": learner_id,
            "time": now,
            "datacontenttype": "application/json",
            "data": {"requestId": request_id, "completedAt": now, "keyDestroyed": True},
        }
        problems = self.validator.validate(event)
        if problems:
            raise LedgerError(f"cannot erase: {problems[0]}")
        body = dict(event, issuer="ledger", recordedAt=now)
        stream = learner_stream(learner_id)
        new = NewEvent.of(
            idempotency_key(LEDGER_SOURCE, event_id),
            stream,
            ERASURE_COMPLETED,
            orjson.dumps(body),
        )
        outcome = self.recorder.destroy_key(learner_id, [new])
        self.keyring.forget(learner_id)
        return outcome[0].position

    # -- the ledger as an issuer ----------------------------------------------------------

    def signing_keys(self) -> list[RecordedKey]:
        """Every public key recorded as the ledger's signing key, oldest first."""
        return identity.signing_keys(self.recorder)

    def record_signing_key(self, multikey: str) -> None:
        """Record a public signing key (``z6Mk…``) as the ledger's, once (remembered for
        the life of this object: a recorded key is never removed)."""
        if multikey not in self._recorded_keys:
            identity.record_signing_key(self.recorder, multikey)
            self._recorded_keys.add(multikey)

    def reserve_status_slot(self, reference: str) -> int:
        """Reserve a status-list slot for a credential about to be issued; its position.

        Raises:
            LedgerError: ``reference`` was reserved before.
        """
        return identity.reserve_status_slot(self.recorder, reference)

    def status_key(self) -> bytes:
        """The secret that shuffles credentials within the ledger's status lists (derived
        from the master key, so it lasts as the lists must).

        Raises:
            MasterKeyMissingError: no master key is configured.
        """
        return self.keyring.derive(STATUS_LIST_LABEL)

    def log_key_seed(self) -> bytes:
        """The seed of the Ed25519 key that signs the log's checkpoints when no key file
        is configured (derived from the master key, so it lasts as long).

        Raises:
            MasterKeyMissingError: no master key is configured.
        """
        return self.keyring.derive(LOG_KEY_LABEL)

    # -- reading --------------------------------------------------------------------------

    def decode(
        self, position: int, stream: uuid.UUID, version: int, topic: str, state: bytes
    ) -> LedgerEvent:
        """Turn a stored row back into the event as issued (personal data decrypted)."""
        return self.decode_rows([StoredRow(position, stream, version, topic, state)])[0]

    def decode_rows(self, rows: Sequence[StoredRow]) -> list[LedgerEvent]:
        """:meth:`decode` for a page of rows, with the learners' keys fetched in one query
        (not one per learner on first sight).

        Every projection decodes the whole log through here, so it is written for speed:
        one pass parses, one decrypts, and the personal data's associated data is taken
        from the row (stream id and the idempotency key stored in its chain header, what
        the pipeline sealed it with) rather than recomputed.

        Raises:
            ValueError: a stored state is shorter than its chain header.
        """
        loads = orjson.loads
        parsed: list[tuple[dict[str, Any], str | None]] = []
        sealed_for: list[str] = []
        for row in rows:
            if len(row.state) < HEADER_LEN:
                raise ValueError(f"log position {row.position}: {SHORT_STATE}")
            record: dict[str, Any] = loads(row.state[HEADER_LEN:])
            sealed: str | None = record.pop("pd", None)
            if sealed is not None:
                sealed_for.append(record.get("subject", ""))
            parsed.append((record, sealed))
        keyring = self.keyring
        if sealed_for:
            # Nothing erased by another process is decrypted from a key cached before.
            keyring.catch_up()
            keyring.preload(sealed_for)
        events: list[LedgerEvent] = []
        for row, (record, sealed) in zip(rows, parsed, strict=True):
            state = row.state
            erased = False
            if sealed is not None:
                key = keyring.for_reading(record.get("subject", ""))
                if key is None:
                    erased = True
                else:
                    aad = row.stream.bytes + state[KEY_OFFSET:HEADER_LEN]
                    try:
                        restore_personal(record["data"], open_personal(key, sealed, aad))
                    except DecryptionError:
                        erased = True
            events.append(
                LedgerEvent(
                    row.position,
                    row.stream,
                    row.version,
                    row.topic,
                    record,
                    record.pop("issuer", ""),
                    record.pop("recordedAt", ""),
                    erased,
                    state[:HASH_LEN].hex(),
                    record.pop("verification", None),
                )
            )
        return events

    def learner_events(self, learner_id: str) -> list[LedgerEvent]:
        """One learner's stream, in order, decrypted where possible."""
        rows = self.recorder.select_stream(learner_stream(learner_id))
        return self.decode_rows(rows)

    def audit(
        self,
        progress: Callable[[int], None] | None = None,
        *,
        observe: Callable[[Sequence[StoredRow]], None] | None = None,
    ) -> AuditReport:
        """Re-check the whole hash chain and every checkpoint.

        Args:
            progress: called with the number of rows checked after each page.
            observe: given each page of rows once it verified (an auditor's own tree).
        """
        verifier = ChainVerifier(self.recorder.checkpoints())
        for page in self.recorder.iter_log():
            if not verifier.feed(page):
                break
            if observe:
                observe(page)
            if progress:
                progress(len(page))
        return verifier.finish()

    def iter_log_rows(self, start: int = 1) -> Iterator[Any]:
        for page in self.recorder.iter_log(start):
            yield from page


__all__ = ["Accepted", "Channel", "Duplicated", "Ledger", "open_recorder"]
