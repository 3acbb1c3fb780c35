"""Where each partition resumes: just after the offset the ledger recorded with its events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from consumers.outage import Outage
from ledger.errors import StoreConflictError, StoreError
from ledger.persistence import LedgerRecorder

log = logging.getLogger("lll.ingest")

TRACKING_PREFIX = "kafka:"

Parts = list[tuple[TopicPartition, list[ConsumerRecord]]]


def tracking_name(topic: str, partition: int) -> str:
    """Name under which a partition's consumed offset is tracked in the ledger."""
    return f"{TRACKING_PREFIX}{topic}:{partition}"


class Positions:
    """Seeks partitions to the offsets the ledger holds (the truth, never Kafka's
    committed offsets) and drops records fetched from anywhere else.

    Args:
        consumer: the worker's consumer.
        recorder: the ledger's store (its tracking table).
        outage: PostgreSQL's failed attempts, for :meth:`resume`.
        pause: waits that many seconds; True when the worker is stopping.
        on_positioned: called after each successful seek of a non-empty set.
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        recorder: LedgerRecorder,
        outage: Outage,
        pause: Callable[[float], Awaitable[bool]],
        on_positioned: Callable[[], None],
    ) -> None:
        self.consumer = consumer
        self.recorder = recorder
        self.outage = outage
        self.pause = pause
        self.on_positioned = on_positioned
        # Next offset each partition must deliver; records from elsewhere are stale.
        self.expected: dict[TopicPartition, int] = {}

    async def seek(self, partitions: Sequence[TopicPartition]) -> None:
        """Seek each partition to just after the offset stored with the ledger's events.

        Raises:
            StoreError: the tracking table could not be read (nothing was moved).
        """
        recorder = self.recorder

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
            self.consumer.seek(tp, position)
            self.expected[tp] = position
        log.info("assigned %s", sorted(f"{tp.topic}:{tp.partition}" for tp in partitions))
        if partitions:
            self.on_positioned()

    async def resume(
        self,
        partitions: Callable[[], list[TopicPartition]],
        what: str = "",
        exc: StoreError | None = None,
    ) -> None:
        """:meth:`seek` ``partitions()`` (asked again at each attempt), retrying while
        PostgreSQL fails; ``exc`` is the failure of ``what`` that brought us here, and
        each attempt after a failure waits as the outage says (a conflict is no outage:
        the positions are read again at once). Returns early when the worker is stopping.

        Raises:
            OutageTooLongError: PostgreSQL failed for longer than the outage limit.
        """
        while True:
            outage = exc is not None and not isinstance(exc, StoreConflictError)
            if outage and await self.pause(self.outage.failed(what, exc)):
                return
            try:
                await self.seek(partitions())
                return
            except StoreError as again:
                what, exc = "reading positions from the ledger", again

    def advance(self, parts: Parts) -> None:
        """The next records expected are the ones after these."""
        for tp, msgs in parts:
            self.expected[tp] = msgs[-1].offset + 1

    def in_sequence(self, records: dict[TopicPartition, list[ConsumerRecord]]) -> Parts:
        """Drop records fetched from a stale position (before a seek took effect)."""
        parts = []
        for tp, msgs in records.items():
            if not msgs:
                continue
            expected = self.expected.get(tp)
            if expected is not None and msgs[0].offset != expected:
                self.consumer.seek(tp, expected)
                continue
            parts.append((tp, msgs))
        return parts

    def owned(self, partitions: Sequence[TopicPartition] | None = None) -> list[TopicPartition]:
        """Those of ``partitions`` (default: all) assigned to this worker now."""
        mine = self.consumer.assignment()
        return list(mine) if partitions is None else [tp for tp in partitions if tp in mine]

    async def lag(self) -> dict[str, int]:
        """Messages behind the broker's high-water mark, per owned partition it reported."""
        lag: dict[str, int] = {}
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            try:
                position = await self.consumer.position(tp)
            except KafkaError:
                continue
            lag[f"{tp.topic}:{tp.partition}"] = max(0, high - position)
        return lag
