"""Kafka topic names: one topic per issuer (so the topic authenticates it), and dead letters."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from ledger.registry import IssuerRegistry

TOPIC_PREFIX = "lll.issuer."
DEFAULT_PARTITIONS = 4
# Largest dead letter: any message the issuer topics take (1 MiB by default), plus the
# reasons and origin headers the worker adds, fits well within it.
DEAD_LETTER_MAX_BYTES = 8 << 20
DEAD_LETTER_CONFIG = {"max.message.bytes": str(DEAD_LETTER_MAX_BYTES)}


def issuer_topic(issuer_id: str) -> str:
    """The topic only ``issuer_id`` may write (Kafka ACLs enforce it in production)."""
    return TOPIC_PREFIX + issuer_id


def registered_topics(registry: IssuerRegistry) -> list[str]:
    """The topics of every registered issuer (the ledger itself publishes through its API)."""
    registry.refresh()
    return [issuer_topic(i.id) for i in registry.all() if i.kind != "ledger"]


def issuer_of_topic(topic: str) -> str | None:
    """The issuer a topic belongs to, or None for a topic outside the convention."""
    return topic.removeprefix(TOPIC_PREFIX) if topic.startswith(TOPIC_PREFIX) else None


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    partitions: int = DEFAULT_PARTITIONS,
    dead_letter: str | None = None,
    configs: Mapping[str, str] | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; return the ones created.

    Args:
        dead_letter: the dead-letter topic (created too): it takes messages up to
            DEAD_LETTER_MAX_BYTES, so any message an issuer topic took still fits with
            its reasons added.
        configs: topic settings for the topics in ``names`` (not the dead-letter topic).
    """
    names = [*names, *([dead_letter] if dead_letter else [])]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [n for n in dict.fromkeys(names) if n not in existing]
        if wanted:
            # Another worker may create one meanwhile.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            n,
                            num_partitions=partitions,
                            replication_factor=1,
                            topic_configs=(
                                DEAD_LETTER_CONFIG if n == dead_letter else dict(configs or {})
                            ),
                        )
                        for n in wanted
                    ]
                )
        return wanted
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Delete topics that exist (benchmarks and tests clean up after themselves)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in dict.fromkeys(names) if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
