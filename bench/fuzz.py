"""`ledger bench fuzz`: hostile inputs through the real pipeline, every one accounted for.

Each batch goes through :meth:`Ledger.ingest` as a file, a Kafka topic or an HTTP token
would hand it over. An input is accounted for when it comes back accepted, a duplicate,
or rejected with at least one reason; a batch that raises is a crash, and its inputs are
then sent one by one to find the culprits, which are saved for reproduction.
"""

from __future__ import annotations

import argparse
import base64
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.console import Console
from rich.progress import Progress

from bench.databases import fresh_database, postgres_base, settings_for
from bench.hostile import hostile_inputs
from bench.report import conclude, table
from bench.seeding import register_issuers
from demo import generate
from ledger.application import Ledger
from ledger.outcomes import Accepted, Channel, Duplicated, Rejected, Result
from ledger.records import LEDGER_SOURCE
from ledger.settings import Settings


@dataclass
class FuzzTally:
    """What became of every input, by kind of mutation."""

    inputs: int = 0
    bytes: int = 0
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    crashes: list[dict[str, Any]] = field(default_factory=list)
    unaccounted: int = 0
    seconds: float = 0.0

    @property
    def internal(self) -> int:
        return self.rules["internal"]

    @property
    def clean(self) -> bool:
        """No crash, no input lost, no internal error."""
        return not self.crashes and not self.unaccounted and not self.internal

    def count(self, outcome: str) -> int:
        return sum(n for (_, o), n in self.outcomes.items() if o == outcome)

    def as_dict(self) -> dict[str, Any]:
        kinds = sorted({k for k, _ in self.outcomes})
        return {
            "inputs": self.inputs,
            "accepted": self.count("accepted"),
            "duplicates": self.count("duplicate"),
            "rejected": self.count("rejected"),
            "crashes": len(self.crashes),
            "unaccounted": self.unaccounted,
            "internal": self.internal,
            "seconds": round(self.seconds, 3),
            "inputs_per_second": round(self.inputs / self.seconds) if self.seconds else None,
            "megabytes_per_second": round(self.bytes / self.seconds / 1e6, 1)
            if self.seconds
            else None,
            "by_kind": {
                k: {o: self.outcomes[(k, o)] for o in ("accepted", "duplicate", "rejected")}
                for k in kinds
            },
            "rules": dict(self.rules.most_common()),
            "crash_samples": self.crashes[:20],
        }


def _outcome(result: Result) -> str | None:
    if isinstance(result, Accepted):
        return "accepted"
    if isinstance(result, Duplicated):
        return "duplicate"
    if isinstance(result, Rejected) and result.problems:
        return "rejected"
    return None


def _crash(kind: str, raw: bytes, exc: BaseException) -> dict[str, Any]:
    return {
        "kind": kind,
        "error": type(exc).__name__,
        "input_b64": base64.b64encode(raw[:4096]).decode(),
        "bytes": len(raw),
    }


def fuzz_pipeline(
    ledger: Ledger,
    inputs: Iterable[tuple[str, bytes]],
    channels: Sequence[Channel],
    *,
    batch_size: int = 200,
    on_batch: Any = None,
) -> FuzzTally:
    """Send labelled inputs in batches, taking turns over ``channels``; tally every one."""
    tally = FuzzTally()
    started = time.perf_counter()
    batch: list[tuple[str, bytes]] = []
    turn = 0

    def send() -> None:
        nonlocal turn
        channel = channels[turn % len(channels)]
        turn += 1
        tally.inputs += len(batch)
        tally.bytes += sum(len(raw) for _, raw in batch)
        try:
            results = ledger.ingest([raw for _, raw in batch], channel)
        except Exception:
            results = None
        if results is None or len(results) != len(batch):
            for kind, raw in batch:
                try:
                    (alone,) = ledger.ingest([raw], channel)
                except Exception as exc:
                    tally.crashes.append(_crash(kind, raw, exc))
                    continue
                _record(tally, kind, alone)
        else:
            for (kind, _), result in zip(batch, results, strict=True):
                _record(tally, kind, result)
        if on_batch is not None:
            on_batch(len(batch))
        batch.clear()

    for item in inputs:
        batch.append(item)
        if len(batch) >= batch_size:
            send()
    if batch:
        send()
    tally.seconds = time.perf_counter() - started
    return tally


