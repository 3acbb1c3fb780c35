"""Store errors say what happened: a conflict, the database away, or another failure; the
driver's error chained as the cause, and no password in the message."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError, ProgrammingError

from ledger.errors import StoreConflictError, StoreError, StoreUnavailableError
from ledger.transactions import (
    postgres_error,
    postgres_failures,
    sqlite_error,
    sqlite_failures,
    sqlite_immediate,
)
from projections.postgres import PostgresProjectionStore
from projections.sqlite import SQLiteProjectionStore
from projections.store import PositionConflictError


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (sqlite3.IntegrityError("UNIQUE constraint failed"), StoreConflictError),
        (IntegrityError("UNIQUE constraint failed"), StoreConflictError),
        (sqlite3.OperationalError("database is locked"), StoreUnavailableError),
        (OperationalError("database is locked"), StoreUnavailableError),
        (sqlite3.OperationalError("no such table: x"), StoreError),
    ],
)
def test_sqlite_failures_are_told_apart(exc: Exception, kind: type[StoreError]) -> None:
    assert type(sqlite_error("write", exc)) is kind


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (psycopg.errors.UniqueViolation("duplicate key"), StoreConflictError),
        (IntegrityError("Failed to record tracking"), StoreConflictError),
        (psycopg.OperationalError("server closed the connection"), StoreUnavailableError),
        (psycopg.InterfaceError("the connection is closed"), StoreUnavailableError),
        (OperationalError("couldn't get a connection"), StoreUnavailableError),
        (psycopg.errors.UndefinedTable("no such table"), StoreError),
        (ProgrammingError("bad"), StoreError),
    ],
)
def test_postgres_failures_are_told_apart(exc: Exception, kind: type[StoreError]) -> None:
    assert type(postgres_error("write", exc)) is kind


def test_the_driver_error_is_chained_as_the_cause() -> None:
    cause = psycopg.OperationalError("server closed the connection")
    with pytest.raises(StoreUnavailableError) as caught, postgres_failures("read"):
        raise cause
    assert caught.value.__cause__ is cause
    with pytest.raises(StoreConflictError) as conflict, sqlite_failures("write"):
        raise sqlite3.IntegrityError("UNIQUE constraint failed")
    assert isinstance(conflict.value.__cause__, sqlite3.IntegrityError)


def test_errors_that_are_not_the_databases_pass_through() -> None:
    with pytest.raises(ValueError, match="mine"), sqlite_failures("write"):
        raise ValueError("mine")


def test_an_away_server_lets_the_pool_drop_its_broken_connections_first() -> None:
    checked: list[bool] = []

    def check() -> None:
        checked.append(True)
        raise psycopg.OperationalError("still away")  # ignored: the first failure is the news

    with pytest.raises(StoreUnavailableError), postgres_failures("read", when_away=check):
        raise psycopg.OperationalError("server closed the connection")
    assert checked == [True]


def test_an_sqlite_write_commits_or_rolls_back_whole(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
    with sqlite_immediate(conn.cursor()) as c:
        c.execute("INSERT INTO t VALUES (1)")

    def clash() -> None:
        with sqlite_failures("write"), sqlite_immediate(conn.cursor()) as c:
            c.execute("INSERT INTO t VALUES (2)")
            c.execute("INSERT INTO t VALUES (1)")

    with pytest.raises(StoreConflictError):
        clash()
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert conn.in_transaction is False


def test_a_projection_store_whose_server_is_away_says_so_without_the_password() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreUnavailableError) as caught:
        PostgresProjectionStore(f"postgresql://ledger:secret-pw@127.0.0.1:{port}/ledger")
    assert "secret-pw" not in str(caught.value)
    assert "postgresql://ledger:***@127.0.0.1" in str(caught.value)
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)


def test_a_stale_projection_position_is_a_conflict(tmp_path: Path) -> None:
    store = SQLiteProjectionStore(tmp_path / "read.db")
    store.create_tables()
    store.save("p", {"k": {"v": 1}}, expected=0, position=5)
    with pytest.raises(PositionConflictError) as caught:
        store.save("p", {"k": {"v": 2}}, expected=0, position=6)
    assert isinstance(caught.value, StoreConflictError)
    store.close()
