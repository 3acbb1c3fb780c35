"""VC-JWT: the 1EdTech CLR sample, EdDSA and RS256 round trips, and each failure reason."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.errors import SigningError
from credentials.jwt import claims_for, credential_of, decode_jwt, sign_jwt, verify_jwt
from credentials.keys import did_key_of, static_resolver
from credentials.verification import Failure

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "1edtech" / "samples" / "clr20-simple.jwt"
RSA_KID = "https://uni-north.example/issuer#rsa-1"


def credential(**changes: Any) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:6d0e0a53-88c1-4d7e-a7d0-9f4a2f9a1c11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://uni-north.example/issuer", "type": ["Profile"]},
        "validFrom": "2024-01-01T00:00:00Z",
        "name": "Data Stewardship",
        "credentialSubject": {"id": "did:example:learner-1", "type": ["AchievementSubject"]},
        **changes,
    }


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_verify_jwt_clr_sample_with_embedded_jwk_passes() -> None:
    token = SAMPLE.read_text()
    outcome = verify_jwt(token, trust_embedded_jwk=True)
    assert outcome.ok, outcome.reason
    header, payload, _ = decode_jwt(token)
    assert header["alg"] == "RS256"
    assert credential_of(payload)["type"] == ["VerifiableCredential", "ClrCredential"]


def test_verify_jwt_credential_nested_in_clr_sample_passes() -> None:
    _, payload, _ = decode_jwt(SAMPLE.read_text())
    nested = credential_of(payload)["credentialSubject"]["verifiableCredential"][0]
    assert verify_jwt(nested, trust_embedded_jwk=True).ok


def test_verify_jwt_clr_sample_without_trusting_the_jwk_fails_key_not_resolvable() -> None:
    outcome = verify_jwt(SAMPLE.read_text())
    assert outcome.failure is Failure.KEY_NOT_RESOLVABLE


def test_claims_for_adds_registered_claims_from_the_credential() -> None:
    claims = claims_for(credential(validUntil="2030-01-01T00:00:00Z"))
    assert claims["iss"] == "https://uni-north.example/issuer"
    assert claims["jti"] == "urn:uuid:6d0e0a53-88c1-4d7e-a7d0-9f4a2f9a1c11"
    assert claims["sub"] == "did:example:learner-1"
    assert claims["nbf"] == int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    assert claims["exp"] == int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    assert claims["name"] == "Data Stewardship"


def test_sign_jwt_eddsa_round_trip_with_did_key_kid(ed_key: Ed25519PrivateKey) -> None:
    token = sign_jwt(credential(), ed_key, kid=did_key_of(ed_key))
    header, payload, _ = decode_jwt(token)
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": did_key_of(ed_key)}
    assert credential_of(payload) == credential()
    assert verify_jwt(token).ok


def test_sign_jwt_rs256_round_trip(rsa_key: rsa.RSAPrivateKey) -> None:
    token = sign_jwt(credential(), rsa_key, kid=RSA_KID, embed_jwk=True)
    assert decode_jwt(token)[0]["alg"] == "RS256"
    assert verify_jwt(token, resolver=static_resolver({RSA_KID: rsa_key.public_key()})).ok


def test_verify_jwt_rs256_with_only_embedded_jwk_passes_when_trusted(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    token = sign_jwt(credential(), rsa_key, embed_jwk=True)
    assert verify_jwt(token, trust_embedded_jwk=True).ok


def test_verify_jwt_wrong_key_fails_signature_mismatch(
    ed_key: Ed25519PrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = sign_jwt(credential(), rsa_key, kid=RSA_KID)
    outcome = verify_jwt(token, resolver=static_resolver({RSA_KID: other_rsa.public_key()}))
    assert outcome.failure is Failure.SIGNATURE_MISMATCH
    impostor = Ed25519PrivateKey.generate()
    forged = sign_jwt(credential(), impostor, kid=did_key_of(ed_key))
    assert verify_jwt(forged).failure is Failure.SIGNATURE_MISMATCH


def test_verify_jwt_altered_payload_fails_signature_mismatch(ed_key: Ed25519PrivateKey) -> None:
    header, _, signature = sign_jwt(credential(), ed_key, kid=did_key_of(ed_key)).split(".")
    forged_payload = b64(claims_for(credential(name="Brain Surgery")))
    outcome = verify_jwt(f"{header}.{forged_payload}.{signature}")
    assert outcome.failure is Failure.SIGNATURE_MISMATCH
    assert outcome.reason == "signature mismatch: the JWS signature does not match"


def test_verify_jwt_exp_in_the_past_fails_expired(ed_key: Ed25519PrivateKey) -> None:
    token = sign_jwt(credential(validUntil="2024-06-01T00:00:00Z"), ed_key, kid=did_key_of(ed_key))
    outcome = verify_jwt(token)
    assert outcome.failure is Failure.EXPIRED
    assert outcome.reason.startswith("expired: exp ")
    assert verify_jwt(token, now=datetime(2024, 3, 1, tzinfo=UTC)).ok


def test_verify_jwt_nbf_in_the_future_fails_not_yet_valid(ed_key: Ed25519PrivateKey) -> None:
    token = sign_jwt(credential(), ed_key, kid=did_key_of(ed_key))
    outcome = verify_jwt(token, now=datetime(2023, 1, 1, tzinfo=UTC))
    assert outcome.failure is Failure.NOT_YET_VALID


def test_verify_jwt_alg_none_or_mismatched_alg_is_refused(
    ed_key: Ed25519PrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    _, payload, _ = sign_jwt(credential(), ed_key, kid=did_key_of(ed_key)).split(".")
    unsigned = f"{b64({'alg': 'none', 'kid': did_key_of(ed_key)})}.{payload}."
    assert verify_jwt(unsigned).failure is Failure.UNSUPPORTED_ALGORITHM
    confused = f"{b64({'alg': 'RS256', 'kid': did_key_of(ed_key)})}.{payload}.AAAA"
    assert verify_jwt(confused).failure is Failure.UNSUPPORTED_ALGORITHM


def test_verify_jwt_issuer_claim_differing_from_credential_issuer_fails(
    ed_key: Ed25519PrivateKey,
) -> None:
    header = b64({"alg": "EdDSA", "kid": did_key_of(ed_key)})
    payload = b64({**claims_for(credential()), "iss": "https://someone-else.example"})
    signature = base64.urlsafe_b64encode(ed_key.sign(f"{header}.{payload}".encode()))
    token = f"{header}.{payload}.{signature.rstrip(b'=').decode()}"
    outcome = verify_jwt(token)
    assert outcome.failure is Failure.MALFORMED_CREDENTIAL
    assert "someone-else" in outcome.reason


@pytest.mark.parametrize("token", ["a.b", "!!!.e30.AAAA", "e30.W10.AAAA"])
def test_verify_jwt_malformed_token_fails_malformed_proof(token: str) -> None:
    assert verify_jwt(token).failure is Failure.MALFORMED_PROOF


def test_verify_jwt_unknown_kid_fails_key_not_resolvable(ed_key: Ed25519PrivateKey) -> None:
    token = sign_jwt(credential(), ed_key, kid="https://uni-north.example/issuer#unknown")
    assert verify_jwt(token).failure is Failure.KEY_NOT_RESOLVABLE


def test_sign_jwt_without_kid_or_jwk_or_with_proof_raises(ed_key: Ed25519PrivateKey) -> None:
    with pytest.raises(SigningError, match="kid"):
        sign_jwt(credential(), ed_key)
    with pytest.raises(SigningError, match="proof"):
        sign_jwt(credential(proof={}), ed_key, kid=did_key_of(ed_key))
