"""The ledger's identity as an issuer: did:web DIDs from a domain and where their documents
are, the DID document listing every key, the verification method a key signs as, and the
resolver of the ledger's own keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credentials.errors import KeyResolutionError
from credentials.identity import (
    DID_CONTEXT,
    MULTIKEY_CONTEXT,
    SigningIdentity,
    did_document,
    did_web,
    did_web_location,
    own_resolver,
)
from credentials.keys import did_key_of, multikey_of

DID = "did:web:ledger.example.org"


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.mark.parametrize(
    ("domain", "did"),
    [
        ("ledger.example.org", "did:web:ledger.example.org"),
        ("localhost:8443", "did:web:localhost%3A8443"),
        ("example.org/ledger", "did:web:example.org:ledger"),
        ("example.org/a/b", "did:web:example.org:a:b"),
        ("example.org:8443/ledger", "did:web:example.org%3A8443:ledger"),
        ("example.org/ledger/", "did:web:example.org:ledger"),
        ("Ledger.Example.ORG", "did:web:ledger.example.org"),
        (" ledger.example.org ", "did:web:ledger.example.org"),
        ("xn--bcher-kva.example", "did:web:xn--bcher-kva.example"),
    ],
)
def test_did_web_of_a_domain_with_port_or_path_is_its_did(domain: str, did: str) -> None:
    assert did_web(domain) == did


@pytest.mark.parametrize(
    "domain",
    [
        "",
        "https://ledger.example.org",
        "ledger.example.org:",
        "ledger.example.org:port",
        "-ledger.example.org",
        "ledger-.example.org",
        "led_ger.example.org",
        "ledger example.org",
        "example.org//ledger",
        "example.org/a b",
        "example.org?x=1",
        "example.org#key",
        "[::1]:8443",
        "user@example.org",
        "localhost:99999",
        "localhost:0",
        "example.org/..",
        "example.org/a/./b",
    ],
)
def test_did_web_of_anything_but_a_domain_is_refused_naming_the_rule(domain: str) -> None:
    with pytest.raises(ValueError, match="is not a domain: a host name") as caught:
        did_web(domain)
    assert repr(domain) in str(caught.value)


@pytest.mark.parametrize(
    ("domain", "location"),
    [
        ("ledger.example.org", ("https://ledger.example.org", "/.well-known/did.json")),
        ("localhost:8443", ("https://localhost:8443", "/.well-known/did.json")),
        ("example.org/ledger", ("https://example.org", "/ledger/did.json")),
        ("example.org:8443/a/b", ("https://example.org:8443", "/a/b/did.json")),
    ],
)
def test_did_web_location_of_each_form_is_where_its_document_is_served(
    domain: str, location: tuple[str, str]
) -> None:
    assert did_web_location(did_web(domain)) == location


@pytest.mark.parametrize("did", ["did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", ""])
def test_did_web_location_of_another_method_is_refused(did: str) -> None:
    with pytest.raises(KeyResolutionError, match="is not a did:web DID"):
        did_web_location(did)


def test_did_document_lists_one_multikey_method_per_distinct_key_all_for_assertions() -> None:
    old, new = (multikey_of(Ed25519PrivateKey.generate()) for _ in range(2))
    doc = did_document(DID, [old, new, old])
    assert doc["@context"] == [DID_CONTEXT, MULTIKEY_CONTEXT]
    assert doc["id"] == DID
    assert doc["verificationMethod"] == [
        {"id": f"{DID}#{key}", "type": "Multikey", "controller": DID, "publicKeyMultibase": key}
        for key in (old, new)
    ]
    assert doc["assertionMethod"] == [f"{DID}#{old}", f"{DID}#{new}"]
    assert doc["authentication"] == doc["assertionMethod"]


def test_signing_identity_under_did_key_names_the_keys_own_method() -> None:
    key = Ed25519PrivateKey.generate()
    identity = SigningIdentity.of(key)
    assert identity.method == did_key_of(key)
    assert identity.did == f"did:key:{multikey_of(key)}"
    assert identity.multikey == multikey_of(key)


def test_signing_identity_under_did_web_names_the_key_as_a_fragment_of_the_did() -> None:
    key = Ed25519PrivateKey.generate()
    identity = SigningIdentity.of(key, DID)
    assert identity.did == DID
    assert identity.method == f"{DID}#{multikey_of(key)}"
    assert identity.method.removeprefix(DID + "#").startswith("z6Mk")


def test_own_resolver_resolves_every_recorded_key_of_the_ledgers_did() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    resolve = own_resolver(DID, [multikey_of(old), multikey_of(new)])
    for key in (old, new):
        found = resolve(SigningIdentity.of(key, DID).method)
        assert found.public_bytes(Encoding.Raw, PublicFormat.Raw) == raw(key)


def test_own_resolver_resolves_did_key_without_recording() -> None:
    stranger = Ed25519PrivateKey.generate()
    found = own_resolver(DID, [])(did_key_of(stranger))
    assert found.public_bytes(Encoding.Raw, PublicFormat.Raw) == raw(stranger)


def test_own_resolver_refuses_an_unrecorded_key_of_the_ledgers_did() -> None:
    recorded, unrecorded = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    resolve = own_resolver(DID, [multikey_of(recorded)])
    with pytest.raises(KeyResolutionError, match="is not one of the ledger's keys"):
        resolve(SigningIdentity.of(unrecorded, DID).method)


@pytest.mark.parametrize(
    "other", ["did:web:other.example.org", "did:web:ledger.example.org:sub", "https://x.example"]
)
def test_own_resolver_refuses_another_dids_method_naming_a_recorded_key(other: str) -> None:
    key = multikey_of(Ed25519PrivateKey.generate())
    with pytest.raises(KeyResolutionError, match="is not one of the ledger's keys"):
        own_resolver(DID, [key])(f"{other}#{key}")
