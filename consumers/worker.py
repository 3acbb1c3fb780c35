"""The Kafka ingest worker: issuer topics → shared pipeline → ledger, exactly once.

Each poll's messages (several partitions) go through the same pipeline as file ingest.
Rejected messages are sent to the dead-letter topic first, with the reason and the
original topic, partition and offset in headers; then the accepted events and every
partition's consumed offset are appended in one database transaction. On assignment a
partition is positioned from the offset stored in the database, never from Kafka's
committed offset, so killing the worker at any moment loses and duplicates nothing.
Offsets are committed to Kafka too, after the database, so standard tools show lag.

When PostgreSQL fails (an append, a preparation, reading positions) everything in hand
is dropped and every owned partition is positioned from the ledger again, retried with
backoff until it answers (see consumers/outage.py); dead letters wait until the broker
confirms them. Nothing is rejected because a service is down.

The Kafka clients come from a :class:`~consumers.clients.KafkaClients` factory, so the
worker runs against in-memory fakes in the unit tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from eventsourcing.persistence import Tracking

from consumers.clients import AIOKafkaClients, KafkaClients
from consumers.deadletter import DeadLetters
from consumers.metrics import WorkerStats
from consumers.outage import Outage, OutageTooLongError, describe
from consumers.positions import Parts, Positions, tracking_name
from consumers.settings import WorkerConfig
from consumers.topics import issuer_of_topic, registered_topics
from ledger.application import Ledger
from ledger.errors import ErasedMeanwhileError, StoreConflictError, StoreError
from ledger.outcomes import Channel, PreparedBatch
from ledger.parallel import RECENT_BATCHES, PreparerProcess
from ledger.sequencer import Preparer, PreparerThread, Sequencer

log = logging.getLogger("lll.ingest")

# Longest a poll waits for more records while the previous poll is being prepared.
LOOKAHEAD_WAIT_MS = 20
# Polls prepared (or being prepared) behind the one appending.
LOOKAHEAD = 1
# The interpreter's switch interval while batches are prepared in a thread (seconds).
SWITCH_INTERVAL_S = 0.001
# Longest a commit of offsets to Kafka may take (only lag reporting needs them).
KAFKA_COMMIT_TIMEOUT_S = 10.0
# Longest the Kafka clients may take to close when the worker exits.
CLOSE_TIMEOUT_S = 10.0


class _PositionFromLedger(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks newly assigned partitions to the offset after the one the ledger recorded."""

    def __init__(self, worker: IngestWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        # Let the batch in flight finish (and commit) before the partitions move.
        async with self.worker.busy:
            await self.worker.give_up_on_outage(self.worker.drain())

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        async with self.worker.busy:
            await self.worker.give_up_on_outage(self.worker.take(assigned))


class IngestWorker:
    """One member of the ingest consumer group.

    Args:
        ledger: where the events and the consumed offsets are stored.
        config: how to connect and batch.
        clients: makes the Kafka clients (default: aiokafka's, from ``config``).
    """

    def __init__(
        self, ledger: Ledger, config: WorkerConfig, clients: KafkaClients | None = None
    ) -> None:
        self.ledger = ledger
        self.config = config
        self.clients = clients if clients is not None else AIOKafkaClients(config)
        self.stats = WorkerStats()
        self.busy = asyncio.Lock()
        # Called after each committed append with the messages it covered and the time
        # (benchmarks measure publish-to-durable latency with it).
        self.on_commit: Callable[[list[ConsumerRecord], float], None] | None = None
        # Set once the group has assigned partitions and they are positioned.
        self.assigned = asyncio.Event()
        # When the first records arrived (startup and group join are over by then).
        self.first_records_at: float | None = None
        # Where batches are prepared: "process" (a child) or "thread" (set by run()).
        self.preparing_in: str | None = None
        # The append in flight, and the polls prepared behind it (made by run()).
        self._pending: asyncio.Task[bool] | None = None
        self._sequencer: Sequencer[Parts] | None = None
        self._positions: Positions | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._dead_letters: DeadLetters | None = None
        self._stop = asyncio.Event()
        self.postgres = Outage("PostgreSQL", limit_s=config.max_outage_s, on_retry=self._retried)
        self.kafka = Outage("Kafka", limit_s=config.max_outage_s, on_retry=self._retried)
        # An outage too long, met in a rebalance callback (aiokafka would swallow it).
        self._fatal: OutageTooLongError | None = None
        # Offsets appended to the ledger and not yet committed to Kafka, and the commit
        # on its way (off the appends' path: only lag reporting reads them).
        self._to_commit: dict[TopicPartition, int] = {}
        self._committing: asyncio.Task[None] | None = None

    def _retried(self) -> None:
        self.stats.retries += 1
        self._note_down()

    def _note_down(self) -> None:
        self.stats.down = [o.service for o in (self.postgres, self.kafka) if o.down]

    def topics(self) -> list[str]:
        if self.config.topics:
            return list(self.config.topics)
        return registered_topics(self.ledger.registry)

    async def take(self, assigned: Sequence[TopicPartition]) -> None:
        """Store what is in hand, then position newly assigned partitions from the ledger."""
        await self.drain()
        await self._where().resume(lambda: list(assigned))

    async def give_up_on_outage(self, step: Awaitable[object]) -> None:
        """Run a rebalance callback's work; an outage too long is kept for the main loop."""
        try:
            await step
        except OutageTooLongError as exc:
            self._fatal = exc
            self._stop.set()

    async def _recover(self, what: str, exc: StoreError) -> None:
        """PostgreSQL failed ``what``: drop everything in hand, then position every owned
        partition from the ledger again, retrying with backoff until it answers."""
        self._ahead().drop()
        pending, self._pending = self._pending, None
        if pending is not None:
            # Whether it committed or not, the positions read below say so.
            with contextlib.suppress(StoreError):
                await pending
        await self._where().resume(self._where().owned, what, exc)

    async def reposition(self, partitions: Sequence[TopicPartition]) -> None:
        """Seek each partition to just after the offset stored with the ledger's events."""
        await self._where().seek(partitions)

    def _where(self) -> Positions:
        positions = self._positions
        assert positions is not None
        return positions

    def _ahead(self) -> Sequencer[Parts]:
        sequencer = self._sequencer
        assert sequencer is not None
        return sequencer

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``, or less when asked to stop; True when stopping."""
        if seconds > 0 and not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Consume until ``stop`` is set; the batch in hand is always finished first.

        Raises:
            OutageTooLongError: PostgreSQL or Kafka failed for longer than
                ``config.max_outage_s`` (when set).
        """
        self._stop = stop
        topics = self.topics()
        if not topics:
            raise StoreError("no issuer topics to read: register issuers first")
        await self.clients.ensure_topics(topics, dead_letter=self.config.dead_letter_topic)
        in_process = self.config.prepare_in_process
        if in_process is None:
            in_process = self.ledger.pipeline.fast.name != "native"
        self.preparing_in = "process" if in_process else "thread"
        if not in_process:
            # The event loop, the preparer's Python parts and the append's now share one
            # interpreter lock, and a thread waiting for it may wait a whole switch
            # interval (5 ms by default) at every database answer: paced at 5,000
            # events/s, 1 ms took the p99 from 86-114 ms to 71-92 (three runs each).
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        preparer: Preparer = (
            PreparerProcess(self.ledger.settings, recent=RECENT_BATCHES)
            if in_process
            else PreparerThread(self.ledger.pipeline, recent=RECENT_BATCHES)
        )
        self._sequencer = Sequencer(preparer, depth=LOOKAHEAD)
        try:
            # Ready before joining the group: the first batch must not wait for it.
            await asyncio.wrap_future(self._sequencer.ready())
            await self._consume(topics, stop)
        finally:
            self._sequencer.close()
        return self.stats

    async def _consume(self, topics: list[str], stop: asyncio.Event) -> None:
        self._consumer = self.clients.consumer()
        self._producer = self.clients.producer()
        self._positions = Positions(
            self._consumer, self.ledger.recorder, self.postgres, self._pause, self.assigned.set
        )
        self._dead_letters = DeadLetters(
            self._producer, self.config.dead_letter_topic, self.kafka, self._pause
        )
        self._consumer.subscribe(topics, listener=_PositionFromLedger(self))
        await self._producer.start()
        await self._consumer.start()
        try:
            while not stop.is_set():
                try:
                    records = await self._consumer.getmany(
                        timeout_ms=self._poll_timeout(), max_records=self.config.batch_size
                    )
                except KafkaError as exc:
                    await self._pause(self.kafka.failed("fetching records", exc))
                    continue
                if self.kafka.down and not self.busy.locked():
                    # Fetching works again (dead letters being retried hold ``busy``).
                    self.kafka.succeeded()
                async with self.busy:
                    if records:
                        await self._process(records)
                    elif (prepared := self._ahead().next()) is not None:
                        await self._hand_over(prepared.tag, prepared.batch)
                await self._update_lag()
            if self._fatal is not None:
                raise self._fatal
            await self.drain()
        finally:
            if self._committing is not None:
                self._committing.cancel()
            # Bounded: with the broker away, closing would wait for it indefinitely.
            for close in (self._consumer.stop, self._producer.stop):
                with contextlib.suppress(TimeoutError, KafkaError):
                    await asyncio.wait_for(close(), CLOSE_TIMEOUT_S)

    def _poll_timeout(self) -> int:
        """How long a poll may wait for records (ms).

        With nothing in hand, the configured poll time. With a poll being prepared, a
        few milliseconds, to keep the preparer fed with the next one. With a prepared
        poll waiting, none: if nothing is fetched yet, it goes on to the append at once.
        """
        ahead = self._ahead()
        if not ahead:
            return self.config.poll_ms
        return 0 if ahead.next_prepared() else min(self.config.poll_ms, LOOKAHEAD_WAIT_MS)

    async def drain(self) -> bool:
        """Store everything read so far: the batch being prepared, then the append in
        flight. False when that failed (everything in hand dropped, positions re-read)."""
        await self._hand_over_all()
        stored = await self._appended()
        await self._committed_to_kafka()
        return stored

    async def _appended(self) -> bool:
        """Wait for the append in flight; False when it failed (then recovered)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return True
        try:
            return await pending
        except StoreError as exc:
            # Another worker moved past these offsets after a rebalance (a conflict), or
            # PostgreSQL is away: the transaction rolled back whole, or its fate is not
            # known. Either way the positions are read again; only an outage waits.
            if isinstance(exc, ErasedMeanwhileError):
                log.warning("append refused: a learner of the batch was erased meanwhile")
            elif isinstance(exc, StoreConflictError):
                self.stats.conflicts += 1
                log.warning("append refused: another worker moved past these offsets first")
            await self._recover("append", exc)
            return False

    async def _process(self, records: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Start preparing this poll, then hand the poll before it over to the append.

        Behind a backlog (full polls) three polls are in flight: one appending, one
        prepared or being prepared, and this one queued behind it, so the preparer never
        waits for the loop. A poll short of a full batch is handed over as well, once
        prepared: queued, it would wait for the next poll, adding an append's time to
        its latency.
        """
        parts = self._where().in_sequence(records)
        if not parts:
            return
        if self.first_records_at is None:
            self.first_records_at = time.time()
        self._where().advance(parts)
        count = sum(len(msgs) for _, msgs in parts)
        self.stats.consumed += count
        groups = [
            (
                [m.value or b"" for m in msgs],
                Channel("kafka", issuer_of_topic(tp.topic) or f"(topic {tp.topic})"),
            )
            for tp, msgs in parts
        ]
        previous = self._ahead().submit(groups, parts)
        if previous is not None:
            await self._hand_over(previous.tag, previous.batch)
        if count < self.config.batch_size:
            # A poll short of a full batch: the worker keeps up, and the preparer needs no
            # poll queued ahead of it. This one is appended as soon as it is prepared and
            # the append before it is done, not once the next poll arrives.
            await self._hand_over_all()

    async def _hand_over_all(self) -> None:
        """Hand every poll waiting over to the append, oldest first."""
        while (prepared := self._ahead().next()) is not None:
            await self._hand_over(prepared.tag, prepared.batch)

    async def _hand_over(
        self,
        parts: Parts,
        preparing: Future[PreparedBatch],
    ) -> None:
        """Once prepared and the previous append is done: dead letters, then append.

        When preparing or the previous append failed, or the worker stops while the
        broker has not confirmed the dead letters, this poll is dropped unstored (its
        offsets are not recorded, so it is read again).
        """
        try:
            prepared = await asyncio.wrap_future(preparing)
        except StoreError as exc:
            # The preparer's look-ups (registry, learner keys, corrections) failed.
            await self._recover("preparing a batch", exc)
            return
        if not await self._appended():
            return
        messages = [m for _, msgs in parts for m in msgs]
        letters = [(messages[index], rejection) for index, rejection in prepared.rejected()]
        if letters:
            dead_letters = self._dead_letters
            assert dead_letters is not None
            # Durable before the offsets move past them: a rejected message is never lost.
            if not await dead_letters.send(letters):
                self._ahead().drop()
                return
            self.stats.dead_lettered += len(letters)
        self._pending = asyncio.create_task(self._append(parts, prepared))

    async def _append(self, parts: Parts, batch: PreparedBatch) -> bool:
        trackings = [
            Tracking(tracking_name(tp.topic, tp.partition), msgs[-1].offset) for tp, msgs in parts
        ]
        results = await asyncio.to_thread(self.ledger.pipeline.commit, batch, tracking=trackings)
        self.postgres.succeeded()
        self.stats.count(results)
        self.stats.batches += 1
        if self.on_commit is not None:
            self.on_commit([m for _, msgs in parts for m in msgs], time.time())
        self._to_commit.update({tp: msgs[-1].offset + 1 for tp, msgs in parts})
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_to_kafka())
        return True

    async def _commit_to_kafka(self) -> None:
        """Commit the offsets appended so far to Kafka; those appended while a commit is
        on its way go in the next. The next append does not wait for it: positions come
        from the ledger, and only lag reporting reads Kafka's offsets."""
        consumer = self._consumer
        assert consumer is not None
        while self._to_commit:
            offsets, self._to_commit = self._to_commit, {}
            try:
                # Bounded: with the broker away, the commit would wait for it.
                await asyncio.wait_for(consumer.commit(offsets), KAFKA_COMMIT_TIMEOUT_S)
            except (KafkaError, TimeoutError) as exc:
                log.info("offset commit to Kafka failed: %s", describe(exc))

    async def _committed_to_kafka(self) -> None:
        """Wait for the commit to Kafka on its way, if any (it fails only by logging)."""
        committing, self._committing = self._committing, None
        if committing is not None:
            await committing

    async def _update_lag(self) -> None:
        self.stats.lag = await self._where().lag()
        self._note_down()
