"""What the ledger records about itself as an issuer (its signing keys, its status slots) and
the secrets it derives from its master key, on a real SQLite ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.keys import multikey_of
from ledger import identity
from ledger.application import Ledger
from ledger.crypto import MasterKey, encode_key, generate_key
from ledger.errors import LedgerError, MasterKeyMissingError
from ledger.settings import Settings


def open_ledger(directory: Path, master_key: bytes | None) -> Ledger:
    env = {"LEDGER_DATABASE_URL": f"sqlite:///{directory}/ledger.db"}
    if master_key is not None:
        env["LEDGER_MASTER_KEY"] = encode_key(master_key)
    return Ledger.open(Settings.from_env(env))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with open_ledger(tmp_path, generate_key()) as led:
        yield led


def a_multikey() -> str:
    return multikey_of(Ed25519PrivateKey.generate())


def test_derive_is_deterministic_and_32_bytes() -> None:
    raw = generate_key()
    first, again = MasterKey(raw).derive(b"label"), MasterKey(raw).derive(b"label")
    assert first == again
    assert len(first) == 32


def test_derive_differs_by_label() -> None:
    master = MasterKey(generate_key())
    assert master.derive(b"lll/status-list/v1") != master.derive(b"lll/status-list/v2")
    assert master.derive(b"a") != master.derive(b"")


def test_derive_differs_by_master_key() -> None:
    assert MasterKey(generate_key()).derive(b"label") != MasterKey(generate_key()).derive(b"label")


def test_derive_does_not_give_the_master_key_itself() -> None:
    raw = generate_key()
    master = MasterKey(raw)
    assert raw not in {master.derive(b""), master.derive(b"label")}


def test_a_key_recorded_twice_is_kept_once(ledger: Ledger) -> None:
    key = a_multikey()
    first = identity.record_signing_key(ledger.recorder, key)
    again = identity.record_signing_key(ledger.recorder, key)
    assert again == first
    assert identity.signing_keys(ledger.recorder) == [first]


def test_signing_keys_are_listed_oldest_first_with_when_they_were_added(ledger: Ledger) -> None:
    old, new = a_multikey(), a_multikey()
    ledger.record_signing_key(old)
    ledger.record_signing_key(new)
    ledger.record_signing_key(old)
    listed = ledger.signing_keys()
    assert [k.multikey for k in listed] == [old, new]
    added = [datetime.fromisoformat(k.added_at.replace("Z", "+00:00")) for k in listed]
    assert all(moment.tzinfo is not None for moment in added)
    assert added[0] <= added[1]


def test_a_key_recorded_again_after_reopening_is_still_kept_once(tmp_path: Path) -> None:
    master, key = generate_key(), a_multikey()
    with open_ledger(tmp_path, master) as first:
        first.record_signing_key(key)
        head = first.recorder.max_position()
    with open_ledger(tmp_path, master) as again:
        again.record_signing_key(key)
        assert [k.multikey for k in again.signing_keys()] == [key]
        assert again.recorder.max_position() == head


def test_a_ledger_with_no_recorded_key_lists_none(ledger: Ledger) -> None:
    assert ledger.signing_keys() == []


def test_status_slots_are_reserved_at_increasing_positions(ledger: Ledger) -> None:
    positions = [ledger.reserve_status_slot(f"export-{n}") for n in range(4)]
    assert positions == sorted(positions)
    assert len(set(positions)) == 4
    assert positions[-1] == ledger.recorder.max_position()


def test_a_status_slot_reference_is_reserved_once(ledger: Ledger) -> None:
    ledger.reserve_status_slot("export-1")
    head = ledger.recorder.max_position()
    with pytest.raises(LedgerError, match="'export-1' was reserved before"):
        ledger.reserve_status_slot("export-1")
    with pytest.raises(LedgerError, match="reserved before"):
        identity.reserve_status_slot(ledger.recorder, "export-1")
    assert ledger.recorder.max_position() == head


def test_new_references_are_fresh_and_carry_their_prefix() -> None:
    first, second = identity.new_reference("export"), identity.new_reference("export")
    assert first != second
    assert first.startswith("export-")


def test_the_status_key_is_stable_across_reopening_with_the_same_master_key(
    tmp_path: Path,
) -> None:
    master = generate_key()
    with open_ledger(tmp_path, master) as first:
        key = first.status_key()
    with open_ledger(tmp_path, master) as again:
        assert again.status_key() == key
    assert len(key) == 32
    assert key != master


def test_the_status_key_differs_under_another_master_key(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        open_ledger(tmp_path / "a", generate_key()) as one,
        open_ledger(tmp_path / "b", generate_key()) as other,
    ):
        assert one.status_key() != other.status_key()


def test_the_status_key_needs_a_master_key(tmp_path: Path) -> None:
    with open_ledger(tmp_path, None) as led, pytest.raises(MasterKeyMissingError):
        led.status_key()
