"""Properties of the projection runner: incremental projection equals a rebuild from zero."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.outcomes import Channel
from projections.activity import NAME as ACTIVITY
from projections.activity import LearnerActivityProjection
from projections.learner_record import ACTIVITY_LOGS, NAME, LearnerRecordProjection
from projections.runner import Projector
from projections.sqlite import SQLiteProjectionStore
from tests.property.test_pipeline import fresh_ledger
from tests.strategies import event_batches

FILE = Channel("file")
PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def fresh_store() -> Iterator[SQLiteProjectionStore]:
    """An empty read model in a folder of its own, closed and removed after use."""
    with tempfile.TemporaryDirectory(prefix="ledger-read-") as folder:
        store = SQLiteProjectionStore(folder + "/read.db")
        try:
            store.create_tables()
            yield store
        finally:
            store.close()


@PROPERTY
@given(
    event_batches(max_size=40, learner_pool=5),
    st.lists(st.integers(1, 12), min_size=1, max_size=6),
    st.integers(1, 9),
    st.booleans(),
)
def test_incremental_projection_equals_rebuild_from_zero(
    batch: list[dict[str, Any]], cuts: list[int], page: int, erase: bool
) -> None:
    """Ingest in chunks, catching up between them in small pages (erasing a learner on
    the way), then compare with a rebuild of the whole log into an empty store: the
    learner record, and the disclosures and exports logged apart."""
    erased: set[str] = set()
    with fresh_store() as incremental, fresh_store() as rebuilt, fresh_ledger() as ledger:
        runner = Projector(ledger, incremental, LearnerRecordProjection(), page=page)
        logs = Projector(ledger, incremental, LearnerActivityProjection(), page=page)
        start = 0
        for size in [*cuts, len(batch)]:
            chunk = batch[start : start + size]
            start += size
            ledger.ingest([orjson.dumps(e) for e in chunk], FILE)
            runner.catch_up()
            logs.catch_up()
            if erase and start >= len(batch) // 2:
                learners = sorted({e["subject"] for e in batch if "subject" in e})
                if learners:
                    ledger.erase(learners[0])
                    erased.add(learners[0])
                erase = False
        runner.catch_up()
        logs.catch_up()
        Projector(ledger, rebuilt, LearnerRecordProjection(), page=1000).rebuild()
        Projector(ledger, rebuilt, LearnerActivityProjection(), page=1000).rebuild()
        for name in (NAME, ACTIVITY):
            assert (
                incremental.position(name)
                == rebuilt.position(name)
                == ledger.recorder.max_position()
            )
            assert list(incremental.scan(name)) == list(rebuilt.scan(name))
        # Every learner an event concerns has a record (a tombstone once erased), save
        # those only disclosed or exported (logged apart, in projections.activity).
        assert [k for k, _ in rebuilt.scan(NAME)] == sorted(
            erased
            | {e["subject"] for e in batch if "subject" in e and e["type"] not in ACTIVITY_LOGS}
        )


class FailingOnce(LearnerRecordProjection):
    """The learner record, failing once on the ``fail_at``-th event it applies."""

    def __init__(self, fail_at: int) -> None:
        self.left = fail_at

    def apply(self, docs: dict[str, Any], event: Any) -> None:
        self.left -= 1
        if self.left == 0:
            raise RuntimeError("injected failure")
        super().apply(docs, event)


@PROPERTY
@given(
    event_batches(max_size=40, learner_pool=5),
    st.integers(1, 9),
    st.integers(1, 60),
    st.integers(1, 60),
)
def test_runner_holding_pages_in_memory_applies_each_event_once_despite_a_failure(
    batch: list[dict[str, Any]], page: int, flush_rows: int, fail_at: int
) -> None:
    """Pages held in memory between saves (any ``flush_rows``), a failure in the middle,
    a retry by the same runner: the read model equals one projected page by page."""
    with fresh_store() as held, fresh_store() as reference, fresh_ledger() as ledger:
        ledger.ingest([orjson.dumps(e) for e in batch], FILE)
        projection = FailingOnce(fail_at)
        runner = Projector(ledger, held, projection, page=page, flush_rows=flush_rows)
        try:
            runner.catch_up()
        except RuntimeError:
            assert projection.left == 0
        runner.catch_up()
        Projector(ledger, reference, LearnerRecordProjection(), page=1).catch_up()
        assert held.position(NAME) == reference.position(NAME) == ledger.recorder.max_position()
        assert list(held.scan(NAME)) == list(reference.scan(NAME))
