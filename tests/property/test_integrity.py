"""Properties of the hash chain: any single-byte change, removal or reordering is located."""

from __future__ import annotations

from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity import GENESIS, ChainVerifier, Checkpoint, StoredRow, seal
from ledger.records import learner_stream

learner_ids = st.sampled_from([f"lrn_{i}" for i in range(5)])
bodies = st.binary(min_size=0, max_size=80)


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[StoredRow], list[Checkpoint]]:
    items = draw(st.lists(st.tuples(learner_ids, bodies), min_size=1, max_size=25))
    cuts = sorted(set(draw(st.lists(st.integers(1, len(items)), max_size=4))) | {len(items)})
    rows: list[StoredRow] = []
    versions: dict[UUID, int] = {}
    prev = GENESIS
    for position, (learner, body) in enumerate(items, start=1):
        stream = learner_stream(learner)
        versions[stream] = versions.get(stream, 0) + 1
        state, prev = seal(
            prev, stream, versions[stream], "org.lll.t.v1", position.to_bytes(16, "big"), body
        )
        rows.append(StoredRow(position, stream, versions[stream], "org.lll.t.v1", state))
    checkpoints = [
        Checkpoint(i + 1, 1, cut, cut, rows[cut - 1].state[:32]) for i, cut in enumerate(cuts)
    ]
    return rows, checkpoints


def verify(rows: list[StoredRow], checkpoints: list[Checkpoint]) -> ChainVerifier:
    v = ChainVerifier(checkpoints)
    v.feed(rows)
    v.finish()
    return v


@given(logs())
def test_chain_untouched_log_verifies(log: tuple[list[StoredRow], list[Checkpoint]]) -> None:
    rows, checkpoints = log
    report = verify(rows, checkpoints).report
    assert report.ok
    assert report.events_checked == len(rows)


@settings(max_examples=300)
@given(logs(), st.data())
def test_chain_any_single_byte_change_is_detected_at_its_position(
    log: tuple[list[StoredRow], list[Checkpoint]], data: st.DataObject
) -> None:
    rows, checkpoints = log
    i = data.draw(st.integers(0, len(rows) - 1))
    state = bytearray(rows[i].state)
    offset = data.draw(st.integers(0, len(state) - 1))
    state[offset] ^= data.draw(st.integers(1, 255))
    rows[i] = rows[i]._replace(state=bytes(state))
    failure = verify(rows, checkpoints).report.failure
    assert failure is not None
    assert failure.position == rows[i].position


@given(logs(), st.data())
def test_chain_changed_metadata_is_detected(
    log: tuple[list[StoredRow], list[Checkpoint]], data: st.DataObject
) -> None:
    rows, checkpoints = log
    i = data.draw(st.integers(0, len(rows) - 1))
    field = data.draw(st.sampled_from(["version", "topic", "stream"]))
    changed = {
        "version": rows[i]._replace(version=rows[i].version + 1),
        "topic": rows[i]._replace(topic=rows[i].topic + "x"),
        "stream": rows[i]._replace(stream=learner_stream("lrn_other")),
    }[field]
    rows[i] = changed
    failure = verify(rows, checkpoints).report.failure
    assert failure is not None
    assert failure.position == rows[i].position


@given(logs(), st.data())
def test_chain_removed_event_is_detected(
    log: tuple[list[StoredRow], list[Checkpoint]], data: st.DataObject
) -> None:
    rows, checkpoints = log
    i = data.draw(st.integers(0, len(rows) - 1))
    removed = rows.pop(i)
    failure = verify(rows, checkpoints).report.failure
    assert failure is not None
    # The event after the gap breaks the link; a removed tail misses its checkpoint.
    expected = rows[i].position if i < len(rows) else removed.position
    assert failure.position == expected


@given(logs(), st.data())
def test_chain_swapped_events_are_detected_at_the_first(
    log: tuple[list[StoredRow], list[Checkpoint]], data: st.DataObject
) -> None:
    rows, checkpoints = log
    if len(rows) < 2:
        return
    i = data.draw(st.integers(0, len(rows) - 2))
    j = data.draw(st.integers(i + 1, len(rows) - 1))
    a, b = rows[i], rows[j]
    rows[i] = b._replace(position=a.position)
    rows[j] = a._replace(position=b.position)
    failure = verify(rows, checkpoints).report.failure
    assert failure is not None
    assert failure.position == a.position
