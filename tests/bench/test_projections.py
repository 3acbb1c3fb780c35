"""`ledger bench projections` runs end to end on a small population: every figure saved,
every run covering the whole log, the exports real (the bench checks they verify)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.bench.running import ledger_bench

RUNS = 3


def test_bench_projections_saves_rebuild_and_export_figures(tmp_path: Path) -> None:
    out = tmp_path / "projections.json"
    done = ledger_bench(
        "projections",
        *("--events", "3000", "--export-events", "120", "--export-runs", str(RUNS)),
        *("--repeats", "2"),
        *("--out", str(out)),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = orjson.loads(out.read_bytes())
    assert report["benchmark"] == "projections"
    (sqlite,) = report["results"]
    assert sqlite["backend"] == "sqlite"
    assert sqlite["events"] >= 3000
    assert sqlite["learners"] > 0
    for figure in ("reference_read_decode", "catch_up_from_zero", "rebuild", "rebuild_one_process"):
        assert sqlite[figure]["events_per_second"] > 0, figure
    for repeated in ("reference_read_decode", "rebuild"):
        runs = sqlite[repeated]["runs_events_per_second"]
        assert len(runs) == 2
        assert min(runs) <= sqlite[repeated]["events_per_second"] <= max(runs)
    assert sqlite["rebuild_workers"] == 1  # below the log length where a worker is started
    export = report["export"]
    assert export["learner_events"] == 120
    assert export["runs"] == RUNS
    assert 0 < export["credentials"] == export["first_export"]["credentials_issued"]
    for fmt in ("unsigned", "di", "jwt", "record_export"):
        assert 0 < export[fmt]["p50_ms"] <= export[fmt]["p99_ms"], fmt
    assert "saved" in done.stdout
