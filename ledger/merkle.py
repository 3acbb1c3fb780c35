"""The log as a Merkle tree in RFC 9162 form, its proofs and their verification.

Leaf ``i`` of the tree is the ``i + 1``-th event of the log; its data is the event's chain
hash (the 32 bytes that seal it to everything before it, see :mod:`ledger.integrity`), so
an erasure, which changes no stored row, changes no leaf. Leaf hashes are
SHA-256(0x00 ‖ data), interior nodes SHA-256(0x01 ‖ left ‖ right), as Certificate
Transparency's and Go's checksum database's trees.

The stored form, in tiles, is :mod:`ledger.tiles`.

The functions ending in ``_of`` compute from a list of leaf hashes, from scratch: they are
the definition the tests hold the stored tree to, and what an auditor's own recomputation
uses for small trees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_LEN = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A proof does not prove what it claims (or its sizes are impossible)."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data): the hash of one leaf."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# -- from scratch --------------------------------------------------------------------------


class CompactRange:
    """The root of a growing list of leaves in O(log n) memory: the roots of its complete
    subtrees, largest first (what an auditor keeps while streaming the log)."""

    __slots__ = ("_nodes", "size")

    def __init__(self) -> None:
        self.size = 0
        self._nodes: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash."""
        nodes = self._nodes
        nodes.append(leaf)
        n = self.size
        while n & 1:
            right = nodes.pop()
            nodes[-1] = _sha256(b"\x01" + nodes[-1] + right).digest()
            n >>= 1
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """The RFC 9162 root of the leaves so far (SHA-256 of nothing when there are none)."""
        if not self._nodes:
            return EMPTY_ROOT
        nodes = self._nodes
        h = nodes[-1]
        for left in reversed(nodes[:-1]):
            h = node_hash(left, h)
        return h


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 over these leaf hashes."""
    compact = CompactRange()
    compact.extend(leaf_hashes)
    return compact.root()


def check_sizes(index: int, size: int, available: int) -> None:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {size}")
    if size > available:
        raise ProofError(f"tree size {size} is beyond the {available} leaves known")


def inclusion_proof_of(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162, from scratch (bottom-up)."""
    check_sizes(index, size, len(leaf_hashes))

    def path(m: int, d: Sequence[bytes]) -> list[bytes]:
        if len(d) == 1:
            return []
        k = split_point(len(d))
        if m < k:
            return [*path(m, d[:k]), root_of(d[k:])]
        return [*path(m - k, d[k:]), root_of(d[:k])]

    return path(index, leaf_hashes[:size])


def consistency_proof_of(leaf_hashes: Sequence[bytes], old: int, new: int) -> list[bytes]:
    """PROOF(old, D[new]) of RFC 9162, from scratch (empty when the sizes are equal)."""
    if not 1 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if new > len(leaf_hashes):
        raise ProofError(f"tree size {new} is beyond the {len(leaf_hashes)} leaves known")

    def subproof(m: int, d: Sequence[bytes], complete: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if complete else [root_of(d)]
        k = split_point(n)
        if m <= k:
            return [*subproof(m, d[:k], complete), root_of(d[k:])]
        return [*subproof(m - k, d[k:], False), root_of(d[:k])]

    return subproof(old, leaf_hashes[:new], True)


# -- verification (RFC 9162, 2.1.3.2 and 2.1.4.2) -----------------------------------------


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof implies for ``leaf`` at ``index`` in a tree of ``size``.

    Raises:
        ProofError: the proof has the wrong length for that index and size.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` and ``root``.

    Raises:
        ProofError: it is not (or the proof is malformed).
    """
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise ProofError(
            f"the inclusion proof of leaf {index} does not lead to the root of tree size {size}"
        )


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Check that the tree of ``new_size`` and ``new_root`` extends the one of ``old_size``
    and ``old_root`` (every leaf of the old tree is in the new one, unchanged, in place).

    Raises:
        ProofError: it does not (or the proof is malformed).
    """
    if not 1 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same tree size {old_size}")
        return
    path = list(proof)
    if not path:
        raise ProofError("the consistency proof is empty")
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {new_size}")
