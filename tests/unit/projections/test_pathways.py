"""Pathway definitions as a read model, and a learner's progress on them."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.records import LedgerEvent
from projections.pathways import PathwaysProjection, progress
from projections.store import Document
from tests.unit.projections.feeding import feed, ledger_event

TODAY = date(2026, 6, 1)
PATHWAY = {
    "pathwayId": "p1",
    "title": "Certificate",
    "minimumOptional": 1,
    "target": {"achievementId": "cert", "title": "Certificate"},
    "components": [
        {"achievementId": "mc-a", "title": "A", "required": True},
        {"achievementId": "mc-b", "title": "B", "required": True},
        {"achievementId": "mc-c", "title": "C", "required": False},
        {"achievementId": "mc-d", "title": "D", "required": False},
    ],
}


def defined(data: dict[str, Any], position: int = 1, issuer: str = "uni") -> LedgerEvent:
    envelope = {
        "id": f"d{position}",
        "source": "https://uni.example",
        "type": "org.lll.credentials.pathway-defined.v1",
        "data": data,
    }
    return ledger_event(position, envelope, issuer=issuer)


def project(*events: LedgerEvent) -> list[Document]:
    projection = PathwaysProjection()
    docs: dict[str, Document | None] = {}
    for event in events:
        feed(projection, docs, event)
    return [d for d in docs.values() if d is not None]


def record(*held: tuple[str, str], status: str = "active", issuer: str = "uni") -> Document:
    return {
        "credentials": [
            {
                "issuer": issuer,
                "status": status,
                "data": {"achievementId": a, "credentialId": c},
                "ref": {"source": "s", "id": c, "position": 1},
            }
            for a, c in held
        ]
    }


def test_a_redefinition_replaces_the_pathway() -> None:
    (doc,) = project(defined(PATHWAY), defined({**PATHWAY, "title": "Certificate v2"}, 2))
    assert doc["title"] == "Certificate v2"
    assert doc["issuer"] == "uni"


def test_progress_lists_what_is_held_and_what_remains() -> None:
    (standing,) = progress(record(("mc-a", "k1")), project(defined(PATHWAY)), TODAY)
    assert [h["achievementId"] for h in standing["held"]] == ["mc-a"]
    assert standing["remaining"] == {"required": ["mc-b"], "optional": 1}
    assert standing["complete"] is False


def test_pathway_completes_with_every_required_and_enough_optional_components() -> None:
    held = record(("mc-a", "k1"), ("mc-b", "k2"), ("mc-d", "k3"))
    (standing,) = progress(held, project(defined(PATHWAY)), TODAY)
    assert standing["remaining"] == {"required": [], "optional": 0}
    assert standing["complete"] is True


def test_revoked_credentials_and_other_issuers_do_not_count() -> None:
    pathways = project(defined(PATHWAY))
    assert progress(record(("mc-a", "k1"), status="revoked"), pathways, TODAY) == []
    assert progress(record(("mc-a", "k1"), issuer="elsewhere"), pathways, TODAY) == []


def test_holding_the_target_completes_the_pathway() -> None:
    (standing,) = progress(record(("cert", "k9")), project(defined(PATHWAY)), TODAY)
    assert standing["complete"] is True
    assert standing["targetCredential"]["id"] == "k9"
