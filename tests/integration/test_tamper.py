"""Writing straight to the database is detected by `ledger audit verify`, which names the position."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson
import pytest

from ledger.persistence import LedgerRecorder
from ledger.postgres import PostgresLedgerRecorder
from ledger.sqlite import SQLiteLedgerRecorder
from tests.conftest import NewEventBuilder
from tests.integration.tamper import delete_row, drop_guards, flip_byte, swap_rows

EVENTS = 30


def database_url_of(recorder: LedgerRecorder) -> str:
    if isinstance(recorder, SQLiteLedgerRecorder):
        return f"sqlite:///{recorder.path}"
    assert isinstance(recorder, PostgresLedgerRecorder)
    return f"{os.environ['LEDGER_TEST_DATABASE_URL']}?schema={recorder.schema}"


def run_audit(recorder: LedgerRecorder) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url_of(recorder)}
    env.pop("LEDGER_MASTER_KEY", None)  # the audit needs no key: it reads no personal data
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify", "--json"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout, proc.stderr.decode()
    return proc.returncode, orjson.loads(proc.stdout)


@pytest.fixture
def filled(recorder: LedgerRecorder, new_event: NewEventBuilder) -> LedgerRecorder:
    for b in range(3):
        recorder.append([new_event(f"b{b}e{i}", f"lrn_{i % 4}") for i in range(EVENTS // 3)])
    drop_guards(recorder)
    return recorder


def test_audit_untouched_log_passes(filled: LedgerRecorder) -> None:
    code, report = run_audit(filled)
    assert code == 0
    assert report["ok"] is True
    assert report["events_checked"] == EVENTS
    assert report["checkpoints_checked"] == 3


@pytest.mark.parametrize("offset", [0, 40, 70, -1], ids=["hash", "prev", "body", "last-byte"])
def test_audit_changed_byte_fails_naming_its_position(filled: LedgerRecorder, offset: int) -> None:
    flip_byte(filled, 17, offset)
    code, report = run_audit(filled)
    assert code == 1
    assert report["failure"]["position"] == 17
    assert report["events_checked"] == 16


def test_audit_removed_row_fails_at_the_row_after_it(filled: LedgerRecorder) -> None:
    delete_row(filled, 12)
    code, report = run_audit(filled)
    assert code == 1
    assert report["failure"]["position"] == 13
    assert "missing" in report["failure"]["reason"]


def test_audit_removed_last_row_fails_at_the_checkpointed_position(filled: LedgerRecorder) -> None:
    delete_row(filled, EVENTS)
    code, report = run_audit(filled)
    assert code == 1
    assert report["failure"]["position"] == EVENTS
    assert "checkpoint" in report["failure"]["reason"]


def test_audit_swapped_rows_fail_at_the_first_of_them(filled: LedgerRecorder) -> None:
    swap_rows(filled, 21, 22)
    code, report = run_audit(filled)
    assert code == 1
    assert report["failure"]["position"] == 21
    assert report["events_checked"] == 20


def test_audit_text_output_names_the_position(filled: LedgerRecorder) -> None:
    flip_byte(filled, 5, 100)
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url_of(filled)}
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify", "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "FAILED at position 5" in proc.stdout
