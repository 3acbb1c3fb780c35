"""The ingest sequencer: batches prepared ahead in order, knowing which keys are in flight."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence, Set
from concurrent.futures import Future
from typing import Any

import pytest

from ledger.batch import EventBatch
from ledger.outcomes import Accepted, Channel, PreparedBatch
from ledger.parallel import RECENT_BATCHES
from ledger.records import NewEvent
from ledger.sequencer import (
    STREAM_RECENT,
    InFlight,
    KeysOf,
    PreparerThread,
    Sequencer,
    commit_in_order,
    ingest_stream,
)
from tests.conftest import LedgerBuilder
from tests.unit.envelopes import course, retraction

FILE = Channel("file")
STREAM = uuid.UUID(int=1)

Groups = Sequence[tuple[Sequence[bytes | str], Channel]]


def _batch(keys: Sequence[bytes]) -> PreparedBatch:
    events = [NewEvent.of(k, STREAM, "org.lll.test.thing.v1", b"{}") for k in keys]
    return PreparedBatch([None] * len(keys), list(range(len(keys))), EventBatch.of(events))


class FakePipeline:
    """Prepares each input as an event whose key is the input; remembers what was in flight."""

    def __init__(self) -> None:
        self.in_flight: list[frozenset[bytes]] = []
        self.committed: list[list[bytes]] = []

    def prepare_groups(self, groups: Groups, *, in_flight: Set[bytes]) -> PreparedBatch:
        self.in_flight.append(frozenset(in_flight))
        keys = [
            raw if isinstance(raw, bytes) else raw.encode() for raws, _ in groups for raw in raws
        ]
        return _batch(keys)

    def commit(self, batch: PreparedBatch) -> list[Any]:
        self.committed.append([e.key for e in batch.events])
        return [Accepted(i) for i, _ in enumerate(batch.events)]


class ManualPreparer:
    """Hands out futures the test resolves itself, in any order."""

    def __init__(self) -> None:
        self.futures: list[tuple[Groups, Future[PreparedBatch]]] = []
        self.closed = False

    def ready(self) -> Future[bool]:
        done: Future[bool] = Future()
        done.set_result(True)
        return done

    def submit(self, groups: Groups) -> Future[PreparedBatch]:
        future: Future[PreparedBatch] = Future()
        self.futures.append((groups, future))
        return future

    def close(self) -> None:
        self.closed = True


def test_in_flight_last_n_batches_passed_to_preparation() -> None:
    pipeline = FakePipeline()
    sequence = InFlight(pipeline, recent=2)
    for raws in ([b"a1", b"a2"], [b"b1"], [b"c1"], [b"d1"]):
        sequence.prepare([(raws, FILE)])
    assert pipeline.in_flight == [
        frozenset(),
        {b"a1", b"a2"},
        {b"a1", b"a2", b"b1"},
        {b"b1", b"c1"},
    ]


def test_in_flight_batch_with_every_input_rejected_adds_no_keys() -> None:
    pipeline = FakePipeline()
    sequence = InFlight(pipeline, recent=2)
    for raws in ([b"a1"], [], [b"c1"]):
        sequence.prepare([(raws, FILE)])
    assert pipeline.in_flight[-1] == {b"a1"}


def test_the_keys_of_recent_batches_read_as_one_set_without_being_copied_into_one() -> None:
    keys = KeysOf((frozenset({b"a", b"b"}), frozenset(), frozenset({b"b", b"c"})))
    assert b"a" in keys
    assert b"c" in keys
    assert b"d" not in keys
    assert sorted(keys) == [b"a", b"b", b"c"]
    assert len(keys) == 3
    assert keys == {b"a", b"b", b"c"}
    assert {b"c", b"d"} & keys == {b"c"}
    assert len(KeysOf(())) == 0


def test_preparer_thread_prepares_in_submission_order_with_recent_keys() -> None:
    pipeline = FakePipeline()
    preparer = PreparerThread(pipeline, recent=RECENT_BATCHES)
    try:
        futures = [preparer.submit([([f"k{i}".encode()], FILE)]) for i in range(6)]
        prepared = [f.result(timeout=10) for f in futures]
    finally:
        preparer.close()
    assert [b.events[0].key for b in prepared] == [f"k{i}".encode() for i in range(6)]
    assert pipeline.in_flight[5] == {f"k{i}".encode() for i in range(5 - RECENT_BATCHES, 5)}


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_sequencer_submit_hands_back_the_oldest_once_more_than_depth_wait(depth: int) -> None:
    preparer = ManualPreparer()
    sequencer: Sequencer[int] = Sequencer(preparer, depth=depth)
    handed = [sequencer.submit([([b"x"], FILE)], tag) for tag in range(depth + 3)]
    assert handed[:depth] == [None] * depth
    assert [q.tag for q in handed[depth:] if q is not None] == [0, 1, 2]
    assert len(sequencer) == depth
    rest = [q.tag for q in iter(sequencer.next, None)]
    assert rest == list(range(3, depth + 3))


def test_sequencer_next_prepared_says_whether_the_oldest_is_ready() -> None:
    preparer = ManualPreparer()
    sequencer: Sequencer[str] = Sequencer(preparer, depth=2)
    assert not sequencer.next_prepared()
    sequencer.submit([([b"a"], FILE)], "a")
    sequencer.submit([([b"b"], FILE)], "b")
    preparer.futures[1][1].set_result(_batch([b"b"]))
    assert not sequencer.next_prepared()
    preparer.futures[0][1].set_result(_batch([b"a"]))
    assert sequencer.next_prepared()


def test_sequencer_drop_forgets_what_waits_and_close_stops_the_preparer() -> None:
    preparer = ManualPreparer()
    sequencer: Sequencer[str] = Sequencer(preparer, depth=2)
    sequencer.submit([([b"a"], FILE)], "a")
    sequencer.drop()
    assert len(sequencer) == 0
    assert sequencer.next() is None
    sequencer.close()
    assert preparer.closed


def test_commit_in_order_results_in_batch_order_when_preparation_finishes_out_of_order() -> None:
    preparer = ManualPreparer()
    pipeline = FakePipeline()
    sequencer: Sequencer[None] = Sequencer(preparer, depth=2)
    batches = [([f"b{i}".encode()], FILE) for i in range(5)]

    def finish_newest_first() -> None:
        for groups, future in reversed(preparer.futures):
            if not future.done():
                future.set_result(_batch([bytes(raw) for raws, _ in groups for raw in raws]))

    def feed() -> Iterator[tuple[list[bytes], Channel]]:
        for n, batch in enumerate(batches):
            yield batch
            if n % 2:
                finish_newest_first()
        finish_newest_first()

    for _ in commit_in_order(sequencer, feed(), pipeline.commit):
        pass
    assert pipeline.committed == [[f"b{i}".encode()] for i in range(5)]


def test_ingest_stream_previous_batch_keys_in_flight_and_results_in_order() -> None:
    pipeline = FakePipeline()
    batches = [([f"b{i}".encode()], FILE) for i in range(5)]
    results = list(ingest_stream(pipeline, batches))
    assert len(results) == 5
    assert pipeline.committed == [[f"b{i}".encode()] for i in range(5)]
    assert STREAM_RECENT == 1
    assert pipeline.in_flight == [frozenset()] + [{f"b{i}".encode()} for i in range(4)]


def test_ingest_stream_closed_early_appends_nothing_more() -> None:
    pipeline = FakePipeline()
    stream = ingest_stream(pipeline, [([f"b{i}".encode()], FILE) for i in range(5)])
    next(stream)
    stream.close()
    assert pipeline.committed == [[b"b0"]]


def test_ingest_stream_retraction_of_the_batch_before_is_accepted(
    make_ledger: LedgerBuilder,
) -> None:
    ledger = make_ledger()
    batches = [([course("c1")], FILE), ([retraction("r1", "c1")], FILE)]
    results = [r for rs in ledger.ingest_stream(batches) for r in rs]
    assert all(isinstance(r, Accepted) for r in results)
    assert ledger.audit().ok
