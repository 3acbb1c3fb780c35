"""Inbound credentials: verify the issuer's proof on a credential a credential-issued event embeds.

The embedded credential is personal data, so nothing here ever puts its content into a
reason: reasons name the failure kind, where in the credential it happened, and (for
validity periods) the dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credentials import dataintegrity
from credentials.errors import KeyFormatError, KeyResolutionError, TooDeepError
from credentials.held import held_by, judge_held
from credentials.jwt import credential_of, decode_jwt, verify_jwt
from credentials.keys import (
    KeyResolver,
    PublicKey,
    did_key_of,
    public_key_from_jwk,
    resolve_fragment_multikey,
)
from credentials.verification import Failure, Verification, issuer_id, parse_datetime
from schemas.limits import DEFAULT_MAX_DEPTH

JSON_FORMATS: Final = frozenset({"ob3-json", "clr2-json"})
JWT_FORMATS: Final = frozenset({"ob3-jwt", "clr2-jwt"})
CLR_FORMATS: Final = frozenset({"clr2-json", "clr2-jwt"})
EMBEDDED_JWK: Final = "embedded-jwk"

_EXPLAINED: Final = {
    Failure.NO_PROOF: "it has no proof",
    Failure.MALFORMED_PROOF: "its proof or JWS is malformed",
    Failure.UNKNOWN_CRYPTOSUITE: (
        "it has no proof of a known kind (DataIntegrityProof with eddsa-rdfc-2022, or "
        "Ed25519Signature2020)"
    ),
    Failure.UNSUPPORTED_ALGORITHM: "its JWS algorithm is not EdDSA (Ed25519) or RS256 (RSA)",
    Failure.WRONG_PROOF_PURPOSE: "its proofPurpose is not assertionMethod",
    Failure.BAD_PROOF_VALUE: "its proofValue is not a multibase Ed25519 signature",
    Failure.CONTEXT_NOT_ALLOWED: "a JSON-LD context it uses is not on the allow-list",
    Failure.CANONICALIZATION: "it cannot be canonicalised as JSON-LD",
    Failure.KEY_NOT_RESOLVABLE: (
        "its key is neither a did:key, a multibase key fragment nor an embedded JWK"
    ),
    Failure.SIGNATURE_MISMATCH: "the signature does not match its content",
    Failure.MALFORMED_CREDENTIAL: "a validity date or the issuer claim is malformed",
    Failure.EXPIRED: "it has expired",
    Failure.NOT_YET_VALID: "it is not yet valid",
    Failure.TOO_DEEP: "its JSON nests deeper than the limit (LEDGER_MAX_JSON_DEPTH)",
    Failure.ISSUER_NOT_BOUND: (
        "its issuer is not one the publishing issuer is registered to sign as, or it is "
        "signed by a key that is not its issuer's"
    ),
}
_EXPIRY_FIELDS: Final = ("validUntil", "expirationDate")


def verify_embedded(
    embedded: Mapping[str, Any],
    *,
    now: datetime | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Verification:
    """Verify the proof of an embedded Open Badges 3.0 / CLR 2.0 credential.

    JSON formats are checked as `eddsa-rdfc-2022` or `Ed25519Signature2020` Data Integrity
    proofs (a proof of another kind beside them is a warning), keys from did:key or a
    `…#z6Mk…` fragment; JWT formats as VC-JWT, keys from a did:key `kid`, a fragment, or
    the header's JWK. For CLR the outer proof and every credential in
    `credentialSubject.verifiableCredential` are checked. A credential whose proof holds but
    whose validity period has passed is *verified*: the result is ok, with
    `failure=Failure.EXPIRED` and the reason as a note (issuers send historical credentials).

    Args:
        embedded: `data.embedded` of a credential-issued event (`format`, `credential`).
        now: the time to judge validity by (default: now).
        max_depth: most levels of nesting a JWT's header or payload may have (a JSON
            credential is part of the event, whose depth the pipeline has checked).

    Returns:
        The outcome; a failure's reason never quotes the credential's content.
    """
    policy = _IngestPolicy(now or datetime.now(UTC), max_depth)
    fmt = embedded.get("format")
    credential = embedded.get("credential")
    document: Mapping[str, Any] | None
    if fmt in JSON_FORMATS and isinstance(credential, Mapping):
        outcome, document = policy.document(credential, "the credential"), credential
    elif fmt in JWT_FORMATS and isinstance(credential, str):
        outcome, document = policy.token(credential, "the credential")
    else:
        return _failed(Failure.MALFORMED_CREDENTIAL, "the credential", "its format is not known")
    if not (outcome.ok or outcome.failure is Failure.EXPIRED) or fmt not in CLR_FORMATS:
        return outcome
    held = held_by(document)
    if held is None:
        return _failed(
            Failure.MALFORMED_CREDENTIAL,
            "the credential",
            "credentialSubject.verifiableCredential is not a list",
        )
    expired = outcome if outcome.failure is Failure.EXPIRED else None
    for judged in judge_held(held, policy):
        if not judged.outcome.ok:
            return judged.outcome
        if judged.outcome.failure is Failure.EXPIRED:
            expired = expired or judged.outcome
    return expired or outcome


@dataclass(frozen=True)
class _IngestPolicy:
    """Keys from did:key, a fragment or the JWT header's JWK; reasons that quote nothing."""

    now: datetime
    max_depth: int

    def document(self, credential: Mapping[str, Any], where: str) -> Verification:
        return _verify_json(credential, self.now, where)

    def token(self, token: str, where: str) -> tuple[Verification, Mapping[str, Any] | None]:
        return _verify_token(token, self.now, where, self.max_depth)

    def not_a_credential(self, where: str) -> Verification:
        return _failed(Failure.MALFORMED_CREDENTIAL, where, "it is not a credential")


