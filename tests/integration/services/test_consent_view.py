"""Consent as the API and the CLI both run it: granted and revoked while the learner is live, read only by its grantee while in force."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.errors import LearnerErasedError
from projections.reading import LedgerRecords, NoRecordError
from projections.sqlite import SQLiteProjectionStore
from services import consent
from services.consent import (
    ConsentAlreadyRevokedError,
    ConsentNotActiveError,
    ConsentTerms,
    ConsentUnknownError,
    NotYoursToReadError,
    view_under_consent,
)
from services.erasure import erase_learner
from tests.integration.services.conftest import Demo

DISCLOSED = "org.lll.learner.record-disclosed.v1"


@pytest.fixture
def world(demo: Demo) -> tuple[Ledger, SQLiteProjectionStore, dict[str, Any]]:
    """The demo population, and one consent in force at ``consent["now"]``."""
    ledger, store, population = demo
    granted = [
        {"learner": learner, **c}
        for learner in population.learners
        for c in LedgerRecords(ledger, store).record(learner).get("consents", ())
        if c.get("status") == "granted"
    ]
    consent = granted[0]
    expires = datetime.fromisoformat(consent["expiresAt"].replace("Z", "+00:00"))
    consent["now"] = expires.replace(day=1, tzinfo=UTC)
    return ledger, store, consent


def read(world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]], **changes: Any) -> Any:
    ledger, store, c = world
    args: dict[str, Any] = {
        "learner": c["learner"],
        "consent": c["consentId"],
        "purpose": c["purposes"][0],
        "now": c["now"],
        "verifier": c["grantee"]["id"],
        **changes,
    }
    learner, consent = args.pop("learner"), args.pop("consent")
    return view_under_consent(LedgerRecords(ledger, store), ledger, learner, consent, **args)


def disclosures(world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]]) -> int:
    ledger, _, c = world
    return sum(e.envelope["type"] == DISCLOSED for e in ledger.learner_events(c["learner"]))


def test_the_grantee_reads_the_view_and_the_read_is_recorded(
    world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]],
) -> None:
    view = read(world)
    assert view["consent"]["consentId"] == world[2]["consentId"]
    assert disclosures(world) == 1


def test_an_operator_reads_on_the_grantees_behalf(
    world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]],
) -> None:
    assert read(world, verifier=None)["learner"] == world[2]["learner"]


@pytest.mark.parametrize(
    "changes",
    [
        {"verifier": "someone-else"},
        {"consent": "C-no-such-consent"},
        {"learner": "lrn_ZZZZZZZZZZZZZZZZZZZZZZZZZZ"},
    ],
)
def test_another_verifier_an_unknown_consent_or_learner_get_one_answer_and_nothing_is_recorded(
    world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]], changes: dict[str, Any]
) -> None:
    with pytest.raises(NotYoursToReadError):
        read(world, **changes)
    assert disclosures(world) == 0


def test_a_purpose_the_consent_does_not_name_discloses_nothing(
    world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]],
) -> None:
    with pytest.raises(ConsentNotActiveError):
        read(world, purpose="marketing")
    assert disclosures(world) == 0


def test_an_erased_learners_record_is_not_yours_to_read(
    world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]],
) -> None:
    ledger, store, c = world
    erase_learner(LedgerRecords(ledger, store), ledger, c["learner"], channel="support")
    with pytest.raises(NotYoursToReadError):
        read(world)


def terms(grantee: str = "verifier-acme") -> ConsentTerms:
    return ConsentTerms(
        grantee_id=grantee,
        grantee_name="Acme",
        purposes=["recruitment"],
        categories=["credentials"],
        items=[],
        expires_at="2099-01-01T00:00:00Z",
        notice_url="https://acme.example/privacy",
        jurisdiction="GB",
        withdrawal_method="ledger consent revoke",
    )


def test_grant_then_revoke_then_revoke_again_is_refused(
    world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]],
) -> None:
    ledger, store, c = world
    records = LedgerRecords(ledger, store)
    now = datetime.now(UTC)
    granted = consent.grant(records, ledger, c["learner"], terms(), now=now)
    assert (
        consent.revoke(records, ledger, c["learner"], granted.consent_id, now=now)
        > granted.position
    )
    with pytest.raises(ConsentAlreadyRevokedError):
        consent.revoke(records, ledger, c["learner"], granted.consent_id, now=now)
    with pytest.raises(ConsentUnknownError):
        consent.revoke(records, ledger, c["learner"], "C-no-such", now=now)


def test_no_consent_is_granted_for_an_unknown_or_erased_learner(
    world: tuple[Ledger, SQLiteProjectionStore, dict[str, Any]],
) -> None:
    ledger, store, c = world
    records = LedgerRecords(ledger, store)
    now = datetime.now(UTC)
    with pytest.raises(NoRecordError):
        consent.grant(records, ledger, "lrn_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", terms(), now=now)
    erase_learner(records, ledger, c["learner"], channel="api")
    head = ledger.recorder.max_position()
    with pytest.raises(LearnerErasedError):
        consent.grant(records, ledger, c["learner"], terms(), now=now)
    assert ledger.recorder.max_position() == head
