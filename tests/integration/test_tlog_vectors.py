"""The Merkle tree's roots and proofs held against Go's sumdb/tlog (interop/bin/tlogcheck)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    CompactRange,
    ProofError,
    consistency_proof_of,
    inclusion_proof_of,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from ledger.tiles import TileKey, TileTree, TreeEdge
from tests.tlog import (
    FIXED_SIZES,
    LARGEST,
    Fixed,
    GoTree,
    fixed_tree,
    flipped,
    go_tree,
    leaves_of,
)


def assert_same_roots(hashes: Sequence[bytes], go: GoTree) -> None:
    """Every prefix's root as Go's (streamed), and the whole tree's from scratch."""
    assert len(go.roots) == len(hashes)
    compact = CompactRange()
    for size, leaf in enumerate(hashes, start=1):
        compact.append(leaf)
        assert compact.root() == go.roots[size - 1], f"the root of size {size}"
    assert root_of(hashes) == go.roots[-1]


def assert_same_inclusion(
    hashes: Sequence[bytes], go: GoTree, pairs: Sequence[tuple[int, int]]
) -> None:
    """Go's inclusion proofs are ours, hash for hash, and ours verify them."""
    for (index, size), proof in zip(pairs, go.inclusion, strict=True):
        assert proof == inclusion_proof_of(hashes, index, size), f"leaf {index} of {size}"
        verify_inclusion(hashes[index], index, size, proof, go.roots[size - 1])


def assert_same_consistency(
    hashes: Sequence[bytes], go: GoTree, pairs: Sequence[tuple[int, int]]
) -> None:
    """Go's consistency proofs are ours, hash for hash, and ours verify them."""
    for (old, new), proof in zip(pairs, go.consistency, strict=True):
        assert proof == consistency_proof_of(hashes, old, new), f"size {old} to {new}"
        verify_consistency(old, new, proof, go.roots[old - 1], go.roots[new - 1])


# -- the same tree: fixed sizes up to 1000 --------------------------------------------------


@pytest.fixture(scope="module")
def fixed() -> Fixed:
    """The 1000-leaf tree and Go's answers, from one tlogcheck run for both test modules."""
    return fixed_tree()


def test_go_roots_equal_ours_for_every_size_up_to_1000(fixed: Fixed) -> None:
    assert_same_roots(fixed.hashes, fixed.go)
    for size in FIXED_SIZES:
        assert root_of(fixed.hashes[:size]) == fixed.go.roots[size - 1], f"size {size}"


def test_go_inclusion_proofs_equal_ours_and_ours_verify_them(fixed: Fixed) -> None:
    assert_same_inclusion(fixed.hashes, fixed.go, fixed.inclusion)


def test_go_consistency_proofs_equal_ours_and_ours_verify_them(fixed: Fixed) -> None:
    assert_same_consistency(fixed.hashes, fixed.go, fixed.consistency)


def test_go_proofs_with_a_flipped_byte_fail_our_verification(fixed: Fixed) -> None:
    for (index, size), proof in zip(fixed.inclusion, fixed.go.inclusion, strict=True):
        for at in range(len(proof)):
            bad = [*proof[:at], flipped(proof[at], at % 32), *proof[at + 1 :]]
            with pytest.raises(ProofError):
                verify_inclusion(fixed.hashes[index], index, size, bad, fixed.go.roots[size - 1])
    for (old, new), proof in zip(fixed.consistency, fixed.go.consistency, strict=True):
        for at in range(len(proof)):
            bad = [*proof[:at], flipped(proof[at], at % 32), *proof[at + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(old, new, bad, fixed.go.roots[old - 1], fixed.go.roots[new - 1])


def test_stored_tiles_give_go_roots_and_proofs(fixed: Fixed) -> None:
    """The tiles TreeEdge writes, appended in uneven batches, read back by TileTree."""
    store: dict[TileKey, bytes] = {}
    edge = TreeEdge(0, {})
    rng = random.Random(256)
    done = 0
    while done < LARGEST:
        batch = fixed.hashes[done : done + rng.choice((1, 2, 5, 200, 255, 256, 300))]
        store.update(edge.extend(batch))
        done += len(batch)
    tree = TileTree(LARGEST, lambda keys: {key: store[key] for key in keys if key in store})
    for size in range(1, LARGEST + 1):
        assert tree.root(size) == fixed.go.roots[size - 1], f"the root of size {size}"
    for (index, size), proof in zip(fixed.inclusion, fixed.go.inclusion, strict=True):
        assert tree.inclusion_proof(index, size) == proof, f"leaf {index} of {size}"
    for (old, new), proof in zip(fixed.consistency, fixed.go.consistency, strict=True):
        assert tree.consistency_proof(old, new) == proof, f"size {old} to {new}"


# -- the same tree: random ones --------------------------------------------------------------


@dataclass(frozen=True)
class RandomTree:
    leaves: list[bytes]
    inclusion: list[tuple[int, int]]
    consistency: list[tuple[int, int]]


@st.composite
def random_trees(draw: st.DrawFn) -> RandomTree:
    """1 to 300 leaves (seeded data: drawing each leaf would only slow the search down) and up
    to 20 inclusion and 20 consistency proofs in trees of their prefixes."""
    count = draw(st.integers(1, 300))
    leaves = leaves_of(count, seed=draw(st.integers(0, 2**32)))
    sizes = st.integers(1, count)
    inclusion = draw(
        st.lists(
            sizes.flatmap(lambda size: st.tuples(st.integers(0, size - 1), st.just(size))),
            min_size=1,
            max_size=20,
        )
    )
    consistency = draw(
        st.lists(
            sizes.flatmap(lambda new: st.tuples(st.integers(1, new), st.just(new))),
            min_size=1,
            max_size=20,
        )
    )
    return RandomTree(leaves, inclusion, consistency)


@settings(max_examples=25)
@given(random_trees())
def test_random_trees_go_roots_and_proofs_equal_ours(tree: RandomTree) -> None:
    hashes = [leaf_hash(data) for data in tree.leaves]
    go = go_tree(tree.leaves, tree.inclusion, tree.consistency)
    assert_same_roots(hashes, go)
    assert_same_inclusion(hashes, go, tree.inclusion)
    assert_same_consistency(hashes, go, tree.consistency)
