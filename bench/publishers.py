"""The publisher processes of `ledger bench ingest` (one per issuer, as institutions would
run them: ``ledger publish``), and the latency of what they sent.

A paced run's publishers run at a lower CPU priority (nice :data:`PUBLISHER_NICE`): they
stand in for institutions' systems, which run elsewhere, and at full priority their Python
producers (about 100 µs of CPU per message) would take the cores the ledger's append needs
at the moment it needs them. They still run, and their own delays count: each message's
latency starts with its Kafka timestamp, set when it is handed to the producer. A paced
run's percentiles count from the moment every publisher is sending (:func:`all_sending`,
the first message of the last one to start): before it, the others are still starting (a
Python interpreter and its imports each) on the same cores.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from bench.report import percentile

# CPU priority of a paced run's publishers (see above).
PUBLISHER_NICE = 10


def latency(latencies: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(latencies, 0.50) * 1000, 1),
        "p99": round(percentile(latencies, 0.99) * 1000, 1),
        "max": round(max(latencies) * 1000, 1),
        "messages": len(latencies),
    }


def all_sending(stored: list[tuple[str, float, float]]) -> float:
    """When the last of the publishers sent its first message (Kafka timestamps)."""
    first: dict[str, float] = {}
    for topic, sent, _ in stored:
        first[topic] = min(sent, first.get(topic, sent))
    return max(first.values())


def publish(
    files: dict[str, Path], bootstrap: str, rate: int | None = None, total: int = 0
) -> list[subprocess.Popen[bytes]]:
    """One publisher process per issuer, as institutions would run them; with ``rate``,
    each paced to its share of it."""
    shares = {i: _lines(p) / max(total, 1) for i, p in files.items()} if rate else {}
    pace = (
        {i: ["--rate", f"{rate * shares[i]:.1f}"] for i in files}
        if rate
        else {i: [] for i in files}
    )
    publishers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "cli.main",
                "publish",
                str(path),
                "--issuer",
                issuer,
                "--bootstrap",
                bootstrap,
                "--json",
                *pace[issuer],
            ],
            stdout=subprocess.DEVNULL,
        )
        for issuer, path in files.items()
    ]
    if rate:
        for p in publishers:
            with contextlib.suppress(ProcessLookupError):
                os.setpriority(os.PRIO_PROCESS, p.pid, PUBLISHER_NICE)
    return publishers


def _lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)
