"""The log as a Merkle tree in RFC 9162 form, its proofs and their verification.

Leaf ``i`` of the tree is the ``i + 1``-th event of the log; its data is the event's chain
hash (the 32 bytes that seal it to everything before it, see :mod:`ledger.integrity`), so
an erasure, which changes no stored row, changes no leaf. Leaf hashes are
SHA-256(0x00 ‖ data), interior nodes SHA-256(0x01 ‖ left ‖ right), as Certificate
Transparency's and Go's checksum database's trees.

The stored form is tiles of height 8 (as Go's ``sumdb/tlog`` and C2SP tlog-tiles): tile
``(t, i)`` holds up to 256 hashes of level ``8t`` of the tree, nodes ``256 i … 256 i + 255``.
A node of any level ``8t + r`` is the root of ``2^r`` consecutive hashes of one tile, so
every proof reads a few tiles, never the leaves of the whole tree; and a tile, once full,
never changes. :class:`TreeEdge` extends the tiles as events are appended.

The functions ending in ``_of`` compute from a list of leaf hashes, from scratch: they are
the definition the tests hold the stored tree to, and what an auditor's own recomputation
uses for small trees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

HASH_LEN = 32
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
EMPTY_ROOT = hashlib.sha256(b"").digest()

TileKey = tuple[int, int]
TileReader = Callable[[Sequence[TileKey]], Mapping[TileKey, bytes]]

_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A proof does not prove what it claims (or its sizes are impossible)."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data): the hash of one leaf."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an interior node."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
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


def _check_sizes(index: int, size: int, available: int) -> None:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {size}")
    if size > available:
        raise ProofError(f"tree size {size} is beyond the {available} leaves known")


def inclusion_proof_of(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162, from scratch (bottom-up)."""
    _check_sizes(index, size, len(leaf_hashes))

    def path(m: int, d: Sequence[bytes]) -> list[bytes]:
        if len(d) == 1:
            return []
        k = _split(len(d))
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
        k = _split(n)
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


# -- the stored tree: tiles ---------------------------------------------------------------


