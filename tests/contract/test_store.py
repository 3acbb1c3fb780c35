"""Contract of the store port, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import Tracking

from ledger.errors import ErasedMeanwhileError, StoreConflictError
from ledger.integrity import ChainVerifier
from ledger.persistence import KeyRecord, LedgerRecorder, partition_of
from ledger.records import Appended, Duplicate, Outcomes, learner_stream
from tests.conftest import NewEventBuilder


def audit(recorder: LedgerRecorder) -> ChainVerifier:
    verifier = ChainVerifier(recorder.checkpoints())
    for page in recorder.iter_log(page=7):
        verifier.feed(page)
    verifier.finish()
    return verifier


def test_append_new_batch_assigns_consecutive_positions_and_stream_versions(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    batch = [new_event("a", "lrn_A"), new_event("b", "lrn_B"), new_event("c", "lrn_A")]
    outcomes = recorder.append(batch)
    assert outcomes == [
        Appended(1, learner_stream("lrn_A"), 1),
        Appended(2, learner_stream("lrn_B"), 1),
        Appended(3, learner_stream("lrn_A"), 2),
    ]
    assert recorder.max_position() == 3


def test_append_same_batch_twice_reports_duplicates_and_stores_nothing_more(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    batch = [new_event(f"e{i}", f"lrn_{i % 3}") for i in range(10)]
    first = recorder.append(batch)
    second = recorder.append(batch)
    assert [o.position for o in second] == [o.position for o in first]
    assert all(isinstance(o, Duplicate) for o in second)
    assert recorder.max_position() == 10
    assert len(recorder.checkpoints()) == 1


def test_append_repeat_within_one_batch_is_stored_once(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    outcomes = recorder.append([new_event("x"), new_event("y"), new_event("x")])
    assert outcomes[0] == Appended(1, learner_stream("lrn_A"), 1)
    assert outcomes[2] == Duplicate(1)
    assert recorder.max_position() == 2


def test_append_batch_answers_each_events_position_and_whether_it_is_new(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    recorder.append([new_event("x", "lrn_B")])
    batch = [new_event("y"), new_event("x", "lrn_B"), new_event("z"), new_event("y")]
    outcomes = recorder.append_batch(batch)
    assert outcomes == Outcomes([2, 1, 3, 2], b"\x01\x00\x01\x00")
    # A redelivery: every event a duplicate, at the position stored.
    assert recorder.append_batch(batch) == Outcomes([2, 1, 3, 2], bytes(4))
    assert recorder.append_batch([]) == Outcomes([], b"")
    assert [o.version for o in recorder.append([new_event("w")]) if isinstance(o, Appended)] == [3]


def test_append_same_id_from_other_source_is_a_different_event(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    outcomes = recorder.append(
        [new_event("1", source="https://a.example"), new_event("1", source="https://b.example")]
    )
    assert all(isinstance(o, Appended) for o in outcomes)


def test_append_failing_batch_stores_none_of_it(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    recorder.append([new_event("a")], tracking=Tracking("upstream", 5))
    # Tracking position 5 again is a conflict: the whole transaction must roll back.
    with pytest.raises(StoreConflictError):
        recorder.append([new_event("b"), new_event("c")], tracking=Tracking("upstream", 5))
    assert recorder.max_position() == 1
    assert recorder.positions_of([new_event("b").key]) == {}
    assert recorder.max_tracking_id("upstream") == 5


def test_append_with_tracking_records_position_in_same_transaction(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    recorder.append([new_event("a")], tracking=Tracking("kafka:uni:0", 41))
    recorder.append([], tracking=Tracking("kafka:uni:0", 42))
    assert recorder.max_tracking_id("kafka:uni:0") == 42
    assert recorder.max_tracking_id("kafka:other:0") is None


def test_select_stream_returns_one_learner_in_version_order(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    recorder.append([new_event(f"e{i}", "lrn_A" if i % 2 else "lrn_B") for i in range(6)])
    rows = recorder.select_stream(learner_stream("lrn_A"))
    assert [r.version for r in rows] == [1, 2, 3]
    assert [r.position for r in rows] == [2, 4, 6]
    assert [
        r.version for r in recorder.select_stream(learner_stream("lrn_A"), after_version=2)
    ] == [3]


def test_select_log_pages_through_global_sequence(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    for b in range(3):
        recorder.append([new_event(f"b{b}e{i}", f"lrn_{i}") for i in range(4)])
    pages = list(recorder.iter_log(page=5))
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [r.position for p in pages for r in p] == list(range(1, 13))


def test_appended_log_passes_audit_with_one_checkpoint_per_append(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    for b in range(4):
        recorder.append([new_event(f"b{b}e{i}", f"lrn_{i % 2}") for i in range(5)])
    report = audit(recorder).report
    assert report.ok, report.failure
    assert report.events_checked == 20
    assert report.checkpoints_checked == 4


def test_insert_keys_keeps_the_first_key_of_a_learner(recorder: LedgerRecorder) -> None:
    assert recorder.insert_keys([KeyRecord("lrn_A", "k1", b"first", None)]) == {
        "lrn_A": KeyRecord("lrn_A", "k1", b"first", None)
    }
    stored = recorder.insert_keys(
        [KeyRecord("lrn_A", "k1", b"second", None), KeyRecord("lrn_B", "k1", b"b", None)]
    )
    # What is stored for each learner given: the key kept, and the one added.
    assert {k: r.wrapped for k, r in stored.items()} == {"lrn_A": b"first", "lrn_B": b"b"}
    keys = recorder.load_keys(["lrn_A", "lrn_B", "lrn_C"])
    assert keys["lrn_A"].wrapped == b"first"
    assert keys["lrn_B"].wrapped == b"b"
    assert "lrn_C" not in keys


def test_erasures_are_known_by_position_and_refuse_appends_prepared_before_them(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    assert recorder.erasures_after(None) == (0, [])
    recorder.append([new_event("a", "lrn_A"), new_event("b", "lrn_B")])
    position = recorder.destroy_key("lrn_A", [new_event("erased", "lrn_A")])[0].position
    assert recorder.erasures_after(None) == (position, [])
    assert recorder.erasures_after(0) == (position, ["lrn_A"])
    assert recorder.erasures_after(position) == (position, [])
    head = recorder.max_position()
    with pytest.raises(ErasedMeanwhileError):
        recorder.append([new_event("c", "lrn_B"), new_event("d", "lrn_A")], erasures_seen=0)
    assert recorder.max_position() == head
    # Another learner's batch goes in; so does one prepared after the erasure.
    assert isinstance(recorder.append([new_event("e", "lrn_B")], erasures_seen=0)[0], Appended)
    assert isinstance(
        recorder.append([new_event("f", "lrn_A")], erasures_seen=position)[0], Appended
    )


def test_changes_since_reads_a_stream_and_the_erasures_as_the_two_calls_do(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    stream = learner_stream("lrn_B")
    assert recorder.changes_since(stream, 0, None) == ([], (0, []))
    recorder.append([new_event("a", "lrn_A"), new_event("b", "lrn_B"), new_event("c", "lrn_B")])
    position = recorder.destroy_key("lrn_A", [new_event("erased", "lrn_A")])[0].position
    rows, erasures = recorder.changes_since(stream, 1, 0)
    assert [r.version for r in rows] == [2]
    assert rows == recorder.select_stream(stream, after_version=1)
    assert erasures == (position, ["lrn_A"]) == recorder.erasures_after(0)
    assert recorder.changes_since(stream, 2, None) == ([], (position, []))
    assert recorder.changes_since(stream, 0, position)[1] == (position, [])


def test_destroy_key_leaves_a_tombstone_and_records_the_erasure(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    recorder.insert_keys(
        [KeyRecord("lrn_A", "k1", b"secret", None), KeyRecord("lrn_B", "k1", b"b", None)]
    )
    outcomes = recorder.destroy_key("lrn_A", [new_event("erased", "lrn_A")])
    assert isinstance(outcomes[0], Appended)
    # A key offered after the erasure is not stored: the tombstone is what comes back.
    again = recorder.insert_keys([KeyRecord("lrn_A", "k1", b"new", None)])
    assert again["lrn_A"].erased
    keys = recorder.load_keys(["lrn_A", "lrn_B"])
    assert keys["lrn_A"].erased
    assert keys["lrn_A"].erased_at
    assert keys["lrn_B"].wrapped == b"b"
    assert audit(recorder).report.ok


def test_stored_events_cannot_be_updated_through_the_database(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    recorder.append([new_event("a")])
    from tests.integration.tamper import raw_execute

    with pytest.raises(Exception, match="append-only"):
        raw_execute(recorder, "UPDATE {events} SET topic = 'x'")
    with pytest.raises(Exception, match="append-only"):
        raw_execute(recorder, "DELETE FROM {events}")


def test_append_records_one_position_per_partition_atomically(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    recorder.append(
        [new_event("a"), new_event("b")],
        tracking=[Tracking("kafka:t:0", 10), Tracking("kafka:t:1", 3)],
    )
    assert recorder.max_tracking_id("kafka:t:0") == 10
    assert recorder.max_tracking_id("kafka:t:1") == 3
    # One stale position fails the whole append, including the other partition's part.
    with pytest.raises(StoreConflictError):
        recorder.append(
            [new_event("c")], tracking=[Tracking("kafka:t:0", 11), Tracking("kafka:t:1", 3)]
        )
    assert recorder.max_tracking_id("kafka:t:0") == 10
    assert recorder.positions_of([new_event("c").key]) == {}


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_create_tables_by_several_workers_at_once_succeeds(database_url: str) -> None:
    import threading

    from ledger.application import open_recorder
    from ledger.settings import Settings

    errors: list[Exception] = []

    def start() -> None:
        try:
            recorder = open_recorder(Settings.from_env({}, database_url=database_url))
            recorder.create_tables()
            recorder.close()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_select_log_partition_and_bound_agree_with_partition_of(
    recorder: LedgerRecorder, new_event: NewEventBuilder
) -> None:
    for b in range(4):
        recorder.append([new_event(f"b{b}e{i}", f"lrn_{i}") for i in range(40)])
    every = [r for p in recorder.iter_log(page=50) for r in p]
    for n in (1, 2, 4, 8, 16):
        parts = [recorder.select_log(1, 1000, partition=(k, n)) for k in range(n)]
        for k, rows in enumerate(parts):
            assert all(partition_of(r.stream, n) == k for r in rows)
        merged = sorted((r for rows in parts for r in rows), key=lambda r: r.position)
        assert merged == every
    bounded = recorder.select_log(10, 1000, until=100, partition=(1, 2))
    assert bounded == [
        r for r in every if 10 <= r.position <= 100 and partition_of(r.stream, 2) == 1
    ]
    assert recorder.select_log(1, 1000, until=0) == []


@pytest.mark.parametrize("partition", [(0, 3), (2, 2), (-1, 4), (0, 0)])
def test_select_log_refuses_a_partition_that_does_not_divide_the_slices(
    recorder: LedgerRecorder, partition: tuple[int, int]
) -> None:
    with pytest.raises(ValueError, match="partition"):
        recorder.select_log(1, 10, partition=partition)