def _record(tally: FuzzTally, kind: str, result: Result) -> None:
    outcome = _outcome(result)
    if outcome is None:
        tally.unaccounted += 1
        return
    tally.outcomes[(kind, outcome)] += 1
    if isinstance(result, Rejected):
        tally.rules[result.problems[0].rule] += 1


def fuzz_world(
    settings: Settings, *, seed: int, learners: int
) -> tuple[Ledger, list[dict[str, Any]], list[Channel]]:
    """A ledger with the demo issuers registered, their events, and one channel per way in."""
    population = generate(seed=seed, learners=learners)
    ledger = Ledger.open(settings)
    register_issuers(ledger, population.issuers)
    events = [e for e in population.events if e["source"] != LEDGER_SOURCE]
    first = population.issuers[0].id
    channels = [Channel("file"), Channel("kafka", first), Channel("http", first)]
    return ledger, events, channels


def run_fuzz_bench(args: argparse.Namespace) -> int:
    """Fuzz, print a table, save JSON; exit 1 if any input crashed or went unaccounted."""
    pg_base = postgres_base(args.postgres_url)
    with fresh_database(pg_base) as url:
        settings = settings_for(url)
        ledger, events, channels = fuzz_world(settings, seed=args.seed, learners=args.learners)
        with ledger:
            good = [("good", orjson.dumps(e)) for e in events]
            reference = fuzz_pipeline(ledger, good, channels[:1], batch_size=args.batch_size)
            inputs = hostile_inputs(
                events, seed=args.seed + 1, count=args.inputs, max_bytes=settings.max_event_bytes
            )
            with Progress(console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task("hostile inputs", total=args.inputs)
                tally = fuzz_pipeline(
                    ledger,
                    inputs,
                    channels,
                    batch_size=args.batch_size,
                    on_batch=lambda n: progress.advance(task, n),
                )
    report = {
        "benchmark": "fuzz",
        "when": datetime.now(UTC).isoformat(),
        "backend": "postgresql" if pg_base else "sqlite",
        "seed": args.seed,
        "batch_size": args.batch_size,
        "max_json_depth": settings.max_json_depth,
        "reference": {"what": "the real events alone", **reference.as_dict()},
        "hostile": tally.as_dict(),
        "ratio_to_reference": round(
            (tally.inputs / tally.seconds) / (reference.inputs / reference.seconds), 2
        )
        if tally.seconds and reference.seconds
        else None,
    }
    hostile = report["hostile"]
    rules = ", ".join(f"{r} {n:,}" for r, n in list(hostile["rules"].items())[:12])
    conclude(
        report,
        args.out,
        table(
            f"fuzz: {hostile['inputs']:,} inputs on {report['backend']}",
            ("kind", "accepted", "duplicate", "rejected"),
            (
                (kind, *(f"{row[o]:,}" for o in ("accepted", "duplicate", "rejected")))
                for kind, row in hostile["by_kind"].items()
            ),
        ),
        [
            f"first reasons: {rules}",
            f"crashes {hostile['crashes']}, unaccounted {hostile['unaccounted']}, "
            f"internal errors {hostile['internal']}; {hostile['inputs_per_second']:,} inputs/s "
            f"({hostile['megabytes_per_second']} MB/s), "
            f"{report['ratio_to_reference']} × the real events alone "
            f"({report['reference']['inputs_per_second']:,}/s)",
        ],
    )
    return 0 if tally.clean and reference.clean else 1
