"""`ledger bench ingest`: Kafka → PostgreSQL end to end, with references in the same run.

Publishers (one process per issuer, as institutions would run them) write demo events to
their topics while one ingest worker consumes them into a fresh PostgreSQL schema. We
report sustained events/s, publish-to-durable-append latency (p50/p99, from each message's
Kafka timestamp to the commit of the transaction that stored it), and two references on
the same database: a raw binary COPY of the very rows the ledger stored, and the plain
eventsourcing pattern (load aggregate, add event, save) per event.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

from consumers.topics import ensure_topics, issuer_topic
from consumers.worker import IngestWorker, WorkerConfig
from ledger.application import Ledger
from ledger.bench import _measure_reference
from ledger.crypto import generate_key
from ledger.demo import generate
from ledger.postgres import redact
from ledger.records import LEDGER_SOURCE
from ledger.settings import Settings

TARGET = 30_000


def _population(count: int) -> tuple[list[Any], dict[str, list[bytes]]]:
    learners = max(100, count // 18)
    while True:
        population = generate(seed=4242, learners=learners)
        events = [e for e in population.events if e["source"] != LEDGER_SOURCE]
        if len(events) >= count:
            break
        learners = int(learners * 1.3)
    by_source: dict[str, list[bytes]] = {}
    for e in events[:count]:
        by_source.setdefault(e["source"], []).append(orjson.dumps(e))
    return population.issuers, by_source


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _ingest(
    settings: Settings, config: WorkerConfig, files: dict[str, Path], expected: int
) -> dict[str, Any]:
    latencies: list[float] = []
    commits: list[float] = []
    with Ledger.open(settings) as ledger:
        worker = IngestWorker(ledger, config)

        def observe(messages: list[Any], committed: float) -> None:
            commits.append(committed)
            latencies.extend(committed - m.timestamp / 1000 for m in messages)

        worker.on_commit = observe
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(2)  # join the group before the load starts
        started = time.time()
        publishers = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [
                    sys.executable,
                    "-m",
                    "ledger.cli.main",
                    "publish",
                    str(path),
                    "--issuer",
                    issuer,
                    "--bootstrap",
                    config.bootstrap,
                    "--json",
                ],
                stdout=subprocess.DEVNULL,
            )
            for issuer, path in files.items()
        ]
        while worker.stats.accepted + worker.stats.duplicates < expected:
            if task.done():
                task.result()
                raise RuntimeError("ingest worker stopped early")
            await asyncio.sleep(0.2)
        finished = time.time()
        stop.set()
        await task
        for p in publishers:
            p.wait(timeout=60)
    return {
        "events": worker.stats.accepted,
        "seconds_from_first_publish": round(finished - started, 3),
        "events_per_second": round(worker.stats.accepted / (finished - started)),
        "latency_ms": {
            "p50": round(_percentile(latencies, 0.50) * 1000, 1),
            "p99": round(_percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "batches": worker.stats.batches,
        "rejected": worker.stats.rejected,
    }


def _raw_copy(url: str, schema: str) -> dict[str, Any]:
    """Reference: binary COPY of the rows the ledger stored, into a plain table."""
    base = url.split("?")[0]
    with psycopg.connect(base, autocommit=True) as conn:
        rows = conn.execute(
            f'SELECT originator_id, originator_version, topic, state FROM "{schema}".ledger_events'
            " WHERE topic LIKE 'org.lll.%%'"
        ).fetchall()
        conn.execute(
            f'CREATE TABLE "{schema}".bench_raw (originator_id uuid, originator_version bigint,'
            " topic text, state bytea)"
        )
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f'COPY "{schema}".bench_raw FROM STDIN (FORMAT BINARY)') as copy,
        ):
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for row in rows:
                copy.write_row(row)
        seconds = time.perf_counter() - started
    return {
        "events": len(rows),
        "seconds": round(seconds, 3),
        "events_per_second": round(len(rows) / seconds),
    }


def run_ingest_bench(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    env = Settings.from_env()
    base = args.postgres_url or os.environ.get("LEDGER_BENCH_POSTGRES_URL") or env.database_url
    if not base.startswith("postgres"):
        raise SystemExit(
            "ledger bench ingest needs PostgreSQL: --postgres-url or LEDGER_BENCH_POSTGRES_URL"
        )
    bootstrap = args.bootstrap or env.kafka_bootstrap
    suffix = uuid.uuid4().hex[:8]
    schema = f"bench_ingest_{suffix}"
    url = f"{base}?schema={schema}"
    settings = Settings.from_env(
        {}, database_url=url, _master_key=generate_key(), kafka_bootstrap=bootstrap
    )
    console.print(f"generating {args.events} events")
    specs, by_source = _population(args.events)
    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-ingest-"))
    files: dict[str, Path] = {}
    try:
        with Ledger.open(settings) as ledger:
            for s in specs:
                if s.source in by_source:
                    unique = f"{s.id}-{suffix}"
                    ledger.registry.register(
                        unique, name=s.name, source=s.source, kind=s.kind, types=s.types
                    )
                    path = folder / f"{unique}.jsonl"
                    path.write_bytes(b"\n".join(by_source[s.source]) + b"\n")
                    files[unique] = path
        asyncio.run(
            ensure_topics(
                bootstrap, [issuer_topic(i) for i in files] + [f"lll.deadletter.{suffix}"]
            )
        )
        config = WorkerConfig(
            bootstrap=bootstrap, group=f"lll-bench-{suffix}", dead_letter_topic=f"lll.deadletter.{suffix}",
            topics=tuple(issuer_topic(i) for i in files), batch_size=args.batch_size,
        )  # fmt: skip
        console.print(
            f"ingesting through Kafka ({len(files)} issuer topics, batch {args.batch_size})"
        )
        ingest = asyncio.run(_ingest(settings, config, files, args.events))
        console.print("reference: raw COPY of the same rows")
        raw = _raw_copy(base, schema)
        console.print(f"reference: eventsourcing aggregate per event × {args.reference_events}")
        lines = [line for lines in by_source.values() for line in lines][: args.reference_events]
        ref_schema = f"{base}?schema={schema}_ref"
        reference = _measure_reference(ref_schema, "postgresql", lines)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}_ref" CASCADE')
        for path in files.values():
            path.unlink(missing_ok=True)
        folder.rmdir()
    report = {
        "benchmark": "ingest",
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "postgresql": redact(base),
        "kafka": bootstrap,
        "ledger_via_kafka": ingest,
        "reference_raw_copy": raw,
        "reference_eventsourcing_aggregate_per_event": {
            "events": reference.events, "events_per_second": round(reference.rate),
        },
        "ratio_to_raw_copy": round(ingest["events_per_second"] / raw["events_per_second"], 3),
        "ratio_to_eventsourcing_reference": round(ingest["events_per_second"] / reference.rate, 1),
        "target_events_per_second": TARGET,
        "target_met": ingest["events_per_second"] >= TARGET,
    }  # fmt: skip
    table = Table(title="Kafka → PostgreSQL ingest")
    for col in ("path", "events", "events/s", "p50 ms", "p99 ms", "ratio"):
        table.add_column(col, justify="right")
    table.add_row("ledger via Kafka", str(ingest["events"]), f"{ingest['events_per_second']:,}",
                  str(ingest["latency_ms"]["p50"]), str(ingest["latency_ms"]["p99"]), "1.0")  # fmt: skip
    table.add_row("raw COPY (same rows)", str(raw["events"]), f"{raw['events_per_second']:,}", "", "",
                  f"{report['ratio_to_raw_copy']}")  # fmt: skip
    table.add_row("eventsourcing aggregate/event", str(reference.events), f"{reference.rate:,.0f}", "", "",
                  f"{report['ratio_to_eventsourcing_reference']}")  # fmt: skip
    Console().print(table)
    Console().print(
        f"ratio column: ledger events/s divided by the reference's; target ≥ {TARGET:,}/s — {report['target_met']}"
    )
    out = (
        Path(args.out)
        if args.out
        else Path("bench-results") / f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    Console().print(f"saved {out}")
    return 0
