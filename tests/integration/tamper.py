"""Writing straight to the database, as an attacker with the database owner's rights would."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

from ledger.persistence import LedgerRecorder
from ledger.postgres import PostgresLedgerRecorder
from ledger.sqlite import GUARDED_TABLES, SQLiteLedgerRecorder


def _pg_url(recorder: PostgresLedgerRecorder) -> tuple[str, str]:
    import os

    return os.environ["LEDGER_TEST_DATABASE_URL"], recorder.schema


def raw_execute(recorder: LedgerRecorder, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run SQL outside the ledger; ``{events}`` names the events table, ``{id}`` its position
    column. SQLite placeholders are ``?``; they are rewritten to ``%s`` for PostgreSQL."""
    if isinstance(recorder, SQLiteLedgerRecorder):
        with sqlite3.connect(recorder.path) as conn:
            cur = conn.execute(sql.format(events="ledger_events", id="rowid"), params)
            return cur.fetchall()
    assert isinstance(recorder, PostgresLedgerRecorder)
    url, schema = _pg_url(recorder)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        cur = conn.execute(
            sql.format(events="ledger_events", id="notification_id").replace("?", "%s"),  # type: ignore[arg-type]
            params,
        )
        return cur.fetchall() if cur.description else []


def drop_guards(recorder: LedgerRecorder) -> None:
    """Remove the append-only triggers (the owner of the tables can)."""
    for table in GUARDED_TABLES:
        if isinstance(recorder, SQLiteLedgerRecorder):
            for op in ("update", "delete"):
                raw_execute(recorder, f"DROP TRIGGER IF EXISTS {table}_no_{op}")
        else:
            raw_execute(recorder, f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


def flip_byte(recorder: LedgerRecorder, position: int, offset: int) -> None:
    """XOR one byte of a stored event's state (offset counted from the start of the state)."""
    (state,) = raw_execute(recorder, "SELECT state FROM {events} WHERE {id} = ?", (position,))[0]
    data = bytearray(bytes(state))
    data[offset % len(data)] ^= 0x01
    raw_execute(recorder, "UPDATE {events} SET state = ? WHERE {id} = ?", (bytes(data), position))


def delete_row(recorder: LedgerRecorder, position: int) -> None:
    raw_execute(recorder, "DELETE FROM {events} WHERE {id} = ?", (position,))


def swap_rows(recorder: LedgerRecorder, first: int, second: int) -> None:
    """Exchange the positions of two stored events."""
    raw_execute(recorder, "UPDATE {events} SET {id} = ? WHERE {id} = ?", (-first, first))
    raw_execute(recorder, "UPDATE {events} SET {id} = ? WHERE {id} = ?", (first, second))
    raw_execute(recorder, "UPDATE {events} SET {id} = ? WHERE {id} = ?", (second, -first))
