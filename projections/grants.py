"""Consents by grantee: which learners gave each verifier a consent, to list them for it.

One document per grantee id, naming each (learner, consent) pair in the order given. It
holds ids only: the consent's terms and state (revoked, expired) are read from the
learner's record when the list is shown, so a revocation needs nothing here, and an
erased learner's record (a tombstone) shows nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.records import LedgerEvent
from projections.store import Document
from schemas.names import CONSENT_GRANTED

NAME = "consent-grants"


def empty_grants(grantee: str) -> Document:
    return {"grantee": grantee, "consents": [], "lastPosition": 0}


class ConsentGrantsProjection:
    """Projection of each verifier's consents, as (learner, consent id) pairs."""

    name = NAME
    # A grantee's document draws on every learner's stream.
    partition_by_stream = False

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        if event.topic != CONSENT_GRANTED:
            return ()
        grantee = ((event.envelope.get("data") or {}).get("grantee") or {}).get("id")
        return (grantee,) if isinstance(grantee, str) else ()

    def apply(self, docs: dict[str, Document | None], event: LedgerEvent) -> None:
        envelope = event.envelope
        data = envelope.get("data") or {}
        grantee: str = data["grantee"]["id"]
        doc = docs.get(grantee) or empty_grants(grantee)
        doc["consents"].append({"learner": envelope["subject"], "consentId": data["consentId"]})
        doc["lastPosition"] = event.position
        docs[grantee] = doc

    def finish(self, doc: Document) -> Document:
        return doc
