"""Rebuilding a read model beside the live one, shared out over processes, and killed."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.errors import StoreError
from ledger.records import LedgerEvent
from ledger.settings import Settings
from projections.learner_record import NAME, LearnerRecordProjection
from projections.rebuild import PARTS, shadow_name
from projections.runner import Projector
from projections.store import Document, ProjectionStore, open_projection_store
from tests.integration.test_projections import cli, populate

LEARNERS = 120
PARENT = os.getpid()


class StampedRecord(LearnerRecordProjection):
    """The learner record, each document stamped with the process that built it.

    With ``started`` set, a worker process marks that file at its first event, and this
    process waits for the mark at its first: each then takes a part however the machine
    schedules them (forked under load, a worker may start after this one took every part).
    """

    started: Path | None = None

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        if self.started is not None:
            if os.getpid() != PARENT:
                self.started.touch()
            else:
                wait_for(self.started.exists, "a rebuild worker's first event")
                self.started = None
        return super().keys(event)

    def finish(self, doc: Document) -> Document:
        return {**super().finish(doc), "builtBy": os.getpid()}


def wait_for(condition: Callable[[], bool], what: str, limit_s: float = 120.0) -> None:
    """Return once ``condition`` holds; fail the test if it does not within ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {limit_s:.0f} s for {what}")
        time.sleep(0.01)


class FailingInWorkers(LearnerRecordProjection):
    """The learner record, except that a worker process fails on its first event."""

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        if os.getpid() != PARENT:
            raise RuntimeError("the projection broke in a worker")
        return super().keys(event)


def unstamped(docs: list[tuple[str, Document]]) -> list[tuple[str, Document]]:
    return [(k, {f: v for f, v in d.items() if f != "builtBy"}) for k, d in docs]


def no_shadows_left(store: ProjectionStore) -> bool:
    names = [shadow_name(NAME, k) for k in range(16)]
    return all(store.position(n) == 0 and not list(store.scan(n)) for n in names)


@pytest.fixture
def ledger_env(database_url: str) -> dict[str, str]:
    master_key = encode_key(generate_key())
    populate(database_url, master_key, learners=LEARNERS)
    return {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_MASTER_KEY": master_key}


@contextmanager
def opened(env: dict[str, str]) -> Iterator[tuple[Ledger, ProjectionStore]]:
    """The ledger and its read models, as the CLI would open them with ``env``."""
    settings = Settings.from_env(env)
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            yield ledger, store
        finally:
            store.close()


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_rebuild_by_two_processes_equals_the_incremental_read_model(
    ledger_env: dict[str, str], tmp_path: Path
) -> None:
    with opened(ledger_env) as (ledger, store):
        projection = StampedRecord()
        runner = Projector(ledger, store, projection, page=37)
        runner.catch_up()
        incremental = list(store.scan(NAME))
        projection.started = tmp_path / "worker-started"
        head = ledger.recorder.max_position()
        assert runner.rebuild(workers=2) == head
        rebuilt = list(store.scan(NAME))
        assert store.position(NAME) == head
        assert no_shadows_left(store)
    assert unstamped(rebuilt) == unstamped(incremental)
    assert len(rebuilt) == LEARNERS
    builders = {d["builtBy"] for _, d in rebuilt}
    assert len(builders) == 2, "both processes took parts"
    assert PARENT in builders


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_rebuild_whose_worker_fails_leaves_the_read_model_in_place(
    ledger_env: dict[str, str],
) -> None:
    with opened(ledger_env) as (ledger, store):
        Projector(ledger, store, LearnerRecordProjection()).catch_up()
        before, position = list(store.scan(NAME)), store.position(NAME)
        runner = Projector(ledger, store, FailingInWorkers(), page=11)
        with pytest.raises(StoreError, match=r"rebuild worker failed: .*broke in a worker"):
            runner.rebuild(workers=2)
        assert list(store.scan(NAME)) == before
        assert store.position(NAME) == position


def processes_using(database_url: str) -> list[int]:
    """Live processes whose environment names this database (the CLI and its workers)."""
    marker = f"LEDGER_DATABASE_URL={database_url}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def test_rebuild_killed_midway_keeps_the_read_model_and_its_workers_exit(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    master_key = encode_key(generate_key())
    head = populate(url, master_key, learners=3 * LEARNERS)
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_MASTER_KEY": master_key}
    settings = Settings.from_env(env)
    store = open_projection_store(settings)
    try:
        with Ledger.open(settings) as ledger:
            Projector(ledger, store, LearnerRecordProjection()).catch_up()
        before = list(store.scan(NAME))
        proc = cli(env, "rebuild", "--name", NAME, "--workers", "2", "--page", "1", "--no-progress")
        shadows = [shadow_name(NAME, k) for k in range(PARTS)]
        deadline = time.monotonic() + 60
        while sum(store.position(s) > 0 for s in shadows) < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "the rebuild made no progress"
            time.sleep(0.01)
        assert len(processes_using(url)) == 2, "the CLI and one worker"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # The worker has seconds of work left; it looks for its parent every 0.5 s (10 s
        # leave room for a busy machine).
        deadline = time.monotonic() + 10
        while processes_using(url):
            assert time.monotonic() < deadline, "a rebuild worker outlived its parent"
            time.sleep(0.1)
        assert list(store.scan(NAME)) == before
        assert store.position(NAME) == head
        again = cli(env, "rebuild", "--name", NAME, "--workers", "2", "--no-progress")
        assert again.wait(timeout=120) == 0
        assert list(store.scan(NAME)) == before
        assert no_shadows_left(store)
    finally:
        store.close()
