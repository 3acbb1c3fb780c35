"""Our OB 3.0 credentials, their status lists and did:web keys, checked by the DCC's verifier-core (and did:web by Digital Bazaar's vc)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials import dataintegrity
from credentials.keys import did_key_of
from credentials.statuslist import Bitstring, list_credential, status_entry
from tests.dcc import dcc_verify, did_web_document, did_web_method
from tests.integration.test_vc_interop import achievement_credential, clr_credential, node_verify
from tests.interop import node

# Nothing listens here: dcc-verify.mjs serves the list from the job's documents, and a URL it
# does not serve is answered 404 and listed in "refused", never fetched.
LIST_URL = "http://127.0.0.1:8080/v1/status/revocation/0"
INDEX = 4242
LIST_VALID_FROM = "2024-06-01T00:00:00Z"
WEB_DID = "did:web:ledger.example"


@pytest.fixture(scope="module")
def did(ed_key: Ed25519PrivateKey) -> str:
    return did_key_of(ed_key).partition("#")[0]


@pytest.fixture(scope="module")
def signed_badge(ed_key: Ed25519PrivateKey, did: str) -> dict[str, Any]:
    return dataintegrity.sign(achievement_credential(did), ed_key, did_key_of(ed_key))


def with_status(key: Ed25519PrivateKey, did: str) -> dict[str, Any]:
    """An AchievementCredential with a revocation entry at INDEX of the list at LIST_URL."""
    badge = achievement_credential(did)
    badge["credentialStatus"] = status_entry(LIST_URL, INDEX, "revocation")
    return dataintegrity.sign(badge, key, did_key_of(key))


def signed_list(key: Ed25519PrivateKey, *, revoked: tuple[int, ...] = ()) -> dict[str, Any]:
    """The revocation list at LIST_URL with ``revoked`` set, issued and signed by ``key``'s did:key."""
    bits = Bitstring()
    for index in revoked:
        bits.set(index)
    issuer = did_key_of(key).partition("#")[0]
    unsigned = list_credential(
        LIST_URL, issuer=issuer, purpose="revocation", bits=bits, valid_from=LIST_VALID_FROM
    )
    return dataintegrity.sign(unsigned, key, did_key_of(key))


def test_dcc_achievement_credential_with_did_key_is_verified(signed_badge: dict[str, Any]) -> None:
    verdict = dcc_verify(signed_badge)
    assert verdict["verified"] is True, verdict
    assert verdict["checks"]["valid_signature"] == {"valid": True}
    assert verdict["checks"]["expiration"] == {"valid": True}
    assert (verdict["revoked"], verdict["suspended"], verdict["refused"]) == (None, None, [])
    # No registry is configured: the issuer is unknown to it, which verified does not count.
    assert verdict["checks"]["registered_issuer"]["valid"] is False


def test_dcc_clr_credential_with_did_key_is_verified(
    ed_key: Ed25519PrivateKey, did: str, signed_badge: dict[str, Any]
) -> None:
    clr = dataintegrity.sign(clr_credential(did, [signed_badge]), ed_key, did_key_of(ed_key))
    verdict = dcc_verify(clr)
    assert verdict["verified"] is True, verdict
    assert verdict["refused"] == []


def test_dcc_tampered_subject_is_not_verified(signed_badge: dict[str, Any]) -> None:
    tampered = copy.deepcopy(signed_badge)
    tampered["credentialSubject"]["result"][0]["value"] = "B"
    verdict = dcc_verify(tampered)
    assert verdict["verified"] is False
    assert [error["name"] for error in verdict["errors"]] == ["invalid_signature"]


def test_dcc_status_bit_clear_is_verified_and_not_revoked(
    ed_key: Ed25519PrivateKey, did: str
) -> None:
    listed = signed_list(ed_key, revoked=(INDEX - 1, INDEX + 1))
    verdict = dcc_verify(with_status(ed_key, did), {LIST_URL: listed})
    assert verdict["verified"] is True, verdict
    assert verdict["revoked"] is False
    assert verdict["checks"]["revocation_status"] == {"valid": True}
    assert verdict["refused"] == []


