"""Ed25519Signature2020 credentials, as the Digital Credentials Consortium's issuers and the
Learner Credential Wallet make them (signed here by Digital Bazaar's suite in Node), are
verified by the ledger: on their own, embedded in a credential-issued event, presented to
`ledger verify`, and beside proofs of other kinds."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials import dataintegrity
from credentials.inbound import method_of, verify_embedded
from credentials.keys import did_key_of
from credentials.presented import verify_presented
from credentials.verification import Failure
from ledger.outcomes import Accepted, Channel, Rejected
from tests.conftest import LedgerBuilder
from tests.ed25519_2020 import sign_ed25519_2020
from tests.integration.test_inbound_credentials import HOLDER, LEARNER, bind, issued

SEED = bytes(range(32))
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
DID = did_key_of(KEY).partition("#")[0]
V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
SUITE = "https://w3id.org/security/suites/ed25519-2020/v1"
CREATED = "2024-07-01T10:00:00Z"
backends = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


def badge(*contexts: str) -> dict[str, Any]:
    return {
        "@context": list(contexts or (V2, OB, SUITE)),
        "id": "urn:uuid:0e8a4f3c-3c1b-4b8e-9d55-7a1d2c3b4e5f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": DID, "type": ["Profile"], "name": "Digital Credentials College"},
        "validFrom": "2024-06-30T00:00:00Z",
        "name": "SQL Foundations",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": HOLDER,
            "achievement": {
                "id": "https://college.example/achievements/sql",
                "type": ["Achievement"],
                "name": "SQL Foundations",
                "criteria": {"narrative": "Passed every assessed component."},
            },
        },
    }


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    return sign_ed25519_2020(badge(), SEED, created=CREATED)


def test_the_suites_proof_verifies_and_names_the_issuers_did_key(signed: dict[str, Any]) -> None:
    assert signed["proof"]["type"] == "Ed25519Signature2020"
    outcome = dataintegrity.verify(signed)
    assert outcome.ok, outcome.reason
    assert outcome.warnings == ()


def test_a_vc_1_1_credential_as_dcc_issues_them_verifies() -> None:
    credential = {
        "@context": [V1, SUITE],
        "id": "urn:uuid:8c1d2a3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "issuanceDate": "2024-06-30T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    outcome = dataintegrity.verify(sign_ed25519_2020(credential, SEED, created=CREATED))
    assert outcome.ok, outcome.reason


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("name",), "Another Badge"),
        (("credentialSubject", "name"), "Someone Else"),
        (("proof", "created"), "2024-07-02T10:00:00Z"),
        (("proof", "verificationMethod"), did_key_of(Ed25519PrivateKey.generate())),
    ],
)
def test_a_change_after_signing_breaks_it(
    signed: dict[str, Any], where: tuple[str, ...], value: str
) -> None:
    changed = copy.deepcopy(signed)
    target = changed
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    assert dataintegrity.verify(changed).failure is Failure.SIGNATURE_MISMATCH


def test_without_the_suites_context_its_terms_are_undefined(signed: dict[str, Any]) -> None:
    unsigned = {**signed, "@context": [V2, OB]}
    assert dataintegrity.verify(unsigned).failure is Failure.CANONICALIZATION


def test_embedded_in_an_event_it_verifies_by_its_did_key(signed: dict[str, Any]) -> None:
    embedded = {"format": "ob3-json", "credential": signed}
    assert verify_embedded(embedded, now=datetime(2025, 1, 1, tzinfo=UTC)).ok
    assert method_of(embedded) == did_key_of(KEY)


def test_ledger_verify_reports_it_verified(signed: dict[str, Any]) -> None:
    report = verify_presented(orjson.dumps(signed).decode())
    assert report.ok, report.as_dict()
    (check,) = report.checks
    assert (check.kind, check.verified, check.reason) == ("OpenBadgeCredential", True, "")


def test_beside_our_own_proof_and_an_unknown_one_both_known_proofs_count(
    signed: dict[str, Any],
) -> None:
    ours = dataintegrity.sign(badge(), KEY, did_key_of(KEY))["proof"]
    unknown = {"type": "EcdsaSecp256k1Signature2019", "proofPurpose": "assertionMethod"}
    both = {**signed, "proof": [signed["proof"], ours, unknown]}
    outcome = dataintegrity.verify(both)
    assert outcome.ok, outcome.reason
    assert len(outcome.warnings) == 1
    report = verify_presented(orjson.dumps(both).decode())
    assert report.ok
    assert report.checks[0].warnings == outcome.warnings
    broken = {**both, "proof": [{**signed["proof"], "proofValue": ours["proofValue"]}, ours]}
    assert dataintegrity.verify(broken).failure is Failure.SIGNATURE_MISMATCH


@backends
def test_ingest_accepts_it_and_records_the_method(
    make_ledger: LedgerBuilder, database_url: str, signed: dict[str, Any]
) -> None:
    ledger = make_ledger(database_url)
    bind(ledger, DID)
    good = issued("c-2020-1", {"format": "ob3-json", "credential": signed})
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["name"] = "Someone Else"
    bad = issued("c-2020-2", {"format": "ob3-json", "credential": tampered})
    accepted, rejected = ledger.ingest([good, bad], Channel("file"))
    assert isinstance(accepted, Accepted), accepted
    (event,) = [e for e in ledger.learner_events(LEARNER) if e.position == accepted.position]
    assert event.verification["status"] == "verified"
    assert event.verification["method"] == did_key_of(KEY)
    assert isinstance(rejected, Rejected)
    (problem,) = rejected.problems
    assert (problem.path, problem.rule) == ("data.embedded.credential", "proof")
    assert "Someone" not in problem.message
