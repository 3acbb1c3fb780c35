"""The Kafka ingest worker: issuer topics → shared pipeline → ledger, exactly once.

Each poll's messages (several partitions) go through the same pipeline as file ingest.
Rejected messages are sent to the dead-letter topic first, with the reason and the
original topic, partition and offset in headers; then the accepted events and every
partition's consumed offset are appended in one database transaction. On assignment a
partition is positioned from the offset stored in the database, never from Kafka's
committed offset, so killing the worker at any moment loses and duplicates nothing.
Offsets are committed to Kafka too, after the database, so standard tools show lag.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from eventsourcing.persistence import Tracking

from consumers.metrics import WorkerStats
from consumers.topics import ensure_topics, issuer_of_topic, registered_topics
from ledger.application import Ledger
from ledger.errors import StoreError
from ledger.parallel import Preparer, PreparerProcess, PreparerThread
from ledger.pipeline import Accepted, Channel, Duplicated, PreparedBatch, Rejected, Result

log = logging.getLogger("lll.ingest")

TRACKING_PREFIX = "kafka:"
# Longest a poll waits for more records while the previous poll is being prepared.
LOOKAHEAD_WAIT_MS = 20


def tracking_name(topic: str, partition: int) -> str:
    """Name under which a partition's consumed offset is tracked in the ledger."""
    return f"{TRACKING_PREFIX}{topic}:{partition}"


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker connects and batches.

    Attributes:
        bootstrap: Kafka bootstrap servers.
        group: consumer group shared by all ingest workers.
        dead_letter_topic: where rejected messages go.
        topics: issuer topics to read (default: every registered issuer's topic).
        batch_size: most messages per poll (one append transaction).
        poll_ms: how long a poll waits for messages.
        client_id: shows in the broker's consumer-group tools.
        instance_id: static group membership (``group.instance.id``): a restarted worker
            with the same id takes its partitions back without a rebalance.
        session_timeout_ms: how long the group waits for a silent member.
        prepare_in_process: prepare batches (parse, validate, encrypt) in a child
            process, so that work and the appends use both cores instead of sharing
            one interpreter lock; off, a thread of this process prepares them.
    """

    bootstrap: str
    group: str
    dead_letter_topic: str
    topics: tuple[str, ...] = ()
    batch_size: int = 2000
    poll_ms: int = 200
    client_id: str = "lll-ingest"
    instance_id: str | None = None
    session_timeout_ms: int = 10_000
    prepare_in_process: bool = True


class _PositionFromLedger(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks newly assigned partitions to the offset after the one the ledger recorded."""

    def __init__(self, worker: IngestWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        # Let the batch in flight finish (and commit) before the partitions move.
        async with self.worker.busy:
            await self.worker.drain()

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        async with self.worker.busy:
            await self.worker.drain()
            await self.worker.reposition(assigned)


class IngestWorker:
    """One member of the ingest consumer group."""

    def __init__(self, ledger: Ledger, config: WorkerConfig) -> None:
        self.ledger = ledger
        self.config = config
        self.stats = WorkerStats()
        self.busy = asyncio.Lock()
        # Called after each committed append with the messages it covered and the time
        # (benchmarks measure publish-to-durable latency with it).
        self.on_commit: Callable[[list[ConsumerRecord], float], None] | None = None
        # Set once the group has assigned partitions and they are positioned.
        self.assigned = asyncio.Event()
        # When the first records arrived (startup and group join are over by then).
        self.first_records_at: float | None = None
        # The append in flight, and the poll being prepared behind it.
        self._pending: asyncio.Task[bool] | None = None
        self._lookahead: (
            tuple[list[tuple[TopicPartition, list[ConsumerRecord]]], Future[PreparedBatch]] | None
        ) = None
        # Next offset each partition must deliver; records from elsewhere are stale.
        self._expected: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._preparer: Preparer | None = None

    def topics(self) -> list[str]:
        if self.config.topics:
            return list(self.config.topics)
        return registered_topics(self.ledger.registry)

    async def reposition(self, partitions: Sequence[TopicPartition]) -> None:
        """Seek each partition to just after the offset stored with the ledger's events."""
        consumer = self._consumer
        assert consumer is not None
        recorder = self.ledger.recorder

        def stored() -> dict[TopicPartition, int | None]:
            return {
                tp: recorder.max_tracking_id(tracking_name(tp.topic, tp.partition))
                for tp in partitions
            }

        # seek() only sets the fetch position; it must stay quick, since the group
        # waits for this callback. Offset 0 of a partition whose head was deleted by
        # retention falls back to the earliest offset (auto_offset_reset).
        for tp, last in (await asyncio.to_thread(stored)).items():
            position = 0 if last is None else last + 1
            consumer.seek(tp, position)
            self._expected[tp] = position
        log.info("assigned %s", sorted(f"{tp.topic}:{tp.partition}" for tp in partitions))
        if partitions:
            self.assigned.set()

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Consume until ``stop`` is set; the batch in hand is always finished first."""
        topics = self.topics()
        if not topics:
            raise StoreError("no issuer topics to read: register issuers first")
        await ensure_topics(self.config.bootstrap, [*topics, self.config.dead_letter_topic])
        self._preparer = (
            PreparerProcess(self.ledger.settings)
            if self.config.prepare_in_process
            else PreparerThread(self.ledger.pipeline)
        )
        try:
            # Ready before joining the group: the first batch must not wait for it.
            await asyncio.wrap_future(self._preparer.ready())
            await self._consume(topics, stop)
        finally:
            self._preparer.close()
        return self.stats

    async def _consume(self, topics: list[str], stop: asyncio.Event) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.config.bootstrap,
            group_id=self.config.group,
            client_id=self.config.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.config.batch_size,
            max_partition_fetch_bytes=4 << 20,
            group_instance_id=self.config.instance_id,
            session_timeout_ms=self.config.session_timeout_ms,
            heartbeat_interval_ms=max(100, self.config.session_timeout_ms // 4),
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap,
            enable_idempotence=True,
            acks="all",
            max_request_size=4 << 20,
        )
        self._consumer.subscribe(topics, listener=_PositionFromLedger(self))
        await self._producer.start()
        await self._consumer.start()
        try:
            while not stop.is_set():
                records = await self._consumer.getmany(
                    timeout_ms=self._poll_timeout(), max_records=self.config.batch_size
                )
                async with self.busy:
                    if records:
                        await self._process(records)
                    elif self._lookahead is not None:
                        lookahead, self._lookahead = self._lookahead, None
                        await self._hand_over(*lookahead)
                await self._update_lag()
            await self.drain()
        finally:
            await self._consumer.stop()
            await self._producer.stop()

    def _poll_timeout(self) -> int:
        """How long a poll may wait for records (ms).

        With nothing in hand, the configured poll time. With a poll being prepared, a
        few milliseconds, to keep the preparer fed with the next one. With a prepared
        poll waiting, none: if nothing is fetched yet, it goes on to the append at once.
        """
        if self._lookahead is None:
            return self.config.poll_ms
        return 0 if self._lookahead[1].done() else min(self.config.poll_ms, LOOKAHEAD_WAIT_MS)

    async def drain(self) -> bool:
        """Store everything read so far: the batch being prepared, then the append in
        flight. False when an append was refused (rolled back; positions re-read)."""
        lookahead, self._lookahead = self._lookahead, None
        if lookahead is not None:
            await self._hand_over(*lookahead)
        return await self._appended()

    async def _appended(self) -> bool:
        """Wait for the append in flight; False when it was refused."""
        pending, self._pending = self._pending, None
        if pending is None:
            return True
        return await pending

    async def _process(self, records: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Start preparing this poll, then hand the poll before it over to the append.

        Three polls are in flight: one appending, one prepared or being prepared, and
        this one queued behind it, so the preparer never waits for the loop.
        """
        parts = self._in_sequence(records)
        if not parts:
            return
        if self.first_records_at is None:
            self.first_records_at = time.time()
        for tp, msgs in parts:
            self._expected[tp] = msgs[-1].offset + 1
        self.stats.consumed += sum(len(msgs) for _, msgs in parts)
        preparer = self._preparer
        assert preparer is not None
        groups = [
            (
                [m.value or b"" for m in msgs],
                Channel("kafka", issuer_of_topic(tp.topic) or f"(topic {tp.topic})"),
            )
            for tp, msgs in parts
        ]
        previous, self._lookahead = self._lookahead, (parts, preparer.submit(groups))
        if previous is not None:
            await self._hand_over(*previous)

    async def _hand_over(
        self,
        parts: list[tuple[TopicPartition, list[ConsumerRecord]]],
        preparing: Future[PreparedBatch],
    ) -> None:
        """Once prepared and the previous append is done: dead letters, then append."""
        prepared = await asyncio.wrap_future(preparing)
        if not await self._appended():
            # Read after the refused batch: drop it and the poll behind it, and read
            # again from the positions the ledger holds.
            dropped = [tp for tp, _ in parts]
            lookahead, self._lookahead = self._lookahead, None
            if lookahead is not None:
                dropped += [tp for tp, _ in lookahead[0]]
            await self.reposition(self._owned(dict.fromkeys(dropped)))
            return
        await self._dead_letter([m for _, msgs in parts for m in msgs], prepared)
        self._pending = asyncio.create_task(self._append(parts, prepared))

    async def _append(
        self, parts: list[tuple[TopicPartition, list[ConsumerRecord]]], batch: PreparedBatch
    ) -> bool:
        trackings = [
            Tracking(tracking_name(tp.topic, tp.partition), msgs[-1].offset) for tp, msgs in parts
        ]
        try:
            results = await asyncio.to_thread(
                self.ledger.pipeline.commit, batch, tracking=trackings
            )
        except StoreError as exc:
            # Most likely another worker moved past these offsets after a rebalance; the
            # transaction rolled back whole. Take positions from the ledger again.
            self.stats.conflicts += 1
            log.warning("append refused (%s); repositioning from the ledger", exc)
            await self.reposition(self._owned(tp for tp, _ in parts))
            return False
        self._count(results)
        self.stats.batches += 1
        if self.on_commit is not None:
            self.on_commit([m for _, msgs in parts for m in msgs], time.time())
        await self._commit_to_kafka(parts)
        return True

    def _in_sequence(
        self, records: dict[TopicPartition, list[ConsumerRecord]]
    ) -> list[tuple[TopicPartition, list[ConsumerRecord]]]:
        """Drop records fetched from a stale position (before a seek took effect)."""
        consumer = self._consumer
        assert consumer is not None
        parts = []
        for tp, msgs in records.items():
            if not msgs:
                continue
            expected = self._expected.get(tp)
            if expected is not None and msgs[0].offset != expected:
                consumer.seek(tp, expected)
                continue
            parts.append((tp, msgs))
        return parts

    def _owned(self, partitions: Iterable[TopicPartition]) -> list[TopicPartition]:
        consumer = self._consumer
        assert consumer is not None
        mine = consumer.assignment()
        return [tp for tp in partitions if tp in mine]

    async def _dead_letter(self, messages: list[ConsumerRecord], prepared: PreparedBatch) -> None:
        """Send the poll's rejected messages (``prepared`` covers ``messages`` in order)."""
        producer = self._producer
        assert producer is not None
        sent = 0
        for index, rejection in prepared.rejected():
            msg = messages[index]
            await producer.send(
                self.config.dead_letter_topic,
                value=msg.value,
                key=msg.key,
                headers=_headers(msg, rejection),
            )
            sent += 1
        if sent:
            # Durable before the offsets move past them: a rejected message is never lost.
            await producer.flush()
            self.stats.dead_lettered += sent

    def _count(self, results: list[Result]) -> None:
        for r in results:
            if isinstance(r, Accepted):
                self.stats.accepted += 1
            elif isinstance(r, Duplicated):
                self.stats.duplicates += 1
            elif isinstance(r, Rejected):
                self.stats.rejected += 1

    async def _commit_to_kafka(
        self, parts: list[tuple[TopicPartition, list[ConsumerRecord]]]
    ) -> None:
        consumer = self._consumer
        assert consumer is not None
        try:
            await consumer.commit({tp: msgs[-1].offset + 1 for tp, msgs in parts})
        except KafkaError as exc:
            # Only lag reporting depends on it; positions come from the ledger.
            log.info("offset commit to Kafka failed: %s", exc)

    async def _update_lag(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        lag: dict[str, int] = {}
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            try:
                position = await consumer.position(tp)
            except KafkaError:
                continue
            lag[f"{tp.topic}:{tp.partition}"] = max(0, high - position)
        self.stats.lag = lag


def _headers(msg: ConsumerRecord, rejection: Rejected) -> list[tuple[str, bytes]]:
    return [
        ("lll-reason", orjson.dumps(rejection.reasons())),
        ("lll-original-topic", msg.topic.encode()),
        ("lll-original-partition", str(msg.partition).encode()),
        ("lll-original-offset", str(msg.offset).encode()),
    ]
