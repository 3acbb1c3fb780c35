"""Properties of the ingest pipeline and store, over generated events of every type."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.crypto import generate_key
from ledger.outcomes import Accepted, Channel, Duplicated
from ledger.settings import Settings
from schemas import EventValidator, load_catalogue
from tests.strategies import EVENT_STRATEGIES, ISSUERS, event_batches, target_of
from tests.strategies.credentials import register_issuers

FILE = Channel("file")
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def fresh_ledger() -> Iterator[Ledger]:
    """An empty ledger in a folder of its own, removed (with the ledger closed) after use:
    hypothesis opens one per example, hundreds per run."""
    with tempfile.TemporaryDirectory(prefix="ledger-prop-") as folder:
        settings = Settings.from_env(
            {}, database_url=f"sqlite:///{folder}/l.db", _master_key=generate_key()
        )
        with Ledger.open(settings) as ledger:
            register_issuers(ledger.registry, ISSUERS)
            yield ledger


def lines(batch: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(e) for e in batch]


def snapshot(ledger: Ledger) -> list[tuple[int, str, bytes]]:
    return [(r.position, r.topic, r.state) for r in ledger.iter_log_rows()]


@PROPERTY
@given(event_batches(max_size=25))
def test_pipeline_batch_appended_twice_equals_appended_once(batch: list[dict[str, Any]]) -> None:
    with fresh_ledger() as ledger:
        first = ledger.ingest(lines(batch), FILE)
        before = snapshot(ledger)
        second = ledger.ingest(lines(batch), FILE)
        assert all(isinstance(r, Accepted) for r in first)
        assert [type(r) for r in second] == [Duplicated] * len(batch)
        assert [r.position for r in second] == [r.position for r in first]  # type: ignore[union-attr]
        assert snapshot(ledger) == before


@PROPERTY
@given(event_batches(max_size=25), st.integers(1, 7))
def test_pipeline_keeps_each_learners_order_across_batch_sizes(
    batch: list[dict[str, Any]], size: int
) -> None:
    with fresh_ledger() as ledger:
        for start in range(0, len(batch), size):
            ledger.ingest(lines(batch[start : start + size]), FILE)
        for learner in {e["subject"] for e in batch if "subject" in e}:
            stored = [e.envelope["id"] for e in ledger.learner_events(learner)]
            assert stored == [e["id"] for e in batch if e.get("subject") == learner]


@PROPERTY
@given(st.sampled_from(sorted(EVENT_STRATEGIES)).flatmap(lambda n: EVENT_STRATEGIES[n]))
def test_any_well_formed_event_survives_validation_and_storage_unchanged(
    event: dict[str, Any],
) -> None:
    assert EventValidator(load_catalogue()).validate(event) == []
    with fresh_ledger() as ledger:
        if ".corrections." in event["type"]:
            ledger.ingest([orjson.dumps(target_of(event))], FILE)
        (result,) = ledger.ingest([orjson.dumps(event)], FILE)
        assert isinstance(result, Accepted)
        (row,) = ledger.recorder.select_log(result.position, 1)
        stored = ledger.decode(row.position, row.stream, row.version, row.topic, row.state)
        assert stored.envelope == event
        assert not stored.erased


@PROPERTY
@given(
    event_batches(
        min_size=2,
        max_size=25,
        types=[
            n
            for n in sorted(EVENT_STRATEGIES)
            if ".learner." in n or ".learning." in n or ".work." in n
        ],
    )
)
def test_erasing_one_learner_never_affects_anothers_readable_data(
    batch: list[dict[str, Any]],
) -> None:
    with fresh_ledger() as ledger:
        ledger.ingest(lines(batch), FILE)
        learners = sorted({e["subject"] for e in batch})
        victim, others = learners[0], learners[1:]
        ledger.erase(victim)
        for learner in others:
            read = [e.envelope for e in ledger.learner_events(learner)]
            assert read == [e for e in batch if e["subject"] == learner]
        catalogue = load_catalogue()
        erased_view = ledger.learner_events(victim)
        for stored in erased_view[:-1]:  # the last is the erasure record itself
            personal = catalogue.get(stored.topic).personal_paths
            had_personal = stored.erased
            for path in personal:
                if len(path) == 1:
                    assert path[0] not in stored.envelope["data"]
            assert had_personal or stored.envelope in batch
        # A fresh process (no cached keys) cannot read the victim's personal data either.
        reopened = Ledger(ledger.settings, ledger.recorder)
        assert [e.erased for e in reopened.learner_events(victim)] == [
            e.erased for e in erased_view
        ]
        assert ledger.audit().ok
