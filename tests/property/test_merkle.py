"""The stored tree against the tree from scratch (RFC 9162's definitions), for random sizes,
random ways of growing it and random positions: the same roots and proofs, proofs that
verify, and none that verifies once a hash, the index or a size is changed."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    ProofError,
    consistency_proof_of,
    inclusion_proof_of,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from ledger.tiles import TileKey, TileTree, TreeEdge, edge_keys


def leaves(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]


def grown(hashes: list[bytes], chunks: list[int]) -> TileTree:
    """The tiles of ``hashes`` appended in chunks, each from an edge re-read from the store."""
    store: dict[TileKey, bytes] = {}
    size, i = 0, 0
    while size < len(hashes):
        take = max(1, chunks[i % len(chunks)])
        edge = TreeEdge(size, {k: store[k] for k in edge_keys(size) if k in store})
        store.update(edge.extend(hashes[size : size + take]))
        size, i = edge.size, i + 1
    return TileTree(size, lambda keys: {k: store[k] for k in keys if k in store})


def raises(check: object, *args: object) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except ProofError:
        return True
    return False


@settings(max_examples=60)
@given(
    n=st.integers(1, 1200),
    chunks=st.lists(st.integers(1, 700), min_size=1, max_size=5),
    data=st.data(),
)
def test_the_stored_tree_is_the_tree_from_scratch(
    n: int, chunks: list[int], data: st.DataObject
) -> None:
    hashes = leaves(n)
    tree = grown(hashes, chunks)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    root, old_root = root_of(hashes[:size]), root_of(hashes[:old])
    assert tree.root(size) == root

    proof = tree.inclusion_proof(index, size)
    assert proof == inclusion_proof_of(hashes, index, size)
    verify_inclusion(hashes[index], index, size, proof, root)
    other = (index + 1) % size
    if other != index:
        assert raises(verify_inclusion, hashes[index], other, size, proof, root)
    for i in range(len(proof)):
        bad = [*proof[:i], bytes(32), *proof[i + 1 :]]
        assert raises(verify_inclusion, hashes[index], index, size, bad, root)

    consistency = tree.consistency_proof(old, size)
    assert consistency == consistency_proof_of(hashes, old, size)
    verify_consistency(old, size, consistency, old_root, root)
    if consistency:
        bad = [bytes(32), *consistency[1:]]
        assert raises(verify_consistency, old, size, bad, old_root, root)
    if old < size:
        assert raises(verify_consistency, old, size, consistency, root, root)