def issuer_binding(embedded: Mapping[str, Any], signs_as: frozenset[str]) -> Verification:
    """Whether an embedded credential (whose proof verified) is the publishing issuer's own:
    its ``issuer`` is one of the identifiers the issuer is registered to sign as
    (``signs_as``), and each key that signed it is that issuer's (a DID URL or fragment
    under it; an embedded JWK only when the issuer is the did:key of that very key).
    A CLR's outer credential is judged; the credentials it holds keep their own issuers.

    Returns:
        The outcome (``Failure.ISSUER_NOT_BOUND``); the reason never quotes the content.
    """
    where = "the credential's issuer"
    credential = embedded.get("credential")
    if isinstance(credential, Mapping):
        document: Mapping[str, Any] = credential
        methods = [
            p.get("verificationMethod") if isinstance(p, Mapping) else None
            for p in dataintegrity.checked_proofs(credential)
        ]
    elif isinstance(credential, str):
        try:
            header, payload, _ = decode_jwt(credential)
        except ValueError:
            return _failed(Failure.ISSUER_NOT_BOUND, where, "the token cannot be read")
        document = {"issuer": payload.get("iss"), **credential_of(payload)}
        methods = [header.get("kid") if "kid" in header else _jwk_did(header.get("jwk"))]
    else:
        return _failed(Failure.ISSUER_NOT_BOUND, where, "there is no credential")
    issuer = issuer_id(document)
    if issuer is None or issuer not in signs_as:
        why = (
            "the publishing issuer has no DID registered (`ledger issuers add … --did`)"
            if not signs_as
            else "it is not one of the DIDs the publishing issuer is registered with"
        )
        return _failed(Failure.ISSUER_NOT_BOUND, where, why)
    for method in methods:
        if not isinstance(method, str) or method.partition("#")[0] != issuer:
            return _failed(
                Failure.ISSUER_NOT_BOUND, where, "a key that signed it is not the issuer's"
            )
    return Verification.passed()


def _jwk_did(jwk: Any) -> str | None:
    """The did:key of a JWT header's Ed25519 JWK (the only embedded key that names a DID)."""
    if not isinstance(jwk, Mapping):
        return None
    try:
        key = public_key_from_jwk(jwk)
    except (KeyResolutionError, KeyFormatError, ValueError):
        return None
    return did_key_of(key) if isinstance(key, Ed25519PublicKey) else None


def method_of(embedded: Mapping[str, Any]) -> str:
    """The verification method an embedded credential names: the first checked proof's
    `verificationMethod` (a proof of a kind the ledger does not know is passed over), the
    JWS `kid`, or `embedded-jwk`; empty if there is none."""
    credential = embedded.get("credential")
    if isinstance(credential, Mapping):
        proofs = dataintegrity.checked_proofs(credential)
        proof = proofs[0] if proofs else None
        method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
        return method if isinstance(method, str) else ""
    if isinstance(credential, str):
        try:
            header, _, _ = decode_jwt(credential)
        except ValueError:
            return ""
        kid = header.get("kid")
        return kid if isinstance(kid, str) else EMBEDDED_JWK if "jwk" in header else ""
    return ""


