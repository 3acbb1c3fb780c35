"""The auditor's replay equals what the live record showed at that point of the log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from demo import generate
from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.errors import LedgerError
from ledger.outcomes import Channel
from ledger.settings import Settings
from projections.learner_record import NAME, LearnerRecordProjection
from projections.runner import Projector
from projections.sqlite import SQLiteProjectionStore
from services.audit import replay_record

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    population = generate(seed=12, learners=15)
    settings = Settings.from_env(
        {}, database_url=f"sqlite:///{tmp_path}/l.db", _master_key=generate_key()
    )
    ledger = Ledger.open(settings)
    for s in population.issuers:
        ledger.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
    lines = [orjson.dumps(e) for e in population.events]
    for i in range(0, len(lines), 60):
        ledger.ingest(lines[i : i + 60], Channel("file"))
    return ledger


def test_replay_at_any_sequence_equals_the_projection_stopped_there(
    ledger: Ledger, tmp_path: Path
) -> None:
    store = SQLiteProjectionStore(tmp_path / "read.db")
    store.create_tables()
    runner = Projector(ledger, store, LearnerRecordProjection())
    head = ledger.recorder.max_position()
    learners = sorted(
        {
            e.envelope["subject"]
            for e in map(_decode(ledger), range(1, head + 1))
            if "subject" in e.envelope
        }
    )
    for cut in sorted({head // 7, head // 3, head // 2, head - 5, head}):
        runner.page = cut - store.position(NAME)
        runner.step()
        assert store.position(NAME) == cut
        for learner in learners:
            assert replay_record(ledger, learner, at_sequence=cut) == store.get(NAME, learner)
    ledger.close()


def test_replay_as_of_a_time_includes_what_was_recorded_by_then(ledger: Ledger) -> None:
    first = _decode(ledger)(ledger.recorder.max_position() // 2)
    learner = first.envelope.get("subject") or "lrn_none"
    by_time = replay_record(ledger, learner, as_of=first.recorded_at)
    by_sequence = replay_record(
        ledger, learner, at_sequence=_last_recorded_at(ledger, first.recorded_at)
    )
    assert by_time == by_sequence
    with pytest.raises(LedgerError, match="time zone"):
        replay_record(ledger, learner, as_of="2026-01-01T00:00:00")
    with pytest.raises(LedgerError, match="exactly one"):
        replay_record(ledger, learner)
    ledger.close()


def test_replay_command_prints_the_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    key = encode_key(generate_key())
    population = generate(seed=3, learners=3)
    with Ledger.open(
        Settings.from_env({"LEDGER_DATABASE_URL": url, "LEDGER_MASTER_KEY": key})
    ) as led:
        for s in population.issuers:
            led.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
        led.ingest([orjson.dumps(e) for e in population.events], Channel("file"))
        head = led.recorder.max_position()
    learner = population.learners[1]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "replay",
            "--learner",
            learner,
            "--at-sequence",
            str(head),
        ],
        env={**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_MASTER_KEY": key},
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    record = orjson.loads(out.stdout)
    assert record["learner"] == learner
    assert record["lastPosition"] <= head


def _decode(ledger: Ledger):  # type: ignore[no-untyped-def]
    def at(position: int):  # type: ignore[no-untyped-def]
        (row,) = ledger.recorder.select_log(position, 1)
        return ledger.decode(row.position, row.stream, row.version, row.topic, row.state)

    return at


def _last_recorded_at(ledger: Ledger, when: str) -> int:
    """The last position recorded at or before ``when`` (recording times only grow)."""
    last = 0
    for row in ledger.iter_log_rows():
        if _decode(ledger)(row.position).recorded_at > when:
            break
        last = row.position
    return last