def _perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a complete subtree whose bottom row is ``hashes`` (a power of two)."""
    row = list(hashes)
    while len(row) > 1:
        row = [_sha256(b"\x01" + row[i] + row[i + 1]).digest() for i in range(0, len(row), 2)]
    return row[0]


def _hashes(tile: bytes) -> list[bytes]:
    return [tile[i : i + HASH_LEN] for i in range(0, len(tile), HASH_LEN)]


def subtrees(lo: int, hi: int) -> list[tuple[int, int]]:
    """The complete subtrees ``(level, index)`` that make up leaves ``[lo, hi)``, left to
    right, largest first (``lo`` a multiple of the largest power of two below ``hi - lo``,
    as in every range a proof needs)."""
    nodes: list[tuple[int, int]] = []
    while lo < hi:
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while lo + (1 << level) > hi:
            level -= 1
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def tile_of(level: int, index: int) -> tuple[TileKey, int, int]:
    """Where node ``(level, index)`` is computed from: its tile, the first of its hashes
    in that tile, and how many (a power of two)."""
    t, r = divmod(level, TILE_HEIGHT)
    first = index << r
    return (t, first >> TILE_HEIGHT), first & (TILE_WIDTH - 1), 1 << r


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose roots make the inclusion proof, bottom-up (Go's leafProof)."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The leaf ranges whose roots make the consistency proof, bottom-up (Go's treeProof)."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, new
    while True:
        if old == hi:
            if lo != 0:
                ranges.append((lo, hi))
            break
        k = _split(hi - lo)
        if old <= lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


@dataclass
class TileTree:
    """Proofs and roots from the stored tiles of a tree of ``size`` leaves (or more: every
    node of a smaller tree is in the tiles of a larger one).

    Args:
        size: leaves the tiles hold.
        read: fetches tiles by key, all at once (a missing key is simply left out).
    """

    size: int
    read: TileReader
    _cache: dict[TileKey, bytes] = field(default_factory=dict, repr=False)

    def _node_hashes(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        wanted = [subtrees(lo, hi) for lo, hi in ranges]
        places = {node: tile_of(*node) for nodes in wanted for node in nodes}
        keys = sorted({key for key, _, _ in places.values()} - self._cache.keys())
        if keys:
            self._cache.update(self.read(keys))
        computed: dict[tuple[int, int], bytes] = {}
        for node, (key, first, count) in places.items():
            tile = self._cache.get(key)
            end = (first + count) * HASH_LEN
            if tile is None or len(tile) < end:
                raise ProofError(f"the stored tree lacks node {node} (tile {key})")
            computed[node] = _perfect_root(_hashes(tile[first * HASH_LEN : end]))
        roots: list[bytes] = []
        for nodes in wanted:
            h = computed[nodes[-1]]
            for node in reversed(nodes[:-1]):
                h = node_hash(computed[node], h)
            roots.append(h)
        return roots

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ProofError(f"tree size {size} is beyond the {self.size} leaves stored")
        if size == 0:
            return EMPTY_ROOT
        return self._node_hashes([(0, size)])[0]

    def leaf(self, index: int) -> bytes:
        """The hash of leaf ``index``."""
        _check_sizes(index, index + 1, self.size)
        return self._node_hashes([(index, index + 1)])[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]): proves leaf ``index`` is in the tree of ``size``."""
        _check_sizes(index, size, self.size)
        return self._node_hashes(_inclusion_ranges(index, size))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """PROOF(old, D[new]): proves the tree of ``new`` extends the one of ``old``."""
        if not 1 <= old <= new:
            raise ProofError(f"no consistency proof from size {old} to size {new}")
        if new > self.size:
            raise ProofError(f"tree size {new} is beyond the {self.size} leaves stored")
        return self._node_hashes(_consistency_ranges(old, new))


def edge_keys(size: int) -> list[TileKey]:
    """The partial tiles of a tree of ``size`` leaves: the only ones a new leaf changes."""
    keys: list[TileKey] = []
    count, t = size, 0
    while count:
        if count % TILE_WIDTH:
            keys.append((t, count // TILE_WIDTH))
        count //= TILE_WIDTH
        t += 1
    return keys


@dataclass
class TreeEdge:
    """The right edge of the stored tree (its partial tiles), extended leaf by leaf.

    Args:
        size: the leaves stored.
        partial: the partial tiles of that size (:func:`edge_keys`), as stored.
    """

    size: int
    partial: dict[TileKey, bytes]

    def extend(self, leaves: Sequence[bytes]) -> dict[TileKey, bytes]:
        """Append leaf hashes; the tiles that changed, with their new contents (each full
        tile once, the new partial ones as they stand)."""
        changed: dict[TileKey, bytes] = {}
        items = list(leaves)
        t = 0
        while items:
            # The tree of self.size leaves has self.size >> 8t complete nodes of level 8t.
            idx, fill = divmod(self.size >> (TILE_HEIGHT * t), TILE_WIDTH)
            tile = self.partial.pop((t, idx), b"")
            if len(tile) != fill * HASH_LEN:
                raise ValueError(
                    f"stored tile {(t, idx)} holds {len(tile)} bytes, not {fill} hashes"
                )
            parents: list[bytes] = []
            pos = 0
            while pos < len(items):
                take = min(TILE_WIDTH - fill, len(items) - pos)
                tile += b"".join(items[pos : pos + take])
                pos += take
                fill += take
                changed[(t, idx)] = tile
                if fill == TILE_WIDTH:
                    parents.append(_perfect_root(_hashes(tile)))
                    idx, fill, tile = idx + 1, 0, b""
            if tile:
                self.partial[(t, idx)] = tile
            items = parents
            t += 1
        self.size += len(leaves)
        return changed