def verification_record(
    embedded: Mapping[str, Any], outcome: Verification, checked_at: str
) -> dict[str, str]:
    """What the ledger stores beside an event whose embedded credential verified.

    Args:
        embedded: the event's `data.embedded`.
        outcome: a passing result of :func:`verify_embedded`.
        checked_at: when it was checked (RFC 3339, UTC).
    """
    record = {"status": "verified", "method": method_of(embedded), "checkedAt": checked_at}
    if outcome.failure is Failure.EXPIRED:
        record["note"] = outcome.reason
    elif outcome.warnings:
        record["note"] = "; ".join(outcome.warnings)
    return record


def _failed(failure: Failure, where: str, why: str) -> Verification:
    return Verification(ok=False, reason=f"{failure.value}: {where}: {why}", failure=failure)


def _safe(outcome: Verification, where: str) -> Verification:
    """The outcome with the library's reason (which may quote values) replaced by ours."""
    if outcome.ok or outcome.failure is None:
        return outcome
    return _failed(outcome.failure, where, _EXPLAINED[outcome.failure])


def _expiry(credential: Mapping[str, Any], exp: Any = None) -> datetime | None:
    moments = [parse_datetime(credential.get(field)) for field in _EXPIRY_FIELDS]
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        moments.append(datetime.fromtimestamp(exp, UTC))
    found = [m for m in moments if m is not None]
    return min(found) if found else None


def _expired(expiry: datetime | None, where: str) -> Verification:
    ended = ""
    if expiry is not None:
        ended = " at " + expiry.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return Verification(
        ok=True,
        reason=f"{Failure.EXPIRED.value}: {where}: its validity ended{ended}",
        failure=Failure.EXPIRED,
    )


def _verify_json(credential: Mapping[str, Any], now: datetime, where: str) -> Verification:
    outcome = dataintegrity.verify(credential, resolver=resolve_fragment_multikey, now=now)
    if outcome.failure is not Failure.EXPIRED:
        return _safe(outcome, where)
    # The validity period is judged only after every proof held; a proof's own `expires`
    # is judged before its signature, so then nothing is known to hold.
    proofs = credential.get("proof")
    listed = proofs if isinstance(proofs, list) else [proofs]
    if any(isinstance(proof, Mapping) and "expires" in proof for proof in listed):
        return _safe(outcome, where)
    return _expired(_expiry(credential), where)


def _token_resolver(header: Mapping[str, Any]) -> KeyResolver:
    def resolve(kid: str) -> PublicKey:
        try:
            return resolve_fragment_multikey(kid)
        except KeyResolutionError:
            if isinstance(header.get("jwk"), Mapping):
                return public_key_from_jwk(header["jwk"])
            raise

    return resolve


def _verify_token(
    token: str, now: datetime, where: str, max_depth: int
) -> tuple[Verification, Mapping[str, Any] | None]:
    try:
        header, payload, _ = decode_jwt(token, max_depth=max_depth)
    except TooDeepError:
        return _failed(Failure.TOO_DEEP, where, _EXPLAINED[Failure.TOO_DEEP]), None
    except ValueError:
        return _failed(Failure.MALFORMED_PROOF, where, _EXPLAINED[Failure.MALFORMED_PROOF]), None
    resolver = _token_resolver(header)
    credential = credential_of(payload)
    outcome = verify_jwt(
        token, resolver=resolver, trust_embedded_jwk=True, now=now, max_depth=max_depth
    )
    if outcome.failure is not Failure.EXPIRED:
        return _safe(outcome, where), credential
    # The signature held (it is checked before the dates); the claims judged after `exp`
    # (issuer) are checked as of just before the validity ended.
    expiry = _expiry(credential, payload.get("exp"))
    if expiry is None:
        return _safe(outcome, where), credential
    again = verify_jwt(
        token,
        resolver=resolver,
        trust_embedded_jwk=True,
        now=expiry - timedelta(seconds=1),
        max_depth=max_depth,
    )
    if again.failure not in (None, Failure.EXPIRED, Failure.NOT_YET_VALID):
        return _safe(again, where), credential
    return _expired(expiry, where), credential
