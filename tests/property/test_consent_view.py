"""Properties of the verifier's view: nothing outside the consent's scope, ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.records import LedgerEvent
from projections.learner_record import LearnerRecordProjection
from projections.store import Document
from schemas.catalogue import load_catalogue
from services.consent import ConsentNotActiveError, verifier_view
from tests.strategies import event_batches, event_types

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LEARNER = "lrn_PROP"
ISSUER_TYPES = [
    t
    for t in event_types()
    if ".learner." not in t and load_catalogue().get(t).subject == "learner"
]
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def project(batch: list[dict[str, Any]]) -> Document:
    projection = LearnerRecordProjection()
    docs: dict[str, Document | None] = {}
    for position, envelope in enumerate(batch, start=1):
        event = LedgerEvent(
            position,
            uuid4(),
            position,
            envelope["type"],
            envelope,
            envelope["source"],
            "2026-01-01T00:00:00Z",
            False,
            "00",
        )
        if list(projection.keys(event)) == [LEARNER]:
            projection.apply(docs, event)
    doc = docs.get(LEARNER)
    assert doc is not None
    return projection.finish(doc)


def refs_in(value: Any) -> set[tuple[str, str]]:
    """Every event reference anywhere in a JSON value."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        if "source" in value and "id" in value and "position" in value:
            found.add((value["source"], value["id"]))
        for v in value.values():
            found |= refs_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= refs_in(v)
    return found


@st.composite
def records_with_consent(draw: st.DrawFn) -> tuple[Document, Document]:
    batch = draw(event_batches(max_size=30, learners=st.just(LEARNER), types=ISSUER_TYPES))
    record = project(batch)
    refs = sorted(refs_in({c: record[c] for c in ("learning", "work", "credentials")}))
    categories = draw(
        st.lists(
            st.sampled_from(["learning", "work", "credentials", "skills"]), unique=True, max_size=4
        )
    )
    named = draw(st.lists(st.sampled_from(refs), unique=True, max_size=5)) if refs else []
    stranger = draw(st.booleans())
    items = [{"source": s, "id": i} for s, i in named]
    if stranger:
        items.append({"source": "https://nobody.example", "id": "x"})
    scope: dict[str, Any] = {}
    if categories:
        scope["categories"] = categories
    if items or not categories:
        scope["items"] = items or [{"source": "https://nobody.example", "id": "x"}]
    consent = {
        "consentId": "c1",
        "receiptId": "r1",
        "grantee": {"id": "v", "name": "V"},
        "purposes": ["recruitment"],
        "scope": scope,
        "status": "granted",
        "expiresAt": (NOW + timedelta(days=draw(st.integers(-30, 30)) or 1)).isoformat(),
    }
    record["consents"] = [consent]
    return record, consent


def allowed_refs(record: Document, scope: dict[str, Any]) -> set[tuple[str, str]]:
    categories = set(scope.get("categories") or ())
    named = {(i["source"], i["id"]) for i in scope.get("items") or ()}
    covered = refs_in(
        {c: record[c] for c in ("learning", "work", "credentials") if c in categories}
    )
    return covered | named


@PROPERTY
@given(records_with_consent())
def test_view_never_holds_anything_outside_the_scope(case: tuple[Document, Document]) -> None:
    record, consent = case
    expired = datetime.fromisoformat(consent["expiresAt"]) <= NOW
    try:
        view = verifier_view(record, "c1", NOW)
    except ConsentNotActiveError:
        assert expired
        return
    assert not expired
    assert refs_in(view) <= allowed_refs(record, consent["scope"])
    categories = set(consent["scope"].get("categories") or ())
    for category in ("learning", "work", "credentials", "skills"):
        if category not in categories and category in view:
            assert category != "skills"
            assert view[category], "an uncovered category shows up only with named items"
    for private in ("endorsements", "profile", "consents"):
        assert private not in view


@PROPERTY
@given(records_with_consent())
def test_revoked_consent_yields_no_data(case: tuple[Document, Document]) -> None:
    record, consent = case
    consent["status"] = "revoked"
    with pytest.raises(ConsentNotActiveError, match=r"revoked|expired"):
        verifier_view(record, "c1", NOW)
