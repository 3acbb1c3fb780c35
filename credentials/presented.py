"""Verifying a presented credential (an export of ours, or any OB 3.0 / CLR 2.0) and all it holds.

Shared by `ledger verify` and the HTTP API. Every proof is checked, and every key must be
the issuer's own: a did:key proves only itself otherwise. The outer credential must be
valid now; a held credential whose proof verifies but whose `validUntil` has passed still
counts (a record keeps its history) and says it has expired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from credentials import dataintegrity
from credentials.errors import CredentialError
from credentials.held import judge_held
from credentials.jwt import credential_of, decode_jwt, verify_jwt
from credentials.keys import KeyResolver, resolve_did_key
from credentials.statuslist import Fetch, Status, check_status
from credentials.verification import Failure, Verification, issuer_id
from schemas.limits import DEFAULT_MAX_DEPTH, depth_message, parser_refused_depth, too_deep


class NotACredentialError(CredentialError):
    """The presented text is neither a JSON credential nor a VC-JWT."""


@dataclass(frozen=True)
class CredentialCheck:
    """The verdict on one credential.

    Attributes:
        kind: its most specific type (``ClrCredential``, ``AchievementCredential``…).
        id: its id, if it has one.
        name: its name, if it has one.
        held: True for a credential held inside the presented one.
        verified: whether it counts as verified (an expired held credential does).
        reason: why it failed, or a note on a verified one (expiry); empty otherwise.
        warnings: what was seen but not judged (a proof of a kind the ledger does not know,
            beside one that verified; a status that could not be learnt).
        status: each Bitstring Status List entry's verdict (when statuses were checked).
    """

    kind: str
    id: str | None
    name: str | None
    held: bool
    verified: bool
    reason: str = ""
    warnings: tuple[str, ...] = ()
    status: tuple[Status, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "id": self.id,
            "name": self.name,
            "held": self.held,
            "verified": self.verified,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "status": [
                {"purpose": s.purpose, "state": s.state, "reason": s.reason} for s in self.status
            ],
        }


@dataclass(frozen=True)
class PresentationReport:
    """The outer credential first, then each held credential."""

    checks: list[CredentialCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.verified for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"verified": self.ok, "credentials": [c.as_dict() for c in self.checks]}


def _bound_to_issuer(credential: Mapping[str, Any], methods: list[Any]) -> Verification:
    """The keys must belong to the issuer: a did:key proves only itself otherwise."""
    issuer = issuer_id(credential)
    for method in methods:
        if not isinstance(method, str) or method.partition("#")[0] != issuer:
            return Verification.failed(
                Failure.KEY_NOT_RESOLVABLE, f"key {method!r} is not the issuer {issuer!r}'s"
            )
    return Verification.passed()


def verify_document(
    credential: Mapping[str, Any], resolver: KeyResolver = resolve_did_key
) -> Verification:
    """A JSON credential's Data Integrity proofs, their keys bound to its issuer."""
    outcome = dataintegrity.verify(credential, resolver=resolver)
    if not outcome and outcome.failure is not Failure.EXPIRED:
        return outcome  # expiry is judged after every proof has verified
    methods = [
        p.get("verificationMethod") if isinstance(p, Mapping) else None
        for p in dataintegrity.checked_proofs(credential)
    ]
    if not outcome:
        return outcome
    bound = _bound_to_issuer(credential, methods)
    return outcome if bound else bound


def verify_token(
    token: str, *, max_depth: int = DEFAULT_MAX_DEPTH, resolver: KeyResolver = resolve_did_key
) -> tuple[Verification, dict[str, Any]]:
    """A VC-JWT's signature, its key bound to the issuer; and the credential it carries."""
    outcome = verify_jwt(token, max_depth=max_depth, resolver=resolver)
    try:
        header, payload, _ = decode_jwt(token, max_depth=max_depth)
    except ValueError:
        return outcome, {}
    credential = credential_of(payload)
    if outcome or outcome.failure is Failure.EXPIRED:
        bound = _bound_to_issuer(credential, [header.get("kid")])
        outcome = outcome if bound else bound
    return outcome, credential


