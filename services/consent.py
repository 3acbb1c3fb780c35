"""Consent: a learner grants and revokes it; its grantee reads under it, for a purpose it names.

A consent (ISO/IEC TS 27560 style: grantee, purposes, scope, notice, jurisdiction, given
and expiry times, withdrawal method, receipt id) covers whole categories and/or specific
items, each named by the (source, id) of the event behind it. The view holds the covered
items and nothing else — no other category, no count, no reference to an item outside the
scope, not even as a skill's evidence. A revoked or expired consent gives no view at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.errors import LearnerErasedError, LedgerError
from ledger.records import parse_instant
from projections.learner_record import CATEGORIES, credential_status, skills_from
from projections.reading import NoRecordError
from projections.store import Document
from schemas.names import CONSENT_GRANTED, CONSENT_REVOKED, RECORD_DISCLOSED
from schemas.times import utc_seconds
from services.ports import LearnerLog, Records

SCHEMA_VERSION = "1.0"
WITHDRAWN = ("retracted",)


class ConsentNotActiveError(Exception):
    """The consent is unknown, revoked or expired: no data may be disclosed."""


class NotYoursToReadError(LedgerError):
    """No such learner, no such consent, or a consent given to someone else: one error for
    all three, so a verifier cannot tell which records or consents exist."""

    def __init__(self) -> None:
        super().__init__("no such learner or consent, or not yours to read")


class InvalidConsentError(LedgerError):
    """A consent request breaks a rule (the message names the field)."""


class ConsentUnknownError(LedgerError):
    """The learner gave no consent with this id."""


class ConsentAlreadyRevokedError(LedgerError):
    """The consent was revoked before."""


@dataclass(frozen=True)
class ConsentTerms:
    """What a learner agrees to when granting a consent (ISO/IEC TS 27560 fields).

    Attributes:
        grantee_id: the verifier's id (the subject of its API tokens).
        grantee_name: the verifier's display name.
        purposes: why it may read (known purposes or IRIs).
        categories: whole categories covered (learning, work, credentials, skills).
        items: specific items covered, as (source, id) of the events behind them.
        expires_at: RFC 3339 instant after which the consent gives nothing.
        notice_url: the privacy notice the learner saw.
        jurisdiction: ISO 3166-1 alpha-2 country code.
        withdrawal_method: how the learner withdraws (shown on the receipt).
    """

    grantee_id: str
    grantee_name: str
    purposes: Sequence[str]
    expires_at: str
    notice_url: str
    jurisdiction: str
    withdrawal_method: str
    categories: Sequence[str] = ()
    items: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class GrantedConsent:
    """The receipt of a granted consent."""

    consent_id: str
    receipt_id: str
    position: int


# -- the operations ----------------------------------------------------------------------


def view_under_consent(
    records: Records,
    log: LearnerLog,
    learner: str,
    consent: str,
    *,
    purpose: str,
    now: datetime,
    verifier: str | None,
) -> Document:
    """What consent ``consent`` lets its grantee see of ``learner``'s record now, the read
    recorded in the learner's stream as a disclosure (naming the consent, the grantee, the
    purpose and every item shown, so the learner can list who saw what and why). A read
    that shows no item records nothing (nothing was disclosed).

    Args:
        verifier: the reader, who must be the consent's grantee; ``None`` for an operator
            reading on the grantee's behalf (``ledger consent view``).

    Raises:
        NotYoursToReadError: no record, no such consent, another verifier's consent, or
            an erased learner.
        ConsentNotActiveError: the consent is revoked, expired, or not for ``purpose``.
        StoreError: the database failed.
        LedgerError: the disclosure is refused.
    """
    try:
        doc = records.record(learner)
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
    view = verifier_view(doc, consent, now)
    terms = view["consent"]
    if purpose not in (terms.get("purposes") or ()):
        raise ConsentNotActiveError(f"consent {consent!r} does not cover purpose {purpose!r}")
    items = disclosed_refs(view)
    if items:
        log.publish_own(
            RECORD_DISCLOSED,
            str(doc["learner"]),
            {
                "disclosureId": f"disclosure-{uuid.uuid4().hex}",
                "consentId": consent,
                "granteeId": str((terms.get("grantee") or {}).get("id")),
                "purpose": purpose,
                "items": items[:1000],
                "disclosedAt": utc_seconds(now),
            },
        )
    return view


def grant(
    records: Records, log: LearnerLog, learner: str, terms: ConsentTerms, *, now: datetime
) -> GrantedConsent:
    """Record the learner's consent on ``terms`` in their stream (with its receipt).

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased.
        InvalidConsentError: the terms name no scope (no category, no item).
        StoreError: the database failed.
        LedgerError: the event is refused (the message names the field and the rule).
    """
    _live_record(records, learner)
    scope: dict[str, object] = {}
    if terms.categories:
        scope["categories"] = sorted(set(terms.categories))
    if terms.items:
        scope["items"] = [{"source": s, "id": i} for s, i in terms.items]
    if not scope:
        raise InvalidConsentError("scope: a consent needs categories or items")
    consent_id = f"consent-{uuid.uuid4().hex[:16]}"
    receipt_id = f"receipt-{uuid.uuid4().hex}"
    data = {
        "consentId": consent_id,
        "receiptId": receipt_id,
        "schemaVersion": SCHEMA_VERSION,
        "grantee": {"id": terms.grantee_id, "name": terms.grantee_name},
        "purposes": sorted(set(terms.purposes)),
        "scope": scope,
        "noticeUrl": terms.notice_url,
        "jurisdiction": terms.jurisdiction,
        "givenAt": utc_seconds(now),
        "expiresAt": terms.expires_at,
        "withdrawalMethod": terms.withdrawal_method,
    }
    position = log.publish_own(CONSENT_GRANTED, learner, data)
    return GrantedConsent(consent_id, receipt_id, position)


def revoke(records: Records, log: LearnerLog, learner: str, consent: str, *, now: datetime) -> int:
    """Withdraw one of the learner's consents at once; returns the position that records it.

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased.
        ConsentUnknownError: the learner gave no consent with this id (nothing is recorded).
        ConsentAlreadyRevokedError: it was revoked before (nothing is recorded).
        StoreError: the database failed.
        LedgerError: the event is refused.
    """
    record = _live_record(records, learner)
    given = [c for c in record.get("consents", ()) if c.get("consentId") == consent]
    if not given:
        raise ConsentUnknownError(f"--consent: the learner gave no consent {consent!r}")
    if given[0].get("status") != "granted":
        raise ConsentAlreadyRevokedError(f"--consent: consent {consent!r} was revoked before")
    data = {"consentId": consent, "revokedAt": utc_seconds(now)}
    return log.publish_own(CONSENT_REVOKED, str(record["learner"]), data)


def granted_to(records: Records, verifier: str, *, now: datetime) -> list[Document]:
    """Every consent learners gave ``verifier``, newest first, as the verifier may know it:
    learner id, consent and receipt ids, purposes, scope, given and expiry times, and its
    state now (``given``, ``revoked`` or ``expired``). Consents of erased learners are
    left out (their records hold nothing any more).

    Raises:
        StoreError: the database failed.
    """
    found: list[Document] = []
    caught_up = False
    for entry in reversed(records.grants(verifier)):
        try:
            record = records.record(entry["learner"], catch_up=not caught_up)
        except NoRecordError:
            continue
        caught_up = True
        if record.get("erased"):
            continue
        for consent in record.get("consents", ()):
            if consent.get("consentId") == entry["consentId"]:
                if (consent.get("grantee") or {}).get("id") == verifier:
                    found.append(_as_granted(record["learner"], consent, now))
                break
    return found


def consent_state(consent: Document, now: datetime) -> str:
    """``given``, ``revoked`` or ``expired`` (as of ``now``): a consent's state, ISO/IEC TS
    27560's words."""
    if consent.get("status") != "granted":
        return "revoked"
    expires = consent.get("expiresAt")
    if not isinstance(expires, str) or parse_instant(expires, "expiresAt") <= now:
        return "expired"
    return "given"


