"""The arguments the `ledger` command's parser shares, and the benchmark commands' own."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from consumers.settings import KafkaSettings


def at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value}")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected seconds, 0 or more, got {text}")
    return value


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON report instead of text")


def add_bench_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    handler: Callable[[argparse.Namespace], int],
) -> None:
    """`ledger bench ACTION`: the benchmarks (installed apart, bench/) and their options."""
    p = sub.add_parser(
        "bench", help="benchmarks that print and save figures (installed apart: bench/)"
    )
    s = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ap = s.add_parser("append", help="append throughput: SQLite and PostgreSQL, batch sizes")
    ap.add_argument("--events", type=int, default=20_000, help="events per measurement")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 100, 500, 2000])
    ap.add_argument("--reference-events", type=int, default=2_000)
    ap.add_argument(
        "--postgres-url", help="PostgreSQL to measure (default LEDGER_BENCH_POSTGRES_URL)"
    )
    ap.add_argument("--out", help="JSON results file (default bench-results/append-<time>.json)")
    add_json(ap)
    ing = s.add_parser("ingest", help="Kafka → PostgreSQL end to end, latency, references")
    ing.add_argument("--events", type=int, default=100_000)
    ing.add_argument("--batch-size", type=int, default=KafkaSettings.batch_size)
    ing.add_argument(
        "--paced-rate", type=int, default=5000, help="events/s of the latency run below capacity"
    )
    ing.add_argument("--reference-events", type=int, default=2_000)
    ing.add_argument(
        "--rounds",
        type=at_least_one,
        default=1,
        help="drain the backlog this many times, each followed by its own COPY references;"
        " the median round is reported as the backlog (a shared machine's speed drifts)",
    )
    ing.add_argument("--postgres-url", help="default LEDGER_BENCH_POSTGRES_URL")
    ing.add_argument("--bootstrap", help="default LEDGER_KAFKA_BOOTSTRAP")
    ing.add_argument("--out", help="JSON results file (default bench-results/ingest-<time>.json)")
    ing.add_argument(
        "--workers",
        action="store_true",
        help="also drain the backlog with one and with two worker processes (the write lock)",
    )
    pj = s.add_parser("projections", help="learner record rebuild: events/s against read+decode")
    pj.add_argument("--events", type=int, default=100_000)
    pj.add_argument(
        "--export-events", type=int, default=1000, help="events of the exported learner"
    )
    pj.add_argument(
        "--export-runs",
        type=int,
        default=200,
        help="warm exports per format (p99 of 200 is the third slowest)",
    )
    pj.add_argument(
        "--repeats",
        type=at_least_one,
        default=3,
        help="runs of the reference and of the rebuild, in turns (the median is reported)",
    )
    pj.add_argument("--postgres-url", help="also on PostgreSQL (default LEDGER_BENCH_POSTGRES_URL)")
    pj.add_argument(
        "--out", help="JSON results file (default bench-results/projections-<time>.json)"
    )
    api = s.add_parser(
        "api",
        help="HTTP API under concurrent load from another process: record reads, HTTP ingest",
    )
    api.add_argument(
        "--concurrency", type=at_least_one, default=16, help="concurrent keep-alive clients"
    )
    api.add_argument("--duration", type=seconds, default=10.0, help="measured seconds per scenario")
    api.add_argument(
        "--warmup", type=seconds, default=1.0, help="unmeasured seconds before each scenario"
    )
    api.add_argument(
        "--requests",
        type=at_least_one,
        help="end each scenario after this many measured requests (or its duration)",
    )
    api.add_argument(
        "--events", type=at_least_one, default=20_000, help="events of the seeded population"
    )
    api.add_argument(
        "--batch", type=at_least_one, default=100, help="events per batch ingest request"
    )
    api.add_argument(
        "--postgres-url", help="also on PostgreSQL (default LEDGER_BENCH_POSTGRES_URL)"
    )
    api.add_argument("--out", help="JSON results file (default bench-results/api-<time>.json)")
    fz = s.add_parser("fuzz", help="hostile inputs through the pipeline: every one accounted for")
    fz.add_argument("--inputs", type=at_least_one, default=100_000, help="hostile inputs to send")
    fz.add_argument("--seed", type=int, default=1, help="the same seed sends the same inputs")
    fz.add_argument("--learners", type=at_least_one, default=60, help="demo learners mutated")
    fz.add_argument("--batch-size", type=at_least_one, default=200)
    fz.add_argument("--postgres-url", help="on PostgreSQL (default LEDGER_BENCH_POSTGRES_URL)")
    fz.add_argument("--out", help="JSON results file (default bench-results/fuzz-<time>.json)")
    lg = s.add_parser(
        "log", help="Merkle tree: its CPU beside ingest, proof latency at 1 M/10 M, audit check"
    )
    lg.add_argument(
        "--events", type=at_least_one, default=200_000, help="events ingested (tree cost, audit)"
    )
    lg.add_argument("--batch", type=at_least_one, default=2000, help="events per ingest batch")
    lg.add_argument(
        "--repeats",
        type=at_least_one,
        default=3,
        help="ingest runs of each mode, in turns (the median is reported)",
    )
    lg.add_argument(
        "--sizes",
        default="1000000,10000000",
        help="synthetic tree sizes of the proof figures, comma-separated",
    )
    lg.add_argument(
        "--proofs", type=at_least_one, default=2000, help="random proofs per kind, size and mode"
    )
    lg.add_argument("--postgres-url", help="also on PostgreSQL (default LEDGER_BENCH_POSTGRES_URL)")
    lg.add_argument("--out", help="JSON results file (default bench-results/log-<time>.json)")
    add_json(lg)
    sc = s.add_parser(
        "scale", help="PostgreSQL ingest until tens of millions are stored; rebuild and reads then"
    )
    sc.add_argument(
        "--events", type=at_least_one, default=20_000_000, help="events to store (default 20 M)"
    )
    sc.add_argument("--chunk", type=at_least_one, default=1_000_000, help="events per rate shown")
    sc.add_argument("--batch", type=at_least_one, default=2000, help="events per append")
    sc.add_argument("--reads", type=at_least_one, default=2000, help="learner-record reads timed")
    sc.add_argument("--keep", action="store_true", help="keep the schema (default: dropped)")
    sc.add_argument("--postgres-url", help="default LEDGER_BENCH_POSTGRES_URL")
    sc.add_argument("--out", help="JSON results file (default bench-results/scale-<time>.json)")
    p.set_defaults(handler=handler)
