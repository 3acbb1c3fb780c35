"""A poison flood on Kafka: every hostile message dead-lettered with reasons, the good ones stored once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from bench.hostile import hostile_inputs
from consumers.publisher import partition_key
from consumers.topics import issuer_topic
from ledger.application import Ledger
from ledger.crypto import generate_key
from ledger.outcomes import Channel, Rejected
from ledger.settings import Settings
from tests.integration.kafka_support import (
    Scenario,
    count_present,
    kafka_population,
    keys_of,
    last_stats,
    read_topic,
    wait_for,
)
from tests.integration.test_kafka_ingest import assert_exactly_once_in_order

POISON = 3000
# Over the event size limit (262,144) but well under the broker's largest message (1 MiB).
MAX_MESSAGE = 300_000
# Rejections that depend on what is stored already; a flood keeps only the others.
STATEFUL_RULES = {"exists", "not-erased"}


def poison_for(world: Scenario, events: list[dict[str, Any]], issuer_id: str) -> list[bytes]:
    """Hostile mutations of ``events`` that the pipeline rejects whatever else is stored:
    each is tried alone on an empty scratch ledger with the same issuers first."""
    settings = Settings.from_env(
        {}, database_url=f"sqlite:///{world.tmp}/scratch.db", _master_key=generate_key()
    )
    candidates = [
        raw
        for _, raw in hostile_inputs(
            events, seed=41, count=POISON * 2, max_bytes=settings.max_event_bytes, good_share=0
        )
        if len(raw) <= MAX_MESSAGE
    ]
    kept = []
    with Ledger.open(settings) as scratch:
        for spec in world.issuers.values():
            scratch.registry.register(
                spec.id, name=spec.name, source=spec.source, kind=spec.kind, types=spec.types
            )
        for raw in candidates:
            (result,) = scratch.ingest([raw], Channel("kafka", issuer_id))
            if isinstance(result, Rejected) and result.problems[0].rule not in STATEFUL_RULES:
                kept.append(raw)
            if len(kept) == POISON:
                break
    assert len(kept) == POISON
    return kept


async def publish_raw(bootstrap: str, issuer_id: str, values: list[bytes]) -> None:
    """Send each value as it is (empty ones too), keyed as `ledger publish` keys them."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", max_request_size=4 << 20
    )
    await producer.start()
    try:
        topic = issuer_topic(issuer_id)
        sent = [
            await producer.send(topic, value, key=partition_key(value, issuer_id))
            for value in values
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def interleaved(first: list[bytes], second: list[bytes]) -> list[bytes]:
    """Both lists in their own order, spread evenly through each other."""
    keyed = [((i + 0.5) / len(first), 0, v) for i, v in enumerate(first)]
    keyed += [((i + 0.5) / len(second), 1, v) for i, v in enumerate(second)]
    return [v for *_, v in sorted(keyed, key=lambda k: k[:2])]


def test_poison_flood_is_dead_lettered_and_good_events_of_the_same_learners_stored_once(
    scenario: Scenario,
) -> None:
    specs, by_source = kafka_population(42, 120)
    scenario.register(specs)
    uni = next(s for s in specs if s.id == "uni-north")
    issuer_id = scenario.issuers[uni.source].id
    good = by_source[uni.source]
    poison = poison_for(scenario, good, issuer_id)
    # Spread through the learners' own events: poison comes before and after good events.
    lines = interleaved([orjson.dumps(e) for e in good], poison)
    asyncio.run(publish_raw(scenario.bootstrap, issuer_id, lines))
    worker = scenario.start_worker("w1")
    keys = keys_of(good)
    with scenario.open() as ledger:
        wait_for(
            lambda: (
                worker.poll() is not None
                or (
                    last_stats(scenario, "w1").get("dead_lettered") == len(poison)
                    and count_present(ledger, keys) == len(keys)
                )
            ),
            timeout=300,
            what="the good events stored and the poison dead-lettered",
        )
    assert worker.poll() is None, scenario.worker_log("w1")[-3000:]
    dead = asyncio.run(read_topic(scenario.bootstrap, scenario.dead_letter_topic, len(poison)))
    assert Counter(m["value"] or b"" for m in dead) == Counter(poison)
    rules: Counter[str] = Counter()
    for m in dead:
        reasons = orjson.loads(m["headers"]["lll-reason"])
        assert reasons
        assert all({"path", "rule", "message"} <= set(r) for r in reasons)
        rules[reasons[0]["rule"]] += 1
    assert {"json", "max-depth", "max-size", "type"} <= set(rules)
    stats = last_stats(scenario, "w1")
    assert (stats["rejected"], stats["accepted"]) == (len(poison), len(good))
    scenario.stop_all()
    assert worker.returncode == 0  # the same process throughout: it never restarted
    assert_exactly_once_in_order(scenario, good)
