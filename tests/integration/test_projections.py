"""The projection runner as an operator runs it: `ledger projections`, killed and resumed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from demo import generate
from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.outcomes import Channel
from ledger.settings import Settings
from projections.learner_record import NAME, LearnerRecordProjection
from projections.reading import LedgerRecords, catch_up_records
from projections.runner import Projector
from projections.sqlite import SQLiteProjectionStore
from projections.store import open_projection_store

REPO = Path(__file__).resolve().parents[2]
KILLS = 6
LEARNERS = 400


def populate(url: str, master_key: str, learners: int) -> int:
    """A demo population ingested into the ledger at ``url``; returns the log's length."""
    population = generate(seed=31, learners=learners)
    settings = Settings.from_env({"LEDGER_DATABASE_URL": url, "LEDGER_MASTER_KEY": master_key})
    with Ledger.open(settings) as ledger:
        for s in population.issuers:
            ledger.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
        lines = [orjson.dumps(e) for e in population.events]
        batches = [(lines[i : i + 500], Channel("file")) for i in range(0, len(lines), 500)]
        for _ in ledger.ingest_stream(batches):
            pass
        ledger.erase(population.learners[0])
        return ledger.recorder.max_position()


def cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "projections", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_projection_killed_at_random_moments_ends_equal_to_a_clean_rebuild(
    database_url: str, tmp_path: Path
) -> None:
    master_key = encode_key(generate_key())
    head = populate(database_url, master_key, learners=LEARNERS)
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_MASTER_KEY": master_key}
    settings = Settings.from_env(env)
    store = open_projection_store(settings)
    rng = random.Random(5)
    # Each run is killed as soon as it has projected past its target, and the targets lie
    # in the first third of the log: the rest (hundreds of pages of 7 events) is
    # far more than a run can project between two looks at its position, however busy or
    # idle the machine.
    targets = sorted(rng.sample(range(1, head // 3), KILLS))
    seen = [0]
    try:
        for target in targets:
            proc = cli(env, "run", "--page", "7", "--no-progress")
            while store.position(NAME) < max(target, seen[-1] + 1):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            seen.append(store.position(NAME))
        assert seen[-1] < head, f"killed too late to prove anything: {seen}"
        done = cli(env, "run", "--page", "13", "--no-progress")
        assert done.wait(timeout=300) == 0
        assert store.position(NAME) == head
        assert seen == sorted(seen)
        resumed = list(store.scan(NAME))
    finally:
        store.close()
    clean = SQLiteProjectionStore(tmp_path / "clean.db")
    clean.create_tables()
    with Ledger.open(settings) as ledger:
        Projector(ledger, clean, LearnerRecordProjection()).rebuild()
    assert resumed == list(clean.scan(NAME))
    assert len(resumed) == LEARNERS


def test_status_and_rebuild_commands_report_position_and_lag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    master_key = encode_key(generate_key())
    head = populate(url, master_key, learners=20)
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_MASTER_KEY": master_key}

    def status() -> dict[str, int]:
        out = subprocess.run(
            [sys.executable, "-m", "cli.main", "projections", "status", "--json"],
            env=env,
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        reports = orjson.loads(out.stdout)
        assert [r["projection"] for r in reports] == [
            "consent-grants",
            "learner-activity",
            "learner-record",
            "pathways",
            "status-lists",
        ]
        (report,) = {tuple((k, r[k]) for k in ("position", "head", "lag")) for r in reports}
        return dict(report)

    assert status() == {"position": 0, "head": head, "lag": head}
    rebuild = cli(env, "rebuild")
    assert rebuild.wait(timeout=120) == 0
    assert rebuild.stderr is not None
    assert f"{head} log rows applied" in rebuild.stderr.read().decode()
    assert status() == {"position": head, "head": head, "lag": 0}


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_a_read_of_caught_up_models_does_not_query_the_log(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    master_key = encode_key(generate_key())
    populate(database_url, master_key, learners=5)
    settings = Settings.from_env(
        {"LEDGER_DATABASE_URL": database_url, "LEDGER_MASTER_KEY": master_key}
    )
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            catch_up_records(ledger, store)
            live = [k for k, d in store.scan(NAME) if not d.get("erased")]
            queries: list[tuple[object, ...]] = []
            select_log = ledger.recorder.select_log

            def counted(*args: Any, **kwargs: Any) -> Any:
                queries.append(args)
                return select_log(*args, **kwargs)

            monkeypatch.setattr(ledger.recorder, "select_log", counted)
            doc = LedgerRecords(ledger, store).record(live[0])
            assert doc["learner"] == live[0]
            assert queries == []  # at the head already: positions read, the log not
            ledger.erase(live[1])
            doc = LedgerRecords(ledger, store).record(live[1])
            assert queries  # behind: caught up first
            assert doc["erased"] is True
        finally:
            store.close()
