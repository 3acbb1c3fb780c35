"""Fixtures of the service unit tests: a learner's history in a fake ledger, its read models
in memory, and a consent in force (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.names import (
    CONSENT_GRANTED,
    CREDENTIAL_ISSUED,
    CREDENTIAL_REVOKED,
    LEARNER_REGISTERED,
    PATHWAY_DEFINED,
)
from tests.unit.services.fakes import FakeLedger, FakeRecords, FakeSigner

LEARNER = "lrn_" + "0" * 25 + "A"
UNKNOWN = "lrn_" + "Z" * 26
VERIFIER = "verifier-acme"
PURPOSE = "recruitment"
CONSENT = "consent-0000000000000001"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
COURSE = "org.lll.learning.course-completed.v1"


def credential(cid: str, achievement: str, **extra: Any) -> dict[str, Any]:
    return {
        "credentialId": cid,
        "achievementId": achievement,
        "kind": "certificate",
        "title": f"Certificate {cid}",
        "issuedOn": "2025-06",
        **extra,
    }


def consent_data(consent_id: str = CONSENT, **changes: Any) -> dict[str, Any]:
    """A consent-granted event's data: ``VERIFIER`` may read the credentials and skills for
    ``PURPOSE`` until 2099."""
    return {
        "consentId": consent_id,
        "receiptId": f"receipt-{consent_id}",
        "schemaVersion": "1.0",
        "grantee": {"id": VERIFIER, "name": "Acme"},
        "purposes": [PURPOSE],
        "scope": {"categories": ["credentials", "skills"]},
        "noticeUrl": "https://acme.example/privacy",
        "jurisdiction": "GB",
        "givenAt": "2026-01-01T00:00:00Z",
        "expiresAt": "2099-01-01T00:00:00Z",
        "withdrawalMethod": "ledger consent revoke",
        **changes,
    }


@dataclass
class World:
    """One learner: registered, a course, three credentials (one revoked, ``k1`` and ``k2``
    standing, components of a pathway), and consent ``CONSENT`` in force."""

    ledger: FakeLedger
    records: FakeRecords
    signer: FakeSigner


@pytest.fixture
def world() -> World:
    ledger = FakeLedger()
    skill = {"uri": "http://data.europa.eu/esco/skill/s1", "name": "Data analysis"}
    ledger.append(
        LEARNER_REGISTERED,
        LEARNER,
        {"name": {"given": "Ada", "family": "Lovelace"}, "registeredAt": "2025-01-01T00:00:00Z"},
    )
    ledger.append(COURSE, LEARNER, {"courseId": "c1", "title": "Statistics", "endDate": "2025"})
    ledger.append(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1", skills=[skill]))
    ledger.append(CREDENTIAL_ISSUED, LEARNER, credential("k2", "a2"))
    ledger.append(CREDENTIAL_ISSUED, LEARNER, credential("k3", "a3"))
    ledger.append(
        CREDENTIAL_REVOKED,
        LEARNER,
        {"credentialId": "k3", "reason": "error", "revokedOn": "2025-07-01"},
    )
    ledger.append(
        PATHWAY_DEFINED,
        None,
        {
            "pathwayId": "p1",
            "title": "Data pathway",
            "target": {"achievementId": "a9", "title": "Data diploma"},
            "components": [
                {"achievementId": "a1", "title": "One", "required": True},
                {"achievementId": "a2", "title": "Two", "required": True},
            ],
        },
    )
    ledger.publish_own(CONSENT_GRANTED, LEARNER, consent_data())
    return World(ledger, FakeRecords(ledger), FakeSigner())
