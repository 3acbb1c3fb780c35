"""Who the ledger signs as (did:key, did:web) and where its status lists place a credential."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from credentials.errors import KeyResolutionError
from credentials.identity import (
    SigningIdentity,
    did_document,
    did_web,
    did_web_location,
    own_resolver,
)
from credentials.keys import did_key_of, multikey_of
from credentials.statuslist import MIN_ENTRIES, StatusLists, slot

KEY = Ed25519PrivateKey.generate()
BASE = "https://ledger.example/v1/status"


@pytest.mark.parametrize(
    ("domain", "did", "origin", "path"),
    [
        ("ledger.example.org", "did:web:ledger.example.org", "https://ledger.example.org", "/.well-known/did.json"),
        ("Ledger.Example.org", "did:web:ledger.example.org", "https://ledger.example.org", "/.well-known/did.json"),
        ("localhost:8443", "did:web:localhost%3A8443", "https://localhost:8443", "/.well-known/did.json"),
        ("example.org/ledger", "did:web:example.org:ledger", "https://example.org", "/ledger/did.json"),
        ("example.org/a/b/", "did:web:example.org:a:b", "https://example.org", "/a/b/did.json"),
    ],
)  # fmt: skip
def test_did_web_of_a_domain_and_where_its_document_is(
    domain: str, did: str, origin: str, path: str
) -> None:
    assert did_web(domain) == did
    assert did_web_location(did) == (origin, path)


@pytest.mark.parametrize(
    "domain", ["", "https://ledger.example", "bad_host", "a..b", "-x.example", "x.example:port"]
)
def test_what_is_not_a_domain_is_refused_naming_the_rule(domain: str) -> None:
    with pytest.raises(ValueError, match="is not a domain: a host name"):
        did_web(domain)


def test_a_did_key_has_no_web_location() -> None:
    with pytest.raises(KeyResolutionError):
        did_web_location(did_key_of(KEY).partition("#")[0])


def test_a_method_names_the_did_and_the_key() -> None:
    assert SigningIdentity.of(KEY).method == did_key_of(KEY)
    web = SigningIdentity.of(KEY, "did:web:ledger.example")
    assert web.method == f"did:web:ledger.example#{multikey_of(KEY)}"


def test_the_did_document_lists_every_key_once_oldest_first() -> None:
    old, new = multikey_of(Ed25519PrivateKey.generate()), multikey_of(KEY)
    document = did_document("did:web:ledger.example", [old, new, old])
    ids = [f"did:web:ledger.example#{k}" for k in (old, new)]
    assert document["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert [m["id"] for m in document["verificationMethod"]] == ids
    assert {m["type"] for m in document["verificationMethod"]} == {"Multikey"}
    assert document["assertionMethod"] == ids


def test_the_own_resolver_knows_recorded_keys_and_did_key_only() -> None:
    old = Ed25519PrivateKey.generate()
    resolve = own_resolver("did:web:ledger.example", [multikey_of(old), multikey_of(KEY)])
    method = f"did:web:ledger.example#{multikey_of(old)}"
    assert resolve(method).public_bytes_raw() == old.public_key().public_bytes_raw()  # type: ignore[union-attr]
    assert resolve(did_key_of(KEY)) is not None
    stranger = multikey_of(Ed25519PrivateKey.generate())
    for unknown in (
        f"did:web:ledger.example#{stranger}",
        f"did:web:other.example#{multikey_of(KEY)}",
    ):
        with pytest.raises(KeyResolutionError):
            resolve(unknown)


def test_an_entry_names_its_list_and_its_index_as_the_spec_says() -> None:
    lists = StatusLists(BASE, b"k" * 32)
    position = 3 * MIN_ENTRIES + 17
    entry = lists.entry(position)
    number, index = slot(position, b"k" * 32)
    assert number == 3
    assert entry == {
        "id": f"{BASE}/revocation/3#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": f"{BASE}/revocation/3",
    }
    assert lists.locate(entry["statusListCredential"]) == ("revocation", 3)


@pytest.mark.parametrize(
    "url",
    [
        "https://other.example/v1/status/revocation/3",
        f"{BASE}/expiry/3",
        f"{BASE}/revocation/three",
        f"{BASE}/revocation/",
        f"{BASE}/revocation/1234567890123",
    ],
)
def test_locate_refuses_what_is_not_one_of_the_lists(url: str) -> None:
    assert StatusLists(BASE, b"k" * 32).locate(url) is None


@given(st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), min_size=2, max_size=300))
def test_credentials_of_one_list_never_share_an_index(positions: set[int]) -> None:
    lists = StatusLists(BASE, b"secret")
    entries = [lists.entry(p) for p in positions]
    assert {e["statusListCredential"] for e in entries} == {f"{BASE}/revocation/0"}
    assert len({e["statusListIndex"] for e in entries}) == len(positions)