def test_dcc_status_bit_set_is_revoked_and_not_verified(
    ed_key: Ed25519PrivateKey, did: str
) -> None:
    verdict = dcc_verify(
        with_status(ed_key, did), {LIST_URL: signed_list(ed_key, revoked=(INDEX,))}
    )
    assert verdict["verified"] is False
    assert verdict["revoked"] is True
    assert verdict["checks"]["valid_signature"] == {"valid": True}
    assert verdict["checks"]["revocation_status"] == {"valid": False}


def test_dcc_status_list_not_served_is_unknown_and_not_verified(
    ed_key: Ed25519PrivateKey, did: str
) -> None:
    verdict = dcc_verify(with_status(ed_key, did))
    assert verdict["verified"] is False
    assert verdict["revoked"] is None
    assert verdict["checks"]["revocation_status"]["name"] == "status_list_not_found"
    assert verdict["refused"] == [LIST_URL]


def test_dcc_status_list_altered_after_signing_is_unknown_and_not_verified(
    ed_key: Ed25519PrivateKey, did: str
) -> None:
    altered = signed_list(ed_key)
    revoking = Bitstring()
    revoking.set(INDEX)
    altered["credentialSubject"]["encodedList"] = revoking.encode()
    verdict = dcc_verify(with_status(ed_key, did), {LIST_URL: altered})
    assert verdict["verified"] is False
    assert verdict["revoked"] is None
    assert verdict["checks"]["revocation_status"]["name"] == "status_list_signature_error"


def test_dcc_status_list_of_another_issuer_is_accepted(ed_key: Ed25519PrivateKey, did: str) -> None:
    # verifier-core turns off the issuer match (verifyMatchingIssuers: false) that the
    # specification asks for and credentials.statuslist.check_status makes: any validly
    # signed list counts. Should that change, this test says so.
    stranger = Ed25519PrivateKey.generate()
    verdict = dcc_verify(with_status(ed_key, did), {LIST_URL: signed_list(stranger)})
    assert verdict["verified"] is True, verdict
    assert verdict["revoked"] is False


@pytest.fixture(scope="module")
def old_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def current_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def web_badge(did: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    """An AchievementCredential issued by ``did``, signed by ``key`` as its method ``did#z6Mk…``."""
    return dataintegrity.sign(achievement_credential(did), key, did_web_method(did, key))


def digital_bazaar(credential: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    job = {"kind": "data-integrity", "credential": credential, "documents": documents}
    return node_verify(node(), job)


@pytest.mark.parametrize("web_did", [WEB_DID, "did:web:localhost%3A8443"])
@pytest.mark.parametrize("which", ["old", "current"])
def test_did_web_credential_signed_by_a_listed_key_is_verified_by_both(
    old_key: Ed25519PrivateKey, current_key: Ed25519PrivateKey, web_did: str, which: str
) -> None:
    key = old_key if which == "old" else current_key
    documents = {web_did: did_web_document(web_did, [old_key, current_key])}
    badge = web_badge(web_did, key)
    assert digital_bazaar(badge, documents) == {"verified": True}
    verdict = dcc_verify(badge, documents)
    assert verdict["verified"] is True, verdict
    assert verdict["refused"] == []


def test_did_web_credential_signed_by_an_unlisted_key_is_rejected_by_both(
    old_key: Ed25519PrivateKey, current_key: Ed25519PrivateKey
) -> None:
    documents = {WEB_DID: did_web_document(WEB_DID, [old_key, current_key])}
    badge = web_badge(WEB_DID, Ed25519PrivateKey.generate())
    verdict = digital_bazaar(badge, documents)
    assert verdict["verified"] is False
    assert f"names no verification method of {WEB_DID}" in verdict["error"]
    dcc = dcc_verify(badge, documents)
    assert dcc["verified"] is False
    assert [error["name"] for error in dcc["errors"]] == ["invalid_signature"]


def test_did_web_document_not_served_is_looked_for_at_the_well_known_url(
    current_key: Ed25519PrivateKey,
) -> None:
    verdict = dcc_verify(web_badge(WEB_DID, current_key), {})
    assert verdict["verified"] is False
    assert [error["name"] for error in verdict["errors"]] == ["did_web_unresolved"]
    assert verdict["refused"] == ["https://ledger.example/.well-known/did.json"]
