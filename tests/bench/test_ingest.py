"""`ledger bench ingest --workers --rounds 3` runs end to end, tiny, against the real broker
and PostgreSQL: the three runs, the references, the backlog's CPU by process kind, the
backlog drained in rounds each beside its own references, and the backlog drained by one
and by two worker processes with the write lock's figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.bench.running import ledger_bench
from tests.conftest import postgres_url
from tests.integration.kafka_support import kafka_bootstrap

EVENTS = 3000
# Polls of at most this many: every run appends at least EVENTS // BATCH times, however
# the two workers happen to split the partitions.
BATCH = 1000


def test_bench_ingest_saves_every_run_the_cpu_split_and_the_write_lock(tmp_path: Path) -> None:
    out = tmp_path / "ingest.json"
    done = ledger_bench(
        "ingest",
        *("--events", str(EVENTS), "--batch-size", str(BATCH)),
        *("--paced-rate", "1000", "--reference-events", "200"),
        *("--postgres-url", postgres_url(), "--bootstrap", kafka_bootstrap()),
        *("--workers", "--rounds", "3", "--out", str(out)),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = orjson.loads(out.read_bytes())
    backlog = report["ledger_via_kafka_backlog"]
    assert backlog["events"] >= EVENTS - 10
    assert backlog["rejected"] == 0
    cpu = backlog["cpu_us_per_event"]
    assert set(cpu) == {"this process", "its children", "postgresql", "kafka (jvm)"}
    assert cpu["this process"] > 0
    # A preparing child process, or a thread of the worker (with the compiled preparer).
    if backlog["preparing_in"] == "process":
        assert cpu["its children"] > 0
    else:
        assert backlog["preparing_in"] == "thread"
        assert cpu["its children"] == 0
    assert report["ledger_via_kafka_paced"]["cpu_us_per_event"] is None
    # The paced run again, on topics the broker timestamps: latency from its append.
    from_broker = report["ledger_via_kafka_paced_from_broker"]
    assert from_broker["events"] == report["ledger_via_kafka_paced"]["events"]
    assert from_broker["latency_ms"]["p99"] > 0
    assert "timed from the broker's append instead" in done.stdout
    assert isinstance(report["target_met"], bool)
    # Both references store the very rows the backlog run stored, the second with the
    # events table's indexes, in transactions of the batch size.
    raw, indexed = report["reference_raw_copy"], report["reference_indexed_copy"]
    assert raw["events"] == indexed["events"] == backlog["events"]
    assert indexed["events_per_second"] > 0
    assert report["ratio_backlog_to_indexed_copy"] > 0
    assert "indexed as the events table" in done.stdout
    assert isinstance(report["paced_p99_target_met"], bool)
    # Each round drained the backlog anew and timed both COPYs of its own rows; the
    # median round is the backlog reported, the targets judged against its references.
    rounds = report["backlog_rounds"]
    assert len(rounds) == 3
    for r in rounds:
        assert r["raw_copy"]["events"] == r["indexed_copy"]["events"] == r["backlog"]["events"]
        rate = r["backlog"]["events_per_second"]
        assert r["ratio_to_raw_copy"] == round(rate / r["raw_copy"]["events_per_second"], 3)
    rates = sorted(r["backlog"]["events_per_second"] for r in rounds)
    assert backlog["events_per_second"] == rates[1]
    median = next(r for r in rounds if r["backlog"] == backlog)
    assert report["reference_raw_copy"] == median["raw_copy"]
    assert report["ratio_backlog_to_raw_copy"] == median["ratio_to_raw_copy"]
    assert report["target_met_in_rounds"] == sum(r["target_met"] for r in rounds)
    assert "backlog in 3 rounds, each beside its own references" in done.stdout
    one, two = report["scale_out"]
    assert (one["workers"], two["workers"]) == (1, 2)
    for run in (one, two):
        assert sum(w["accepted"] for w in run["per_worker"]) == run["events"] == backlog["events"]
        assert sum(w["appends"] for w in run["per_worker"]) >= EVENTS // BATCH
        assert 0 < run["lock_occupancy"] <= 1
        assert run["lock_held_ms_per_append"] > 0
    assert len(two["per_worker"]) == 2  # how they split the partitions depends on timing
    assert "write lock held" in done.stdout
