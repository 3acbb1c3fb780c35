"""A learner grants a verifier consent over HTTP, the verifier reads that scope, the learner revokes."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import VERIFIER, World, consent_terms

CATEGORIES = ("learning", "work", "credentials")


def test_consent_granted_read_revoked_and_the_one_read_is_in_the_disclosure_log(
    world: World,
) -> None:
    learner = world.learners[2]
    as_learner = world.auth("learner", learner)
    as_verifier = world.auth("verifier", VERIFIER)
    record = world.client.get(f"/v1/learners/{learner}/record", headers=as_learner).json()
    assert record["work"], "the learner needs items outside the consented category"

    granted = world.client.post(
        f"/v1/learners/{learner}/consents",
        headers=as_learner,
        json=consent_terms(categories=["learning"]),
    )
    assert granted.status_code == 201, granted.text
    consent = granted.json()["consentId"]
    read = {"consent": consent, "purpose": "recruitment"}

    view = world.client.get(f"/v1/learners/{learner}/view", params=read, headers=as_verifier)
    assert view.status_code == 200, view.text
    shown: dict[str, Any] = view.json()
    # Exactly the consented scope: the learning items, nothing of any other category.
    assert [i["ref"] for i in shown["learning"]] == [i["ref"] for i in record["learning"]]
    assert set(shown) == {"learner", "consent", "learning"}

    revoked = world.client.delete(f"/v1/learners/{learner}/consents/{consent}", headers=as_learner)
    assert revoked.status_code == 200, revoked.text
    refused = world.client.get(f"/v1/learners/{learner}/view", params=read, headers=as_verifier)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent-not-active"

    log = world.client.get(f"/v1/learners/{learner}/disclosures", headers=as_learner).json()
    assert [(d["consentId"], d["granteeId"], d["purpose"]) for d in log] == [
        (consent, VERIFIER, "recruitment")
    ]
    assert {(i["source"], i["id"]) for i in log[0]["items"]} == {
        (i["ref"]["source"], i["ref"]["id"]) for i in record["learning"]
    }
    consents = world.client.get(f"/v1/learners/{learner}/consents", headers=as_learner).json()
    assert [c["status"] for c in consents if c["consentId"] == consent] == ["revoked"]


def test_view_for_a_purpose_the_consent_does_not_name_is_refused_and_not_recorded(
    world: World,
) -> None:
    learner = world.learners[2]
    as_learner = world.auth("learner", learner)
    granted = world.client.post(
        f"/v1/learners/{learner}/consents",
        headers=as_learner,
        json=consent_terms(purposes=["admissions"]),
    ).json()
    before = world.client.get(f"/v1/learners/{learner}/disclosures", headers=as_learner).json()
    response = world.client.get(
        f"/v1/learners/{learner}/view",
        params={"consent": granted["consentId"], "purpose": "recruitment"},
        headers=world.auth("verifier", VERIFIER),
    )
    assert response.status_code == 403
    after = world.client.get(f"/v1/learners/{learner}/disclosures", headers=as_learner).json()
    assert after == before


def test_another_verifier_cannot_use_a_consent_and_cannot_tell_it_exists(world: World) -> None:
    learner = world.learners[2]
    granted = world.client.post(
        f"/v1/learners/{learner}/consents",
        headers=world.auth("learner", learner),
        json=consent_terms(),
    ).json()
    as_rival = world.auth("verifier", "rival-corp")
    theirs = world.client.get(
        f"/v1/learners/{learner}/view",
        params={"consent": granted["consentId"], "purpose": "recruitment"},
        headers=as_rival,
    )
    unknown = world.client.get(
        f"/v1/learners/{learner}/view",
        params={"consent": "consent-none", "purpose": "recruitment"},
        headers=as_rival,
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()


def test_granting_a_consent_that_has_already_expired_is_refused(world: World) -> None:
    learner = world.learners[2]
    response = world.client.post(
        f"/v1/learners/{learner}/consents",
        headers=world.auth("learner", learner),
        json=consent_terms(expiresAt="2020-01-01T00:00:00Z"),
    )
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid",
        "path": "expiresAt",
        "message": "must be in the future",
    }
