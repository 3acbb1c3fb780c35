"""The learner record read model, event by event (no database: documents in a dict)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.records import LedgerEvent
from projections.learner_record import LearnerRecordProjection, credential_status
from projections.store import Document
from tests.unit.projections.feeding import feed, ledger_event

UNI = "https://uni.example"
LEARNER = "lrn_A"
ESCO = {"uri": "http://data.europa.eu/esco/skill/s1", "name": "Data analysis"}
ONET = {"framework": "ONET", "code": "15-2051.00", "name": "Data science"}


class Recorder:
    """Feeds events to the projection as the runner would, numbering positions."""

    def __init__(self) -> None:
        self.projection = LearnerRecordProjection()
        self.docs: dict[str, Document | None] = {}
        self.position = 0

    def emit(
        self,
        topic: str,
        data: dict[str, Any],
        *,
        id: str | None = None,
        issuer: str = "uni",
        source: str = UNI,
        erased: bool = False,
    ) -> LedgerEvent:
        self.position += 1
        envelope = {
            "specversion": "1.0",
            "id": id or f"e{self.position}",
            "source": source,
            "type": f"org.lll.{topic}.v1",
            "subject": LEARNER,
            "data": data,
        }
        event = ledger_event(self.position, envelope, issuer=issuer, erased=erased)
        feed(self.projection, self.docs, event)
        return event

    @property
    def record(self) -> Document:
        doc = self.docs[LEARNER]
        assert doc is not None
        return doc


def credential(
    cid: str, skills: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "credentialId": cid,
        "achievementId": "a1",
        "kind": "certificate",
        "title": "Cert",
        "issuedOn": "2024-06",
        "skills": skills or [],
        **extra,
    }


def test_items_land_in_their_category_with_a_reference_to_the_event() -> None:
    r = Recorder()
    r.emit("learning.course-completed", {"courseId": "c1", "title": "Stats", "endDate": "2024"})
    r.emit("work.employment-started", {"employmentId": "j1", "startDate": "2025"}, issuer="acme")
    r.emit("credentials.issued", credential("k1"))
    assert [i["kind"] for i in r.record["learning"]] == ["course-completed"]
    assert r.record["work"][0]["issuer"] == "acme"
    assert r.record["credentials"][0]["status"] == "active"
    assert r.record["learning"][0]["ref"] == {"source": UNI, "id": "e1", "position": 1}
    assert r.record["lastPosition"] == 3


def test_skills_are_aggregated_across_sources_with_their_evidence() -> None:
    r = Recorder()
    r.emit(
        "learning.course-completed",
        {"courseId": "c1", "title": "S", "endDate": "2024", "skills": [ESCO]},
    )
    r.emit("learning.competency-mastered", {"competency": ESCO}, id="m1")
    r.emit("credentials.issued", credential("k1", [ONET, ESCO]), id="k")
    skills = {s["key"]: [e["id"] for e in s["evidence"]] for s in r.record["skills"]}
    assert skills == {ESCO["uri"]: ["e1", "m1", "k"], "ONET:15-2051.00": ["k"]}


def test_retraction_marks_the_item_and_withdraws_its_skill_evidence() -> None:
    r = Recorder()
    r.emit("credentials.issued", credential("k1", [ONET]), id="k")
    r.emit(
        "corrections.event-retracted",
        {
            "target": {"source": UNI, "id": "k"},
            "reason": "error",
            "retractedAt": "2025-01-01T00:00:00Z",
        },
    )
    (item,) = r.record["credentials"]
    assert item["status"] == "retracted"
    assert item["retracted"]["reason"] == "error"
    assert r.record["skills"] == []


def test_correction_replaces_fields_and_keeps_the_history() -> None:
    r = Recorder()
    r.emit(
        "learning.course-completed", {"courseId": "c1", "title": "Statz", "endDate": "2024"}, id="c"
    )
    r.emit(
        "corrections.event-corrected",
        {
            "target": {"source": UNI, "id": "c"},
            "reason": "typo",
            "correctedAt": "2025-01-01T00:00:00Z",
            "replacement": {"title": "Stats"},
        },
    )
    (item,) = r.record["learning"]
    assert item["data"]["title"] == "Stats"
    assert [c["reason"] for c in item["corrections"]] == ["typo"]


def test_revocation_by_the_issuer_changes_only_its_own_credential() -> None:
    r = Recorder()
    r.emit("credentials.issued", credential("k1"), issuer="uni")
    r.emit("credentials.issued", credential("k1"), issuer="other", source="https://other.example")
    r.emit("credentials.revoked", {"credentialId": "k1", "reason": "fraud", "revokedOn": "2025"})
    assert [c["status"] for c in r.record["credentials"]] == ["revoked", "active"]


def test_expiry_is_judged_on_the_day_the_record_is_read() -> None:
    r = Recorder()
    r.emit("credentials.issued", credential("k1", expiresOn="2025-06"))
    (item,) = r.record["credentials"]
    assert credential_status(item, date(2025, 6, 30)) == "active"
    assert credential_status(item, date(2025, 7, 1)) == "expired"


def test_erasure_leaves_a_tombstone_without_personal_data_and_ignores_later_events() -> None:
    r = Recorder()
    r.emit(
        "learner.registered",
        {"name": {"given": "Ann"}, "registeredAt": "2020-01-01T00:00:00Z"},
        source="urn:lll:ledger",
        issuer="ledger",
    )
    r.emit("learning.course-completed", {"courseId": "c1", "title": "S", "endDate": "2024"})
    r.emit(
        "learner.erasure-completed",
        {"requestId": "r1", "completedAt": "2026-01-01T00:00:00Z", "keyDestroyed": True},
        source="urn:lll:ledger",
        issuer="ledger",
    )
    r.emit("learning.course-completed", {"courseId": "c2", "title": "T", "endDate": "2026"})
    assert r.record == {"learner": LEARNER, "erased": True, "lastPosition": 3}


def test_consent_revocation_is_reflected() -> None:
    r = Recorder()
    r.emit(
        "learner.consent-granted", {"consentId": "c1", "grantee": "acme"}, source="urn:lll:ledger"
    )
    r.emit(
        "learner.consent-revoked",
        {"consentId": "c1", "revokedAt": "2026-02-01T00:00:00Z"},
        source="urn:lll:ledger",
    )
    assert [(c["consentId"], c["status"]) for c in r.record["consents"]] == [("c1", "revoked")]
