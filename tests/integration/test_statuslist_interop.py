"""Our Bitstring Status List encodedList, read and written by Digital Bazaar's vc-bitstring-status-list (Node)."""

from __future__ import annotations

import random
import subprocess
from typing import Any

import orjson
import pytest

from credentials.statuslist import MIN_ENTRIES, Bitstring
from tests.interop import ROOT, node

SCRIPT = "interop/statuslist.mjs"
TIMEOUT_SECONDS = 60
# Where bit order and byte boundaries show: the first byte's top and bottom bits, the
# second byte's top bit, and the last entry of the specification's minimum list.
EDGES = (0, 7, 8, MIN_ENTRIES - 1)


def _library(job: dict[str, Any]) -> dict[str, Any]:
    """The answer of interop/statuslist.mjs to one job; a refusal fails the test with its message."""
    proc = subprocess.run(
        [node(), SCRIPT],
        cwd=ROOT,
        input=orjson.dumps(job),
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"{SCRIPT} refused the job: {proc.stderr.decode().strip()}")
    answer: dict[str, Any] = orjson.loads(proc.stdout)
    return answer


def _indexes(size: int, seed: int) -> list[int]:
    """The edges and the last entry with a seeded random sample of a list of ``size`` entries."""
    picked = set(random.Random(seed).sample(range(size), 200))
    return sorted(picked.union(EDGES, (size - 1,)))


def _library_reads_ours(size: int, indexes: list[int]) -> None:
    bits = Bitstring(size)
    for index in indexes:
        bits.set(index)
    # Every index is asked about, so a bit the library sees set that we did not set fails too.
    decoded = _library({"decode": bits.encode(), "indexes": list(range(size))})
    assert decoded == {"length": size, "set": indexes}


def _ours_reads_library(size: int, indexes: list[int]) -> None:
    encoded = _library({"encode": {"length": size, "set": indexes}})["encodedList"]
    bits = Bitstring.decode(encoded)
    assert len(bits) == size
    assert [index for index in range(size) if bits.get(index)] == indexes


def test_library_decoding_our_list_reads_the_same_length_and_set_bits() -> None:
    _library_reads_ours(MIN_ENTRIES, _indexes(MIN_ENTRIES, seed=1))


def test_our_decoding_the_library_list_reads_exactly_the_bits_it_set() -> None:
    _ours_reads_library(MIN_ENTRIES, _indexes(MIN_ENTRIES, seed=2))


def test_list_of_twice_the_minimum_agrees_both_ways() -> None:
    size = 2 * MIN_ENTRIES
    # MIN_ENTRIES is the first index past where a list of the minimum ends.
    indexes = sorted({*_indexes(size, seed=3), MIN_ENTRIES})
    _library_reads_ours(size, indexes)
    _ours_reads_library(size, indexes)
