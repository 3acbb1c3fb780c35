"""Reading a learner's record under their consent: only its grantee, for a purpose it names."""

from __future__ import annotations

from datetime import datetime

from ledger.application import Ledger
from ledger.errors import LedgerError
from projections.consent import disclose
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
