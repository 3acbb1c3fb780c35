"""Our OB 3.0 / CLR 2.0 proofs, checked by independent verifiers: jose and Digital Bazaar's vc (Node)."""

from __future__ import annotations

import copy
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials import dataintegrity
from credentials.contexts import CONTEXT_FILES
from credentials.jwt import PrivateKey, sign_jwt, verify_jwt
from credentials.keys import did_key_of, jwk_of, static_resolver
from tests import interop
from tests.interop import ROOT

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
LEARNER = "did:example:lrn-4f7c2a"
RSA_KID = "https://uni-north.example/issuers/registrar#rsa-2024"


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the verifiers installed from the current lockfile."""
    return interop.node()


def node_verify(node: str, job: dict[str, Any]) -> dict[str, Any]:
    """Run interop/verify.mjs on one job, offline, and return its JSON verdict."""
    proc = subprocess.run(
        [node, "interop/verify.mjs"],
        cwd=ROOT,
        input=orjson.dumps(job),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    verdict: dict[str, Any] = orjson.loads(proc.stdout)
    return verdict


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def achievement_credential(issuer: str, *, number: int = 1) -> dict[str, Any]:
    """An OB 3.0 AchievementCredential shaped like the 1EdTech samples, valid for years to come."""
    base = "https://uni-north.example"
    return {
        "@context": [V2, OB],
        "id": f"urn:uuid:7d1c64f4-3b8e-4c1d-9f0a-5e2b8c6d4a{number:02d}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": {
            "id": issuer,
            "type": ["Profile"],
            "name": "University of the North",
            "url": base,
            "email": "registrar@uni-north.example",
        },
        "validFrom": "2024-06-30T09:00:00Z",
        "validUntil": timestamp(datetime.now(UTC) + timedelta(days=3650)),
        "name": "Data Stewardship (Level 5)",
        "credentialSubject": {
            "id": LEARNER,
            "type": ["AchievementSubject"],
            "activityStartDate": "2024-01-15T00:00:00Z",
            "activityEndDate": "2024-06-14T00:00:00Z",
            "creditsEarned": 15.0,
            "achievement": {
                "id": f"{base}/achievements/data-stewardship-{number}",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": "Data Stewardship",
                "description": "Designs retention, consent and audit for personal data.",
                "criteria": {"narrative": "Passed the written exam and the practical audit."},
                "creator": {"id": issuer, "type": ["Profile"], "name": "University of the North"},
                "creditsAvailable": 15.0,
                "fieldOfStudy": "Information Management",
                "humanCode": "IM-502",
                "image": {"id": f"{base}/badges/im-502.png", "type": "Image"},
                "resultDescription": [
                    {
                        "id": f"{base}/achievements/data-stewardship-{number}/grade",
                        "type": ["ResultDescription"],
                        "name": "Final grade",
                        "resultType": "LetterGrade",
                        "allowedValue": ["A", "B", "C", "D", "F"],
                    }
                ],
            },
            "result": [
                {
                    "type": ["Result"],
                    "resultDescription": f"{base}/achievements/data-stewardship-{number}/grade",
                    "value": "A",
                }
            ],
        },
        "evidence": [
            {
                "id": f"{base}/evidence/audit-report-{number}",
                "type": ["Evidence"],
                "name": "Practical audit report",
                "genre": "Report",
            }
        ],
    }


def clr_credential(issuer: str, achievements: list[dict[str, Any]]) -> dict[str, Any]:
    """A CLR 2.0 ClrCredential holding signed AchievementCredentials."""
    return {
        "@context": [V2, CLR, OB],
        "id": "urn:uuid:2a9e5d0b-6c41-4f6e-8d3a-1b7f0c9e8d21",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "University of the North"},
        "validFrom": "2024-07-01T00:00:00Z",
        "name": "Transcript of Lifelong Learning",
        "credentialSubject": {
            "id": LEARNER,
            "type": ["ClrSubject"],
            "verifiableCredential": achievements,
            "achievement": [a["credentialSubject"]["achievement"] for a in achievements],
        },
    }


@pytest.fixture(scope="module")
def did(ed_key: Ed25519PrivateKey) -> str:
    """The issuer's DID; @digitalbazaar/vc requires the issuer to control the proof's key."""
    return did_key_of(ed_key).partition("#")[0]


@pytest.fixture(scope="module")
def signed_badge(ed_key: Ed25519PrivateKey, did: str) -> dict[str, Any]:
    return dataintegrity.sign(achievement_credential(did), ed_key, did_key_of(ed_key))


@pytest.fixture(scope="module")
def signed_clr(ed_key: Ed25519PrivateKey, did: str, signed_badge: dict[str, Any]) -> dict[str, Any]:
    return dataintegrity.sign(clr_credential(did, [signed_badge]), ed_key, did_key_of(ed_key))


def test_verifier_contexts_are_the_ledgers_allow_list(node: str) -> None:
    assert node_verify(node, {"kind": "contexts"})["contexts"] == CONTEXT_FILES


def test_data_integrity_achievement_credential_verified_by_digital_bazaar(
    node: str, signed_badge: dict[str, Any]
) -> None:
    assert dataintegrity.verify(signed_badge)
    assert node_verify(node, {"kind": "data-integrity", "credential": signed_badge}) == {
        "verified": True
    }


def test_data_integrity_clr_credential_verified_by_digital_bazaar(
    node: str, signed_clr: dict[str, Any]
) -> None:
    assert dataintegrity.verify(signed_clr)
    assert node_verify(node, {"kind": "data-integrity", "credential": signed_clr}) == {
        "verified": True
    }


def test_data_integrity_tampered_subject_rejected_by_digital_bazaar(
    node: str, signed_badge: dict[str, Any]
) -> None:
    tampered = copy.deepcopy(signed_badge)
    tampered["credentialSubject"]["result"][0]["value"] = "B"
    verdict = node_verify(node, {"kind": "data-integrity", "credential": tampered})
    assert verdict["verified"] is False
    assert "Invalid signature" in verdict["error"]


def test_data_integrity_unlisted_context_refused_without_network(
    node: str, signed_badge: dict[str, Any]
) -> None:
    stray = {**signed_badge, "@context": [*signed_badge["@context"], "https://example.org/ctx"]}
    verdict = node_verify(node, {"kind": "data-integrity", "credential": stray})
    assert verdict["verified"] is False
    assert "refuses https://example.org/ctx" in verdict["error"]


def jwt_job(token: str, key: PrivateKey, alg: str) -> dict[str, Any]:
    return {"kind": "jwt", "token": token, "jwk": jwk_of(key.public_key()), "alg": alg}


@pytest.mark.parametrize("credential", ["badge", "clr"])
def test_vc_jwt_eddsa_verified_by_jose(
    node: str, ed_key: Ed25519PrivateKey, did: str, credential: str
) -> None:
    badge = achievement_credential(did)
    document = badge if credential == "badge" else clr_credential(did, [badge])
    token = sign_jwt(document, ed_key, kid=did_key_of(ed_key))
    assert verify_jwt(token)
    assert node_verify(node, jwt_job(token, ed_key, "EdDSA")) == {"verified": True}


def test_vc_jwt_rs256_verified_by_jose(node: str, rsa_key: rsa.RSAPrivateKey) -> None:
    issuer = RSA_KID.partition("#")[0]
    token = sign_jwt(achievement_credential(issuer), rsa_key, kid=RSA_KID)
    assert verify_jwt(token, resolver=static_resolver({RSA_KID: rsa_key.public_key()}))
    assert node_verify(node, jwt_job(token, rsa_key, "RS256")) == {"verified": True}


@pytest.mark.parametrize("alg", ["EdDSA", "RS256"])
def test_vc_jwt_signed_by_another_key_rejected_by_jose(
    node: str, ed_key: Ed25519PrivateKey, rsa_key: rsa.RSAPrivateKey, did: str, alg: str
) -> None:
    claimed: PrivateKey = ed_key if alg == "EdDSA" else rsa_key
    impostor: PrivateKey = (
        Ed25519PrivateKey.generate()
        if alg == "EdDSA"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    token = sign_jwt(achievement_credential(did), impostor, kid=did_key_of(ed_key))
    verdict = node_verify(node, jwt_job(token, claimed, alg))
    assert verdict["verified"] is False
    assert "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" in verdict["error"]
