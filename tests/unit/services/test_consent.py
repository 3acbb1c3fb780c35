"""Consent against fakes of its ports: granted and revoked while the learner is live, read
only by its grantee, for a purpose it names, while it is in force; every refusal writes
nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.errors import LearnerErasedError, LedgerError, StoreError
from projections.reading import NoRecordError
from schemas.names import CONSENT_GRANTED, CONSENT_REVOKED, RECORD_DISCLOSED
from services import consent
from services.consent import (
    ConsentAlreadyRevokedError,
    ConsentNotActiveError,
    ConsentTerms,
    ConsentUnknownError,
    InvalidConsentError,
    NotYoursToReadError,
    view_under_consent,
)
from tests.unit.services.conftest import (
    CONSENT,
    LEARNER,
    NOW,
    PURPOSE,
    UNKNOWN,
    VERIFIER,
    World,
    consent_data,
)


def view(world: World, **changes: Any) -> Any:
    args: dict[str, Any] = {
        "learner": LEARNER,
        "consent": CONSENT,
        "purpose": PURPOSE,
        "now": NOW,
        "verifier": VERIFIER,
        **changes,
    }
    learner, consent_id = args.pop("learner"), args.pop("consent")
    return view_under_consent(world.records, world.ledger, learner, consent_id, **args)


def terms(**changes: Any) -> ConsentTerms:
    fields: dict[str, Any] = {
        "grantee_id": "verifier-beta",
        "grantee_name": "Beta",
        "purposes": ["research", "recruitment", "research"],
        "categories": ["learning", "credentials", "learning"],
        "items": [("https://uni.example", "e4")],
        "expires_at": "2099-01-01T00:00:00Z",
        "notice_url": "https://beta.example/privacy",
        "jurisdiction": "FR",
        "withdrawal_method": "ledger consent revoke",
        **changes,
    }
    return ConsentTerms(**fields)


def refused(world: World, run: Callable[[], object], error: type[Exception]) -> None:
    """``run`` raises ``error`` and writes nothing to the log."""
    head = world.ledger.head
    with pytest.raises(error):
        run()
    assert world.ledger.head == head


# -- view_under_consent --------------------------------------------------------------------


def test_the_grantee_sees_what_the_consent_covers_and_the_read_is_recorded(
    world: World,
) -> None:
    shown = view(world)
    assert shown["learner"] == LEARNER
    assert shown["consent"]["consentId"] == CONSENT
    assert set(shown) == {"learner", "consent", "credentials", "skills"}
    assert [(c["data"]["credentialId"], c["status"]) for c in shown["credentials"]] == [
        ("k1", "active"),
        ("k2", "active"),
        ("k3", "revoked"),
    ]
    (disclosure,) = world.ledger.published(RECORD_DISCLOSED, LEARNER)
    assert (disclosure["consentId"], disclosure["granteeId"], disclosure["purpose"]) == (
        CONSENT,
        VERIFIER,
        PURPOSE,
    )
    assert [i["id"] for i in disclosure["items"]] == ["e3", "e4", "e5"]
    assert disclosure["disclosedAt"] == "2026-06-01T12:00:00Z"


def test_an_operator_reads_on_the_grantees_behalf(world: World) -> None:
    assert view(world, verifier=None)["consent"]["grantee"]["id"] == VERIFIER
    assert len(world.ledger.published(RECORD_DISCLOSED)) == 1


def test_a_read_that_shows_no_item_records_nothing(world: World) -> None:
    scope = {"items": [{"source": "https://uni.example", "id": "e-never"}]}
    world.ledger.publish_own(CONSENT_GRANTED, LEARNER, consent_data("c-narrow", scope=scope))
    shown = view(world, consent="c-narrow")
    assert set(shown) == {"learner", "consent"}
    assert world.ledger.published(RECORD_DISCLOSED) == []


@pytest.mark.parametrize(
    "changes",
    [{"verifier": "verifier-other"}, {"consent": "consent-unknown"}, {"learner": UNKNOWN}],
    ids=["another-verifier", "unknown-consent", "unknown-learner"],
)
def test_another_verifier_an_unknown_consent_or_learner_get_one_answer(
    world: World, changes: dict[str, Any]
) -> None:
    refused(world, lambda: view(world, **changes), NotYoursToReadError)


def test_an_erased_learners_record_is_not_yours_to_read(world: World) -> None:
    world.ledger.erase(LEARNER, request_id="erasure-1")
    refused(world, lambda: view(world), NotYoursToReadError)


def test_a_purpose_the_consent_does_not_name_discloses_nothing(world: World) -> None:
    refused(world, lambda: view(world, purpose="marketing"), ConsentNotActiveError)


def test_a_revoked_consent_discloses_nothing(world: World) -> None:
    world.ledger.publish_own(
        CONSENT_REVOKED, LEARNER, {"consentId": CONSENT, "revokedAt": "2026-05-01T00:00:00Z"}
    )
    refused(world, lambda: view(world), ConsentNotActiveError)


def test_an_expired_consent_discloses_nothing(world: World) -> None:
    later = datetime(2099, 1, 1, tzinfo=UTC)
    refused(world, lambda: view(world, now=later), ConsentNotActiveError)


def test_a_read_when_the_store_fails_is_a_store_error(world: World) -> None:
    world.records.failing = True
    refused(world, lambda: view(world), StoreError)


def test_a_refused_disclosure_is_a_ledger_error(world: World) -> None:
    world.ledger.refuse = RECORD_DISCLOSED
    refused(world, lambda: view(world), LedgerError)


# -- grant -------------------------------------------------------------------------------------


def test_grant_records_the_terms_with_a_receipt(world: World) -> None:
    granted = consent.grant(world.records, world.ledger, LEARNER, terms(), now=NOW)
    assert granted.position == world.ledger.head
    data = world.ledger.published(CONSENT_GRANTED, LEARNER)[-1]
    assert (data["consentId"], data["receiptId"]) == (granted.consent_id, granted.receipt_id)
    assert data["grantee"] == {"id": "verifier-beta", "name": "Beta"}
    assert data["purposes"] == ["recruitment", "research"]
    assert data["scope"] == {
        "categories": ["credentials", "learning"],
        "items": [{"source": "https://uni.example", "id": "e4"}],
    }
    assert (data["givenAt"], data["expiresAt"]) == ("2026-06-01T12:00:00Z", "2099-01-01T00:00:00Z")
    assert (data["noticeUrl"], data["jurisdiction"], data["withdrawalMethod"]) == (
        "https://beta.example/privacy",
        "FR",
        "ledger consent revoke",
    )
    consents = world.records.record(LEARNER)["consents"]
    assert [c["status"] for c in consents if c["consentId"] == granted.consent_id] == ["granted"]


def test_grant_for_an_unknown_learner_is_no_record(world: World) -> None:
    refused(
        world, lambda: consent.grant(world.records, world.ledger, UNKNOWN, terms(), now=NOW),
        NoRecordError,
    )  # fmt: skip


def test_grant_for_an_erased_learner_is_refused(world: World) -> None:
    world.ledger.erase(LEARNER, request_id="erasure-1")
    refused(
        world, lambda: consent.grant(world.records, world.ledger, LEARNER, terms(), now=NOW),
        LearnerErasedError,
    )  # fmt: skip


def test_grant_without_a_scope_is_invalid(world: World) -> None:
    no_scope = terms(categories=(), items=())
    refused(
        world, lambda: consent.grant(world.records, world.ledger, LEARNER, no_scope, now=NOW),
        InvalidConsentError,
    )  # fmt: skip


def test_grant_the_ledger_refuses_names_the_field(world: World) -> None:
    bad = terms(expires_at="next year")
    head = world.ledger.head
    with pytest.raises(LedgerError, match="expiresAt"):
        consent.grant(world.records, world.ledger, LEARNER, bad, now=NOW)
    assert world.ledger.head == head


def test_grant_when_the_store_fails_is_a_store_error(world: World) -> None:
    world.records.failing = True
    refused(
        world, lambda: consent.grant(world.records, world.ledger, LEARNER, terms(), now=NOW),
        StoreError,
    )  # fmt: skip


# -- revoke ------------------------------------------------------------------------------------


def revoke(world: World, consent_id: str = CONSENT, learner: str = LEARNER) -> int:
    return consent.revoke(world.records, world.ledger, learner, consent_id, now=NOW)


def test_revoke_records_the_revocation_and_the_consent_stops_at_once(world: World) -> None:
    position = revoke(world)
    assert position == world.ledger.head
    assert world.ledger.published(CONSENT_REVOKED, LEARNER) == [
        {"consentId": CONSENT, "revokedAt": "2026-06-01T12:00:00Z"}
    ]
    (given,) = world.records.record(LEARNER)["consents"]
    assert given["status"] == "revoked"
    refused(world, lambda: view(world), ConsentNotActiveError)


def test_revoking_twice_is_refused_the_second_time(world: World) -> None:
    revoke(world)
    refused(world, lambda: revoke(world), ConsentAlreadyRevokedError)


def test_revoking_a_consent_never_given_is_unknown(world: World) -> None:
    refused(world, lambda: revoke(world, "consent-unknown"), ConsentUnknownError)


def test_revoke_for_an_unknown_learner_is_no_record(world: World) -> None:
    refused(world, lambda: revoke(world, learner=UNKNOWN), NoRecordError)


def test_revoke_for_an_erased_learner_is_refused(world: World) -> None:
    world.ledger.erase(LEARNER, request_id="erasure-1")
    refused(world, lambda: revoke(world), LearnerErasedError)


def test_revoke_when_the_store_fails_is_a_store_error(world: World) -> None:
    world.records.failing = True
    refused(world, lambda: revoke(world), StoreError)


def test_a_revocation_the_ledger_refuses_is_a_ledger_error(world: World) -> None:
    world.ledger.refuse = CONSENT_REVOKED
    refused(world, lambda: revoke(world), LedgerError)


# -- granted_to ----------------------------------------------------------------------------


def test_granted_to_lists_each_consent_given_to_the_verifier_with_its_state(
    world: World,
) -> None:
    world.ledger.publish_own(
        CONSENT_GRANTED,
        LEARNER,
        consent_data("consent-2", expiresAt="2026-03-01T00:00:00Z", givenAt="2026-02-01T00:00:00Z"),
    )
    world.ledger.publish_own(
        CONSENT_GRANTED, LEARNER, consent_data("consent-3", grantee={"id": "other", "name": "O"})
    )
    world.ledger.publish_own(CONSENT_GRANTED, LEARNER, consent_data("consent-4"))
    consent.revoke(world.records, world.ledger, LEARNER, "consent-4", now=NOW)
    rows = consent.granted_to(world.records, VERIFIER, now=NOW)
    assert [(r["consentId"], r["state"]) for r in rows] == [
        ("consent-4", "revoked"),
        ("consent-2", "expired"),
        (CONSENT, "given"),
    ]
    assert {r["learner"] for r in rows} == {LEARNER}
    assert rows[-1]["purposes"] == [PURPOSE]
    assert [r["consentId"] for r in consent.granted_to(world.records, "other", now=NOW)] == [
        "consent-3"
    ]
    assert consent.granted_to(world.records, "nobody", now=NOW) == []


def test_granted_to_leaves_out_an_erased_learners_consents(world: World) -> None:
    world.ledger.erase(LEARNER, request_id="erasure-1")
    assert consent.granted_to(world.records, VERIFIER, now=NOW) == []


def test_granted_to_when_the_store_fails_is_a_store_error(world: World) -> None:
    world.records.failing = True
    with pytest.raises(StoreError):
        consent.granted_to(world.records, VERIFIER, now=NOW)
