"""`ledger bench api` runs end to end: a real server, load from this side, figures saved."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson

from ledger.dburl import DatabaseUrl
from tests.bench.running import ledger_bench
from tests.conftest import postgres_url

SCENARIOS = {
    "pipeline-single",
    "pipeline-batch",
    "healthz",
    "record-read",
    "ingest-single",
    "ingest-batch",
}
REQUESTS = 20
BATCH = 5


def _bench(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return ledger_bench(
        "api",
        *("--events", "300", "--concurrency", "2", "--batch", str(BATCH)),
        # A request count ends each scenario long before its duration: tiny and fast.
        *("--requests", str(REQUESTS), "--duration", "20", "--warmup", "0"),
        *("--out", str(out), *extra),
        timeout=240,
    )


def test_bench_api_saves_every_scenario_with_counts_and_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    done = _bench(out, "--postgres-url", postgres_url())
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = orjson.loads(out.read_bytes())
    assert report["benchmark"] == "api"
    assert report["ok"] is True
    assert report["errors"] == 0
    assert report["postgresql"] == DatabaseUrl.parse(postgres_url()).redacted
    assert [b["backend"] for b in report["backends"]] == ["sqlite", "postgresql"]
    assert all(b["seeded_events"] >= 300 for b in report["backends"])
    rows = {(r["backend"], r["scenario"]): r for r in report["results"]}
    assert set(rows) == {(b, s) for b in ("sqlite", "postgresql") for s in SCENARIOS}
    for (backend, scenario), row in rows.items():
        assert row["errors"] == 0, (backend, scenario, row["error_kinds"])
        assert row["requests"] == REQUESTS, (backend, scenario)
        assert row["requests_per_second"] > 0
        assert 0 < row["latency_ms"]["p50"] <= row["latency_ms"]["p99"] <= row["latency_ms"]["max"]
        expected_events = {"single": REQUESTS, "batch": REQUESTS * BATCH}.get(
            scenario.rpartition("-")[2], 0
        )
        assert row["events"] == expected_events, (backend, scenario)
        assert row["clients"] == (1 if scenario.startswith("pipeline") else 2)
    for backend in ("sqlite", "postgresql"):
        assert rows[backend, "record-read"]["ratio_to_healthz"] is not None
        assert rows[backend, "ingest-batch"]["ratio_to_in_process"] is not None


def test_bench_api_prints_the_table_and_never_a_token_or_a_password(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    done = _bench(out)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout + done.stderr
    assert "record-read" in done.stdout
    assert f"saved {out}" in done.stdout.replace("\n", "")
    assert "SQLite only" in done.stderr
    saved = out.read_text()
    # Every token is a JWT whose header starts {"alg":… — base64url "eyJ".
    for text in (printed, saved):
        assert "eyJ" not in text
        assert "Bearer" not in text
