"""An in-memory broker and the Kafka clients the worker takes from it (no Kafka needed)."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

# Longest an empty fetch waits (seconds), whatever the worker asks: tests stay quick.
EMPTY_FETCH_S = 0.005


@dataclass
class Sent:
    """One message the worker's producer sent."""

    topic: str
    value: bytes | None
    key: bytes | None
    headers: dict[str, bytes]


@dataclass
class FakeBroker:
    """Partitions as lists of records (offsets from 0), and what producers sent."""

    logs: dict[TopicPartition, list[ConsumerRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    sent: list[Sent] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    def publish(self, topic: str, partition: int, value: bytes, key: bytes | None = None) -> int:
        """Append a message to a partition; returns its offset."""
        log = self.logs[TopicPartition(topic, partition)]
        offset = len(log)
        log.append(
            ConsumerRecord(topic, partition, offset, 0, 0, key, value, None, 0, len(value), ())
        )
        return offset


class FakeConsumer:
    """The consumer calls the worker makes, served from a :class:`FakeBroker`.

    Every partition of the subscribed topics is assigned on the first fetch (the worker's
    listener positions them); ``on_commit`` sees each offset commit as it happens.
    """

    def __init__(
        self,
        broker: FakeBroker,
        on_commit: Callable[[dict[TopicPartition, int]], None] | None = None,
    ) -> None:
        self.broker = broker
        self.topics: list[str] = []
        self.listener: Any = None
        self.assigned: list[TopicPartition] | None = None
        self.positions: dict[TopicPartition, int] = {}
        # Each seek, and when (time.monotonic()).
        self.seeks: list[tuple[TopicPartition, int, float]] = []
        self.commits: list[dict[TopicPartition, int]] = []
        self.on_commit = on_commit
        self.stopped = False

    def subscribe(self, topics: Sequence[str], listener: Any) -> None:
        self.topics, self.listener = list(topics), listener

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True

    async def getmany(
        self, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        if self.assigned is None:
            self.assigned = sorted(tp for tp in self.broker.logs if tp.topic in self.topics)
            await self.listener.on_partitions_assigned(self.assigned)
        budget = max_records or 500
        fetched: dict[TopicPartition, list[ConsumerRecord]] = {}
        for tp in self.assigned:
            start = self.positions.get(tp, 0)
            records = self.broker.logs[tp][start : start + budget]
            if records:
                fetched[tp] = records
                self.positions[tp] = start + len(records)
                budget -= len(records)
            if budget <= 0:
                break
        if not fetched:
            await asyncio.sleep(min(timeout_ms / 1000, EMPTY_FETCH_S))
        return fetched

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset, time.monotonic()))
        self.positions[tp] = offset

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned or ())

    def highwater(self, tp: TopicPartition) -> int:
        return len(self.broker.logs[tp])

    async def position(self, tp: TopicPartition) -> int:
        return self.positions.get(tp, 0)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.on_commit is not None:
            self.on_commit(offsets)
        self.commits.append(dict(offsets))


class FakeProducer:
    """Sends into the broker at once; each send is confirmed."""

    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> asyncio.Future[None]:
        self.broker.sent.append(Sent(topic, value, key, dict(headers)))
        confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        confirmed.set_result(None)
        return confirmed


class FakeClients:
    """A :class:`~consumers.clients.KafkaClients` over one :class:`FakeBroker`; its
    consumers call ``on_commit`` with each offset commit."""

    def __init__(
        self,
        broker: FakeBroker,
        on_commit: Callable[[dict[TopicPartition, int]], None] | None = None,
    ) -> None:
        self.broker = broker
        self.on_commit = on_commit
        self.consumers: list[FakeConsumer] = []

    def consumer(self) -> FakeConsumer:
        consumer = FakeConsumer(self.broker, self.on_commit)
        self.consumers.append(consumer)
        return consumer

    def producer(self) -> FakeProducer:
        return FakeProducer(self.broker)

    async def ensure_topics(self, topics: Sequence[str], *, dead_letter: str) -> None:
        self.broker.created.extend([*topics, dead_letter])
