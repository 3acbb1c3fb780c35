"""The issued-credentials read model: each standing credential signed once, re-signed when it
changes, a tombstone after erasure (no database: documents in a dict)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials import dataintegrity
from credentials.identity import Issuance, SigningIdentity
from projections.issued import IssuedCredentialsProjection
from projections.store import Document
from tests.unit.projections.feeding import feed, ledger_event

UNI = "https://uni.example"
LEARNER = "lrn_A"
LEDGER = "urn:lll:ledger"
SIGNED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Recorder:
    """Feeds events to the projection as the runner would, numbering positions."""

    def __init__(self, key: Ed25519PrivateKey | None = None) -> None:
        self.key = key or Ed25519PrivateKey.generate()
        self.projection = IssuedCredentialsProjection(
            Issuance(SigningIdentity.of(self.key)), clock=lambda: SIGNED_AT
        )
        self.docs: dict[str, Document | None] = {}
        self.position = 0

    def emit(
        self, topic: str, data: dict[str, Any], *, source: str = UNI, issuer: str = "uni"
    ) -> str:
        self.position += 1
        envelope = {
            "specversion": "1.0",
            "id": f"e{self.position}",
            "source": source,
            "type": f"org.lll.{topic}.v1",
            "subject": LEARNER,
            "data": data,
        }
        feed(self.projection, self.docs, ledger_event(self.position, envelope, issuer=issuer))
        return str(envelope["id"])

    @property
    def doc(self) -> Document:
        doc = self.docs[LEARNER]
        assert doc is not None
        return doc

    def proofs(self) -> dict[str, str]:
        """Credential id → proofValue of every issued credential."""
        return {
            e["credential"]["id"]: e["credential"]["proof"]["proofValue"]
            for e in self.doc["issued"].values()
        }


def credential(cid: str, title: str = "Cert") -> dict[str, Any]:
    return {
        "credentialId": cid,
        "achievementId": f"a-{cid}",
        "kind": "certificate",
        "title": title,
        "issuedOn": "2024-06",
        "skills": [],
    }


def test_issued_credentials_are_signed_once_and_verify() -> None:
    r = Recorder()
    r.emit("credentials.issued", credential("c1"))
    first = r.proofs()
    r.emit("credentials.issued", credential("c2"))
    assert len(r.proofs()) == 2
    assert {k: r.proofs()[k] for k in first} == first  # c1 kept its proof
    for entry in r.doc["issued"].values():
        assert dataintegrity.verify(entry["credential"])
        assert entry["credential"]["proof"]["created"] == "2026-01-02T03:04:05Z"
        assert entry["rdf"]


def test_correction_re_signs_only_the_corrected_credential() -> None:
    r = Recorder()
    target = r.emit("credentials.issued", credential("c1", "Old title"))
    r.emit("credentials.issued", credential("c2"))
    before = r.proofs()
    r.emit(
        "corrections.event-corrected",
        {
            "target": {"source": UNI, "id": target},
            "replacement": {"title": "New title"},
            "correctedAt": "2026-01-01T00:00:00Z",
            "reason": "typo",
        },
    )
    after = r.proofs()
    assert after.keys() == before.keys()  # the credential ids are stable
    changed = [cid for cid in after if after[cid] != before[cid]]
    assert len(changed) == 1
    names = {e["credential"]["name"] for e in r.doc["issued"].values()}
    assert names == {"New title", "Cert"}


def test_revoked_credential_is_no_longer_held() -> None:
    r = Recorder()
    r.emit("credentials.issued", credential("c1"))
    r.emit("credentials.issued", credential("c2"))
    r.emit("credentials.revoked", {"credentialId": "c1", "revokedOn": "2025-01-01"})
    assert [e["credential"]["name"] for e in r.doc["issued"].values()] == ["Cert"]
    assert len(r.proofs()) == 1


def test_new_signing_key_re_signs_on_the_next_event() -> None:
    r = Recorder()
    r.emit("credentials.issued", credential("c1"))
    old = dict(r.doc["issued"])
    r.projection = IssuedCredentialsProjection(
        Issuance(SigningIdentity.of(Ed25519PrivateKey.generate()))
    )
    r.emit("credentials.issued", credential("c2"))
    assert not old.keys() & r.doc["issued"].keys()  # every digest names the new key
    methods = {e["credential"]["proof"]["verificationMethod"] for e in r.doc["issued"].values()}
    assert len(methods) == 1
    assert methods != {e["credential"]["proof"]["verificationMethod"] for e in old.values()}


def test_erasure_leaves_a_tombstone_without_personal_data_and_ignores_later_events() -> None:
    r = Recorder()
    r.emit("credentials.issued", credential("c1", "Secret title"))
    erasure = {"requestId": "r1", "completedAt": "2026-01-01T00:00:00Z", "keyDestroyed": True}
    r.emit("learner.erasure-completed", erasure, source=LEDGER, issuer="ledger")
    r.emit("credentials.issued", credential("c2"))
    assert r.doc == {"learner": LEARNER, "erased": True, "lastPosition": 2}
    assert b"Secret" not in orjson.dumps(r.doc)


def test_only_credential_corrections_and_erasure_events_concern_the_model() -> None:
    r = Recorder()
    r.emit("learning.course-completed", {"courseId": "c1", "title": "S", "endDate": "2024"})
    r.emit("credentials.endorsed", {"credentialId": "c1", "comment": "Good"})
    assert LEARNER not in r.docs
