"""`ledger bench log`'s proofs: synthetic trees built and stored, proofs timed and verified."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from typing import Any

from rich.table import Table

from bench.databases import settings_for
from bench.report import percentile, table
from ledger.application import open_recorder
from ledger.errors import ConfigurationError
from ledger.merkle import CompactRange, verify_consistency, verify_inclusion
from ledger.persistence import LedgerRecorder
from ledger.tiles import TreeEdge
from ledger.tree import LogTree

LEAF_CHUNK = 65_536
VERIFIED = 200  # proofs of each kind and mode verified (the first ones)
SYNTHETIC = (
    "leaves synthetic (SHA-256 of their index), tiles built with TreeEdge and stored with "
    "grow_tree: a proof reads tiles only, so its cost depends on the tree's size alone, "
    "and ingesting that many events would take hours"
)

Advance = Callable[[int], None]


def proof_sizes(text: str) -> list[int]:
    """The tree sizes of ``--sizes`` (comma-separated), ascending; ConfigurationError unless
    there is one and each is 2 or more."""
    try:
        sizes = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        sizes = []
    if not sizes or sizes[0] < 2:
        raise ConfigurationError(f"--sizes: tree sizes of 2 or more, comma-separated: {text!r}")
    return sizes


def _leaf(index: int) -> bytes:
    return hashlib.sha256(b"ledger bench leaf " + index.to_bytes(8, "big")).digest()


def _build_to(
    recorder: LedgerRecorder, edge: TreeEdge, compact: CompactRange, size: int, advance: Advance
) -> tuple[float, float]:
    """Extend the stored tree to ``size`` synthetic leaves; the seconds building and
    storing it, and those computing its root from scratch beside it (the check)."""
    build = check = 0.0
    while edge.size < size:
        started = time.perf_counter()
        old = edge.size
        leaves = [_leaf(i) for i in range(old, min(size, old + LEAF_CHUNK))]
        if not recorder.grow_tree(old, old + len(leaves), edge.extend(leaves)):
            raise RuntimeError("bench log: the synthetic tree was grown by someone else")
        checked = time.perf_counter()
        compact.extend(leaves)
        build += checked - started
        check += time.perf_counter() - checked
        advance(len(leaves))
    return build, check


def _time_proofs(recorder: LedgerRecorder, size: int, count: int, root: bytes) -> dict[str, Any]:
    """``count`` random inclusion and consistency proofs at ``size``, cold and warm; the
    first ``VERIFIED`` of each verified against ``root``."""
    rng = random.Random(size)
    indexes = [rng.randrange(size) for _ in range(count)]
    olds = [rng.randint(1, size) for _ in range(count)]
    figures: dict[str, Any] = {}
    verified = 0
    for mode in ("cold", "warm"):
        server = LogTree(recorder)
        inclusion: list[float] = []
        consistency: list[float] = []
        made: list[tuple[int, list[bytes]]] = []
        for index in indexes:
            tree = server if mode == "warm" else LogTree(recorder)
            started = time.perf_counter()
            proof = tree.reader(size).inclusion_proof(index, size)
            inclusion.append(time.perf_counter() - started)
            made.append((index, proof))
        for old in olds:
            tree = server if mode == "warm" else LogTree(recorder)
            started = time.perf_counter()
            proof = tree.reader(size).consistency_proof(old, size)
            consistency.append(time.perf_counter() - started)
            made.append((-old, proof))
        reader = LogTree(recorder).reader(size)
        sample = min(count, VERIFIED)
        for index, proof in made[:sample] + made[count : count + sample]:
            if index >= 0:
                verify_inclusion(_leaf(index), index, size, proof, root)
            else:
                verify_consistency(-index, size, proof, reader.root(-index), root)
            verified += 1
        figures[mode] = {
            kind: {
                "p50_ms": round(percentile(t, 0.5) * 1000, 3),
                "p99_ms": round(percentile(t, 0.99) * 1000, 3),
            }
            for kind, t in (("inclusion", inclusion), ("consistency", consistency))
        }
    return {"proofs": count, "verified": verified, **figures}


def measure_proofs(
    backend: str, url: str, sizes: list[int], count: int, advance: Advance
) -> list[dict[str, Any]]:
    """A fresh database at ``url`` grown to each of ``sizes`` synthetic leaves in turn, and
    ``count`` proofs timed at each: a row per size; ``advance`` is told of every leaf stored."""
    recorder = open_recorder(settings_for(url))
    recorder.create_tables()
    edge, compact, rows = TreeEdge(0, {}), CompactRange(), []
    built = checked = 0.0
    try:
        for size in sizes:
            build, check = _build_to(recorder, edge, compact, size, advance)
            built, checked = built + build, checked + check
            root = LogTree(recorder).reader(size).root()
            if root != compact.root():
                raise RuntimeError(
                    f"bench log: the stored tree's root at {size} is not its leaves'"
                )
            rows.append(
                {
                    "backend": backend,
                    "size": size,
                    "build_seconds": round(built, 2),
                    "build_leaves_per_second": round(size / built),
                    "root_check_seconds": round(checked, 2),
                    **_time_proofs(recorder, size, count, root),
                }
            )
    finally:
        recorder.close()
    return rows


def proof_table(rows: list[dict[str, Any]]) -> Table:
    """The rows of ``measure_proofs``: p50 / p99 of each kind and mode, per backend and size."""
    return table(
        "proofs at full size, ms (p50 / p99)",
        (
            "backend",
            "leaves",
            "built in",
            "inclusion cold",
            "inclusion warm",
            "consistency cold",
            "consistency warm",
            "verified",
        ),
        (
            (
                p["backend"],
                f"{p['size']:,}",
                f"{p['build_seconds']} s",
                *(
                    f"{p[mode][kind]['p50_ms']:.2f} / {p[mode][kind]['p99_ms']:.2f}"
                    for kind in ("inclusion", "consistency")
                    for mode in ("cold", "warm")
                ),
                f"{p['verified']}",
            )
            for p in rows
        ),
        caption=SYNTHETIC,
    )
