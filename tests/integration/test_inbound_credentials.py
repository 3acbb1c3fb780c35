"""Credential-issued events embedding an issuer-signed credential: verified on ingest, recorded."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials import dataintegrity
from credentials.jwt import sign_jwt
from credentials.keys import did_key_of
from ledger.application import Ledger
from ledger.outcomes import Accepted, Channel, Rejected
from tests.conftest import LedgerBuilder
from tests.samples import sample

FILE = Channel("file")
LEARNER = "lrn_0123456789ABCDEFGHJKMNPQRS"
UNI = "https://registrar.uni-north.example"
HOLDER = "Zoë Ångström"
backends = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


def issued(event_id: str, embedded: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": UNI,
            "type": "org.lll.credentials.issued.v1",
            "subject": LEARNER,
            "time": "2024-06-30T12:00:00Z",
            "data": {
                "credentialId": "CRED-1",
                "achievementId": "uni-north-sql",
                "kind": "micro-credential",
                "title": "SQL Foundations",
                "issuedOn": "2024-06",
                "embedded": embedded,
            },
        }
    )


def did_of(key: Ed25519PrivateKey) -> str:
    return did_key_of(key).partition("#")[0]


def bind(ledger: Ledger, *dids: str) -> None:
    """Register what uni-north signs its credentials as (replacing what it had)."""
    current = ledger.registry.by_source(UNI)
    assert current is not None
    ledger.registry.register(
        current.id,
        name=current.name,
        source=UNI,
        kind=current.kind,
        types=sorted(current.types),
        dids=dids,
    )


def badge(issuer: str = UNI) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:5b4d1c8e-6f0a-4c1e-9f39-2f0d7a2c9e11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Uni North"},
        "validFrom": "2024-06-30T00:00:00Z",
        "name": "SQL Foundations",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": HOLDER,
            "achievement": {
                "id": f"{UNI}/achievements/sql",
                "type": ["Achievement"],
                "name": "SQL Foundations",
                "criteria": {"narrative": "Passed every assessed component."},
            },
        },
    }


def stored(ledger: Ledger, result: Any) -> Any:
    assert isinstance(result, Accepted), result
    (event,) = [e for e in ledger.learner_events(LEARNER) if e.position == result.position]
    return event


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@backends
def test_credential_signed_with_did_key_is_accepted_and_recorded_as_verified(
    make_ledger: LedgerBuilder, database_url: str, key: Ed25519PrivateKey
) -> None:
    ledger = make_ledger(database_url)
    bind(ledger, did_of(key))
    signed = dataintegrity.sign(badge(did_of(key)), key, did_key_of(key))
    (result,) = ledger.ingest([issued("c-1", {"format": "ob3-json", "credential": signed})], FILE)
    event = stored(ledger, result)
    assert event.verification["status"] == "verified"
    assert event.verification["method"] == did_key_of(key)
    assert event.verification["checkedAt"] <= event.recorded_at
    assert "note" not in event.verification
    assert event.envelope["data"]["embedded"]["credential"] == signed
    assert "verification" not in event.envelope


@backends
def test_credential_altered_after_signing_is_rejected_with_the_reason(
    make_ledger: LedgerBuilder, database_url: str, key: Ed25519PrivateKey
) -> None:
    ledger = make_ledger(database_url)
    bind(ledger, did_of(key))
    signed = dataintegrity.sign(badge(did_of(key)), key, did_key_of(key))
    signed["credentialSubject"]["name"] = "Someone Else"
    (result,) = ledger.ingest([issued("c-2", {"format": "ob3-json", "credential": signed})], FILE)
    assert isinstance(result, Rejected)
    (problem,) = result.problems
    assert (problem.path, problem.rule) == ("data.embedded.credential", "proof")
    assert problem.message.startswith("signature mismatch")
    assert "Someone" not in problem.message
    assert ledger.learner_events(LEARNER) == []


def test_vc_jwt_with_embedded_jwk_is_accepted(
    make_ledger: LedgerBuilder, key: Ed25519PrivateKey
) -> None:
    ledger = make_ledger()
    bind(ledger, did_of(key))  # the embedded key is the issuer's did:key
    token = sign_jwt(badge(did_of(key)), key, embed_jwk=True)
    (result,) = ledger.ingest([issued("c-3", {"format": "ob3-jwt", "credential": token})], FILE)
    assert stored(ledger, result).verification["method"] == "embedded-jwk"


@pytest.mark.parametrize(
    ("name", "fmt", "issuer"),
    [
        ("ob30-simple.json", "ob3-json", "https://example.com/issuers/876543"),
        ("clr20-simple.json", "clr2-json", "https://example.edu/issuers/565049"),
    ],
)
def test_1edtech_samples_are_accepted_from_the_issuer_they_name(
    make_ledger: LedgerBuilder, name: str, fmt: str, issuer: str
) -> None:
    ledger = make_ledger()
    bind(ledger, issuer)
    credential = sample(name)
    (result,) = ledger.ingest([issued("c-4", {"format": fmt, "credential": credential})], FILE)
    assert stored(ledger, result).verification["status"] == "verified"


@pytest.mark.parametrize(
    ("name", "fmt", "issuer"),
    [
        # RS256 with the key in the JWS header: a key anyone could have made
        ("clr20-simple.jwt", "clr2-jwt", "https://example.edu/issuers/565049"),
        # a did:key under an issuer named by a urn:uuid, which cannot own it
        ("ob30-simple-did-key-method.json", "ob3-json", "https://example.com/issuers/876543"),
    ],
)
def test_1edtech_samples_whose_key_is_not_their_issuers_are_refused(
    make_ledger: LedgerBuilder, name: str, fmt: str, issuer: str
) -> None:
    ledger = make_ledger()
    bind(ledger, issuer)
    credential = sample(name)
    (result,) = ledger.ingest([issued("c-4", {"format": fmt, "credential": credential})], FILE)
    assert isinstance(result, Rejected)
    (problem,) = result.problems
    assert (problem.path, problem.rule) == ("data.embedded.credential", "issuer-binding")
    assert ledger.learner_events(LEARNER) == []


def test_a_credential_from_an_issuer_with_no_did_registered_is_refused_saying_how(
    make_ledger: LedgerBuilder, key: Ed25519PrivateKey
) -> None:
    ledger = make_ledger()
    bind(ledger)  # no DID
    signed = dataintegrity.sign(badge(did_of(key)), key, did_key_of(key))
    (result,) = ledger.ingest([issued("c-9", {"format": "ob3-json", "credential": signed})], FILE)
    assert isinstance(result, Rejected)
    (problem,) = result.problems
    assert problem.rule == "issuer-binding"
    assert "ledger issuers add" in problem.message
    assert did_of(key) not in problem.message


def test_a_credential_naming_another_issuer_or_signed_by_another_key_is_refused(
    make_ledger: LedgerBuilder, key: Ed25519PrivateKey
) -> None:
    ledger = make_ledger()
    bind(ledger, did_of(key))
    stranger = Ed25519PrivateKey.generate()
    theirs = dataintegrity.sign(badge(did_of(stranger)), stranger, did_key_of(stranger))
    # names our DID, but a stranger's key signed it (its proof alone is valid)
    posing = dataintegrity.sign(badge(did_of(key)), stranger, did_key_of(stranger))
    mine = dataintegrity.sign(badge(did_of(key)), key, did_key_of(key))
    results = ledger.ingest(
        [
            issued(f"c-1{i}", {"format": "ob3-json", "credential": c})
            for i, c in enumerate((theirs, posing, mine))
        ],
        FILE,
    )
    assert [r.problems[0].rule if isinstance(r, Rejected) else "ok" for r in results] == [
        "issuer-binding",
        "issuer-binding",
        "ok",
    ]


def test_expired_sample_is_accepted_with_an_expiry_note(make_ledger: LedgerBuilder) -> None:
    ledger = make_ledger()
    bind(ledger, "https://example.com/issuers/876543")
    credential = sample("ob30-simple-err-expired.json")
    (result,) = ledger.ingest(
        [issued("c-5", {"format": "ob3-json", "credential": credential})], FILE
    )
    verification = stored(ledger, result).verification
    assert verification["status"] == "verified"
    assert verification["note"].startswith("expired:")


def test_event_without_embedded_credential_has_no_verification(make_ledger: LedgerBuilder) -> None:
    ledger = make_ledger()
    raw = orjson.loads(issued("c-6", {}))
    del raw["data"]["embedded"]
    (result,) = ledger.ingest([orjson.dumps(raw)], FILE)
    assert stored(ledger, result).verification is None


def test_preparation_in_a_batch_rejects_only_the_forged_credential(
    make_ledger: LedgerBuilder, key: Ed25519PrivateKey
) -> None:
    ledger = make_ledger()
    bind(ledger, did_of(key))
    good = sign_jwt(badge(did_of(key)), key, kid=did_key_of(key))
    forged = sign_jwt(badge(did_of(key)), Ed25519PrivateKey.generate(), kid=did_key_of(key))
    results = ledger.ingest(
        [
            issued("c-7", {"format": "ob3-jwt", "credential": good}),
            issued("c-8", {"format": "ob3-jwt", "credential": forged}),
        ],
        FILE,
    )
    assert isinstance(results[0], Accepted)
    assert isinstance(results[1], Rejected)
    assert results[1].problems[0].rule == "proof"
