"""Consent: a learner grants and revokes it; its grantee reads under it, for a purpose it names."""

from __future__ import annotations

from datetime import datetime

from ledger.application import Ledger
from ledger.errors import LearnerErasedError, LedgerError
from projections.consent import (
    ConsentTerms,
    GrantedConsent,
    disclose,
    grant_consent,
    revoke_consent,
)
from projections.reading import NoRecordError, read_learner_record
from projections.store import Document, ProjectionStore


class NotYoursToReadError(LedgerError):
    """No such learner, no such consent, or a consent given to someone else: one error for
    all three, so a verifier cannot tell which records or consents exist."""

    def __init__(self) -> None:
        super().__init__("no such learner or consent, or not yours to read")


def view_under_consent(
    ledger: Ledger,
    store: ProjectionStore,
    learner: str,
    consent: str,
    *,
    purpose: str,
    now: datetime,
    verifier: str | None,
) -> Document:
    """What consent ``consent`` lets its grantee see of ``learner``'s record now, the read
    recorded in the learner's stream as a disclosure.

    Args:
        verifier: the reader, who must be the consent's grantee; ``None`` for an operator
            reading on the grantee's behalf (``ledger consent view``).

    Raises:
        NotYoursToReadError: no record, no such consent, another verifier's consent, or
            an erased learner.
        ConsentNotActiveError: the consent is revoked, expired, or not for ``purpose``.
        StoreError: the database failed.
    """
    try:
        doc, _ = read_learner_record(ledger, store, learner)
    except NoRecordError:
        raise NotYoursToReadError() from None
    mine = [
        c
        for c in doc.get("consents", ())
        if c.get("consentId") == consent
        and (verifier is None or (c.get("grantee") or {}).get("id") == verifier)
    ]
    if not mine or doc.get("erased"):
        raise NotYoursToReadError()
    return disclose(ledger, doc, consent, purpose=purpose, now=now)


def _live_record(ledger: Ledger, store: ProjectionStore, learner: str) -> Document:
    doc, _ = read_learner_record(ledger, store, learner)
    if doc.get("erased"):
        raise LearnerErasedError(learner)
    return doc


def grant(
    ledger: Ledger, store: ProjectionStore, learner: str, terms: ConsentTerms, *, now: datetime
) -> GrantedConsent:
    """Record the learner's consent on ``terms`` (with its receipt).

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased.
        InvalidConsentError: the terms name no scope (no category, no item).
        StoreError: the database failed.
    """
    _live_record(ledger, store, learner)
    return grant_consent(ledger, learner, terms, now=now)


def revoke(
    ledger: Ledger, store: ProjectionStore, learner: str, consent: str, *, now: datetime
) -> int:
    """Revoke the learner's consent at once; returns the position that records it.

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased.
        ConsentUnknownError: the learner gave no consent with this id.
        ConsentAlreadyRevokedError: it was revoked before.
        StoreError: the database failed.
    """
    return revoke_consent(ledger, _live_record(ledger, store, learner), consent, now=now)
