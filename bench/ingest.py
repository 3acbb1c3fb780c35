"""`ledger bench ingest`: Kafka → PostgreSQL end to end, with references in the same run.

Publishers (one process per issuer, as institutions would run them) write demo events to
their topics while one ingest worker consumes them into a fresh PostgreSQL schema. We
report sustained events/s, publish-to-durable-append latency (p50/p99, from each message's
Kafka timestamp to the commit of the transaction that stored it), and two references on
the same database: a raw binary COPY of the very rows the ledger stored, and the plain
eventsourcing pattern (load aggregate, add event, save) per event.

Three runs: while publishing (the publishers share this machine's two cores with the
worker, PostgreSQL and Kafka, which institutions' publishers would not), paced below
capacity (latency), and a full backlog, timed from the worker's first records to the
last commit (the worker's capacity: startup is reported apart). The target is judged on
the backlog run.

The paced run's publishers run at a lower CPU priority and its percentiles count from the
moment every publisher is sending (see :mod:`bench.publishers`); all its messages are in
``latency_ms_all``, printed beside.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from bench.copy_reference import indexed_copy, raw_copy
from bench.cpu import CpuSampler
from bench.databases import drop_schemas, postgres_base, settings_for
from bench.publishers import PUBLISHER_NICE, all_sending, latency, publish
from bench.reference import measure_reference
from bench.report import conclude, machine, table
from bench.seeding import demo_population, register_issuers
from bench.workers import drain_with_workers
from consumers.settings import KafkaSettings, WorkerConfig
from consumers.topics import delete_topics, ensure_topics, issuer_topic
from consumers.worker import IngestWorker
from demo import IssuerSpec
from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.dburl import DatabaseUrl, PostgresUrl
from ledger.records import LEDGER_SOURCE
from ledger.settings import Settings

TARGET = 60_000
# ... and at least this share of a raw binary COPY of the same rows in the same run.
TARGET_RATIO = 0.5
# Publish → durable append p99 while publishing at --paced-rate (ms).
PACED_P99_MS = 100
# Pause between runs (seconds).
SETTLE_S = 5


def _population(count: int) -> tuple[list[IssuerSpec], dict[str, list[bytes]]]:
    population, events = demo_population(
        count, seed=4242, learners=100, exclude_source=LEDGER_SOURCE
    )
    by_source: dict[str, list[bytes]] = {}
    for e in events[:count]:
        by_source.setdefault(e["source"], []).append(orjson.dumps(e))
    return population.issuers, by_source


def _trim(by_source: dict[str, list[bytes]], count: int) -> dict[str, list[bytes]]:
    """The first ``count`` events, spread over the issuers in proportion."""
    total = sum(len(v) for v in by_source.values())
    return {k: v[: max(1, len(v) * count // total)] for k, v in by_source.items()}


async def _ingest(
    settings: Settings,
    config: WorkerConfig,
    files: dict[str, Path],
    expected: int,
    *,
    drain: bool = False,
    rate: int | None = None,
) -> dict[str, Any]:
    """Run one worker in this process against publisher processes.

    ``drain=False``: publishers and the worker run together (sustained, end to end).
    ``drain=True``: everything is published first, then the worker empties the topics
    (the worker's own capacity; latency then includes the time spent waiting in Kafka).
    """
    # The messages of each append, and when it committed: expanded into each message's
    # latency once the run is over, not on the measured worker's loop.
    appended: list[tuple[list[Any], float]] = []
    cpu: dict[str, float] = {}
    with CpuSampler() as sampler, Ledger.open(settings) as ledger:
        tune_gc()  # as `ledger consume` does
        worker = IngestWorker(ledger, config)

        def observe(messages: list[Any], committed: float) -> None:
            appended.append((messages, committed))

        worker.on_commit = observe
        stop = asyncio.Event()
        publishers = []
        if drain:
            publishers = publish(files, config.bootstrap)
            for p in publishers:
                p.wait(timeout=600)
        task = asyncio.create_task(worker.run(stop))
        launched = time.time()
        if not drain:
            # The load starts once the worker holds its partitions.
            await asyncio.wait_for(worker.assigned.wait(), timeout=60)
            started = time.time()
            publishers = publish(files, config.bootstrap, rate, expected)
        first: dict[int, tuple[str, float]] | None = None
        while worker.stats.accepted + worker.stats.duplicates < expected:
            if task.done():
                task.result()
                raise RuntimeError("ingest worker stopped early")
            if drain and first is None and worker.first_records_at is not None:
                # The backlog only: paced and concurrent runs share the CPU with publishers.
                first = sampler.mark()
            await asyncio.sleep(0.05)
        finished = time.time()
        if first is not None:
            cpu = CpuSampler.spent(first, sampler.mark())
        if drain:
            # The backlog's clock starts with the first records: starting the worker
            # (its preparer process, joining the group) is reported on its own.
            assert worker.first_records_at is not None
            started = worker.first_records_at
        stop.set()
        await task
        for p in publishers:
            p.wait(timeout=60)
    counted = worker.stats.accepted
    # (topic, Kafka timestamp, latency) of each message stored.
    stored = [
        (m.topic, m.timestamp / 1000, committed - m.timestamp / 1000)
        for messages, committed in appended
        for m in messages
    ]
    # Paced: latency from the moment every publisher is sending (the first message of the
    # last publisher to start); the messages before, sent while the others still start
    # up on the same cores, count in latency_ms_all only.
    steady_from = all_sending(stored) if rate else 0.0
    return {
        "mode": "drain" if drain else ("paced" if rate else "concurrent"),
        "publish_rate": rate,
        "events": counted,
        "seconds": round(finished - started, 3),
        "events_per_second": round(counted / (finished - started)),
        "latency_ms": latency([lat for _, sent, lat in stored if sent >= steady_from]),
        "latency_ms_all": latency([lat for _, _, lat in stored]),
        # The backlog's CPU of each process kind from the first records to the last
        # commit, per event (None for the runs beside publishers).
        "cpu_us_per_event": {k: round(v / counted * 1e6, 1) for k, v in cpu.items()} or None,
        "batches": worker.stats.batches,
        # Where the worker prepared its batches: a child process or a thread.
        "preparing_in": worker.preparing_in,
        "rejected": worker.stats.rejected,
        "worker_startup_seconds": round((worker.first_records_at or finished) - launched, 3)
        if drain
        else None,
    }


def _run(
    base: str,
    bootstrap: str,
    specs: list[IssuerSpec],
    by_source: dict[str, list[bytes]],
    args: Any,
    *,
    drain: bool,
    rate: int | None = None,
    workers: int = 0,
    broker_clock: bool = False,
) -> tuple[dict[str, Any], str]:
    """One ingest run on fresh topics and a fresh schema; returns figures and the schema.
    With ``workers``, the backlog is drained by that many worker processes (bench.workers).
    With ``broker_clock``, the topics timestamp each message when the broker appends it
    (``LogAppendTime``): latency then counts from there, not from the hand-off to the
    publisher's producer."""
    suffix = uuid.uuid4().hex[:8]
    schema = f"bench_ingest_{suffix}"
    settings = settings_for(PostgresUrl.of(base).with_schema(schema).text)
    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-ingest-"))
    publishing = [s for s in specs if s.source in by_source]
    files: dict[str, Path] = {}
    try:
        with Ledger.open(settings) as ledger:
            register_issuers(ledger, publishing, suffix=f"-{suffix}")
        for s in publishing:
            path = folder / f"{s.id}-{suffix}.jsonl"
            path.write_bytes(b"\n".join(by_source[s.source]) + b"\n")
            files[f"{s.id}-{suffix}"] = path
        dlq = f"lll.deadletter.{suffix}"
        configs = {"message.timestamp.type": "LogAppendTime"} if broker_clock else None
        asyncio.run(
            ensure_topics(
                bootstrap, [issuer_topic(i) for i in files], dead_letter=dlq, configs=configs
            )
        )
        config = WorkerConfig(
            bootstrap=bootstrap, group=f"lll-bench-{suffix}", dead_letter_topic=dlq,
            topics=tuple(issuer_topic(i) for i in files), batch_size=args.batch_size,
        )  # fmt: skip
        expected = sum(len(v) for v in by_source.values())
        if workers:
            for p in publish(files, bootstrap):
                p.wait(timeout=600)
            return drain_with_workers(settings, config, expected, workers), schema
        return asyncio.run(
            _ingest(settings, config, files, expected, drain=drain, rate=rate)
        ), schema
    finally:
        for path in files.values():
            path.unlink(missing_ok=True)
        folder.rmdir()
        topics = [issuer_topic(i) for i in files] + [f"lll.deadletter.{suffix}"]
        asyncio.run(delete_topics(bootstrap, topics))


def backlog_round(
    drained: dict[str, Any], raw: dict[str, Any], indexed: dict[str, Any]
) -> dict[str, Any]:
    """One drain of the backlog with the two COPY references of the rows it stored, run
    right after it, and the targets judged against them."""
    rate = drained["events_per_second"]
    return {
        "backlog": drained,
        "raw_copy": raw,
        "indexed_copy": indexed,
        "ratio_to_raw_copy": round(rate / raw["events_per_second"], 3),
        "ratio_to_indexed_copy": round(rate / indexed["events_per_second"], 3),
        "target_met": rate >= TARGET and rate >= TARGET_RATIO * raw["events_per_second"],
    }


def rounds_note(rounds: list[dict[str, Any]]) -> list[str]:
    """Every round's rate and ratios, printed when there was more than one."""
    if len(rounds) < 2:
        return []
    each = "; ".join(
        f"{r['backlog']['events_per_second']:,}/s = {r['ratio_to_raw_copy']:.1%} of raw COPY,"
        f" {r['ratio_to_indexed_copy']:.1%} of the indexed one"
        for r in rounds
    )
    met = sum(r["target_met"] for r in rounds)
    return [
        f"backlog in {len(rounds)} rounds, each beside its own references: {each}; target met"
        f" in {met} of {len(rounds)}; the median round is the backlog above"
    ]


def run_ingest_bench(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    env = Settings.from_env()
    base = postgres_base(args.postgres_url) or env.database_url
    if not DatabaseUrl.parse(base).is_postgres:
        raise SystemExit(
            "ledger bench ingest needs PostgreSQL: --postgres-url or LEDGER_BENCH_POSTGRES_URL"
        )
    bootstrap = args.bootstrap or KafkaSettings.from_env().bootstrap
    console.print(f"generating {args.events} events")
    specs, by_source = _population(args.events)
    schemas: list[str] = []
    try:
        # Latency first, on a quiet machine; each run then gets a few seconds for the
        # previous one's background work (autovacuum, Kafka log flushes) to settle.
        paced_events = min(args.events, args.paced_rate * 8)
        paced_source = _trim(by_source, paced_events)
        console.print(f"ingest while publishing at {args.paced_rate}/s (latency below capacity)")
        paced, schema = _run(
            base, bootstrap, specs, paced_source, args, drain=False, rate=args.paced_rate
        )
        schemas.append(schema)
        time.sleep(SETTLE_S)
        console.print("the same, timed from the broker's append (the ledger's part)")
        from_broker, schema = _run(
            base, bootstrap, specs, paced_source, args, drain=False, rate=args.paced_rate,
            broker_clock=True,
        )  # fmt: skip
        schemas.append(schema)
        time.sleep(SETTLE_S)
        console.print(f"ingest while publishing (batch {args.batch_size})")
        concurrent, schema = _run(base, bootstrap, specs, by_source, args, drain=False)
        schemas.append(schema)
        time.sleep(SETTLE_S)
        rounds: list[dict[str, Any]] = []
        for n in range(1, args.rounds + 1):
            if n > 1:
                time.sleep(SETTLE_S)
            of = f", round {n} of {args.rounds}" if args.rounds > 1 else ""
            console.print(f"ingest of a full backlog (published first){of}")
            drained, schema = _run(base, bootstrap, specs, by_source, args, drain=True)
            schemas.append(schema)
            console.print("reference: raw COPY of the same rows")
            raw = raw_copy(base, schema)
            console.print("reference: COPY of the same rows, indexed as the ledger's, per batch")
            indexed = indexed_copy(base, schema, args.batch_size)
            rounds.append(backlog_round(drained, raw, indexed))
        # The median round stands for the backlog: its references ran right after it.
        median = sorted(rounds, key=lambda r: r["backlog"]["events_per_second"])[len(rounds) // 2]
        drained, raw, indexed = median["backlog"], median["raw_copy"], median["indexed_copy"]
        console.print(f"reference: eventsourcing aggregate per event × {args.reference_events}")
        lines = [line for lines in by_source.values() for line in lines][: args.reference_events]
        schemas.append(f"{schema}_ref")
        reference = measure_reference(
            PostgresUrl.of(base).with_schema(f"{schema}_ref").text, "postgresql", lines
        )
        scale_out = []
        for workers in (1, 2) if args.workers else ():
            time.sleep(SETTLE_S)
            console.print(f"scale-out: the backlog drained by {workers} worker process(es)")
            run, schema = _run(base, bootstrap, specs, by_source, args, drain=True, workers=workers)
            schemas.append(schema)
            scale_out.append(run)
    finally:
        drop_schemas(base, schemas)
    report = {
        "benchmark": "ingest",
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "postgresql": DatabaseUrl.parse(base).redacted,
        "kafka": bootstrap,
        "ledger_via_kafka_while_publishing": concurrent,
        "ledger_via_kafka_backlog": drained,
        "ledger_via_kafka_paced": paced,
        "ledger_via_kafka_paced_from_broker": from_broker,
        "reference_raw_copy": raw,
        "reference_indexed_copy": indexed,
        "ratio_backlog_to_indexed_copy": median["ratio_to_indexed_copy"],
        "reference_eventsourcing_aggregate_per_event": {
            "events": reference.events, "events_per_second": round(reference.rate),
        },
        "ratio_backlog_to_raw_copy": median["ratio_to_raw_copy"],
        "ratio_backlog_to_eventsourcing_reference": round(drained["events_per_second"] / reference.rate, 1),
        "target_events_per_second": TARGET,
        "target_ratio_to_raw_copy": TARGET_RATIO,
        "target_met": median["target_met"],
        "backlog_rounds": rounds,
        "target_met_in_rounds": sum(r["target_met"] for r in rounds),
        "paced_p99_target_ms": PACED_P99_MS,
        "paced_p99_target_met": paced["latency_ms"]["p99"] < PACED_P99_MS,
        "paced_publishers_nice": PUBLISHER_NICE,
        "scale_out": scale_out,
    }  # fmt: skip
    shown = table(
        "Kafka → PostgreSQL ingest (events/s; latency publish → durable append)",
        ("path", "events", "events/s", "p50 ms", "p99 ms", "× eventsourcing ref"),
        [
            *(
                (label, str(run["events"]), f"{run['events_per_second']:,}",
                 str(run["latency_ms"]["p50"]), str(run["latency_ms"]["p99"]),
                 f"{run['events_per_second'] / reference.rate:.1f}")
                for label, run in (
                    ("ledger, while publishing", concurrent),
                    (f"ledger, publishing at {args.paced_rate}/s", paced),
                    ("  the same, from the broker's append", from_broker),
                    ("ledger, backlog", drained),
                )
            ),
            ("raw COPY of the same rows", str(raw["events"]), f"{raw['events_per_second']:,}",
             "", "", f"{raw['events_per_second'] / reference.rate:.1f}"),
            ("COPY, indexed, per batch", str(indexed["events"]),
             f"{indexed['events_per_second']:,}", "", "",
             f"{indexed['events_per_second'] / reference.rate:.1f}"),
            ("eventsourcing aggregate/event", str(reference.events), f"{reference.rate:,.0f}",
             "", "", "1.0"),
        ],
    )  # fmt: skip
    backlog = (
        f"backlog: worker started in {drained['worker_startup_seconds']} s, then "
        f"{drained['events_per_second']:,}/s = {report['ratio_backlog_to_raw_copy']:.1%} of raw "
        f"COPY speed; target ≥ {TARGET:,}/s and ≥ {TARGET_RATIO:.0%} — {report['target_met']}"
    )
    cpu = ", ".join(f"{k} {v}" for k, v in drained["cpu_us_per_event"].items())
    notes = [
        backlog,
        *rounds_note(rounds),
        f"backlog = {report['ratio_backlog_to_indexed_copy']:.1%} of a COPY of the same rows into"
        f" a table indexed as the events table, in transactions of {args.batch_size}",
        f"backlog CPU µs per event: {cpu}",
        f"paced at {args.paced_rate}/s: p99 {paced['latency_ms']['p99']} ms, target < "
        f"{PACED_P99_MS} ms — {report['paced_p99_target_met']} (from the moment every publisher"
        f" sends; from the first message: p99 {paced['latency_ms_all']['p99']} ms; publishers"
        f" at nice {PUBLISHER_NICE}); timed from the broker's append instead (the ledger's part,"
        f" the publishers' own delays left out): p50 {from_broker['latency_ms']['p50']} ms,"
        f" p99 {from_broker['latency_ms']['p99']} ms",
        *(
            f"{r['workers']} worker(s): {r['events_per_second']:,}/s; write lock held "
            f"{r['lock_occupancy']:.0%} of the run, {r['lock_held_ms_per_append']} ms per append, "
            f"waited {r['lock_wait_ms_per_append']} ms per append"
            for r in scale_out
        ),
    ]
    conclude(report, args.out, shown, notes, width=130)
    return 0
