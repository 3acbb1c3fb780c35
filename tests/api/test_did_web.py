"""did:web: the ledger signs as its domain and serves the DID document; a key rotation keeps
the old key in it, so exports signed before still verify, here and with independent
verifiers (Digital Bazaar's @digitalbazaar/vc, the DCC's verifier-core); and the DCC's
verifier reads a revocation from the list the ledger serves."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app
from credentials.keys import multikey_of
from ledger.application import Ledger
from services.signing import SigningSettings, rotate_signing_key
from tests.api.conftest import World, build_settings, populate
from tests.api.test_status_lists import a_learner_with_credentials, export, issued, revoke
from tests.dcc import dcc_verify
from tests.integration.test_vc_interop import node, node_verify
from tests.statuslists import entries

__all__ = ["node"]  # the fixture
DOMAIN = "ledger.example"
DID = "did:web:ledger.example"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    directory = tmp_path_factory.mktemp("didweb")
    token_key = Ed25519PrivateKey.generate()
    settings = build_settings(directory, token_key)
    signing = SigningSettings(settings.signing.key_file, did_web=DOMAIN)
    settings = dataclasses.replace(settings, signing=signing)
    learners, issuers, events = populate(settings, seed=33, learners=6)
    with TestClient(create_app(settings)) as client:
        yield World(client, settings, token_key, learners, issuers, events)


def did_document(world: World) -> dict[str, Any]:
    answer = world.client.get("/.well-known/did.json")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/did+json"
    document: dict[str, Any] = answer.json()
    return document


def documents(world: World, *credentials: dict[str, Any]) -> dict[str, Any]:
    """What a verifier fetches for ``credentials``: the DID document and each status list,
    read from the API as served."""
    found: dict[str, Any] = {DID: did_document(world)}
    for credential in credentials:
        for entry in entries(credential):
            url = entry["statusListCredential"]
            found[url] = orjson.loads(world.client.get(urlsplit(url).path).content)
    return found


def verified_here(world: World, credential: dict[str, Any]) -> bool:
    answer = world.client.post(
        "/v1/verify", json={"credential": credential}, headers=world.auth("verifier", "talentco")
    )
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["verified"])


def test_exports_are_issued_by_the_domains_did_with_its_lists_there(world: World) -> None:
    clr, _ = export(world, a_learner_with_credentials(world))
    key = world.settings.signing.key()
    method = f"{DID}#{multikey_of(key)}"
    held = clr["credentialSubject"]["verifiableCredential"]
    assert [c["issuer"]["id"] for c in (clr, *held)] == [DID] * (1 + len(held))
    assert {c["proof"]["verificationMethod"] for c in (clr, *held)} == {method}
    assert all(
        e["statusListCredential"].startswith(f"https://{DOMAIN}/v1/status/revocation/")
        for e in entries(clr)
    )
    document = did_document(world)
    assert document["id"] == DID
    assert [m["id"] for m in document["verificationMethod"]] == [method]
    assert document["assertionMethod"] == [method]
    assert verified_here(world, clr)


def test_after_a_rotation_old_and_new_exports_verify_here_and_independently(
    world: World, node: str
) -> None:
    learner = a_learner_with_credentials(world)
    before, _ = export(world, learner)
    old = world.settings.signing.key()
    with Ledger.open(world.settings.core) as ledger:
        rotation = rotate_signing_key(ledger, world.settings.signing)
    new = world.settings.signing.key()
    assert multikey_of(new) != multikey_of(old)
    assert rotation.retired == f"{DID}#{multikey_of(old)}"
    assert rotation.current == f"{DID}#{multikey_of(new)}"
    after, _ = export(world, learner)
    assert after["proof"]["verificationMethod"] == rotation.current
    assert before["proof"]["verificationMethod"] == rotation.retired
    listed = [m["publicKeyMultibase"] for m in did_document(world)["verificationMethod"]]
    assert listed == [multikey_of(old), multikey_of(new)]
    for clr in (before, after):
        assert verified_here(world, clr)
        found = documents(world, clr)
        inner = next(
            c
            for c in clr["credentialSubject"]["verifiableCredential"]
            if "validUntil" not in c or c["validUntil"] > clr["validFrom"]
        )
        for credential in (clr, inner):
            job = {"kind": "data-integrity", "credential": credential, "documents": found}
            verdict = node_verify(node, job)
            assert verdict == {
                "verified": True,
                "status": [{"purpose": "revocation", "set": False}],
            }
        dcc = dcc_verify(clr, found)
        assert dcc["verified"], dcc["errors"]
        assert dcc["revoked"] is False


def test_a_key_the_document_does_not_list_is_refused(world: World, node: str) -> None:
    clr, _ = export(world, a_learner_with_credentials(world))
    found = documents(world, clr)
    stranger = Ed25519PrivateKey.generate()
    found[DID] = {
        **found[DID],
        "verificationMethod": [
            {**m, "publicKeyMultibase": multikey_of(stranger)}
            for m in found[DID]["verificationMethod"]
        ],
    }
    verdict = node_verify(node, {"kind": "data-integrity", "credential": clr, "documents": found})
    assert not verdict["verified"]
    assert not dcc_verify(clr, found)["verified"]


def test_the_dcc_verifier_reads_a_revocation_from_the_list_the_ledger_serves(
    world: World,
) -> None:
    learner = a_learner_with_credentials(world)
    clr, _ = export(world, learner)
    held = clr["credentialSubject"]["verifiableCredential"]
    target_event = issued(world, learner)[-1]
    target = next(
        c
        for c in held
        if c["credentialSubject"]["achievement"]["id"].endswith(
            target_event["data"]["achievementId"]
        )
    )
    first = dcc_verify(target, documents(world, target))
    assert first["revoked"] is False
    revoke(world, target_event)
    second = dcc_verify(target, documents(world, target))
    assert second["revoked"] is True
    assert not second["verified"]
    assert not verified_here(world, clr)


def test_the_dcc_verifier_reads_a_withdrawn_export_as_revoked(world: World) -> None:
    learner = a_learner_with_credentials(world)
    clr, export_id = export(world, learner)
    assert dcc_verify(clr, documents(world, clr))["revoked"] is False
    path = f"/v1/learners/{learner}/exports/{export_id}/withdrawal"
    assert world.client.post(path, headers=world.auth("learner", learner)).status_code == 200
    after = dcc_verify(clr, documents(world, clr))
    assert after["revoked"] is True
    assert not after["verified"]
