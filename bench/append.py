"""`ledger bench append`: append throughput on SQLite and PostgreSQL against a reference.

The measured path is the whole ingest pipeline on realistic demo events — parse,
validate, authorise, dedupe, encrypt personal data, hash-link, insert — at several batch
sizes. The reference, measured in the same run on the same database, is the plain
``eventsourcing`` pattern: load the learner's aggregate, add one event, save it.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from demo import generate_at_least
from ledger.application import Ledger
from ledger.crypto import generate_key
from ledger.outcomes import Accepted, Channel
from ledger.parallel import ingest_in_parallel
from ledger.pgurl import connection_params, redact, schema_of
from ledger.settings import Settings

TARGET_PG_EVENTS_PER_S = 30_000


class LearnerRecord(Aggregate):
    """The reference's aggregate: one per learner, one event per ingested item."""

    @event("Opened")
    def __init__(self, learner_id: str) -> None:
        self.learner_id = learner_id
        self.items = 0

    @event("ItemRecorded")
    def record(self, payload: dict[str, Any]) -> None:
        self.items += 1


class ReferenceApp(Application[uuid.UUID]):
    """Plain eventsourcing application used only as the benchmark's reference."""

    name = "BenchReference"


@dataclass
class Measurement:
    backend: str
    mode: str
    batch_size: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _events(count: int) -> tuple[list[dict[str, Any]], list[bytes]]:
    population, events = generate_at_least(count, seed=2024, learners=max(50, count // 15))
    return [i.as_dict() for i in population.issuers], [orjson.dumps(e) for e in events]


def _with_fresh_ids(lines: Sequence[bytes], tag: str) -> list[bytes]:
    """The same events under new ids, so each measurement appends, not deduplicates."""
    out = []
    for line in lines:
        ev = orjson.loads(line)
        ev["id"] = f"{tag}-{ev['id']}"
        out.append(orjson.dumps(ev))
    return out


@contextmanager
def temporary_sqlite_url() -> Iterator[str]:
    """A SQLite URL in a fresh folder, removed afterwards."""
    folder = tempfile.mkdtemp(prefix="ledger-bench-")
    try:
        yield f"sqlite:///{folder}/bench.db"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def temporary_postgres_url(base: str) -> Iterator[str]:
    """``base`` with a fresh schema, dropped afterwards."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{base}?schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _measure_ledger(
    url: str,
    backend: str,
    batch: int,
    issuers: list[dict[str, Any]],
    lines: list[bytes],
    *,
    prepare_process: bool = False,
) -> Measurement:
    settings = Settings.from_env({}, database_url=url, _master_key=generate_key())
    with Ledger.open(settings) as ledger:
        for i in issuers:
            ledger.registry.register(
                i["id"], name=i["name"], source=i["source"], kind=i["kind"], types=i["types"]
            )
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


def _reference_env(url: str) -> dict[str, str]:
    if url.startswith("sqlite:///"):
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": url[10:]}
    p = connection_params(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": p.dbname,
        "POSTGRES_HOST": p.host,
        "POSTGRES_PORT": str(p.port),
        "POSTGRES_USER": p.user,
        "POSTGRES_PASSWORD": p.password,
        "POSTGRES_SCHEMA": p.schema,
        "CREATE_TABLE": "y",
    }


def measure_reference(url: str, backend: str, lines: list[bytes]) -> Measurement:
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_of(url)}"')
    app = ReferenceApp(env=_reference_env(url))
    ids: dict[str, uuid.UUID] = {}
    events = [orjson.loads(line) for line in lines]
    started = time.perf_counter()
    for ev in events:
        learner = ev.get("subject") or ev["source"]
        if learner not in ids:
            agg = LearnerRecord(learner)
            ids[learner] = agg.id
        else:
            agg = app.repository.get(ids[learner])
        agg.record(ev)
        app.save(agg)
    seconds = time.perf_counter() - started
    app.close()
    return Measurement(backend, "reference", 1, len(events), seconds)


def run_append_bench(args: argparse.Namespace) -> int:
    """Measure, print a table, save JSON; exit 0 (figures are reported, not asserted)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    issuers, lines = _events(args.events)
    lines = lines[: args.events]
    ref_lines = lines[: args.reference_events]
    pg_base = args.postgres_url or os.environ.get("LEDGER_BENCH_POSTGRES_URL", "")
    if not pg_base and os.environ.get("LEDGER_DATABASE_URL", "").startswith("postgres"):
        pg_base = os.environ["LEDGER_DATABASE_URL"]
    backends: list[tuple[str, Any]] = [("sqlite", temporary_sqlite_url)]
    if pg_base:
        backends.append(("postgresql", lambda: temporary_postgres_url(pg_base)))
    else:
        console.print(
            "[yellow]no PostgreSQL URL (--postgres-url / LEDGER_BENCH_POSTGRES_URL): SQLite only"
        )
    results: list[Measurement] = []
    for backend, fresh in backends:
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
    table = Table(
        title="append throughput (full pipeline: validate, authorise, dedupe, encrypt, hash-link, insert)"
    )
    for col in ("backend", "mode", "batch", "events", "seconds", "events/s", "× reference"):
        table.add_column(col, justify="right")
    for row in report["results"]:
        table.add_row(
            row["backend"],
            row["mode"],
            str(row["batch_size"]),
            str(row["events"]),
            f"{row['seconds']:.2f}",
            f"{row['events_per_second']:,.0f}",
            f"{row['ratio_to_reference']:.1f}",
        )
    Console(width=130).print(table)
    out = save_report("append", report, args.out)
    Console(width=130).print(
        f"target: ≥ {TARGET_PG_EVENTS_PER_S:,} events/s into PostgreSQL at batch ≥ 500 — "
        f"{report['target_met']}"
    )
    Console(width=130).print(f"saved {out}")
    if args.json:
        print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    return 0


def save_report(kind: str, report: dict[str, Any], out: str | None) -> Path:
    """Write a benchmark's figures as JSON (default ``bench-results/<kind>-<time>.json``)."""
    path = (
        Path(out)
        if out
        else Path("bench-results") / f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return path


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
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "postgresql": redact(pg_base) if pg_base else None,
        "results": rows,
        "target_events_per_second_postgresql_batch_500": TARGET_PG_EVENTS_PER_S,
        "target_met": met,
    }
