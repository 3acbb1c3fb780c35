"""Counters and lag of an ingest worker, as JSON lines and Prometheus text on loopback."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ledger.outcomes import Accepted, Duplicated, Rejected, Result


@dataclass
class WorkerStats:
    """What a worker has done since it started. No payloads, no personal data."""

    consumed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    dead_lettered: int = 0
    batches: int = 0
    conflicts: int = 0
    retries: int = 0
    # The services failing right now ("PostgreSQL", "Kafka"), while the worker retries.
    down: list[str] = field(default_factory=list)
    lag: dict[str, int] = field(default_factory=dict)

    def count(self, results: list[Result]) -> None:
        """Add one appended batch's outcomes (counted by type in one pass in C, not a
        Python test per result: a batch holds thousands)."""
        kinds = Counter(map(type, results))
        self.accepted += kinds[Accepted]
        self.duplicates += kinds[Duplicated]
        self.rejected += kinds[Rejected]

    @property
    def total_lag(self) -> int:
        return sum(self.lag.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "consumed": self.consumed,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "dead_lettered": self.dead_lettered,
            "batches": self.batches,
            "conflicts": self.conflicts,
            "retries": self.retries,
            "down": list(self.down),
            "lag": self.total_lag,
            "lag_by_partition": dict(sorted(self.lag.items())),
        }

    def prometheus(self) -> str:
        lines = []
        for name, help_text in (
            ("consumed", "messages read from issuer topics"),
            ("accepted", "events appended to the ledger"),
            ("duplicates", "events already in the ledger"),
            ("rejected", "messages refused, sent to the dead-letter topic"),
            ("batches", "append transactions committed"),
            ("conflicts", "appends refused because another worker moved past (positions re-read)"),
            ("retries", "failed attempts at PostgreSQL or Kafka, each followed by a backoff"),
        ):
            lines.append(f"# HELP lll_ingest_{name}_total {help_text}")
            lines.append(f"# TYPE lll_ingest_{name}_total counter")
            lines.append(f"lll_ingest_{name}_total {getattr(self, name)}")
        lines.append("# HELP lll_ingest_down 1 while the worker retries this service")
        lines.append("# TYPE lll_ingest_down gauge")
        for service in ("PostgreSQL", "Kafka"):
            value = int(service in self.down)
            lines.append(f'lll_ingest_down{{service="{service.lower()}"}} {value}')
        lines.append("# HELP lll_ingest_lag messages behind the high watermark")
        lines.append("# TYPE lll_ingest_lag gauge")
        for key, value in sorted(self.lag.items()):
            topic, _, partition = key.rpartition(":")
            lines.append(f'lll_ingest_lag{{topic="{topic}",partition="{partition}"}} {value}')
        return "\n".join(lines) + "\n"


async def serve_metrics(stats: WorkerStats, port: int, host: str = "127.0.0.1") -> asyncio.Server:
    """Serve ``GET /metrics`` (Prometheus text) on ``host:port`` (loopback by default)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            ok = request.startswith(b"GET /metrics")
            body = stats.prometheus().encode() if ok else b"not found\n"
            status = b"200 OK" if ok else b"404 Not Found"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain; version=0.0.4\r\n"
                b"Content-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
