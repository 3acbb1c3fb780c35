"""Our Bitstring Status List encodedList, read and written by Digital Bazaar's vc-bitstring-status-list (Node)."""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from credentials.statuslist import MIN_ENTRIES, Bitstring

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "interop"
SCRIPT = "interop/statuslist.mjs"
INSTALL = "scripts/interop install"
TIMEOUT_SECONDS = 60
# Where bit order and byte boundaries show: the first byte's top and bottom bits, the
# second byte's top bit, and the last entry of the specification's minimum list.
EDGES = (0, 7, 8, MIN_ENTRIES - 1)


def _node() -> str:
    """The node binary, with the interop packages installed from the current lockfile; else a loud failure."""
    binary = shutil.which("node")
    if binary is None:
        pytest.fail(f"node (20+) is not on PATH: install Node.js, then run `{INSTALL}`")
    stamp = INTEROP / "node_modules" / ".installed"
    if not stamp.is_file():
        pytest.fail(f"interop/node_modules is missing: run `{INSTALL}` (scripts/test does)")
    lock_hash = hashlib.sha1((INTEROP / "package-lock.json").read_bytes()).hexdigest()
    if stamp.read_text().strip() != lock_hash:
        pytest.fail(f"interop/node_modules predates interop/package-lock.json: run `{INSTALL}`")
    return binary


def _library(job: dict[str, Any]) -> dict[str, Any]:
    """The answer of interop/statuslist.mjs to one job; a refusal fails the test with its message."""
    proc = subprocess.run(
        [_node(), SCRIPT],
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
