"""`ledger bench append`: append throughput on SQLite and PostgreSQL against a reference.

The measured path is the whole ingest pipeline on realistic demo events — parse,
validate, authorise, dedupe, encrypt personal data, hash-link, insert — at several batch
sizes. The reference, measured in the same run on the same database, is the plain
``eventsourcing`` pattern: load the learner's aggregate, add one event, save it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.console import Console

from bench.databases import backends, postgres_base, settings_for
from bench.reference import Measurement, measure_reference
from bench.report import conclude, machine, table
from bench.seeding import demo_population, register_issuers
from demo import IssuerSpec
from ledger.application import Ledger
from ledger.dburl import DatabaseUrl
from ledger.outcomes import Accepted, Channel
from ledger.parallel import ingest_in_parallel
from ledger.settings import Settings

TARGET_PG_EVENTS_PER_S = 30_000


def _events(count: int) -> tuple[list[IssuerSpec], list[bytes]]:
    population, events = demo_population(count, seed=2024, events_per_learner=15)
    return population.issuers, [orjson.dumps(e) for e in events]


def _with_fresh_ids(lines: Sequence[bytes], tag: str) -> list[bytes]:
    """The same events under new ids, so each measurement appends, not deduplicates."""
    out = []
    for line in lines:
        ev = orjson.loads(line)
        ev["id"] = f"{tag}-{ev['id']}"
        out.append(orjson.dumps(ev))
    return out


def _measure_ledger(
    url: str,
    backend: str,
    batch: int,
    issuers: list[IssuerSpec],
    lines: list[bytes],
    *,
    prepare_process: bool = False,
) -> Measurement:
    with Ledger.open(settings_for(url)) as ledger:
        register_issuers(ledger, issuers)
        # Warm up caches and prepared statements outside the timed part.
        ledger.ingest(_with_fresh_ids(lines[:batch], "warm"), Channel("bench"))
        started = time.perf_counter()
        accepted = 0
        batches = (
            (lines[start : start + batch], Channel("bench"))
            for start in range(0, len(lines), batch)
        )
        if prepare_process:
            stream = ingest_in_parallel(ledger, batches)
            # Starting the worker is a one-off: time from its first batch on.
            first = next(stream)
            accepted += sum(isinstance(r, Accepted) for r in first)
            started = time.perf_counter()
            measured = len(lines) - len(first)
        else:
            stream = ledger.ingest_stream(batches)
            measured = len(lines)
        counted = 0
        for results in stream:
            counted += sum(isinstance(r, Accepted) for r in results)
        accepted += counted
        seconds = time.perf_counter() - started
    if accepted != len(lines):
        raise RuntimeError(f"benchmark expected {len(lines)} accepted events, got {accepted}")
    mode = "ledger+worker" if prepare_process else "ledger"
    return Measurement(backend, mode, batch, measured, seconds)


def run_append_bench(args: argparse.Namespace) -> int:
    """Measure, print a table, save JSON; exit 0 (figures are reported, not asserted)."""
    console = Console(stderr=True)
    issuers, lines = _events(args.events)
    lines = lines[: args.events]
    ref_lines = lines[: args.reference_events]
    pg_base = postgres_base(args.postgres_url)
    if not pg_base and (configured := Settings.from_env().database).is_postgres:
        pg_base = configured.text
    results: list[Measurement] = []
    for backend, fresh in backends(pg_base, console):
        with fresh() as url:
            console.print(
                f"{backend}: reference (load aggregate, add event, save) × {len(ref_lines)}"
            )
            results.append(measure_reference(url, backend, ref_lines))
        for batch in args.batch_sizes:
            n = min(len(lines), max(batch * 3, 2000)) if batch < 50 else len(lines)
            with fresh() as url:
                console.print(f"{backend}: ledger pipeline, batch {batch} × {n} events")
                results.append(_measure_ledger(url, backend, batch, issuers, lines[:n]))
            if batch >= 500:
                with fresh() as url:
                    console.print(
                        f"{backend}: ledger pipeline, prepare in a worker process, batch {batch}"
                    )
                    results.append(
                        _measure_ledger(url, backend, batch, issuers, lines, prepare_process=True)
                    )
    report = _report(results, pg_base)
    shown = table(
        "append throughput (full pipeline: validate, authorise, dedupe, encrypt, hash-link, insert)",
        ("backend", "mode", "batch", "events", "seconds", "events/s", "× reference"),
        (
            (
                row["backend"],
                row["mode"],
                str(row["batch_size"]),
                str(row["events"]),
                f"{row['seconds']:.2f}",
                f"{row['events_per_second']:,.0f}",
                f"{row['ratio_to_reference']:.1f}",
            )
            for row in report["results"]
        ),
    )
    target = (
        f"target: ≥ {TARGET_PG_EVENTS_PER_S:,} events/s into PostgreSQL at batch ≥ 500 — "
        f"{report['target_met']}"
    )
    conclude(report, args.out, shown, [target], width=130)
    if args.json:
        print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    return 0


def _report(results: list[Measurement], pg_base: str) -> dict[str, Any]:
    refs = {m.backend: m.rate for m in results if m.mode == "reference"}
    rows: list[dict[str, Any]] = [
        {
            "backend": m.backend,
            "mode": m.mode,
            "batch_size": m.batch_size,
            "events": m.events,
            "seconds": round(m.seconds, 4),
            "events_per_second": round(m.rate, 1),
            "ratio_to_reference": round(m.rate / refs[m.backend], 2)
            if refs.get(m.backend)
            else None,
        }
        for m in results
    ]
    pg_big = [
        r
        for r in rows
        if r["backend"] == "postgresql" and r["mode"] != "reference" and r["batch_size"] >= 500
    ]
    met: bool | None = (
        max(r["events_per_second"] for r in pg_big) >= TARGET_PG_EVENTS_PER_S if pg_big else None
    )
    return {
        "benchmark": "append",
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "postgresql": DatabaseUrl.parse(pg_base).redacted if pg_base else None,
        "results": rows,
        "target_events_per_second_postgresql_batch_500": TARGET_PG_EVENTS_PER_S,
        "target_met": met,
    }
