"""The log's Merkle tree as stored: tiles of height 8, grown at the right edge, read for proofs.

The stored form is tiles of height 8 (as Go's ``sumdb/tlog`` and C2SP tlog-tiles): tile
``(t, i)`` holds up to 256 hashes of level ``8t`` of the tree, nodes ``256 i … 256 i + 255``.
A node of any level ``8t + r`` is the root of ``2^r`` consecutive hashes of one tile, so
every proof reads a few tiles, never the leaves of the whole tree; and a tile, once full,
never changes. :class:`TreeEdge` extends the tiles as events are appended; :class:`TileTree`
answers roots and proofs from them, the same as :mod:`ledger.merkle`'s from scratch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ledger.merkle import (
    EMPTY_ROOT,
    HASH_LEN,
    ProofError,
    check_sizes,
    node_hash,
    split_point,
)

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

TileKey = tuple[int, int]
TileReader = Callable[[Sequence[TileKey]], Mapping[TileKey, bytes]]

_sha256 = hashlib.sha256


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
        k = split_point(hi - lo)
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
        k = split_point(hi - lo)
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

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[size]): proves leaf ``index`` is in the tree of ``size``."""
        check_sizes(index, size, self.size)
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
