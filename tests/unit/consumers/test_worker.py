"""The Kafka ingest worker against an in-memory broker and an embedded SQLite ledger."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord, TopicPartition

from consumers.metrics import WorkerStats
from consumers.positions import tracking_name
from consumers.settings import WorkerConfig
from consumers.topics import issuer_topic
from consumers.worker import IngestWorker
from ledger.application import Ledger
from ledger.errors import StoreConflictError, StoreError, StoreUnavailableError
from tests.conftest import LedgerBuilder
from tests.unit.consumers.fakes import FakeBroker, FakeClients
from tests.unit.envelopes import LEARNER, course

TOPIC = issuer_topic("uni-north")
DEAD_LETTERS = "lll.deadletter.unit"
# Longest a test waits for the worker to store what it was given.
WITHIN_S = 20.0


def worker_for(ledger: Ledger, clients: FakeClients) -> IngestWorker:
    config = WorkerConfig(
        bootstrap="fake:9092",
        group="unit",
        dead_letter_topic=DEAD_LETTERS,
        topics=(TOPIC,),
        batch_size=8,
        poll_ms=10,
        prepare_in_process=False,
    )
    return IngestWorker(ledger, config, clients)


def run_until(worker: IngestWorker, messages: int) -> WorkerStats:
    """Run the worker until ``messages`` are committed to the ledger, then stop it."""
    committed: list[ConsumerRecord] = []
    worker.on_commit = lambda records, _: committed.extend(records)

    async def main() -> WorkerStats:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + WITHIN_S
        while len(committed) < messages and not task.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        return await task

    stats = asyncio.run(main())
    assert len(committed) == messages
    return stats


def stored_ids(ledger: Ledger) -> list[str]:
    return [e.envelope["id"] for e in ledger.learner_events(LEARNER)]


def publish_courses(broker: FakeBroker, count: int, partitions: int = 2) -> list[str]:
    ids = [f"c{i}" for i in range(count)]
    for i, event_id in enumerate(ids):
        broker.publish(TOPIC, i % partitions, course(event_id))
    return ids


def test_worker_records_appended_once_and_offsets_committed_after_the_append(
    make_ledger: LedgerBuilder,
) -> None:
    ledger = make_ledger()
    broker = FakeBroker()
    ids = publish_courses(broker, 30)
    early: list[tuple[TopicPartition, int, int | None]] = []

    def check(offsets: dict[TopicPartition, int]) -> None:
        for tp, following in offsets.items():
            stored = ledger.recorder.max_tracking_id(tracking_name(tp.topic, tp.partition))
            if stored is None or stored < following - 1:
                early.append((tp, following, stored))

    clients = FakeClients(broker, on_commit=check)
    stats = run_until(worker_for(ledger, clients), len(ids))

    assert sorted(stored_ids(ledger)) == sorted(ids)
    assert stats.dead_lettered == 0
    assert stats.conflicts == 0
    # Kafka learns of an offset only once the ledger holds it.
    assert early == []
    (consumer,) = clients.consumers
    last = {tp: offset for commit in consumer.commits for tp, offset in commit.items()}
    assert last == {TopicPartition(TOPIC, 0): 15, TopicPartition(TOPIC, 1): 15}
    assert ledger.audit().ok

    # A new worker resumes after the offsets the ledger holds: only the new record.
    broker.publish(TOPIC, 0, course("c-late"))
    run_until(worker_for(ledger, FakeClients(broker)), 1)
    assert sorted(stored_ids(ledger)) == sorted([*ids, "c-late"])


def test_worker_poison_record_goes_to_the_dead_letter_and_the_batch_continues(
    make_ledger: LedgerBuilder,
) -> None:
    ledger = make_ledger()
    broker = FakeBroker()
    broker.publish(TOPIC, 0, course("before"))
    broker.publish(TOPIC, 0, b"{not json", key=b"k")
    broker.publish(TOPIC, 0, course("after"))
    stats = run_until(worker_for(ledger, FakeClients(broker)), 3)

    assert stored_ids(ledger) == ["before", "after"]
    assert stats.dead_lettered == 1
    (letter,) = broker.sent
    assert letter.topic == DEAD_LETTERS
    assert (letter.value, letter.key) == (b"{not json", b"k")
    assert letter.headers["lll-original-topic"] == TOPIC.encode()
    assert letter.headers["lll-original-offset"] == b"1"
    assert orjson.loads(letter.headers["lll-reason"])
    assert ledger.recorder.max_tracking_id(tracking_name(TOPIC, 0)) == 2


def _fail_first_append(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, error: StoreError
) -> list[float]:
    """The ledger's first append raises ``error`` (nothing stored); returns when it did."""
    append = ledger.recorder.append
    failed_at: list[float] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if not failed_at:
            failed_at.append(time.monotonic())
            raise error
        return append(*args, **kwargs)

    monkeypatch.setattr(ledger.recorder, "append", flaky)
    return failed_at


def test_worker_store_outage_backs_off_and_repositions_without_a_conflict(
    make_ledger: LedgerBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = make_ledger()
    broker = FakeBroker()
    ids = publish_courses(broker, 12)
    clients = FakeClients(broker)
    worker = worker_for(ledger, clients)
    worker.postgres.first_delay = 0.2
    failed_at = _fail_first_append(ledger, monkeypatch, StoreUnavailableError("database away"))

    stats = run_until(worker, len(ids))

    assert sorted(stored_ids(ledger)) == sorted(ids)
    assert stats.conflicts == 0
    assert stats.retries >= 1
    (failure,) = failed_at
    (consumer,) = clients.consumers
    # Every owned partition positioned again from the ledger, after the backoff.
    again = [(tp, at) for tp, _, at in consumer.seeks if at > failure]
    assert {tp for tp, _ in again} == {TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)}
    assert min(at for _, at in again) - failure >= 0.2
    assert ledger.audit().ok


def test_worker_conflict_repositions_at_once_and_counts_a_conflict(
    make_ledger: LedgerBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = make_ledger()
    broker = FakeBroker()
    ids = publish_courses(broker, 12)
    worker = worker_for(ledger, FakeClients(broker))
    _fail_first_append(ledger, monkeypatch, StoreConflictError("another worker moved on"))

    stats = run_until(worker, len(ids))

    assert sorted(stored_ids(ledger)) == sorted(ids)
    assert stats.conflicts == 1
    assert stats.retries == 0
