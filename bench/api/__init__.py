"""`ledger bench api`: the HTTP API under concurrent load from another process, over loopback.

For SQLite (a fresh temporary ledger) and, given ``--postgres-url`` (default
``LEDGER_BENCH_POSTGRES_URL``), a fresh PostgreSQL schema, the bench:

1. seeds a demo population of at least ``--events`` events: issuers registered, events
   ingested, the learner record and pathway read models projected;
2. starts ``ledger serve`` (uvicorn) on a free 127.0.0.1 port in a child process, with
   token keys made for the run — the public JWKS in a temporary file named by
   ``LEDGER_API_TOKEN_KEYS_FILE``; the private key and every token stay in this process's
   memory and are never printed — and drives it from this process (never the server's)
   with ``--concurrency`` keep-alive clients (``bench.api.load``), each sending its next request
   as soon as its last one is answered:

   - ``healthz``: ``GET /healthz``, the reference for the HTTP stack (no token, no store);
   - ``record-read``: ``GET /v1/learners/{id}/record``, a random learner with their token;
   - ``ingest-single``: ``POST /v1/events`` with one event and its issuer's token;
   - ``ingest-batch``: ``POST /v1/events`` with ``{"events": [...]}`` of ``--batch`` events;

3. stops the server and measures the in-process reference for ingest in the same ledger:
   the pipeline call the HTTP route makes (``Ledger.ingest`` on the issuer's HTTP
   channel), one event per call (``pipeline-single``) and ``--batch`` per call
   (``pipeline-batch``).

The server runs as deployed: its access log (one line per request, route templates only)
stays on, written to a temporary file; the only ``LEDGER_`` settings it gets are the
run's database and keys (no broker: its readiness checks the store alone).

Ingested events are the population's own under fresh ids, so every one is accepted, never
a duplicate. Each scenario runs ``--warmup`` seconds unmeasured, then ``--duration``
measured seconds (or until ``--requests`` measured requests).

Reported per scenario: requests/s, events/s (ingest), latency p50/p99/max, errors, ratios
to the references of the same run (requests/s to ``healthz``; events/s to the in-process
pipeline at the same events per call), and the CPU used by the server and by the load
generator as a share of one core (for the in-process references, this process's CPU
under "server"). A server near 100% is bound by its interpreter, not by waiting; a load
generator near 100% means the figure is the client's limit, not the server's. On a small
machine the server, the load generator and the database share the cores: read figures
as ratios to the references more than as absolutes.

Any failure — a transport error, a status other than 2xx, an event not accepted — fails
the run: it stops after that scenario, prints and saves what it measured, and exits 1
naming what went wrong. Figures go to a table and to ``bench-results/api-<time>.json``
(``--out``)::

    ledger bench api                           # SQLite, 16 clients, 10 s per scenario
    ledger bench api --concurrency 4 --duration 5 --postgres-url postgresql://…
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.settings import ApiSettings
from bench.api.backend import BackendRun
from bench.api.workload import SEED, Workload
from bench.databases import backends, postgres_base
from bench.report import conclude, machine, table
from bench.seeding import demo_population
from ledger.dburl import DatabaseUrl
from ledger.errors import LedgerError

SCENARIOS = (
    "healthz",
    "record-read",
    "ingest-single",
    "ingest-batch",
    "pipeline-single",
    "pipeline-batch",
)
PIPELINE_OF = {"ingest-single": "pipeline-single", "ingest-batch": "pipeline-batch"}


def run_api_bench(args: argparse.Namespace) -> int:
    """Seed, measure the references, load the API; print a table and save JSON.

    Returns:
        0 when every request succeeded.

    Raises:
        LedgerError: a setting is out of range, the server did not start, or requests
            failed (the message names the scenarios and what went wrong; the figures
            are saved first).
    """
    _check_args(args)
    console = Console(stderr=True)
    pg = postgres_base(args.postgres_url)
    databases = backends(pg, console)
    population, _ = demo_population(args.events, seed=SEED)
    token_key = Ed25519PrivateKey.generate()
    per_backend = len(SCENARIOS) * (args.warmup + args.duration + 30)
    workload = Workload(
        population, token_key, batch=args.batch, ttl_s=int(3600 + len(databases) * per_backend)
    )
    # The population lives for the whole run: frozen, the collector's passes skip it.
    gc.collect()
    gc.freeze()
    runs: list[BackendRun] = []
    seeded: list[dict[str, Any]] = []
    columns = (TextColumn("{task.description:<24}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, TextColumn("{task.fields[status]}"), console=console) as progress:
        for backend, fresh in databases:
            with fresh() as url, tempfile.TemporaryDirectory(prefix="ledger-bench-api-") as tmp:
                run = BackendRun(backend, url, args, progress)
                runs.append(run)
                seeded.append(run.seed(population))
                run.serve_and_load(workload, Path(tmp), token_key)
                if not run.failed():
                    run.references(workload)
            if run.failed():
                break
    rows = [
        row
        for run in runs
        for row in sorted(_with_ratios(run.rows), key=lambda r: SCENARIOS.index(r["scenario"]))
    ]
    report = {
        "benchmark": "api",
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "postgresql": DatabaseUrl.parse(pg).redacted if pg else None,
        "settings": {
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "max_requests": args.requests,
            "batch": args.batch,
            "learners": len(population.learners),
        },
        "backends": seeded,
        "results": rows,
        "errors": sum(row["errors"] for row in rows),
    }
    report["ok"] = report["errors"] == 0
    conclude(report, args.out, _table(rows), width=160)
    if not report["ok"]:
        failures = "; ".join(
            f"{row['backend']} {row['scenario']}: "
            + ", ".join(f"{n} × {kind}" for kind, n in row["error_kinds"].items())
            for row in rows
            if row["errors"]
        )
        raise LedgerError(f"bench api: requests failed, the run stopped — {failures}")
    return 0


def _check_args(args: argparse.Namespace) -> None:
    limit = ApiSettings().max_batch
    if not 1 <= args.batch <= limit:
        raise LedgerError(f"--batch: from 1 to {limit} events (the API's default batch limit)")
    if args.duration <= 0:
        raise LedgerError("--duration: must be more than 0 seconds")
    if args.warmup < 0:
        raise LedgerError("--warmup: must be 0 seconds or more")
    if args.concurrency < 1:
        raise LedgerError("--concurrency: at least 1 client")
    if args.events < 1:
        raise LedgerError("--events: at least 1 event to seed")


def _with_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each HTTP row with its ratios to the same backend's references."""
    by_name = {row["scenario"]: row for row in rows}
    healthz = by_name.get("healthz", {}).get("requests_per_second")
    for row in rows:
        row["ratio_to_healthz"] = (
            round(row["requests_per_second"] / healthz, 3)
            if healthz and row["scenario"] in ("record-read", "ingest-single", "ingest-batch")
            else None
        )
        pipeline = by_name.get(PIPELINE_OF.get(row["scenario"], ""), {}).get("events_per_second")
        row["ratio_to_in_process"] = (
            round(row["events_per_second"] / pipeline, 3) if pipeline else None
        )
    return rows


