"""Data Integrity proofs: sign with `eddsa-rdfc-2022` (W3C vc-di-eddsa); verify that and
`Ed25519Signature2020` (the W3C CCG suite the Digital Credentials Consortium's issuers and
the Learner Credential Wallet use).

Both suites sign the same bytes: SHA-256 of the canonical (RDFC-1.0 / URDNA2015) proof
options, carrying the document's `@context`, followed by SHA-256 of the canonical document
without its proof; both encode the Ed25519 signature as a multibase (base58btc) proofValue.
A credential may carry several proofs. As 1EdTech's validator judges them, each proof of a
known kind must verify, at least one must be of a known kind, and a proof of a kind the
ledger does not know, beside one that verified, is a warning rather than a failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credentials.canonical import canonicalize
from credentials.errors import (
    CanonicalizationError,
    ContextNotAllowedError,
    KeyFormatError,
    KeyResolutionError,
    SigningError,
)
from credentials.keys import KeyResolver, multibase_decode, multibase_encode, resolve_did_key
from credentials.verification import Failure, Verification, check_validity_period, parse_datetime
from schemas.times import utc_seconds

PROOF_TYPE: Final = "DataIntegrityProof"
CRYPTOSUITE: Final = "eddsa-rdfc-2022"
# "eddsa-2022" is the draft name of the same algorithm; 1EdTech still accepts proofs made with it.
ACCEPTED_CRYPTOSUITES: Final = frozenset({CRYPTOSUITE, "eddsa-2022"})
# The W3C CCG suite (https://w3id.org/security/suites/ed25519-2020/v1): no cryptosuite.
ED25519_2020: Final = "Ed25519Signature2020"


def _timestamp(moment: datetime) -> str:
    return utc_seconds(moment)


def hash_data(
    document: Mapping[str, Any], proof_config: Mapping[str, Any], *, canonical: str | None = None
) -> bytes:
    """SHA-256 of the canonical proof configuration followed by SHA-256 of the canonical document.

    Args:
        document: the credential without `proof`.
        proof_config: the proof without `proofValue`, carrying the document's `@context`.
        canonical: the document's canonical N-Quads, when the caller already has them
            (they must equal ``canonicalize(document)``).

    Raises:
        ContextNotAllowedError: a context is not allow-listed.
        CanonicalizationError: either part cannot be canonicalised.
    """
    proof_hash = hashlib.sha256(canonicalize(proof_config).encode("utf-8")).digest()
    if canonical is None:
        canonical = canonicalize(document)
    document_hash = hashlib.sha256(canonical.encode("utf-8")).digest()
    return proof_hash + document_hash


def sign(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: datetime | None = None,
    proof_purpose: str = "assertionMethod",
    canonical: str | None = None,
) -> dict[str, Any]:
    """A copy of the document with an `eddsa-rdfc-2022` DataIntegrityProof added.

    Args:
        document: a JSON-LD credential with `@context` and no `proof`.
        private_key: the issuer's Ed25519 key.
        verification_method: the id of the matching public key (e.g. from `did_key_of`).
        created: when the proof is made (default: now, UTC, to the second).
        proof_purpose: the proof's purpose; credentials use `assertionMethod`.
        canonical: the document's canonical N-Quads, when the caller has them cheaper than
            canonicalising it (see `credentials.quads`); they must equal
            ``canonicalize(document)``, or the proof will not verify.

    Raises:
        SigningError: the document has no `@context` or already has a proof.
        ContextNotAllowedError: a context is not allow-listed.
        CanonicalizationError: the document is not valid JSON-LD or has undefined terms.
    """
    if "@context" not in document:
        raise SigningError("document has no @context")
    if "proof" in document:
        raise SigningError("document already has a proof; proof sets and chains are not supported")
    proof_config: dict[str, Any] = {
        "@context": document["@context"],
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _timestamp(created or datetime.now(UTC)),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    signature = private_key.sign(hash_data(document, proof_config, canonical=canonical))
    proof = {key: value for key, value in proof_config.items() if key != "@context"}
    proof["proofValue"] = multibase_encode(signature)
    return {**document, "proof": proof}


def _proofs(document: Mapping[str, Any]) -> list[Any]:
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def known(proof: Any) -> bool:
    """Whether ``proof`` is of a kind this module verifies (a malformed one counts as known:
    it fails rather than being passed over)."""
    if not isinstance(proof, Mapping):
        return True
    if proof.get("type") == ED25519_2020:
        return True
    return proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") in ACCEPTED_CRYPTOSUITES


def checked_proofs(document: Mapping[str, Any]) -> list[Any]:
    """The document's proofs of a kind this module verifies, in order."""
    return [proof for proof in _proofs(document) if known(proof)]


