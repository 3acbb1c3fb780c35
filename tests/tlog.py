"""What the tests against Go's tlog and note share: leaves, base64, Go's tree of 1000 leaves."""

from __future__ import annotations

import base64
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.merkle import leaf_hash
from tests.interop import run_tlogcheck

# Trees of one leaf, of a few, and around a tile of 256 (our tiles' width and Go's), and
# the largest, whose leaves every other size is a prefix of.
FIXED_SIZES = (1, 2, 3, 7, 8, 255, 256, 257, 1000)
LARGEST = FIXED_SIZES[-1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def flipped(data: bytes, at: int) -> bytes:
    """``data`` with one bit of byte ``at`` flipped."""
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def leaves_of(count: int, seed: int) -> list[bytes]:
    """Leaf data of assorted lengths, the empty one first."""
    rng = random.Random(seed)
    return [b"", *(rng.randbytes(rng.randrange(1, 48)) for _ in range(count - 1))]


@dataclass(frozen=True)
class GoTree:
    """What tlogcheck vectors answered: ``roots[s - 1]`` is the root of size ``s``."""

    roots: list[bytes]
    inclusion: list[list[bytes]]
    consistency: list[list[bytes]]


def go_tree(
    leaves: Sequence[bytes],
    inclusion: Sequence[tuple[int, int]],
    consistency: Sequence[tuple[int, int]],
) -> GoTree:
    """Go's tree of ``leaves``, with the proofs of ``(index, size)`` and ``(old, new)``."""
    status, answer = run_tlogcheck(
        {
            "leaves": [b64(data) for data in leaves],
            "inclusion": [list(pair) for pair in inclusion],
            "consistency": [list(pair) for pair in consistency],
        },
        "vectors",
    )
    assert status == 0
    return GoTree(
        roots=[unb64(root) for root in answer["roots"]],
        inclusion=[[unb64(h) for h in proof] for proof in answer["inclusion"]],
        consistency=[[unb64(h) for h in proof] for proof in answer["consistency"]],
    )


@dataclass(frozen=True)
class Fixed:
    leaves: list[bytes]
    hashes: list[bytes]
    inclusion: list[tuple[int, int]]
    consistency: list[tuple[int, int]]
    go: GoTree


@functools.cache
def fixed_tree() -> Fixed:
    """1000 leaves, Go's roots of every prefix, and its proofs at the edges of each fixed
    size (first, second, middle, last two leaves; old sizes of 1, 2, 3, tile edges, n-1, n)
    and a few random places; one tlogcheck run."""
    rng = random.Random(9162)
    leaves = leaves_of(LARGEST, seed=6962)
    inclusion: list[tuple[int, int]] = []
    consistency: list[tuple[int, int]] = []
    for size in FIXED_SIZES:
        indexes = {0, 1, size // 2, size - 2, size - 1, *rng.sample(range(size), min(size, 4))}
        inclusion += [(index, size) for index in sorted(indexes) if 0 <= index < size]
        olds = {1, 2, 3, 128, 255, 256, 257, size // 2, size - 1, size, rng.randint(1, size)}
        consistency += [(old, size) for old in sorted(olds) if 1 <= old <= size]
    go = go_tree(leaves, inclusion, consistency)
    return Fixed(leaves, [leaf_hash(data) for data in leaves], inclusion, consistency, go)