def _table(rows: list[dict[str, Any]]) -> Table:
    def cell(value: float | None, form: str) -> str:
        """``value`` formatted, a trailing % kept as a unit (the figures are percents)."""
        if value is None:
            return ""
        return format(value, form.rstrip("%")) + ("%" if form.endswith("%") else "")

    return table(
        "HTTP API under load (closed loop over loopback, from another process)",
        (
            "backend",
            "scenario",
            "clients",
            "requests",
            "req/s",
            "events/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
            "× healthz",
            "× in-process",
            "server CPU",
            "client CPU",
        ),
        (
            (
                r["backend"],
                r["scenario"] + (" *" if r["reference"] else ""),
                str(r["clients"]),
                f"{r['requests']:,}",
                f"{r['requests_per_second']:,.0f}",
                f"{r['events_per_second']:,.0f}" if r["events"] else "",
                f"{r['latency_ms']['p50']:.1f}",
                f"{r['latency_ms']['p99']:.1f}",
                f"{r['latency_ms']['max']:.1f}",
                str(r["errors"]),
                cell(r["ratio_to_healthz"], ".2f"),
                cell(r["ratio_to_in_process"], ".2f"),
                cell(r["server_cpu_percent"], ".0f%"),
                cell(r["client_cpu_percent"], ".0f%"),
            )
            for r in rows
        ),
        caption="* reference: healthz for the HTTP stack, pipeline-* for ingest in process",
        left=("backend", "scenario"),
    )