def verify(
    document: Mapping[str, Any],
    *,
    resolver: KeyResolver = resolve_did_key,
    now: datetime | None = None,
    proof_purpose: str = "assertionMethod",
) -> Verification:
    """Verify every Data Integrity proof of a credential, then its validity period.

    Each proof of a known kind (`eddsa-rdfc-2022`, `Ed25519Signature2020`) must verify
    and one at least must be there; a proof of another kind beside them is named in the
    result's warnings. Failures are reported in the result, never raised.

    Args:
        document: the credential with its `proof` (one object or a list).
        resolver: verification method id → public key; the default accepts only did:key.
        now: the time to judge validity by (default: now).
        proof_purpose: the purpose the proofs must state.
    """
    proofs = _proofs(document)
    if not proofs:
        return Verification.failed(Failure.NO_PROOF, "the document has no proof")
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    checked = [proof for proof in proofs if known(proof)]
    if not checked:
        return _unknown(proofs[0])
    for proof in checked:
        outcome = _verify_proof(unsecured, proof, resolver, proof_purpose, now)
        if not outcome:
            return outcome
    period = check_validity_period(unsecured, now or datetime.now(UTC))
    warnings = tuple(_passed_over(proof) for proof in proofs if not known(proof))
    return Verification.passed(warnings) if period and warnings else period


def _unknown(proof: Mapping[str, Any]) -> Verification:
    if proof.get("type") == PROOF_TYPE:
        return Verification.failed(
            Failure.UNKNOWN_CRYPTOSUITE,
            f"cryptosuite {proof.get('cryptosuite')!r} is not supported",
        )
    return Verification.failed(
        Failure.UNKNOWN_CRYPTOSUITE,
        f"proof type {proof.get('type')!r} is neither {PROOF_TYPE} nor {ED25519_2020}",
    )


def _passed_over(proof: Mapping[str, Any]) -> str:
    kind = proof.get("cryptosuite") if proof.get("type") == PROOF_TYPE else proof.get("type")
    return f"a proof of kind {kind!r} was not checked (the ledger does not know it)"


def _verify_proof(
    unsecured: Mapping[str, Any],
    proof: Any,
    resolver: KeyResolver,
    proof_purpose: str,
    now: datetime | None,
) -> Verification:
    if not isinstance(proof, Mapping):
        return Verification.failed(Failure.MALFORMED_PROOF, "proof is not a JSON object")
    if proof.get("proofPurpose") != proof_purpose:
        return Verification.failed(
            Failure.WRONG_PROOF_PURPOSE,
            f"proofPurpose {proof.get('proofPurpose')!r} is not {proof_purpose!r}",
        )
    if "expires" in proof:
        expires = parse_datetime(proof["expires"])
        if expires is None or expires <= (now or datetime.now(UTC)):
            return Verification.failed(Failure.EXPIRED, f"proof expires {proof['expires']!r}")
    signature = _signature(proof.get("proofValue"))
    if isinstance(signature, Verification):
        return signature
    method = proof.get("verificationMethod")
    if not isinstance(method, str):
        return Verification.failed(Failure.MALFORMED_PROOF, "verificationMethod is not a string")
    try:
        public_key = resolver(method)
    except (KeyResolutionError, KeyFormatError) as error:
        return Verification.failed(Failure.KEY_NOT_RESOLVABLE, str(error))
    if not isinstance(public_key, Ed25519PublicKey):
        return Verification.failed(Failure.KEY_NOT_RESOLVABLE, f"{method!r} is not an Ed25519 key")
    proof_config = {key: value for key, value in proof.items() if key != "proofValue"}
    proof_config["@context"] = proof.get("@context", unsecured.get("@context"))
    try:
        data = hash_data(unsecured, proof_config)
    except ContextNotAllowedError as error:
        return Verification.failed(Failure.CONTEXT_NOT_ALLOWED, str(error))
    except CanonicalizationError as error:
        return Verification.failed(Failure.CANONICALIZATION, str(error))
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return Verification.failed(
            Failure.SIGNATURE_MISMATCH, f"the proof by {method} does not match the document"
        )
    return Verification.passed()


def _signature(proof_value: Any) -> bytes | Verification:
    if not isinstance(proof_value, str):
        return Verification.failed(Failure.BAD_PROOF_VALUE, "proofValue is missing")
    try:
        signature = multibase_decode(proof_value)
    except KeyFormatError as error:
        return Verification.failed(Failure.BAD_PROOF_VALUE, str(error))
    if len(signature) != 64:
        return Verification.failed(
            Failure.BAD_PROOF_VALUE, f"proofValue decodes to {len(signature)} bytes, not 64"
        )
    return signature
