"""Issued credentials: each learner's standing credentials signed once, for exports to hold.

One document per learner. The projection follows the events that make a learner's
credentials (issued, revoked, corrected, retracted) with the learner record's own rules,
keeping only that part of the record, and in `finish` signs as an OB 3.0
AchievementCredential every standing credential whose unsigned content or signing key is
new (`projections.clr.issuance_digest`); the rest keep their proofs. Each is stored with
the RDF it contributes to a ClrCredential, for the export's outer proof.

Why a projection rather than a cache filled by exports: it follows the log, so an
erasure replaces the document by a tombstone (no personal data, no credential kept) the
moment it is projected, and rebuild, kill and resume work as for every read model.
Exports check each stored credential's digest and sign anything missing or stale on the
spot, so a lagging projection slows an export down but never makes it wrong. A new
signing key re-signs a learner's credentials when their next event is projected; rebuild
the projection after rotating the key to re-sign everyone at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from credentials.errors import CanonicalizationError, ContextNotAllowedError
from credentials.identity import Issuance
from ledger.records import LedgerEvent
from projections.clr import achievement_credential, exported_items, issuance_digest, issue
from projections.learner_record import (
    LearnerRecordProjection,
    category_of,
    empty_record,
    subject_of,
    tombstone,
)
from projections.store import Document
from schemas.names import CREDENTIAL_ENDORSED, ERASURE_COMPLETED

NAME = "issued-credentials"
# Categories whose events change a learner's credential items (endorsements are not exported).
CATEGORIES = ("credentials", "corrections")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class IssuedCredentialsProjection:
    """Signs each learner's standing credentials once, with the ledger's key.

    Args:
        issuance: the ledger's signing identity and status lists
            (``services.signing.issuance``).
        clock: when a proof is made (default: now, to the second).
    """

    name = NAME
    # Its documents are the learner record's, one per learner stream: see projections.rebuild.
    partition_by_stream = True

    def __init__(self, issuance: Issuance, *, clock: Callable[[], datetime] = _now) -> None:
        self._status = issuance.status
        self._key = issuance.identity.key
        self._method = issuance.identity.method
        self._did = issuance.identity.did
        self._clock = clock
        self._record = LearnerRecordProjection()

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        if (
            category_of(event.topic) in CATEGORIES and event.topic != CREDENTIAL_ENDORSED
        ) or event.topic == ERASURE_COMPLETED:
            return subject_of(event)
        return ()

    def apply(self, docs: dict[str, Document | None], event: LedgerEvent) -> None:
        learner: str = event.envelope["subject"]
        doc = docs.get(learner) or {
            "learner": learner,
            "erased": False,
            "record": empty_record(learner),
            "issued": {},
            "lastPosition": 0,
        }
        if doc["erased"]:
            return
        view: dict[str, Document | None] = {learner: doc["record"]}
        self._record.apply(view, event)
        record = view[learner]
        if record is None or record["erased"]:
            docs[learner] = tombstone(learner, event.position)
            return
        doc["record"] = record
        doc["lastPosition"] = event.position
        docs[learner] = doc

    def finish(self, doc: Document) -> Document:
        if doc["erased"]:
            return doc
        learner = str(doc["learner"])
        previous: dict[str, Any] = doc["issued"]
        issued: dict[str, Any] = {}
        now: datetime | None = None
        for item in exported_items(doc["record"], None):
            unsigned = achievement_credential(
                item, learner=learner, issuer_did=self._did, status=self._status
            )
            digest = issuance_digest(unsigned, self._method)
            if digest in issued:
                continue
            entry = previous.get(digest)
            if entry is None:
                now = now or self._clock()
                try:
                    entry = issue(unsigned, self._key, self._method, now=now)
                except (CanonicalizationError, ContextNotAllowedError):
                    # Not signable: left out, so an export signs it on the spot and reports
                    # the error to its user; the projection itself must not stop here.
                    continue
            issued[digest] = entry
        doc["issued"] = issued
        return doc
