"""ensure_topics on the real broker: settings given for the issuer topics apply to them,
not to the dead-letter topic."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from consumers.topics import delete_topics, ensure_topics
from tests.integration.kafka_support import kafka_bootstrap

# Kafka's timestamp types, as consumed records carry them.
CREATE_TIME, LOG_APPEND_TIME = 0, 1
LONG_AGO_MS = 1_000_000_000_000  # 2001


async def _timestamp_type(bootstrap: str, topic: str) -> tuple[int, int]:
    """Send one message stamped long ago; the (type, timestamp) it is read back with."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", timestamp_ms=LONG_AGO_MS)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    return record.timestamp_type, record.timestamp


def test_topic_settings_apply_to_the_issuer_topics_not_the_dead_letter_topic() -> None:
    bootstrap = kafka_bootstrap()
    suffix = uuid.uuid4().hex[:8]
    issuer, dead = f"lll.test-topics-{suffix}", f"lll.deadletter.test-{suffix}"
    created = asyncio.run(
        ensure_topics(
            bootstrap,
            [issuer],
            dead_letter=dead,
            configs={"message.timestamp.type": "LogAppendTime"},
        )
    )
    try:
        assert sorted(created) == sorted([issuer, dead])
        kind, stamped = asyncio.run(_timestamp_type(bootstrap, issuer))
        assert kind == LOG_APPEND_TIME
        assert stamped > LONG_AGO_MS
        assert asyncio.run(_timestamp_type(bootstrap, dead)) == (CREATE_TIME, LONG_AGO_MS)
    finally:
        asyncio.run(delete_topics(bootstrap, [issuer, dead]))
