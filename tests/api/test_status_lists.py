"""Exports carry Bitstring Status List entries the API serves signed; an issuer's revocation
and a learner's withdrawal flip them; the ledger's own verification reads them locally; and
two independent verifiers (Digital Bazaar's, the DCC's) read them as we do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app
from credentials.presented import verify_document
from credentials.statuslist import Bitstring
from ledger.application import Ledger
from ledger.outcomes import Channel
from schemas.names import CREDENTIAL_ISSUED, CREDENTIAL_REVOKED
from tests.api.conftest import World, build_settings, populate
from tests.statuslists import entries


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A ledger of its own: these tests revoke credentials and withdraw exports."""
    directory = tmp_path_factory.mktemp("status")
    token_key = Ed25519PrivateKey.generate()
    settings = build_settings(directory, token_key)
    learners, issuers, events = populate(settings, seed=21, learners=6)
    with TestClient(create_app(settings)) as client:
        yield World(client, settings, token_key, learners, issuers, events)


def issued(world: World, learner: str) -> list[dict[str, Any]]:
    return [e for e in world.events if e["type"] == CREDENTIAL_ISSUED and e["subject"] == learner]


def a_learner_with_credentials(world: World) -> str:
    return next(lrn for lrn in world.learners if len(issued(world, lrn)) >= 2)


def export(world: World, learner: str) -> tuple[dict[str, Any], str]:
    answer = world.client.post(
        f"/v1/learners/{learner}/export", headers=world.auth("learner", learner)
    )
    assert answer.status_code == 200, answer.text
    return orjson.loads(answer.content), answer.headers["LLL-Export-Id"]


def served(world: World, url: str, **headers: str) -> Any:
    return world.client.get(urlsplit(url).path, headers=headers)


def bit(world: World, entry: dict[str, Any]) -> bool:
    listed = orjson.loads(served(world, entry["statusListCredential"]).content)
    return Bitstring.decode(listed["credentialSubject"]["encodedList"]).get(
        int(entry["statusListIndex"])
    )


def revoke(world: World, event: dict[str, Any]) -> None:
    revocation = {
        "specversion": "1.0",
        "id": f"revoke-{event['id']}",
        "source": event["source"],
        "type": CREDENTIAL_REVOKED,
        "subject": event["subject"],
        "time": "2026-12-01T00:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "credentialId": event["data"]["credentialId"],
            "reason": "Issued in error",
            "revokedOn": "2026-12-01",
        },
    }
    with Ledger.open(world.settings.core) as ledger:
        (result,) = ledger.ingest([orjson.dumps(revocation)], Channel("file"))
    assert result.position > 0  # accepted


def verified_by_the_api(world: World, credential: dict[str, Any]) -> dict[str, Any]:
    answer = world.client.post(
        "/v1/verify", json={"credential": credential}, headers=world.auth("verifier", "talentco")
    )
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def test_every_credential_of_an_export_names_its_own_slot_in_a_served_list(world: World) -> None:
    clr, _ = export(world, a_learner_with_credentials(world))
    found = entries(clr)
    held = clr["credentialSubject"]["verifiableCredential"]
    assert len(found) == 1 + len(held)
    assert all(e["type"] == "BitstringStatusListEntry" for e in found)
    assert all(e["statusPurpose"] == "revocation" for e in found)
    assert all(
        e["statusListCredential"].startswith("http://127.0.0.1:8080/v1/status/") for e in found
    )
    assert len({(e["statusListCredential"], e["statusListIndex"]) for e in found}) == len(found)
    for entry in found:
        answer = served(world, entry["statusListCredential"])
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/vc"
        assert "max-age=300" in answer.headers["cache-control"]
        listed = orjson.loads(answer.content)
        assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
        assert listed["issuer"] == clr["issuer"]["id"]
        assert listed["credentialSubject"]["ttl"] == 300_000
        assert verify_document(listed)
        assert len(Bitstring.decode(listed["credentialSubject"]["encodedList"])) >= 131_072
        assert not bit(world, entry)


