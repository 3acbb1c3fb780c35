"""The worker's Kafka clients, made by a factory it is given (tests pass fakes instead of a broker)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from consumers.settings import WorkerConfig
from consumers.topics import ensure_topics

# Largest message the worker fetches from or sends to a partition (dead letters included).
MAX_MESSAGE_BYTES = 4 << 20


class KafkaClients(Protocol):
    """Makes the clients of one worker; each is started and stopped by the worker."""

    def consumer(self) -> AIOKafkaConsumer:
        """The consumer of the issuer topics (offsets committed by hand, never auto)."""
        ...

    def producer(self) -> AIOKafkaProducer:
        """An idempotent producer, for dead letters."""
        ...

    async def ensure_topics(self, topics: Sequence[str], *, dead_letter: str) -> None:
        """Create ``topics`` and the ``dead_letter`` topic where they do not exist yet."""
        ...


class AIOKafkaClients:
    """The aiokafka clients, configured from a :class:`~consumers.settings.WorkerConfig`."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config

    def consumer(self) -> AIOKafkaConsumer:
        config = self.config
        return AIOKafkaConsumer(
            bootstrap_servers=config.bootstrap,
            group_id=config.group,
            client_id=config.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=config.batch_size,
            max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
            group_instance_id=config.instance_id,
            session_timeout_ms=config.session_timeout_ms,
            heartbeat_interval_ms=max(100, config.session_timeout_ms // 4),
        )

    def producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.config.bootstrap,
            enable_idempotence=True,
            acks="all",
            max_request_size=MAX_MESSAGE_BYTES,
        )

    async def ensure_topics(self, topics: Sequence[str], *, dead_letter: str) -> None:
        await ensure_topics(self.config.bootstrap, topics, dead_letter=dead_letter)
