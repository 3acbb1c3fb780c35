"""PostgreSQL's append plan, compiled (``lll_native.plan_copy``) and in Python, and the
batches it reads (``ledger.batch``): one contract.

Both place each event the way SQLite's plan does (stored before, repeated in the batch, or
new with the next version of its stream), read the compiled preparer's runs where they are
as the Python twin reads their columns, and encode the same COPY block byte for byte.
"""

from __future__ import annotations

import importlib
import itertools
import re
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.seeding import demo_population
from ledger.batch import EventBatch, PythonRun, interleaved, stream_of
from ledger.crypto import generate_key
from ledger.fastpath import NativePreparer
from ledger.integrity import GENESIS
from ledger.native import chain_copy_python, plan_copy_python
from ledger.plan import CopyPlan, plan_append, plan_copy_block
from ledger.records import LEDGER_SOURCE, Appended, Duplicate, NewEvent
from ledger.registry import Issuer
from schemas.catalogue import load_catalogue
from schemas.validation import EventValidator

NOW = "2026-12-07T12:00:00.000000Z"
CATALOGUE = load_catalogue()
TOPIC = "org.lll.test.thing.v1"


def compiled() -> Any:
    """The compiled module; a test of it fails (never skips) when it is not built."""
    try:
        return importlib.import_module("lll_native")
    except ImportError:
        pytest.fail("lll_native is not installed: build it with scripts/native")


def _event(key: int, stream: int, body: bytes = b"{}") -> NewEvent:
    return NewEvent.of(key.to_bytes(16, "big"), UUID(int=stream), TOPIC, body)


# Events over few keys and streams, so repeats and shared streams are common.
events_strategy = st.lists(
    st.builds(_event, st.integers(1, 12), st.integers(1, 4), st.binary(max_size=40)),
    max_size=25,
)


def _split(events: list[NewEvent], cuts: list[int]) -> EventBatch:
    """``events`` as segments: runs (the Python twin's) between the cuts, alternating with
    lists of events."""
    bounds = sorted({0, len(events), *(c % (len(events) + 1) for c in cuts)})
    segments: list[Any] = []
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        chunk = events[a:b]
        if n % 2:
            segments.append(chunk)
            continue
        columns = [
            list(c) for c in zip(*((e.key, e.stream.bytes, *e[2:]) for e in chunk), strict=True)
        ]
        run = PythonRun(list(range(len(chunk))), columns or [[], [], [], [], []])
        segments.append((run, 0, len(chunk)))
    return EventBatch(segments)


@settings(max_examples=80, deadline=None)
@given(
    events=events_strategy,
    cuts=st.lists(st.integers(0, 30), max_size=4),
    stored=st.dictionaries(st.integers(1, 12), st.integers(1, 10_000), max_size=4),
    heads=st.dictionaries(st.integers(1, 4), st.integers(1, 50), max_size=4),
    first=st.integers(1, 2**40),
)
def test_both_plans_place_and_encode_as_the_sqlite_plan_does(
    events: list[NewEvent],
    cuts: list[int],
    stored: dict[int, int],
    heads: dict[int, int],
    first: int,
) -> None:
    batch = _split(events, cuts)
    assert batch.events() == events
    existing = {k.to_bytes(16, "big"): p for k, p in stored.items()}
    versions = {UUID(int=s): v for s, v in heads.items()}
    twin = plan_copy_block(batch, existing, dict(versions), GENESIS, first, plan_copy_python)
    native = plan_copy_block(batch, existing, dict(versions), GENESIS, first, compiled().plan_copy)
    assert native == twin
    # The SQLite adapter's plan (a separate implementation) decides the same.
    reference = plan_append(events, existing, dict(versions), GENESIS)
    positions = list(range(first, first + twin.count))
    assert twin.outcomes(events) == reference.outcomes(positions)
    assert twin.hashes == reference.hashes
    assert twin.head == reference.head
    new = [
        (e.stream.bytes, v, e.topic, e.key, e.body, e.content)
        for e, v, fresh in zip(events, twin.versions, twin.fresh, strict=True)
        if fresh
    ]
    assert twin.block == chain_copy_python(GENESIS, first, new)[0]
    for stream, version in twin.heads.items():
        assert version == max(
            v for e, v in zip(events, twin.versions, strict=True) if e.stream == stream
        )