def _check(
    credential: Mapping[str, Any],
    outcome: Verification,
    *,
    held: bool,
    fetch: Fetch | None = None,
    resolver: KeyResolver = resolve_did_key,
) -> CredentialCheck:
    """The verdict on one credential; with ``fetch``, its status lists are read too: a
    credential revoked or suspended fails, a status that cannot be learnt is a warning."""
    # An expired credential's proofs verified: whether it was revoked still matters.
    proofs_hold = bool(outcome) or outcome.failure is Failure.EXPIRED
    statuses = (
        tuple(check_status(credential, fetch, lambda found: verify_document(found, resolver)))
        if fetch and proofs_hold
        else ()
    )
    stopped = [s for s in statuses if s.state in ("revoked", "suspended")]
    if stopped:
        outcome = Verification.failed(
            Failure.REVOKED, f"its issuer's {stopped[0].purpose} list says it is {stopped[0].state}"
        )
    unknown = tuple(
        f"status unknown ({s.purpose}): {s.reason}" for s in statuses if s.state == "unknown"
    )
    types = credential.get("type")
    kind = types[-1] if isinstance(types, list) and types and isinstance(types[-1], str) else ""
    ident, name = credential.get("id"), credential.get("name")
    # Held credentials may have expired: a record keeps its history, and their proofs verified.
    verified = bool(outcome) or (held and outcome.failure is Failure.EXPIRED)
    return CredentialCheck(
        kind or "credential",
        ident if isinstance(ident, str) else None,
        name if isinstance(name, str) else None,
        held,
        verified,
        "" if outcome else outcome.reason,
        outcome.warnings + unknown,
        statuses,
    )


@dataclass(frozen=True)
class _IssuerKeysPolicy:
    """Every key must be the credential's issuer's own (a did:key proves only itself)."""

    max_depth: int
    resolver: KeyResolver

    def document(self, credential: Mapping[str, Any], where: str) -> Verification:
        return verify_document(credential, self.resolver)

    def token(self, token: str, where: str) -> tuple[Verification, Mapping[str, Any] | None]:
        return verify_token(token, max_depth=self.max_depth, resolver=self.resolver)

    def not_a_credential(self, where: str) -> Verification:
        return Verification.failed(Failure.MALFORMED_CREDENTIAL, "not a credential")


def verify_presented(
    text: str,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    fetch: Fetch | None = None,
    resolver: KeyResolver = resolve_did_key,
) -> PresentationReport:
    """Verify a presented credential and every credential it holds.

    Args:
        text: a JSON credential (with Data Integrity proofs) or a compact VC-JWT.
        max_depth: most levels of nesting its JSON (or a JWT's payload) may have.
        fetch: reads status list credentials (see ``credentials.statusfetch``); without it
            no status is checked.
        resolver: verification method → public key (default: did:key only; the ledger
            adds its own did:web keys, see ``credentials.identity.own_resolver``).

    Raises:
        NotACredentialError: neither (nothing was verified).
    """
    text = text.strip()
    if text.startswith("{"):
        try:
            outer = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            if parser_refused_depth(exc):
                raise NotACredentialError(depth_message(max_depth)) from None
            raise NotACredentialError(f"not JSON: {exc}") from None
        if not isinstance(outer, dict):
            raise NotACredentialError("not a JSON object")
        if too_deep(text, outer, max_depth) is not None:
            raise NotACredentialError(depth_message(max_depth))
        outcome = verify_document(outer, resolver)
    else:
        outcome, outer = verify_token(text, max_depth=max_depth, resolver=resolver)
        if not outer:
            raise NotACredentialError("neither a JSON credential nor a VC-JWT")
    checks = [_check(outer, outcome, held=False, fetch=fetch, resolver=resolver)]
    subject = outer.get("credentialSubject")
    held = subject.get("verifiableCredential", []) if isinstance(subject, Mapping) else []
    policy = _IssuerKeysPolicy(max_depth, resolver)
    for judged in judge_held(held if isinstance(held, list) else [held], policy):
        checks.append(
            _check(judged.credential, judged.outcome, held=True, fetch=fetch, resolver=resolver)
        )
    return PresentationReport(checks)
