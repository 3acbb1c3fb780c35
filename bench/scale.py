"""`ledger bench scale`: ingest into PostgreSQL until tens of millions of events are stored.

Does ingest stay flat as the log grows? A demo population is ingested again and again
(each round under new event ids and new learners, so every event is new and every round
brings new learners and their keys) into a fresh schema, through the pipeline as file
ingest runs it with preparation in a worker process, until ``--events`` are stored. The
rate of each million is printed as it completes. Then, at that size: the learner record's
rebuild (as ``ledger projections rebuild`` runs it) and a learner-record read's p50/p99
(``services.records.learner_record``, as the API serves it, the read model caught up).

Kafka is left out on purpose: the question is the database's, as its tables and indexes
grow; ``ledger bench ingest`` measures the broker's path.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from bench.databases import drop_schemas, postgres_base, settings_for
from bench.report import conclude, machine, percentile, table
from bench.seeding import demo_population, register_issuers
from cli.output import progress_bar
from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.dburl import DatabaseUrl, PostgresUrl
from ledger.outcomes import Accepted, Channel, Rejected
from ledger.parallel import ingest_in_parallel
from ledger.records import LEDGER_SOURCE
from projections.learner_record import LearnerRecordProjection
from projections.reading import LedgerRecords
from projections.runner import Projector
from projections.store import open_projection_store
from services.records import learner_record

MILLION = 1_000_000
# The rate at the end must be within this of the rate at the first million.
FLAT = 0.10
BASE_EVENTS = 100_000
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _learner(base: str, round_no: int) -> str:
    """``base`` (``lrn_`` and 26 characters) made another learner for round ``round_no``:
    its last three characters carry the round, so every round has learners of its own."""
    if round_no == 0:
        return base
    tail = "".join(CROCKFORD[(round_no >> (5 * k)) & 31] for k in (2, 1, 0))
    return base[:-3] + tail


def _round(events: list[dict[str, Any]], round_no: int) -> Iterator[bytes]:
    """The base events under new ids (and, for corrections, targets) and new learners."""
    suffix = f".r{round_no}"
    learners: dict[str, str] = {}
    for event in events:
        e = dict(event)
        e["id"] = event["id"] + suffix
        if "subject" in e:
            s = e["subject"]
            e["subject"] = learners.get(s) or learners.setdefault(s, _learner(s, round_no))
        target = (
            event["data"].get("target") if event["type"].startswith("org.lll.corrections") else None
        )
        if isinstance(target, dict):
            e["data"] = {**event["data"], "target": {**target, "id": target["id"] + suffix}}
        yield orjson.dumps(e)


def _batches(
    events: list[dict[str, Any]], total: int, batch: int
) -> Iterator[tuple[list[bytes], Channel]]:
    sent, round_no = 0, 0
    while sent < total:
        raws: list[bytes] = []
        for raw in _round(events, round_no):
            raws.append(raw)
            if len(raws) == batch or sent + len(raws) == total:
                sent += len(raws)
                yield raws, Channel("file")
                raws = []
                if sent == total:
                    return
        if raws:
            sent += len(raws)
            yield raws, Channel("file")
        round_no += 1


def _ingest(
    ledger: Ledger, events: list[dict[str, Any]], args: Any, console: Console
) -> dict[str, Any]:
    millions: list[dict[str, Any]] = []
    stored = rejected = 0
    since: int | None = None
    started = mark = time.perf_counter()
    with Progress(
        TextColumn("ingest"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(), console=console,
    ) as bar:  # fmt: skip
        task = bar.add_task("ingest", total=args.events)
        for results in ingest_in_parallel(ledger, _batches(events, args.events, args.batch)):
            accepted = sum(isinstance(r, Accepted) for r in results)
            rejected += sum(isinstance(r, Rejected) for r in results)
            before, stored = stored, stored + accepted
            bar.update(task, completed=stored + rejected)
            if since is None:
                # The clock starts with the first batch stored: the preparer process's
                # start-up (about a second) is not the database's.
                mark, since = time.perf_counter(), stored
            elif stored // args.chunk > before // args.chunk:
                now = time.perf_counter()
                millions.append({
                    "stored": stored, "seconds": round(now - mark, 3),
                    "events_per_second": round((stored - since) / (now - mark)),
                })  # fmt: skip
                mark, since = now, stored
                console.print(f"{stored:,} stored: {millions[-1]['events_per_second']:,} events/s")
    seconds = time.perf_counter() - started
    return {
        "stored": stored,
        "rejected": rejected,
        "seconds": round(seconds, 1),
        "chunks": millions,
    }


def _stored_learners(events: list[dict[str, Any]], total: int, count: int) -> list[str]:
    """``count`` learners picked at random among those the ingest of ``total`` events stored
    (from the rounds it completed, or the part of the first it sent)."""
    rounds = total // len(events)
    sent = events if rounds else events[:total]
    base = sorted({e["subject"] for e in sent if "subject" in e})
    rng = random.Random(5)
    return [_learner(rng.choice(base), rng.randrange(max(rounds, 1))) for _ in range(count)]


def _reads(ledger: Ledger, store: Any, learners: list[str]) -> dict[str, Any]:
    records = LedgerRecords(ledger, store)
    learner_record(records, learners[0], today=date.today())  # catch up once
    times: list[float] = []
    for learner in learners:
        began = time.perf_counter()
        learner_record(records, learner, today=date.today())
        times.append(time.perf_counter() - began)
    return {
        "reads": len(learners),
        "p50_ms": round(percentile(times, 0.5) * 1000, 2),
        "p99_ms": round(percentile(times, 0.99) * 1000, 2),
    }


def run_scale_bench(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    base = postgres_base(args.postgres_url)
    if not base or not DatabaseUrl.parse(base).is_postgres:
        raise SystemExit(
            "ledger bench scale needs PostgreSQL: --postgres-url or LEDGER_BENCH_POSTGRES_URL"
        )
    schema = f"bench_scale_{int(time.time())}"
    settings = settings_for(PostgresUrl.of(base).with_schema(schema).text)
    population, events = demo_population(BASE_EVENTS, seed=2718, exclude_source=LEDGER_SOURCE)
    events = events[:BASE_EVENTS]
    try:
        with Ledger.open(settings) as ledger:
            tune_gc()
            register_issuers(ledger, population.issuers)
            ingest = _ingest(ledger, events, args, console)
        store = open_projection_store(settings)
        try:
            with Ledger.open(settings) as ledger:
                runner = Projector(ledger, store, LearnerRecordProjection())
                head = ledger.recorder.max_position()
                with progress_bar("rebuild the learner record", head) as advance:
                    began = time.perf_counter()
                    covered = runner.rebuild(advance)
                    rebuild_s = time.perf_counter() - began
                reads = _reads(ledger, store, _stored_learners(events, args.events, args.reads))
        finally:
            store.close()
    finally:
        if not args.keep:
            drop_schemas(base, [schema])
    chunks = ingest["chunks"]
    first, last = chunks[0]["events_per_second"], chunks[-1]["events_per_second"]
    report = {
        "benchmark": "scale",
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "postgresql": DatabaseUrl.parse(base).redacted,
        "batch": args.batch,
        "ingest": ingest,
        "first_chunk_events_per_second": first,
        "last_chunk_events_per_second": last,
        "end_to_start": round(last / first, 3),
        "target_flat_within": FLAT,
        "target_met": last >= first * (1 - FLAT) and ingest["stored"] >= args.events,
        "rebuild": {"events": covered, "seconds": round(rebuild_s, 1), "events_per_second": round(covered / rebuild_s)},
        "learner_record_read": reads,
    }  # fmt: skip
    shown = table(
        f"PostgreSQL ingest as the log grows (events/s per {args.chunk:,})",
        ("stored", "seconds", "events/s", "× first"),
        [(f"{c['stored']:,}", str(c["seconds"]), f"{c['events_per_second']:,}",
          f"{c['events_per_second'] / first:.2f}") for c in chunks],
    )  # fmt: skip
    lines = [
        f"end/start {report['end_to_start']:.2f} (flat within {FLAT:.0%}: {report['target_met']})",
        f"rebuild of the learner record at {covered:,} events: {rebuild_s:.0f} s "
        f"= {report['rebuild']['events_per_second']:,} events/s",
        f"learner-record read: p50 {reads['p50_ms']} ms, p99 {reads['p99_ms']} ms",
    ]
    conclude(report, args.out, shown, lines, width=100)
    return 0
