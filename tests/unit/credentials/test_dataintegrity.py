"""eddsa-rdfc-2022 Data Integrity: the 1EdTech samples, round trips, tampering and each failure reason."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.dataintegrity import sign, verify
from credentials.errors import SigningError
from credentials.keys import did_key_of, resolve_fragment_multikey
from credentials.verification import Failure
from tests.samples import VALID_JSON, sample

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SIGNED_AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def badge() -> dict[str, Any]:
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:1b0c4c62-1f4a-4d3e-9a55-0d2c7a5e4f10",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://uni-north.example/issuer", "type": ["Profile"], "name": "UN"},
        "validFrom": "2024-01-01T00:00:00Z",
        "name": "Data Stewardship",
        "credentialSubject": {
            "id": "did:example:learner-1",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://uni-north.example/achievements/ds",
                "type": ["Achievement"],
                "name": "Data Stewardship",
                "description": "Keeps records sound.",
                "criteria": {"narrative": "Passed the assessment."},
            },
        },
    }


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def signed(key: Ed25519PrivateKey) -> dict[str, Any]:
    return sign(badge(), key, did_key_of(key), created=SIGNED_AT)


@pytest.mark.parametrize(
    "name",
    VALID_JSON,
)
def test_verify_valid_1edtech_sample_passes(name: str) -> None:
    outcome = verify(sample(name), resolver=resolve_fragment_multikey)
    assert outcome.ok, outcome.reason


def test_verify_credential_nested_in_clr_sample_passes() -> None:
    nested = sample("clr20-simple.json")["credentialSubject"]["verifiableCredential"][0]
    assert verify(nested, resolver=resolve_fragment_multikey).ok


def test_verify_did_key_sample_passes_with_the_default_resolver() -> None:
    assert verify(sample("ob30-simple-did-key-method.json")).ok


def test_verify_https_method_with_default_resolver_fails_key_not_resolvable() -> None:
    outcome = verify(sample("ob30-simple.json"))
    assert outcome.failure is Failure.KEY_NOT_RESOLVABLE
    assert "https://example.com/issuers/876543" in outcome.reason


def test_verify_err_proof_value_sample_fails_signature_mismatch() -> None:
    outcome = verify(sample("ob30-simple-err-proof-value.json"), resolver=resolve_fragment_multikey)
    assert not outcome.ok
    assert outcome.failure is Failure.SIGNATURE_MISMATCH
    assert outcome.reason.startswith("signature mismatch")


def test_verify_err_expired_sample_fails_expired_naming_valid_until() -> None:
    outcome = verify(sample("ob30-simple-err-expired.json"), resolver=resolve_fragment_multikey)
    assert outcome.failure is Failure.EXPIRED
    assert "validUntil 2010-01-01T00:00:00Z" in outcome.reason


def test_verify_expired_sample_judged_in_2009_fails_only_on_time() -> None:
    # Its signature holds; before validFrom the period check is what fails.
    before = datetime(2009, 12, 31, tzinfo=UTC)
    outcome = verify(
        sample("ob30-simple-err-expired.json"), resolver=resolve_fragment_multikey, now=before
    )
    assert outcome.failure is Failure.NOT_YET_VALID


def test_verify_noproof_sample_fails_no_proof() -> None:
    assert verify(sample("clr20-simple-noproof.json")).failure is Failure.NO_PROOF


def test_sign_then_verify_round_trip(signed: dict[str, Any], key: Ed25519PrivateKey) -> None:
    proof = signed["proof"]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["created"] == "2024-01-02T03:04:05Z"
    assert proof["verificationMethod"] == did_key_of(key)
    assert proof["proofValue"].startswith("z")
    assert verify(signed).ok


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name",), "Forged Badge"),
        (("issuer", "id"), "https://forger.example/issuer"),
        (("validFrom",), "2020-01-01T00:00:00Z"),
        (("credentialSubject", "id"), "did:example:someone-else"),
        (("credentialSubject", "achievement", "name"), "Brain Surgery"),
        (("credentialSubject", "achievement", "criteria", "narrative"), "Turned up."),
        (("type",), ["VerifiableCredential", "AchievementCredential", "EndorsementCredential"]),
    ],
)
def test_verify_tampered_field_fails_signature_mismatch(
    signed: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    tampered = copy.deepcopy(signed)
    target = tampered
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert verify(tampered).failure is Failure.SIGNATURE_MISMATCH


@pytest.mark.parametrize(
    ("field", "value"), [("created", "2030-01-01T00:00:00Z"), ("verificationMethod", None)]
)
def test_verify_tampered_proof_options_fail(
    signed: dict[str, Any], key: Ed25519PrivateKey, field: str, value: Any
) -> None:
    other = Ed25519PrivateKey.generate()
    tampered = copy.deepcopy(signed)
    tampered["proof"][field] = value if value is not None else did_key_of(other)
    assert verify(tampered).failure is Failure.SIGNATURE_MISMATCH


subject_changes = st.fixed_dictionaries(
    {
        "field": st.sampled_from(["id", "name", "description"]),
        "value": st.text(min_size=1, max_size=30),
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(change=subject_changes)
def test_verify_random_credential_subject_change_breaks_the_proof(
    signed: dict[str, Any], change: dict[str, str]
) -> None:
    tampered = copy.deepcopy(signed)
    subject = tampered["credentialSubject"]
    if change["field"] == "id":
        value = "did:example:" + change["value"].encode().hex()
        target, key = subject, "id"
    else:
        value = change["value"]
        target, key = subject["achievement"], change["field"]
    if target[key] == value:
        value += "!"
    target[key] = value
    assert verify(tampered).failure is Failure.SIGNATURE_MISMATCH


@pytest.mark.parametrize(
    ("field", "value", "failure"),
    [
        ("cryptosuite", "ecdsa-rdfc-2019", Failure.UNKNOWN_CRYPTOSUITE),
        ("type", "EcdsaSecp256k1Signature2019", Failure.UNKNOWN_CRYPTOSUITE),
        ("proofPurpose", "authentication", Failure.WRONG_PROOF_PURPOSE),
        ("proofValue", "uAAAA", Failure.BAD_PROOF_VALUE),
        ("proofValue", "z0OIl", Failure.BAD_PROOF_VALUE),
        ("proofValue", "z2222", Failure.BAD_PROOF_VALUE),
        ("verificationMethod", "https://example.edu/keys/1", Failure.KEY_NOT_RESOLVABLE),
        ("expires", "2020-01-01T00:00:00Z", Failure.EXPIRED),
    ],
)
def test_verify_bad_proof_fails_with_the_named_reason(
    signed: dict[str, Any], field: str, value: str, failure: Failure
) -> None:
    broken = copy.deepcopy(signed)
    broken["proof"][field] = value
    outcome = verify(broken)
    assert outcome.failure is failure
    assert outcome.reason.startswith(failure.value)


def test_verify_unlisted_context_fails_naming_the_url(signed: dict[str, Any]) -> None:
    broken = {**signed, "@context": [V2, OB, "https://evil.example/ctx.json"]}
    outcome = verify(broken)
    assert outcome.failure is Failure.CONTEXT_NOT_ALLOWED
    assert "https://evil.example/ctx.json" in outcome.reason


def test_verify_undefined_term_fails_canonicalisation(signed: dict[str, Any]) -> None:
    outcome = verify({**signed, "unsignedExtra": "x"})
    assert outcome.failure is Failure.CANONICALIZATION
    assert "unsignedExtra" in outcome.reason


def test_verify_proof_list_requires_every_proof(signed: dict[str, Any]) -> None:
    good = signed["proof"]
    bad = {**good, "proofValue": "z" + "1" * 10}
    assert verify({**signed, "proof": [good]}).ok
    assert verify({**signed, "proof": [good, bad]}).failure is Failure.BAD_PROOF_VALUE


def test_sign_document_with_proof_or_without_context_raises(
    signed: dict[str, Any], key: Ed25519PrivateKey
) -> None:
    with pytest.raises(SigningError, match="already has a proof"):
        sign(signed, key, did_key_of(key))
    with pytest.raises(SigningError, match="@context"):
        sign({"type": "VerifiableCredential"}, key, did_key_of(key))


# -- proof sets: several proofs on one credential ------------------------------------------


def _other_proof(**changes: Any) -> dict[str, Any]:
    proof = {
        "type": "EcdsaSecp256k1Signature2019",
        "created": "2024-01-02T03:04:05Z",
        "verificationMethod": "did:example:elsewhere#key-1",
        "proofPurpose": "assertionMethod",
        "jws": "eyJhbGciOiJFUzI1NksifQ..c2lnbmF0dXJl",
    }
    proof.update(changes)
    return proof


def test_a_proof_of_an_unknown_kind_beside_a_valid_one_is_a_warning(
    signed: dict[str, Any],
) -> None:
    both = {**signed, "proof": [signed["proof"], _other_proof()]}
    outcome = verify(both)
    assert outcome.ok
    (warning,) = outcome.warnings
    assert "EcdsaSecp256k1Signature2019" in warning


def test_an_unknown_cryptosuite_beside_a_valid_proof_is_a_warning_too(
    signed: dict[str, Any],
) -> None:
    other = {**signed["proof"], "cryptosuite": "ecdsa-rdfc-2019", "proofValue": "z3yx"}
    outcome = verify({**signed, "proof": [other, signed["proof"]]})
    assert outcome.ok
    assert ["ecdsa-rdfc-2019" in w for w in outcome.warnings] == [True]


def test_only_proofs_of_unknown_kinds_fail(signed: dict[str, Any]) -> None:
    outcome = verify(
        {**signed, "proof": [_other_proof(), _other_proof(type="BbsBlsSignature2020")]}
    )
    assert outcome.failure is Failure.UNKNOWN_CRYPTOSUITE
    assert "EcdsaSecp256k1Signature2019" in outcome.reason


def test_every_proof_of_a_known_kind_must_verify(signed: dict[str, Any]) -> None:
    other_key = Ed25519PrivateKey.generate()
    # a valid signature, but over another document: it does not match this one
    foreign = sign({**badge(), "name": "Other"}, other_key, did_key_of(other_key))["proof"]
    outcome = verify({**signed, "proof": [signed["proof"], foreign, _other_proof()]})
    assert outcome.failure is Failure.SIGNATURE_MISMATCH
    assert did_key_of(other_key) in outcome.reason


def test_two_valid_proofs_by_two_keys_verify_without_warning(signed: dict[str, Any]) -> None:
    second_key = Ed25519PrivateKey.generate()
    second = sign(badge(), second_key, did_key_of(second_key), created=SIGNED_AT)["proof"]
    outcome = verify({**signed, "proof": [signed["proof"], second]})
    assert outcome.ok
    assert outcome.warnings == ()
