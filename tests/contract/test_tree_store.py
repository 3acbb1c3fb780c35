"""Contract of the store port's Merkle-tree tables, run against SQLite and a real PostgreSQL:
the tree grown from the log equals the tree computed from scratch, and stays so while
the log grows, across writers and through a writer that lost a race."""

from __future__ import annotations

import pytest

from ledger.merkle import (
    ProofError,
    consistency_proof_of,
    inclusion_proof_of,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from ledger.notes import SignedCheckpoint
from ledger.persistence import LedgerRecorder
from ledger.tree import LogTree, TreeGapError
from tests.conftest import NewEventBuilder
from tests.integration.tamper import drop_guards, raw_execute


def leaves(recorder: LedgerRecorder) -> list[bytes]:
    return [leaf_hash(row.state[:32]) for page in recorder.iter_log() for row in page]


def fill(recorder: LedgerRecorder, new_event: NewEventBuilder, start: int, count: int) -> None:
    batch = [new_event(f"e{i}", f"lrn_{i % 7}") for i in range(start, start + count)]
    for i in range(0, len(batch), 400):
        recorder.append(batch[i : i + 400])


def test_the_grown_tree_is_the_tree_from_scratch_at_every_size(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    tree = LogTree(recorder, page=300)
    assert tree.grow() == 0
    assert tree.reader().root() == root_of([])
    sizes = []
    for count in (1, 254, 1, 1, 600, 66000 - 857):
        fill(recorder, new_event, sum(sizes), count)
        sizes.append(count)
        assert tree.grow() == recorder.max_position() == sum(sizes)
    hashes = leaves(recorder)
    reader = tree.reader()
    for size in (1, 2, 255, 256, 257, 857, 65536, 65537, len(hashes)):
        assert reader.root(size) == root_of(hashes[:size])
    for index, size in ((0, 1), (255, 256), (256, 66000), (65535, 65536), (65999, 66000)):
        proof = reader.inclusion_proof(index, size)
        assert proof == inclusion_proof_of(hashes, index, size)
        verify_inclusion(hashes[index], index, size, proof, root_of(hashes[:size]))
    for old, new in ((1, 2), (256, 257), (255, 65537), (65536, 66000), (857, 857)):
        proof = reader.consistency_proof(old, new)
        assert proof == consistency_proof_of(hashes, old, new)
        verify_consistency(old, new, proof, root_of(hashes[:old]), root_of(hashes[:new]))


def test_two_writers_grow_one_tree(recorder: LedgerRecorder, new_event: NewEventBuilder) -> None:
    first, second = LogTree(recorder, page=100), LogTree(recorder, page=100)
    fill(recorder, new_event, 0, 300)
    assert first.grow(until=150) == 150
    # `second` lost no race yet; `first` now holds an edge that is out of date.
    assert second.grow() == 300
    fill(recorder, new_event, 300, 300)
    assert first.grow() == 600
    assert second.reader().root() == root_of(leaves(recorder))


def test_a_writer_that_lost_the_race_stores_nothing(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    fill(recorder, new_event, 0, 10)
    LogTree(recorder).grow()
    assert recorder.grow_tree(5, 7, {(0, 0): b"\x00" * 32 * 7}) is False
    assert recorder.tree_size() == 10
    assert LogTree(recorder).reader().root() == root_of(leaves(recorder))


def test_a_proof_beyond_the_stored_tree_is_refused(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    fill(recorder, new_event, 0, 5)
    tree = LogTree(recorder)
    tree.grow(until=3)
    with pytest.raises(ProofError, match="beyond"):
        tree.reader(4)
    with pytest.raises(ProofError, match="not inside"):
        tree.reader().inclusion_proof(3, 3)


def test_signed_checkpoints_are_kept_once_per_size_in_order(recorder: LedgerRecorder) -> None:
    for size in (5, 1, 9):
        assert recorder.add_signed_checkpoint(
            SignedCheckpoint(
                size, bytes([size]) * 32, f"note {size}\n", f"2026-12-06T00:00:0{size}Z"
            )
        )
    assert not recorder.add_signed_checkpoint(SignedCheckpoint(5, b"x" * 32, "other\n", "t"))
    assert [c.size for c in recorder.signed_checkpoints()] == [1, 5, 9]
    assert [c.size for c in recorder.signed_checkpoints(after_size=1, limit=1)] == [5]
    (newest,) = recorder.signed_checkpoints(limit=1, newest_first=True)
    assert (newest.size, newest.root, newest.note) == (9, bytes([9]) * 32, "note 9\n")


def test_a_hole_in_the_log_stops_the_tree(
    recorder: LedgerRecorder, new_event: NewEventBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(recorder, new_event, 0, 4)
    real = recorder.chain_hashes
    # As if the event at position 3 were gone: the hashes stop short of it.
    monkeypatch.setattr(
        recorder, "chain_hashes", lambda s, n: real(s, min(n, 3 - s)) if s < 3 else b""
    )
    with pytest.raises(TreeGapError, match="position 3 is missing"):
        LogTree(recorder).grow()
    assert recorder.tree_size() == 2


def test_the_tree_reads_the_hashes_each_append_kept_and_the_events_where_none_were_kept(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    fill(recorder, new_event, 0, 1000)
    expected = b"".join(row.state[:32] for page in recorder.iter_log() for row in page)
    assert recorder.chain_hashes(1, 5000) == expected
    assert recorder.chain_hashes(399, 3) == expected[398 * 32 : 401 * 32]
    assert recorder.chain_hashes(1001, 10) == b""
    # A ledger from before the appends kept them: the events' own hashes, the same.
    drop_guards(recorder)
    raw_execute(recorder, "UPDATE ledger_checkpoints SET hashes = NULL WHERE first_position > 1")
    assert recorder.chain_hashes(1, 5000) == expected[: 400 * 32]  # the first append's
    assert recorder.chain_hashes(401, 5000) == expected[400 * 32 :]
    assert recorder.chain_hashes(700, 5000) == expected[699 * 32 :]
    tree = LogTree(recorder)
    assert tree.grow() == 1000
    assert tree.reader().root() == root_of(leaves(recorder))
