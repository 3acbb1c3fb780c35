"""`ledger publish`: an institution's JSONL file to its issuer topic, idempotently."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from consumers.topics import issuer_topic

# Bounded in-flight sends: memory stays flat for files of any size.
WINDOW = 5000
# How far ahead of a --rate the sends may get before pausing (seconds).
PACE_S = 0.002


@dataclass
class PublishSummary:
    """What was sent where."""

    topic: str
    sent: int = 0
    failed: int = 0
    by_partition: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "sent": self.sent,
            "failed": self.failed,
            "by_partition": {str(k): v for k, v in sorted(self.by_partition.items())},
            "errors": self.errors[:20],
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.sent / self.seconds) if self.seconds else None,
        }


def partition_key(line: bytes, issuer_id: str) -> bytes:
    """Partition key: the learner, so one learner's events stay in order in one partition.

    A line that is not a JSON object is still sent (the worker rejects it to the dead-letter
    topic with a reason): the publisher does not drop anything.
    """
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return issuer_id.encode()
    subject = event.get("subject") if isinstance(event, dict) else None
    return (subject if isinstance(subject, str) and subject else issuer_id).encode()


async def publish_lines(
    lines: Iterable[bytes],
    *,
    issuer_id: str,
    bootstrap: str,
    topic: str | None = None,
    rate: float | None = None,
) -> PublishSummary:
    """Send each non-blank line as one message to the issuer's topic.

    The producer is idempotent (acks from all replicas, sequence numbers per partition), so
    its own retries never duplicate a message; the ledger also deduplicates by (source, id).
    ``rate`` (messages per second) paces the sends, e.g. to measure latency below capacity.
    """
    summary = PublishSummary(topic=topic or issuer_topic(issuer_id))
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
        max_request_size=4 << 20,
    )
    await producer.start()
    try:
        # The topic's partitions before the first send: a --rate's clock then starts
        # with the sends, not with the metadata's round trips.
        await producer.partitions_for(summary.topic)
        started = time.perf_counter()
        pending: list[asyncio.Future[Any]] = []
        for count, raw in enumerate(lines):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            if rate:
                # Steady, not in bursts: a sleep whenever this is PACE_S ahead of the rate.
                ahead = started + count / rate - time.perf_counter()
                if ahead > PACE_S:
                    await asyncio.sleep(ahead)
            pending.append(
                await producer.send(summary.topic, line, key=partition_key(line, issuer_id))
            )
            if len(pending) >= WINDOW:
                await _settle(pending, summary)
        await _settle(pending, summary)
    finally:
        await producer.stop()
    summary.seconds = time.perf_counter() - started
    return summary


async def _settle(pending: list[asyncio.Future[Any]], summary: PublishSummary) -> None:
    for outcome in await asyncio.gather(*pending, return_exceptions=True):
        if isinstance(outcome, BaseException):
            summary.failed += 1
            summary.errors.append(f"{type(outcome).__name__}: {outcome}")
        else:
            summary.sent += 1
            summary.by_partition[outcome.partition] += 1
    pending.clear()
