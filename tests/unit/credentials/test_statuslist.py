"""Bitstring Status List: bits in the specification's order, the encoded list, the signed
list credential, and the status of a credential judged against it."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import dataintegrity
from credentials.keys import did_key_of
from credentials.statuslist import (
    MIN_ENTRIES,
    Bitstring,
    StatusListError,
    check_status,
    list_credential,
    slot,
    status_entry,
)
from credentials.verification import Verification

URL = "https://ledger.example/v1/status/revocation/1"


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bits = Bitstring(16)
    bits.set(0)
    bits.set(9)
    raw = gzip.decompress(base64.urlsafe_b64decode(bits.encode()[1:] + "=="))
    assert raw == bytes([0b1000_0000, 0b0100_0000])


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(0, MIN_ENTRIES - 1), max_size=50))
def test_a_list_decodes_to_the_bits_it_was_encoded_from(indexes: set[int]) -> None:
    bits = Bitstring()
    for i in indexes:
        bits.set(i)
    decoded = Bitstring.decode(bits.encode())
    assert len(decoded) == MIN_ENTRIES
    assert {i for i in range(MIN_ENTRIES) if decoded.get(i)} == indexes


def test_the_same_bits_always_encode_the_same_way() -> None:
    a, b = Bitstring(), Bitstring()
    a.set(7)
    b.set(7)
    assert a.encode() == b.encode()
    assert a.encode().startswith("u")
    assert "=" not in a.encode()


@pytest.mark.parametrize(
    "encoded",
    [
        None,
        "zabc",
        "u!!!",
        "u" + base64.urlsafe_b64encode(b"not gzip").decode(),
        Bitstring(1024).encode(),  # shorter than the specification's minimum
    ],
)
def test_a_malformed_or_short_list_is_refused_naming_the_rule(encoded: Any) -> None:
    with pytest.raises(StatusListError, match=r"^encodedList: "):
        Bitstring.decode(encoded)


class Issuer:
    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.method = did_key_of(self.key)
        self.did = self.method.partition("#")[0]
        self.lists: dict[str, dict[str, Any]] = {}

    def publish(self, url: str, purpose: str, *revoked: int) -> None:
        bits = Bitstring()
        for i in revoked:
            bits.set(i)
        unsigned = list_credential(
            url, issuer=self.did, purpose=purpose, bits=bits, valid_from="2026-01-01T00:00:00Z"
        )
        self.lists[url] = dataintegrity.sign(unsigned, self.key, self.method)

    def credential(self, *entries: dict[str, str]) -> dict[str, Any]:
        return {"issuer": {"id": self.did}, "credentialStatus": list(entries)}

    def fetch(self, url: str) -> dict[str, Any] | None:
        return self.lists.get(url)


def verify(document: Any) -> Verification:
    return dataintegrity.verify(document)


def test_a_set_bit_revokes_or_suspends_and_a_clear_one_is_valid() -> None:
    issuer = Issuer()
    issuer.publish(URL, "revocation", 94567)
    issuer.publish(URL + "s", "suspension", 5)
    revoked = issuer.credential(status_entry(URL, 94567, "revocation"))
    fine = issuer.credential(status_entry(URL, 94566, "revocation"))
    suspended = issuer.credential(status_entry(URL + "s", 5, "suspension"))
    assert [s.state for s in check_status(revoked, issuer.fetch, verify)] == ["revoked"]
    assert [s.state for s in check_status(fine, issuer.fetch, verify)] == ["valid"]
    assert [s.state for s in check_status(suspended, issuer.fetch, verify)] == ["suspended"]


def test_a_list_that_cannot_be_trusted_or_had_gives_unknown_with_a_reason() -> None:
    issuer, other = Issuer(), Issuer()
    issuer.publish(URL, "revocation", 3)
    other.publish(URL, "revocation", 3)
    entry = status_entry(URL, 3, "revocation")
    tampered = dict(issuer.lists[URL], validFrom="2025-01-01T00:00:00Z")

    def down(url: str) -> dict[str, Any] | None:
        raise TimeoutError(url)

    cases = {
        "another issuer's list": (issuer.credential(entry), other.fetch),
        "a list changed after signing": (issuer.credential(entry), lambda _: tampered),
        "no list there": (
            issuer.credential(status_entry(URL + "x", 3, "revocation")),
            issuer.fetch,
        ),
        "the list's server down": (issuer.credential(entry), down),
        "a list for another purpose": (
            issuer.credential(status_entry(URL, 3, "suspension")),
            issuer.fetch,
        ),
        "beyond the list's end": (
            issuer.credential(status_entry(URL, MIN_ENTRIES, "revocation")),
            issuer.fetch,
        ),
        # str.isdigit takes these; int() refuses the first and reads the second as 1.
        "a superscript index": (
            issuer.credential(dict(entry, statusListIndex="\u00b2")),
            issuer.fetch,
        ),
        "an Arabic-Indic index": (
            issuer.credential(dict(entry, statusListIndex="\u0661")),
            issuer.fetch,
        ),
    }
    for case, (credential, fetch) in cases.items():
        (status,) = check_status(credential, fetch, verify)
        assert status.state == "unknown", case
        assert status.reason, case


def test_entries_of_other_kinds_are_not_judged_here() -> None:
    issuer = Issuer()
    credential = issuer.credential({"type": "1EdTechRevocationList", "id": "https://x"})
    assert check_status(credential, issuer.fetch, verify) == []
    assert check_status({"issuer": "did:x:y"}, issuer.fetch, verify) == []


# -- slot: where the credential issued at a log position sits ------------------------------


def test_every_position_of_a_list_gets_its_own_index() -> None:
    key = b"k" * 32
    indexes = [slot(p, key)[1] for p in range(MIN_ENTRIES)]
    assert sorted(indexes) == list(range(MIN_ENTRIES))
    assert indexes[:50] != list(range(50))  # shuffled, not in issuance order


def test_lists_follow_the_log_and_a_slot_is_the_same_whenever_computed() -> None:
    key = b"k" * 32
    assert slot(5, key)[0] == 0
    assert slot(MIN_ENTRIES + 5, key)[0] == 1
    assert slot(MIN_ENTRIES + 5, key)[1] == slot(5, key)[1]  # same shuffle in every list
    assert [slot(p, key) for p in (9, 3, 9)] == [slot(9, key), slot(3, key), slot(9, key)]
    assert slot(5, key) != slot(5, b"another key" * 3)


@pytest.mark.parametrize(("position", "entries"), [(-1, MIN_ENTRIES), (1, 1000), (1, 8)])
def test_a_slot_of_a_negative_position_or_an_odd_list_size_is_refused(
    position: int, entries: int
) -> None:
    with pytest.raises(ValueError, match=r"^(position|entries): "):
        slot(position, b"k", entries=entries)


@settings(max_examples=20, deadline=None)
@given(st.integers(4, 12), st.binary(min_size=1, max_size=32))
def test_the_shuffle_is_a_permutation_for_any_list_size_and_key(bits: int, key: bytes) -> None:
    entries = 1 << bits
    assert sorted(slot(p, key, entries=entries)[1] for p in range(entries)) == list(range(entries))
