"""`ledger bench scale` runs end to end, tiny: rounds of the base events under new ids and
learners stored until the target, the rate of each chunk, the rebuild at that size and the
learner-record reads; every figure saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from bench.scale import _learner, _round
from tests.bench.running import ledger_bench
from tests.conftest import postgres_url


def test_bench_scale_saves_a_rate_per_chunk_the_rebuild_and_read_latency(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    done = ledger_bench(
        "scale",
        *("--events", "2500", "--chunk", "1000", "--batch", "500", "--reads", "50"),
        *("--postgres-url", postgres_url(), "--out", str(out)),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = orjson.loads(out.read_bytes())
    ingest = report["ingest"]
    assert ingest["stored"] == 2500
    assert ingest["rejected"] == 0
    assert [c["stored"] for c in ingest["chunks"]] == [1000, 2000]
    assert all(c["events_per_second"] > 0 for c in ingest["chunks"])
    assert report["end_to_start"] > 0
    assert isinstance(report["target_met"], bool)
    assert report["rebuild"]["events"] >= 2500
    reads = report["learner_record_read"]
    assert reads["reads"] == 50
    assert 0 < reads["p50_ms"] <= reads["p99_ms"]
    assert "rebuild of the learner record at" in done.stdout


def test_each_round_brings_new_ids_and_new_learners() -> None:
    base = "lrn_" + "0123456789ABCDEFGHJKMNPQRS"
    assert _learner(base, 0) == base
    rounds = {_learner(base, r) for r in range(1, 3000)}
    assert len(rounds) == 2999
    assert base not in rounds
    assert all(len(r) == len(base) for r in rounds)
    event = {"id": "e1", "type": "org.lll.learning.x.v1", "subject": base, "data": {}}
    fix = {
        "id": "c1",
        "type": "org.lll.corrections.event-retracted.v1",
        "data": {"target": {"id": "e1", "source": "s"}},
    }
    one = [orjson.loads(raw) for raw in _round([event, fix], 1)]
    assert one[0]["id"] == "e1.r1"
    assert one[0]["subject"] == _learner(base, 1)
    assert one[1]["data"]["target"]["id"] == "e1.r1"  # a correction follows its target
