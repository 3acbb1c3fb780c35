"""The outcome of verifying a credential, and the validity-period check every proof form shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Failure(StrEnum):
    """Why a verification failed, one value per kind of cause."""

    NO_PROOF = "no proof"
    MALFORMED_PROOF = "malformed proof"
    UNKNOWN_CRYPTOSUITE = "unknown cryptosuite"
    UNSUPPORTED_ALGORITHM = "unsupported algorithm"
    WRONG_PROOF_PURPOSE = "wrong proof purpose"
    BAD_PROOF_VALUE = "bad proofValue encoding"
    CONTEXT_NOT_ALLOWED = "context not allowed"
    CANONICALIZATION = "canonicalisation error"
    KEY_NOT_RESOLVABLE = "key not resolvable"
    SIGNATURE_MISMATCH = "signature mismatch"
    MALFORMED_CREDENTIAL = "malformed credential"
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    TOO_DEEP = "nested too deep"
    ISSUER_NOT_BOUND = "issuer not bound"
    REVOKED = "revoked or suspended"


@dataclass(frozen=True, slots=True)
class Verification:
    """`ok` with an empty reason, or the failure and a sentence naming what failed.

    ``warnings`` name what was seen but not judged on a verification that holds (e.g. a
    proof of a kind the ledger does not know, beside one that verified).
    """

    ok: bool
    reason: str = ""
    failure: Failure | None = None
    warnings: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def passed(cls, warnings: tuple[str, ...] = ()) -> Verification:
        """A successful verification (with what it could not judge, if anything)."""
        return cls(ok=True, warnings=warnings)

    @classmethod
    def failed(cls, failure: Failure, detail: str) -> Verification:
        """A failed verification whose reason starts with the failure's name."""
        return cls(ok=False, reason=f"{failure.value}: {detail}", failure=failure)


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    """The credential's issuer id (``issuer`` as a string, or its ``id``); None if absent."""
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def parse_datetime(value: Any) -> datetime | None:
    """An aware datetime from an XSD dateTime string (no zone means UTC); None if malformed."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_validity_period(credential: Mapping[str, Any], now: datetime) -> Verification:
    """Whether `now` lies within the credential's validity period.

    Reads `validFrom`/`validUntil` (VC 2.0) and `issuanceDate`/`expirationDate` (VC 1.1).

    Args:
        credential: the credential (without regard to its proof).
        now: the time to judge by, timezone-aware.
    """
    for field, failure, too_early in (
        ("validUntil", Failure.EXPIRED, False),
        ("expirationDate", Failure.EXPIRED, False),
        ("validFrom", Failure.NOT_YET_VALID, True),
        ("issuanceDate", Failure.NOT_YET_VALID, True),
    ):
        if field not in credential:
            continue
        moment = parse_datetime(credential[field])
        if moment is None:
            return Verification.failed(
                Failure.MALFORMED_CREDENTIAL, f"{field} {credential[field]!r} is not a dateTime"
            )
        if (moment > now) if too_early else (moment <= now):
            judged = "is still to come" if too_early else "has passed"
            return Verification.failed(
                failure, f"{field} {credential[field]} {judged} (now {now.isoformat()})"
            )
    return Verification.passed()
