"""A real broker and PostgreSQL for Kafka ingest tests: scenario builder, worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from consumers.publisher import PublishSummary, publish_lines
from consumers.topics import delete_topics, ensure_topics, issuer_topic
from demo import IssuerSpec, generate
from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.integrity import split_state
from ledger.records import LEDGER_SOURCE
from ledger.settings import Settings
from tests.conftest import service_from_env

KAFKA_ENV = "LEDGER_TEST_KAFKA_BOOTSTRAP"
REPO = Path(__file__).resolve().parents[2]


def kafka_bootstrap() -> str:
    """The test broker."""
    return service_from_env(KAFKA_ENV, "Kafka broker", "kafka")


@dataclass
class Scenario:
    """One test's world: a fresh schema, its own topics, group and dead-letter topic."""

    database_url: str = field(repr=False)  # holds the password
    bootstrap: str
    tmp: Path
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    master_key: str = field(default_factory=lambda: encode_key(generate_key()), repr=False)
    issuers: dict[str, IssuerSpec] = field(default_factory=dict)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def group(self) -> str:
        return f"lll-test-{self.suffix}"

    @property
    def dead_letter_topic(self) -> str:
        return f"lll.deadletter.{self.suffix}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LEDGER_DATABASE_URL": self.database_url,
            "LEDGER_MASTER_KEY": self.master_key,
            "LEDGER_KAFKA_BOOTSTRAP": self.bootstrap,
            "LEDGER_KAFKA_GROUP": self.group,
            "LEDGER_KAFKA_DEAD_LETTER_TOPIC": self.dead_letter_topic,
        }

    def settings(self) -> Settings:
        return Settings.from_env(self.env())

    def open(self) -> Ledger:
        return Ledger.open(self.settings())

    def register(self, specs: list[IssuerSpec]) -> None:
        """Register the demo issuers under ids unique to this test (so topics are fresh)."""
        with self.open() as ledger:
            for spec in specs:
                unique = f"{spec.id}-{self.suffix}"
                ledger.registry.register(
                    unique, name=spec.name, source=spec.source, kind=spec.kind, types=spec.types
                )
                self.issuers[spec.source] = IssuerSpec(
                    unique, spec.name, spec.source, spec.kind, spec.types
                )
        asyncio.run(
            ensure_topics(
                self.bootstrap,
                [issuer_topic(s.id) for s in self.issuers.values()],
                dead_letter=self.dead_letter_topic,
            )
        )

    def publish(self, lines_by_issuer: dict[str, list[bytes]]) -> dict[str, PublishSummary]:
        async def run() -> dict[str, PublishSummary]:
            return {
                issuer: await publish_lines(lines, issuer_id=issuer, bootstrap=self.bootstrap)
                for issuer, lines in lines_by_issuer.items()
            }

        return asyncio.run(run())

    def start_worker(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"worker-{name}.log").open("ab")
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "cli.main", "consume", "-v",
                "--stats-interval", "1", "--client-id", name, *extra,
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )  # fmt: skip
        self.workers.append(proc)
        return proc

    def worker_log(self, name: str) -> str:
        path = self.tmp / f"worker-{name}.log"
        return path.read_text() if path.exists() else ""

    def stop_all(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def remove_topics(self) -> None:
        """Delete this test's topics: a shared broker must not pile up partitions."""
        topics = [*(issuer_topic(s.id) for s in self.issuers.values()), self.dead_letter_topic]
        asyncio.run(delete_topics(self.bootstrap, topics))


def kafka_population(
    seed: int, learners: int
) -> tuple[list[IssuerSpec], dict[str, list[dict[str, Any]]]]:
    """Demo events grouped by source, without the learner-side ones (those come from the API)."""
    population = generate(seed=seed, learners=learners)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in population.events:
        if event["source"] != LEDGER_SOURCE:
            by_source[event["source"]].append(event)
    return population.issuers, dict(by_source)


def stored_events(ledger: Ledger) -> Iterator[dict[str, Any]]:
    """Every issuer event in the log, in global order (registry events skipped)."""
    for row in ledger.iter_log_rows():
        if row.topic.startswith("org.lll."):
            yield orjson.loads(split_state(row.state)[3])


def wait_for(
    predicate: Any, *, timeout: float, interval: float = 0.5, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def keys_of(events: list[dict[str, Any]]) -> list[bytes]:
    from ledger.records import idempotency_key

    return [idempotency_key(e["source"], e["id"]) for e in events]


def count_present(ledger: Ledger, keys: list[bytes]) -> int:
    """How many of these events are stored (cheap enough to poll)."""
    return sum(
        len(ledger.recorder.positions_of(keys[i : i + 20_000])) for i in range(0, len(keys), 20_000)
    )


def last_stats(world: Scenario, name: str) -> dict[str, Any]:
    """The worker's most recent one-line JSON stats report (empty before the first)."""
    for line in reversed(world.worker_log(name).splitlines()):
        if line.startswith('{"time"'):
            return dict(orjson.loads(line))
    return {}


async def read_topic(bootstrap: str, topic: str, expected: int) -> list[dict[str, Any]]:
    """The first ``expected`` messages of ``topic`` (values and headers), from the start."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 << 20, fetch_max_bytes=16 << 20,
    )  # fmt: skip
    await consumer.start()
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + 300
    try:
        while len(out) < expected and time.monotonic() < deadline:
            for msgs in (await consumer.getmany(timeout_ms=1000)).values():
                out.extend(
                    {"value": m.value, "headers": {k: v.decode() for k, v in m.headers}}
                    for m in msgs
                )
    finally:
        await consumer.stop()
    return out
