"""The ports the services name: what an operation needs of the ledger and its read models,
as structural types.

The real `Ledger` is a `ChainAudit`, a `LearnerHistory` and a `LearnerLog`;
`projections.reading.LedgerRecords` is the `Records` of a ledger and its read-model store;
`projections.export.ClrSigner` is the `Signer`. The unit tests run every service against
in-memory fakes of these (tests/unit/services/fakes.py), and tests/contract checks that
the real adapters and the fakes all satisfy them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from credentials.identity import Issuance
from ledger.identity import RecordedKey
from ledger.integrity import AuditReport, StoredRow
from ledger.records import LedgerEvent
from ledger.tree import LogTree
from projections.export import SignedExport
from projections.status import PublishedList
from projections.store import Document


@runtime_checkable
class ChainAudit(Protocol):
    """The chain audit: the whole log and every checkpoint re-checked."""

    def audit(
        self,
        progress: Callable[[int], None] | None = None,
        *,
        observe: Callable[[Sequence[StoredRow]], None] | None = None,
    ) -> AuditReport:
        """The report of re-checking the log; ``progress`` gets each page's row count,
        ``observe`` each page of rows once it verified (an auditor's own tree)."""
        ...


@runtime_checkable
class LogAudit(ChainAudit, Protocol):
    """The chain audit with the log's stored Merkle tree (the ledger)."""

    tree: LogTree


@runtime_checkable
class LearnerHistory(Protocol):
    """A learner's stream read back from the log, for replay."""

    def learner_events(self, learner_id: str) -> Sequence[LedgerEvent]:
        """The learner's events in log order, personal data decrypted while their key exists."""
        ...


@runtime_checkable
class LearnerLog(Protocol):
    """The learner's stream as the ledger itself writes it: its own events, and erasure."""

    def publish_own(self, type_name: str, learner_id: str, data: dict[str, Any]) -> int:
        """Record a learner-side event of ``type_name`` through the ledger's pipeline;
        returns its position.

        Raises:
            LedgerError: the event is refused (the message names the field and the rule).
        """
        ...

    def erase(self, learner_id: str, *, request_id: str) -> int:
        """Destroy the learner's key and record the erasure completing ``request_id``;
        returns the position of that record."""
        ...


@runtime_checkable
class Records(Protocol):
    """The read models a learner's record is read from."""

    def record(self, learner: str, *, catch_up: bool = True) -> Document:
        """The learner's record (a tombstone once erased), the record and pathway read
        models first caught up with the log unless ``catch_up`` is off; a copy the caller
        may change.

        Raises:
            NoRecordError: no event about this learner was ever accepted.
            StoreError: the database failed.
        """
        ...

    def pathways(self) -> list[Document]:
        """Every pathway definition, as the read model holds it now."""
        ...

    def activity(self, learner: str) -> Document:
        """The learner's disclosures and exports (lists empty when there are none yet),
        that read model first caught up with the log.

        Raises:
            StoreError: the database failed.
        """
        ...

    def count(self) -> int:
        """How many learners the record read model holds now (tombstones included)."""
        ...

    def grants(self, grantee: str) -> list[Document]:
        """The (learner, consentId) of every consent given to ``grantee``, oldest first,
        that read model first caught up with the log.

        Raises:
            StoreError: the database failed.
        """
        ...


@runtime_checkable
class IssuerKeys(Protocol):
    """The ledger's record of itself as an issuer: its signing keys and its status secret."""

    def signing_keys(self) -> list[RecordedKey]:
        """Every public key recorded as the ledger's signing key, oldest first."""
        ...

    def record_signing_key(self, multikey: str) -> None:
        """Record a public signing key (``z6Mk…``) as the ledger's, once."""
        ...

    def status_key(self) -> bytes:
        """The secret that places credentials in the ledger's status lists.

        Raises:
            MasterKeyMissingError: no master key is configured.
        """
        ...


@runtime_checkable
class LogHome(Protocol):
    """The log's stored tree, and where its key comes from when no key file is set (the
    ledger)."""

    tree: LogTree

    def log_key_seed(self) -> bytes:
        """32 bytes derived from the master key."""
        ...


class StatusListSource(Protocol):
    """The ledger's status lists as served."""

    def published(self, issuing: Issuance, purpose: str, number: int) -> PublishedList:
        """List ``number`` for ``purpose``, signed as ``issuing``.

        Raises:
            NoSuchListError: the ledger publishes no such list.
            StoreError: the database failed.
        """
        ...


@runtime_checkable
class Signer(Protocol):
    """The export's signature: a record's credentials as a signed ClrCredential."""

    def sign(
        self,
        record: Document,
        items: Sequence[Mapping[str, Any]],
        pathways: Sequence[Mapping[str, Any]],
        *,
        fmt: str,
        now: datetime,
    ) -> SignedExport:
        """``items`` of ``record`` (its credential items) signed as AchievementCredentials
        inside a ClrCredential, linked to ``pathways``; ``fmt`` is ``di`` (Data Integrity
        JSON) or ``jwt`` (the outer credential as a VC-JWT), ``now`` the issuance time."""
        ...
