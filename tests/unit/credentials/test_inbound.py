"""Verifying the issuer-signed credential a credential-issued event embeds: samples and failures."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials import dataintegrity
from credentials.inbound import (
    EMBEDDED_JWK,
    issuer_binding,
    method_of,
    verification_record,
    verify_embedded,
)
from credentials.jwt import sign_jwt
from credentials.keys import did_key_of
from credentials.verification import Failure
from tests.samples import VALID_JSON, sample

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
HOLDER = "Zoë Ångström"


def embedded_sample(name: str) -> dict[str, Any]:
    kind = "clr2" if name.startswith("clr") else "ob3"
    fmt = "jwt" if name.endswith(".jwt") else "json"
    return {"format": f"{kind}-{fmt}", "credential": sample(name)}


def badge(issuer: str, *, valid_until: str | None = None) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [V2, OB],
        "id": "urn:uuid:5b4d1c8e-6f0a-4c1e-9f39-2f0d7a2c9e11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Uni North"},
        "validFrom": "2020-01-01T00:00:00Z",
        "name": "SQL Foundations",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": HOLDER,
            "achievement": {
                "id": "https://registrar.uni-north.example/achievements/sql",
                "type": ["Achievement"],
                "name": "SQL Foundations",
                "criteria": {"narrative": "Passed."},
            },
        },
    }
    if valid_until:
        credential["validUntil"] = valid_until
    return credential


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.mark.parametrize(
    "name",
    [*VALID_JSON, "clr20-simple.jwt"],
)
def test_verify_embedded_valid_sample_passes_without_note(name: str) -> None:
    outcome = verify_embedded(embedded_sample(name))
    assert outcome.ok, outcome.reason
    assert outcome.failure is None


def test_verify_embedded_sample_with_bad_proof_value_fails_signature_mismatch() -> None:
    outcome = verify_embedded(embedded_sample("ob30-simple-err-proof-value.json"))
    assert not outcome.ok
    assert outcome.failure is Failure.SIGNATURE_MISMATCH
    assert outcome.reason.startswith("signature mismatch: the credential")


def test_verify_embedded_expired_sample_passes_with_expiry_note() -> None:
    outcome = verify_embedded(embedded_sample("ob30-simple-err-expired.json"))
    assert outcome.ok
    assert outcome.failure is Failure.EXPIRED
    assert "2010-01-01T00:00:00Z" in outcome.reason


def test_verify_embedded_clr_without_proof_fails_no_proof() -> None:
    outcome = verify_embedded(embedded_sample("clr20-simple-noproof.json"))
    assert outcome.failure is Failure.NO_PROOF


def test_verify_embedded_expired_credential_with_tampered_content_fails(
    key: Ed25519PrivateKey,
) -> None:
    signed = dataintegrity.sign(
        badge("https://registrar.uni-north.example", valid_until="2021-01-01T00:00:00Z"),
        key,
        did_key_of(key),
    )
    assert verify_embedded({"format": "ob3-json", "credential": signed}).failure is Failure.EXPIRED
    signed["name"] = "Something else"
    outcome = verify_embedded({"format": "ob3-json", "credential": signed})
    assert not outcome.ok
    assert outcome.failure is Failure.SIGNATURE_MISMATCH


def test_verify_embedded_expired_jwt_passes_with_expiry_note(key: Ed25519PrivateKey) -> None:
    token = sign_jwt(
        badge("https://registrar.uni-north.example", valid_until="2021-01-01T00:00:00Z"),
        key,
        kid=did_key_of(key),
    )
    outcome = verify_embedded({"format": "ob3-jwt", "credential": token})
    assert outcome.ok
    assert outcome.failure is Failure.EXPIRED


def test_verify_embedded_jwt_with_did_key_kid_and_with_only_a_jwk_passes(
    key: Ed25519PrivateKey,
) -> None:
    credential = badge("https://registrar.uni-north.example")
    by_kid = {"format": "ob3-jwt", "credential": sign_jwt(credential, key, kid=did_key_of(key))}
    by_jwk = {"format": "ob3-jwt", "credential": sign_jwt(credential, key, embed_jwk=True)}
    assert verify_embedded(by_kid).ok
    assert verify_embedded(by_jwk).ok
    assert method_of(by_kid) == did_key_of(key)
    assert method_of(by_jwk) == EMBEDDED_JWK


def test_verify_embedded_jwt_signed_by_another_key_fails_signature_mismatch(
    key: Ed25519PrivateKey,
) -> None:
    other = Ed25519PrivateKey.generate()
    token = sign_jwt(badge("https://registrar.uni-north.example"), other, kid=did_key_of(key))
    outcome = verify_embedded({"format": "ob3-jwt", "credential": token})
    assert outcome.failure is Failure.SIGNATURE_MISMATCH


def test_verify_embedded_jwt_with_unresolvable_kid_and_no_jwk_fails_key_not_resolvable(
    key: Ed25519PrivateKey,
) -> None:
    token = sign_jwt(badge("https://registrar.uni-north.example"), key, kid="did:web:x#k-1")
    outcome = verify_embedded({"format": "ob3-jwt", "credential": token})
    assert outcome.failure is Failure.KEY_NOT_RESOLVABLE
    assert "did:web" not in outcome.reason


def test_verify_embedded_clr_with_tampered_nested_credential_fails_naming_its_index(
    key: Ed25519PrivateKey,
) -> None:
    method = did_key_of(key)
    nested = sign_jwt(badge("https://registrar.uni-north.example"), key, kid=method)
    head, payload, signature = nested.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    clr = {
        "@context": [V2, "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"],
        "id": "urn:uuid:0b4d1c8e-6f0a-4c1e-9f39-2f0d7a2c9e12",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": "https://registrar.uni-north.example", "type": ["Profile"]},
        "validFrom": "2020-01-01T00:00:00Z",
        "name": "Record",
        "credentialSubject": {"type": ["ClrSubject"], "verifiableCredential": [nested, forged]},
    }
    outcome = verify_embedded({"format": "clr2-jwt", "credential": sign_jwt(clr, key, kid=method)})
    assert outcome.failure is Failure.SIGNATURE_MISMATCH
    assert "verifiableCredential[1]" in outcome.reason


def test_verify_embedded_reasons_never_quote_the_credential(key: Ed25519PrivateKey) -> None:
    credential = badge("https://registrar.uni-north.example")
    signed = dataintegrity.sign(
        {k: v for k, v in credential.items() if k != "validFrom"}, key, did_key_of(key)
    )
    cases = [
        {**signed, "validFrom": f"{HOLDER} 2020"},
        {**signed, "proof": {**signed["proof"], "type": HOLDER}},
        {**signed, "proof": {**signed["proof"], "verificationMethod": f"https://x/{HOLDER}"}},
        {**signed, "proof": {**signed["proof"], "proofValue": HOLDER}},
        {**signed, "@context": [V2, f"https://x.example/{HOLDER}"]},
    ]
    for case in cases:
        outcome = verify_embedded({"format": "ob3-json", "credential": copy.deepcopy(case)})
        assert not outcome.ok
        assert HOLDER not in outcome.reason
        assert "https://x" not in outcome.reason


def test_verify_embedded_wrong_format_for_the_credential_fails_malformed() -> None:
    outcome = verify_embedded({"format": "ob3-jwt", "credential": {"type": "x"}})
    assert outcome.failure is Failure.MALFORMED_CREDENTIAL


def test_verification_record_notes_expiry_only_when_expired() -> None:
    plain = embedded_sample("ob30-simple-did-key-method.json")
    record = verification_record(plain, verify_embedded(plain), "2026-01-01T00:00:00Z")
    assert record == {
        "status": "verified",
        "method": plain["credential"]["proof"][0]["verificationMethod"],
        "checkedAt": "2026-01-01T00:00:00Z",
    }
    old = embedded_sample("ob30-simple-err-expired.json")
    noted = verification_record(old, verify_embedded(old), "2026-01-01T00:00:00Z")
    assert noted["note"].startswith("expired:")


def test_verify_embedded_judges_validity_at_the_given_moment(key: Ed25519PrivateKey) -> None:
    signed = dataintegrity.sign(badge("https://uni.example"), key, did_key_of(key))
    early = verify_embedded(
        {"format": "ob3-json", "credential": signed}, now=datetime(2019, 1, 1, tzinfo=UTC)
    )
    assert early.failure is Failure.NOT_YET_VALID
    assert not early.ok


def test_an_unknown_proof_beside_a_valid_one_is_accepted_with_a_note(
    key: Ed25519PrivateKey,
) -> None:
    signed = dataintegrity.sign(badge(did_key_of(key).partition("#")[0]), key, did_key_of(key))
    other = {
        "type": "EcdsaSecp256k1Signature2019",
        "verificationMethod": "did:example:other#k",
        "proofPurpose": "assertionMethod",
        "jws": "e30..c2ln",
    }
    embedded = {"format": "ob3-json", "credential": {**signed, "proof": [other, signed["proof"]]}}
    outcome = verify_embedded(embedded)
    assert outcome.ok
    assert method_of(embedded) == did_key_of(key)  # the proof that was checked
    record = verification_record(embedded, outcome, "2026-01-01T00:00:00Z")
    assert "EcdsaSecp256k1Signature2019" in record["note"]
    assert HOLDER not in record["note"]


def test_only_an_unknown_proof_is_refused_naming_the_known_kinds(key: Ed25519PrivateKey) -> None:
    signed = dataintegrity.sign(badge(did_key_of(key).partition("#")[0]), key, did_key_of(key))
    embedded = {
        "format": "ob3-json",
        "credential": {**signed, "proof": {**signed["proof"], "type": "BbsBlsSignature2020"}},
    }
    outcome = verify_embedded(embedded)
    assert outcome.failure is Failure.UNKNOWN_CRYPTOSUITE
    assert "Ed25519Signature2020" in outcome.reason
    assert HOLDER not in outcome.reason


# -- issuer_binding: the credential is the publishing issuer's own ---------------------------


def _did(key: Ed25519PrivateKey) -> str:
    return did_key_of(key).partition("#")[0]


def test_a_credential_of_a_registered_did_signed_by_its_key_is_bound(
    key: Ed25519PrivateKey,
) -> None:
    signed = dataintegrity.sign(badge(_did(key)), key, did_key_of(key))
    assert issuer_binding({"format": "ob3-json", "credential": signed}, frozenset({_did(key)}))
    token = sign_jwt(badge(_did(key)), key, kid=did_key_of(key))
    assert issuer_binding({"format": "ob3-jwt", "credential": token}, frozenset({_did(key)}))
    jwk = sign_jwt(badge(_did(key)), key, embed_jwk=True)
    assert issuer_binding({"format": "ob3-jwt", "credential": jwk}, frozenset({_did(key)}))


def test_an_unregistered_issuer_or_a_key_not_the_issuers_is_not_bound(
    key: Ed25519PrivateKey,
) -> None:
    stranger = Ed25519PrivateKey.generate()
    cases = {
        "no DID registered": (badge(_did(key)), key, frozenset()),
        "another DID": (badge(_did(stranger)), stranger, frozenset({_did(key)})),
        "someone else's key": (badge(_did(key)), stranger, frozenset({_did(key)})),
    }
    for case, (credential, signer, dids) in cases.items():
        signed = dataintegrity.sign(credential, signer, did_key_of(signer))
        outcome = issuer_binding({"format": "ob3-json", "credential": signed}, dids)
        assert outcome.failure is Failure.ISSUER_NOT_BOUND, case
        assert HOLDER not in outcome.reason
    posing = sign_jwt(badge(_did(key)), stranger, embed_jwk=True)
    outcome = issuer_binding({"format": "ob3-jwt", "credential": posing}, frozenset({_did(key)}))
    assert outcome.failure is Failure.ISSUER_NOT_BOUND


def test_an_https_issuer_binds_the_keys_under_its_url() -> None:
    outcome = issuer_binding(
        embedded_sample("ob30-simple.json"), frozenset({"https://example.com/issuers/876543"})
    )
    assert outcome.ok
    rsa = issuer_binding(
        embedded_sample("clr20-simple.jwt"), frozenset({"https://example.edu/issuers/565049"})
    )
    assert rsa.failure is Failure.ISSUER_NOT_BOUND  # a key in the header names no issuer