def test_a_compiled_run_is_read_in_place_as_its_columns_are() -> None:
    population, raw = demo_population(400, seed=7, learners=30, exclude_source=LEDGER_SOURCE)
    issuers = [
        Issuer(s.id, s.name, s.source, s.kind, frozenset(CATALOGUE.names()))
        for s in population.issuers
    ]
    preparer = NativePreparer(
        compiled(), CATALOGUE, EventValidator(CATALOGUE), max_bytes=65_536, max_depth=32
    )
    preparer.set_issuers(issuers)
    admitted = preparer.admit([orjson.dumps(e) for e in raw], None)
    _, personal = admitted.subjects()
    run, failed = preparer.seal(admitted, {s: generate_key() for s in personal}, NOW)
    assert failed == []
    assert len(run) > 300
    keys, streams, *_ = run.columns(10, 50)
    assert run.keys(10, 50) == keys
    assert run.streams(10, 50) == list(dict.fromkeys(streams))
    # Rows read in place by the compiled plan, as columns by the twin: the same plan.
    parts = [(run, 0, 150), (run, 150, len(run))]
    heads = {streams[0]: 7}
    for stored in ({}, {keys[3]: 42}):
        assert compiled().plan_copy(GENESIS, 5, parts, stored, heads) == plan_copy_python(
            GENESIS, 5, parts, stored, heads
        )
    with pytest.raises(
        ValueError, match=re.escape(f"rows 0..{len(run) + 1} are not within the run's")
    ):
        compiled().plan_copy(GENESIS, 1, [(run, 0, len(run) + 1)], {}, {})
    with pytest.raises(ValueError, match=re.escape("rows 3..2 are not within")):
        run.columns(3, 2)


def test_the_compiled_plan_names_what_is_wrong_with_a_part() -> None:
    plan = compiled().plan_copy
    row = (bytes(16), bytes(16), TOPIC, b"{}", bytes(32))
    assert plan(GENESIS, 1, [row], {}, {})[3] == [1]
    with pytest.raises(ValueError, match="a part has 3 or 5 fields, not 2"):
        plan(GENESIS, 1, [(bytes(16), 1)], {}, {})
    with pytest.raises(ValueError, match="a stream id must be 16 bytes, not 3"):
        plan(GENESIS, 1, [(bytes(16), b"abc", TOPIC, b"{}", bytes(32))], {}, {})
    with pytest.raises(ValueError, match="a body must be bytes"):
        plan(GENESIS, 1, [(bytes(16), bytes(16), TOPIC, "{}", bytes(32))], {}, {})
    with pytest.raises(ValueError, match="the previous hash must be 32 bytes"):
        plan(b"short", 1, [], {}, {})
    with pytest.raises(ValueError, match="a part has 3 or 5 fields, not 4"):
        plan_copy_python(GENESIS, 1, [(1, 2, 3, 4)], {}, {})


def test_interleaving_keeps_input_order_across_runs_and_single_events() -> None:
    events = [_event(k, k % 3) for k in range(1, 13)]

    def run_of(indexes: list[int], base: int) -> PythonRun:
        chosen = [events[base + i] for i in indexes]
        return PythonRun(
            indexes,
            [list(c) for c in zip(*((e.key, e.stream.bytes, *e[2:]) for e in chosen), strict=True)],
        )

    # Group one: inputs 0-5, the pipeline sealed 2 and 5 itself; group two: inputs 6-11,
    # its preparer failed (no run), the pipeline sealed 8; 11 was rejected.
    runs = [(run_of([0, 1, 3, 4], 0), 0, 6)]
    singles = {2: events[2], 5: events[5], 8: events[8]}
    indexes, batch = interleaved(runs, singles)
    assert indexes == [0, 1, 2, 3, 4, 5, 8]
    assert batch.events() == [events[i] for i in indexes]
    assert len(batch) == 7
    assert batch[2] == events[2]
    assert list(batch) == batch.events()
    assert batch.keys() == [events[i].key for i in indexes]
    assert batch.stream_ids() == list(dict.fromkeys(events[i].stream for i in indexes))
    assert [len(p) for p in batch.parts()] == [3, 5, 3, 5, 5]
    assert EventBatch.of(batch) is batch
    assert EventBatch.of(batch.events()) == batch
    assert EventBatch.of([]).segments == []
    assert not EventBatch.of([])
    assert stream_of(events[4].stream.bytes) == events[4].stream


def test_a_plan_answers_outcome_objects_for_callers_of_append() -> None:
    a, b = _event(1, 1), _event(2, 1)
    plan = CopyPlan(b"", bytes(64), bytes(32), [7, 8, 7], b"\x01\x01\x00", [3, 4, 0], {})
    assert plan.count == 2
    assert plan.outcomes([a, b, a]) == [
        Appended(7, a.stream, 3),
        Appended(8, b.stream, 4),
        Duplicate(7),
    ]
