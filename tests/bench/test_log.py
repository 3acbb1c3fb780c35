"""`ledger bench log` runs end to end, tiny: the tree's cost beside ingest in both modes, the
proofs of synthetic trees verified, the audit of the whole log passed; every figure saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.bench.running import ledger_bench

SIZES = (5000, 70_000)  # the second spans more than one tile of the second level
PROOFS = 40


def test_bench_log_saves_tree_cost_proof_and_audit_figures(tmp_path: Path) -> None:
    out = tmp_path / "log.json"
    done = ledger_bench(
        "log",
        *("--events", "3000", "--batch", "500", "--repeats", "2"),
        *("--sizes", ",".join(map(str, SIZES)), "--proofs", str(PROOFS)),
        *("--out", str(out)),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = orjson.loads(out.read_bytes())
    assert report["benchmark"] == "log"
    (cost,) = report["tree_cost"]
    assert cost["backend"] == "sqlite"
    assert cost["events"] >= 3000
    for mode in ("grown_after_ingest", "grown_every_batch"):
        figures = cost[mode]
        assert figures["ingest_cpu_us"] > 0, mode
        assert figures["tree_cpu_us"] > 0, mode
        assert figures["ratio_pct"] > 0, mode
        assert len(figures["runs_ratio_pct"]) == 2, mode
        assert (
            min(figures["runs_ratio_pct"]) <= figures["ratio_pct"] <= max(figures["runs_ratio_pct"])
        )
    assert isinstance(report["tree_cost_target_met"], bool)
    assert [p["size"] for p in report["proofs"]] == list(SIZES)
    for row in report["proofs"]:
        assert row["proofs"] == PROOFS
        assert row["verified"] == 4 * PROOFS  # inclusion and consistency, cold and warm
        assert row["build_seconds"] > 0
        for mode in ("cold", "warm"):
            for kind in ("inclusion", "consistency"):
                assert 0 < row[mode][kind]["p50_ms"] <= row[mode][kind]["p99_ms"], (mode, kind)
    assert "synthetic" in report["proof_leaves"]
    (audit,) = report["audit"]
    assert audit["events"] > audit["saved_checkpoint_size"] == cost["events"]
    for check in ("check_log", "chain_audit"):
        assert audit[check]["events_per_second"] > 0, check
    assert audit["ratio_check_to_chain_audit"] > 0
    assert "saved" in done.stdout
    assert "synthetic" in done.stdout
