"""Where a ledger publishes its status lists: the entry a credential issued at a log position
carries, and the list URLs it recognises as its own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials.statuslist import ENTRY, MIN_ENTRIES, PURPOSES, StatusLists, slot

BASE = "https://ledger.example.org/v1/status"
KEY = bytes(range(32))
LISTS = StatusLists(BASE, KEY)
SHIFT = 17  # 2**17 == MIN_ENTRIES positions per list


def test_each_list_covers_min_entries_consecutive_positions() -> None:
    assert 1 << SHIFT == MIN_ENTRIES


@pytest.mark.parametrize("purpose", PURPOSES)
def test_entry_is_a_bitstring_status_list_entry_of_the_positions_list(purpose: str) -> None:
    position = 3 * MIN_ENTRIES + 12_345
    entry = LISTS.entry(position, purpose)
    number, index = slot(position, KEY)
    url = f"{BASE}/{purpose}/3"
    assert number == position >> SHIFT == 3
    assert entry == {
        "id": f"{url}#{index}",
        "type": ENTRY,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }
    assert entry["statusListIndex"].isdecimal()
    assert 0 <= int(entry["statusListIndex"]) < MIN_ENTRIES


def test_entry_defaults_to_revocation() -> None:
    assert LISTS.entry(7)["statusPurpose"] == "revocation"
    assert LISTS.entry(7)["statusListCredential"] == f"{BASE}/revocation/0"


def test_entry_of_an_unknown_purpose_is_refused() -> None:
    with pytest.raises(ValueError, match="purpose: one of revocation, suspension"):
        LISTS.entry(1, "refresh")


def test_entry_of_a_negative_position_is_refused() -> None:
    with pytest.raises(ValueError, match="position"):
        LISTS.entry(-1)


def test_the_index_depends_on_the_key() -> None:
    other = StatusLists(BASE, bytes(32))
    positions = range(1, 65)
    assert [LISTS.entry(p)["statusListIndex"] for p in positions] != [
        other.entry(p)["statusListIndex"] for p in positions
    ]


@given(
    number=st.integers(0, 10**12 - 1),
    purpose=st.sampled_from(PURPOSES),
)
def test_locate_finds_the_purpose_and_number_of_each_of_its_list_urls(
    number: int, purpose: str
) -> None:
    assert LISTS.locate(LISTS.url(number, purpose)) == (purpose, number)


def test_locate_finds_the_list_an_entry_names() -> None:
    entry = LISTS.entry(5 * MIN_ENTRIES + 1)
    assert LISTS.locate(entry["statusListCredential"]) == ("revocation", 5)


@pytest.mark.parametrize(
    "url",
    [
        "https://other.example.org/v1/status/revocation/0",
        "http://ledger.example.org/v1/status/revocation/0",
        "https://ledger.example.org/v1/statuses/revocation/0",
        "https://ledger.example.org/v1/status",
        "https://ledger.example.org/v1/status/",
        "https://ledger.example.org/v2/status/revocation/0",
        "https://ledger.example.org/v1/status/refresh/0",
        "https://ledger.example.org/v1/status/Revocation/0",
        "https://ledger.example.org/v1/status/revocation",
        "https://ledger.example.org/v1/status/revocation/",
        "https://ledger.example.org/v1/status/revocation/-1",
        "https://ledger.example.org/v1/status/revocation/1.0",
        "https://ledger.example.org/v1/status/revocation/0x1",
        "https://ledger.example.org/v1/status/revocation/1/2",
        "https://ledger.example.org/v1/status/revocation/1#list",
        "https://ledger.example.org/v1/status/revocation/ 1",
        "https://ledger.example.org/v1/status/revocation/1000000000000",
        "https://ledger.example.org/v1/status/revocation/\u00b2",
        "https://ledger.example.org/v1/status/revocation/\u0661",
    ],
)
def test_locate_refuses_other_prefixes_purposes_and_numbers(url: str) -> None:
    assert LISTS.locate(url) is None


@given(
    number=st.integers(0, 1_000),
    offsets=st.sets(st.integers(0, MIN_ENTRIES - 1), min_size=2, max_size=200),
    key=st.binary(min_size=1, max_size=64),
)
def test_distinct_positions_within_one_list_never_share_an_index(
    number: int, offsets: set[int], key: bytes
) -> None:
    lists = StatusLists(BASE, key)
    entries = [lists.entry(number * MIN_ENTRIES + offset) for offset in offsets]
    assert {e["statusListCredential"] for e in entries} == {lists.url(number)}
    indexes = {e["statusListIndex"] for e in entries}
    assert len(indexes) == len(offsets)
