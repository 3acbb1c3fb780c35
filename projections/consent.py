"""What a verifier may see of a learner record: exactly what an active consent covers.

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

from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.records import parse_instant
from projections.learner_record import CATEGORIES, credential_status, skills_from
from projections.store import Document
from schemas.names import CONSENT_GRANTED, CONSENT_REVOKED, RECORD_DISCLOSED
from schemas.times import utc_seconds

WITHDRAWN = ("retracted",)


class ConsentNotActiveError(Exception):
    """The consent is unknown, revoked or expired: no data may be disclosed."""


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
        if consent.get("status") != "granted":
            raise ConsentNotActiveError(f"consent {consent_id!r} was revoked")
        expires = consent.get("expiresAt")
        if not isinstance(expires, str) or parse_instant(expires, "expiresAt") <= now:
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


def disclose(
    ledger: Ledger, record: Document, consent_id: str, *, purpose: str, now: datetime
) -> Document:
    """A verifier's read: the view, recorded in the learner's stream as a disclosure.

    The disclosure event names the consent, the grantee, the purpose and every item shown,
    so the learner can list who saw what and why. A read that shows no item records
    nothing (nothing was disclosed).

    Raises:
        ConsentNotActiveError: the consent is not in force, or not for this purpose.
    """
    view = verifier_view(record, consent_id, now)
    consent = view["consent"]
    if purpose not in (consent.get("purposes") or ()):
        raise ConsentNotActiveError(f"consent {consent_id!r} does not cover purpose {purpose!r}")
    items = disclosed_refs(view)
    if items:
        ledger.publish_own(
            RECORD_DISCLOSED,
            str(record["learner"]),
            {
                "disclosureId": f"disclosure-{uuid.uuid4().hex}",
                "consentId": consent_id,
                "granteeId": str((consent.get("grantee") or {}).get("id")),
                "purpose": purpose,
                "items": items[:1000],
                "disclosedAt": utc_seconds(now),
            },
        )
    return view


SCHEMA_VERSION = "1.0"


class InvalidConsentError(LedgerError):
    """A consent request breaks a rule (the message names the field)."""


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


def grant_consent(
    ledger: Ledger, learner: str, terms: ConsentTerms, *, now: datetime
) -> GrantedConsent:
    """Record the learner's consent in their stream (through the ledger's own pipeline).

    Raises:
        InvalidConsentError: no scope.
        LedgerError: the event is refused (the message names the field and the rule).
    """
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
        "givenAt": _stamp(now),
        "expiresAt": terms.expires_at,
        "withdrawalMethod": terms.withdrawal_method,
    }
    position = ledger.publish_own(CONSENT_GRANTED, learner, data)
    return GrantedConsent(consent_id, receipt_id, position)


class ConsentUnknownError(LedgerError):
    """The learner gave no consent with this id."""


class ConsentAlreadyRevokedError(LedgerError):
    """The consent was revoked before."""


def revoke_consent(ledger: Ledger, record: Document, consent_id: str, *, now: datetime) -> int:
    """Withdraw one of the learner's consents at once; returns the position of the revocation.

    Args:
        record: the learner's record, caught up (its consents say what may be revoked).

    Raises:
        ConsentUnknownError: the learner gave no such consent (nothing is recorded).
        ConsentAlreadyRevokedError: it was revoked before (nothing is recorded).
        LedgerError: the event is refused.
    """
    given = [c for c in record.get("consents", ()) if c.get("consentId") == consent_id]
    if not given:
        raise ConsentUnknownError(f"--consent: the learner gave no consent {consent_id!r}")
    if given[0].get("status") != "granted":
        raise ConsentAlreadyRevokedError(f"--consent: consent {consent_id!r} was revoked before")
    data = {"consentId": consent_id, "revokedAt": _stamp(now)}
    return ledger.publish_own(CONSENT_REVOKED, str(record["learner"]), data)


def _stamp(moment: datetime) -> str:
    return utc_seconds(moment)