def test_a_list_is_cacheable_and_unchanged_until_a_bit_changes(world: World) -> None:
    clr, _ = export(world, a_learner_with_credentials(world))
    url = clr["credentialStatus"]["statusListCredential"]
    first, again = served(world, url), served(world, url)
    assert first.content == again.content
    assert first.headers["etag"] == again.headers["etag"]
    unchanged = served(world, url, **{"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert served(world, url, **{"If-None-Match": '"other"'}).status_code == 200


def test_no_list_for_another_purpose_or_past_the_logs_end(world: World) -> None:
    assert world.client.get("/v1/status/suspension/0").status_code == 404
    assert world.client.get("/v1/status/revocation/999999").status_code == 404
    assert world.client.get("/v1/status/revocation/-1").status_code == 422


def test_an_issuers_revocation_flips_the_bit_and_the_ledgers_verification_says_revoked(
    world: World,
) -> None:
    learner = a_learner_with_credentials(world)
    clr, _ = export(world, learner)
    held = clr["credentialSubject"]["verifiableCredential"]
    assert verified_by_the_api(world, clr)["verified"]
    target_event = issued(world, learner)[0]
    target = next(
        c
        for c in held
        if c["credentialSubject"]["achievement"]["id"].endswith(
            target_event["data"]["achievementId"]
        )
    )
    before = served(world, target["credentialStatus"]["statusListCredential"]).headers["etag"]
    revoke(world, target_event)
    after = served(world, target["credentialStatus"]["statusListCredential"])
    assert after.headers["etag"] != before
    assert bit(world, target["credentialStatus"])
    others = [c for c in held if c is not target]
    assert not any(bit(world, c["credentialStatus"]) for c in others)
    assert not bit(world, clr["credentialStatus"])
    # The API reads its own lists here (no request to 127.0.0.1:8080, where nothing listens).
    report = verified_by_the_api(world, clr)
    assert not report["verified"], orjson.dumps(report).decode()
    judged = {c["id"]: c for c in report["credentials"]}
    assert judged[target["id"]]["status"] == [
        {"purpose": "revocation", "state": "revoked", "reason": ""}
    ]
    assert not judged[target["id"]]["verified"]
    assert judged[clr["id"]]["verified"]
    assert all(judged[c["id"]]["verified"] for c in others)


def test_a_learner_withdraws_an_export_and_only_its_clr_reads_revoked(world: World) -> None:
    learner = a_learner_with_credentials(world)
    clr, export_id = export(world, learner)
    kept, _ = export(world, learner)
    headers = world.auth("learner", learner)
    path = f"/v1/learners/{learner}/exports/{export_id}/withdrawal"
    answer = world.client.post(path, json={"reason": "A copy went astray"}, headers=headers)
    assert answer.status_code == 200, answer.text
    position = answer.json()["position"]
    assert world.client.post(path, headers=headers).json()["position"] == position
    assert bit(world, clr["credentialStatus"])
    assert not bit(world, kept["credentialStatus"])
    report = verified_by_the_api(world, clr)
    outer = report["credentials"][0]
    assert outer["id"] == clr["id"]
    assert not outer["verified"]
    assert outer["status"][0]["state"] == "revoked"
    assert verified_by_the_api(world, kept)["credentials"][0]["verified"]
    listed = world.client.get(f"/v1/learners/{learner}/exports", headers=headers).json()
    withdrawn = next(e for e in listed if e["exportId"] == export_id)
    assert withdrawn["withdrawn"]["reason"] == "A copy went astray"


def test_withdrawing_an_export_the_learner_did_not_make_is_not_found(world: World) -> None:
    learner, other = world.learners[0], world.learners[1]
    _, export_id = export(world, a_learner_with_credentials(world))
    owner = a_learner_with_credentials(world)
    stranger = other if owner != other else learner
    for who, export_ref in ((owner, "export-unknown"), (stranger, export_id)):
        path = f"/v1/learners/{who}/exports/{export_ref}/withdrawal"
        answer = world.client.post(path, headers=world.auth("learner", who))
        assert answer.status_code == 404, answer.text


def test_the_did_document_is_served_only_for_did_web(world: World) -> None:
    answer = world.client.get("/.well-known/did.json")
    assert answer.status_code == 404
    assert "LEDGER_DID_WEB" in answer.json()["error"]["message"]