def _as_granted(learner: str, consent: Document, now: datetime) -> Document:
    shown = {
        k: consent.get(k)
        for k in ("consentId", "receiptId", "grantee", "purposes", "scope", "givenAt", "expiresAt")
    }
    return {"learner": learner, **shown, "state": consent_state(consent, now)}


def _live_record(records: Records, learner: str) -> Document:
    doc = records.record(learner)
    if doc.get("erased"):
        raise LearnerErasedError(learner)
    return doc


# -- what a consent discloses --------------------------------------------------------------


def active_consent(record: Document, consent_id: str, now: datetime) -> Document:
    """The learner's consent ``consent_id``, if it is in force at ``now``.

    Raises:
        ConsentNotActiveError: no such consent, revoked, or past its expiry.
    """
    if record.get("erased"):
        raise ConsentNotActiveError("the learner's record was erased")
    for consent in record.get("consents", ()):
        if consent.get("consentId") != consent_id:
            continue
        state = consent_state(consent, now)
        if state == "revoked":
            raise ConsentNotActiveError(f"consent {consent_id!r} was revoked")
        if state == "expired":
            raise ConsentNotActiveError(f"consent {consent_id!r} has expired")
        found: Document = consent
        return found
    raise ConsentNotActiveError(f"no consent {consent_id!r} for this learner")


def verifier_view(record: Document, consent_id: str, now: datetime) -> Document:
    """The part of ``record`` that consent ``consent_id`` discloses at ``now``.

    Raises:
        ConsentNotActiveError: the consent is not in force (nothing is disclosed).
    """
    consent = active_consent(record, consent_id, now)
    scope: dict[str, Any] = consent.get("scope") or {}
    categories = set(scope.get("categories") or ())
    named = {(i.get("source"), i.get("id")) for i in scope.get("items") or ()}
    view: Document = {
        "learner": record["learner"],
        "consent": {
            k: consent.get(k)
            for k in ("consentId", "receiptId", "grantee", "purposes", "expiresAt")
        },
    }
    shown: list[Document] = []
    for category in CATEGORIES:
        items = [
            _disclosed(item, now.date())
            for item in record.get(category, ())
            if item.get("status") not in WITHDRAWN
            and (category in categories or (item["ref"]["source"], item["ref"]["id"]) in named)
        ]
        if category in categories or items:
            view[category] = items
        shown += items
    if "skills" in categories:
        view["skills"] = skills_from(shown)
    return view


def _disclosed(item: Document, today: date) -> Document:
    out = {k: v for k, v in item.items() if k != "corrections"}
    if "revoked" in out or item.get("status") == "active":
        out["status"] = credential_status(item, today)
    return out


def disclosed_refs(view: Document) -> list[dict[str, str]]:
    """The (source, id) of every item a view shows, items first, then skill evidence."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    refs = [i["ref"] for c in CATEGORIES for i in view.get(c, ())]
    refs += [e for skill in view.get("skills", ()) for e in skill["evidence"]]
    for ref in refs:
        seen.setdefault((ref["source"], ref["id"]), {"source": ref["source"], "id": ref["id"]})
    return list(seen.values())
