"""Digital Bazaar's Ed25519Signature2020 suite signs VC 1.1 and OB 3.0 credentials for the tests, and checks them."""

from __future__ import annotations

import copy
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.contexts import CONTEXT_FILES
from credentials.keys import did_key_of
from tests.ed25519_2020 import (
    Ed25519SignerError,
    ed25519_2020_contexts,
    ed25519_2020_verdict,
    sign_ed25519_2020,
    verify_ed25519_2020,
)
from tests.interop import INTEROP, ROOT
from tests.samples import sample

ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SEED = hashlib.sha256(b"ed25519-2020 issuer of the tests").digest()
CREATED = "2024-07-01T10:00:00Z"
# base58btc of a 64-byte signature: 86 to 88 characters after the multibase 'z'.
PROOF_VALUE = re.compile(r"z[1-9A-HJ-NP-Za-km-z]{86,88}")


def verification_method(seed: bytes) -> str:
    """The ledger's own `did:key:z6Mk…#z6Mk…` for the key of ``seed``."""
    return did_key_of(Ed25519PrivateKey.from_private_bytes(seed))


def issuer_did(seed: bytes) -> str:
    return verification_method(seed).partition("#")[0]


def vc11_credential(seed: bytes) -> dict[str, Any]:
    """A VC 1.1 credential with the suite's context, as DCC issuers send them."""
    return {
        "@context": [VC_V1, ED25519_2020],
        "id": "urn:uuid:4b1c7f6e-8a2d-4c3e-9f10-2d6b5a7c8e91",
        "type": ["VerifiableCredential"],
        "issuer": issuer_did(seed),
        "issuanceDate": "2024-06-30T09:00:00Z",
        "credentialSubject": {"id": "did:example:lrn-4f7c2a"},
    }


def ob30_credential(seed: bytes) -> dict[str, Any]:
    """1EdTech's ob30-simple sample without its proof, as an AchievementCredential of the seed's DID."""
    credential: dict[str, Any] = sample("ob30-simple.json")
    del credential["proof"]
    credential["@context"] = [VC_V2, OB, ED25519_2020]
    credential["type"] = ["VerifiableCredential", "AchievementCredential"]
    credential["issuer"]["id"] = issuer_did(seed)
    return credential


CREDENTIALS = {"vc-1.1": vc11_credential, "ob-3.0": ob30_credential}


@pytest.fixture(scope="module", params=sorted(CREDENTIALS))
def signed(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each kind of credential, signed once by the suite."""
    return sign_ed25519_2020(CREDENTIALS[request.param](SEED), SEED, created=CREATED)


def test_signer_proof_has_the_ed25519_2020_shape(signed: dict[str, Any]) -> None:
    proof = signed["proof"]
    assert set(proof) == {"type", "created", "verificationMethod", "proofPurpose", "proofValue"}
    assert proof["type"] == "Ed25519Signature2020"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["created"] == CREATED
    assert PROOF_VALUE.fullmatch(proof["proofValue"]), proof["proofValue"]


def test_signer_verification_method_is_the_ledgers_did_key_of_the_seed(
    signed: dict[str, Any],
) -> None:
    assert signed["proof"]["verificationMethod"] == verification_method(SEED)


def test_signer_credential_apart_from_proof_is_unchanged() -> None:
    for build in CREDENTIALS.values():
        credential = build(SEED)
        signed = sign_ed25519_2020(credential, SEED, created=CREATED)
        assert {name: value for name, value in signed.items() if name != "proof"} == credential


def test_signer_same_seed_and_created_signs_the_same_bytes() -> None:
    credential = vc11_credential(SEED)
    first = sign_ed25519_2020(credential, SEED, created=CREATED)
    second = sign_ed25519_2020(credential, SEED, created=CREATED)
    assert first == second


def test_signer_without_created_stamps_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    proof = sign_ed25519_2020(vc11_credential(SEED), SEED)["proof"]
    stamped = datetime.fromisoformat(proof["created"])
    assert before <= stamped <= datetime.now(UTC) + timedelta(seconds=1)


def test_verifier_accepts_what_the_signer_signed(signed: dict[str, Any]) -> None:
    assert ed25519_2020_verdict(signed) == {"verified": True}
    assert verify_ed25519_2020(signed) is True


def change_subject(credential: dict[str, Any]) -> None:
    credential["credentialSubject"]["id"] = "did:example:someone-else"


def change_id(credential: dict[str, Any]) -> None:
    credential["id"] = "urn:uuid:00000000-0000-4000-8000-000000000000"


def change_created(credential: dict[str, Any]) -> None:
    credential["proof"]["created"] = "2024-07-01T10:00:01Z"


def change_proof_purpose(credential: dict[str, Any]) -> None:
    credential["proof"]["proofPurpose"] = "authentication"


@pytest.mark.parametrize(
    "change", [change_subject, change_id, change_created, change_proof_purpose]
)
def test_verifier_refuses_a_copy_with_one_field_changed(
    signed: dict[str, Any], change: Any
) -> None:
    tampered = copy.deepcopy(signed)
    change(tampered)
    verdict = ed25519_2020_verdict(tampered)
    assert verdict["verified"] is False
    assert verdict["error"]
    assert verify_ed25519_2020(tampered) is False


def test_verifier_refuses_a_proof_by_a_key_the_issuer_does_not_control() -> None:
    other = hashlib.sha256(b"someone else").digest()
    signed = sign_ed25519_2020(vc11_credential(SEED), other, created=CREATED)
    verdict = ed25519_2020_verdict(signed)
    assert verdict["verified"] is False
    assert "issuer must match the verification method controller" in verdict["error"]


def test_signer_serves_every_ledger_context_from_the_same_file() -> None:
    served = ed25519_2020_contexts()
    assert {url: served.get(url) for url in CONTEXT_FILES} == CONTEXT_FILES
    assert served[ED25519_2020] == "ed25519-signature-2020-v1.jsonld"


def test_vendored_ed25519_2020_context_is_the_packages_file_byte_for_byte() -> None:
    ours = ROOT / "credentials" / "contexts" / "ed25519-signature-2020-v1.jsonld"
    package = INTEROP / "node_modules" / "ed25519-signature-2020-context"
    assert ours.read_bytes() == (package / "contexts" / ours.name).read_bytes()
    licence = ROOT / "credentials" / "contexts" / "LICENSE-ed25519-signature-2020-context.txt"
    assert licence.read_bytes() == (package / "LICENSE").read_bytes()


def test_signer_refuses_a_context_it_does_not_vendor_without_the_network() -> None:
    credential = vc11_credential(SEED)
    unknown = "https://example.org/contexts/unknown.jsonld"
    credential["@context"].append(unknown)
    with pytest.raises(Ed25519SignerError, match=re.escape(f"document loader refuses {unknown}")):
        sign_ed25519_2020(credential, SEED)


def test_signer_refuses_a_term_no_context_defines() -> None:
    credential = vc11_credential(SEED)
    credential["favouriteColour"] = "teal"
    with pytest.raises(Ed25519SignerError, match="favouriteColour"):
        sign_ed25519_2020(credential, SEED)


def test_signer_refuses_a_created_that_is_not_rfc3339() -> None:
    with pytest.raises(Ed25519SignerError, match='"created" must be an RFC 3339 date-time'):
        sign_ed25519_2020(vc11_credential(SEED), SEED, created="1 July 2024")


def test_signer_refuses_a_seed_that_is_not_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes, got 31"):
        sign_ed25519_2020(vc11_credential(SEED), SEED[:31])
