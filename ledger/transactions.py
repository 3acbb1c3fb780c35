"""What the SQLite and PostgreSQL adapters share, the ledger's and the read models' alike:
one write transaction on SQLite, and one translation of each driver's errors into ours.

A failure says what happened: :class:`StoreConflictError` when the database refused a
write that clashes with one already made (retry after re-reading),
:class:`StoreUnavailableError` when it could not be reached or stayed locked (retry
later), :class:`StoreError` for anything else. The driver's error is chained as the cause
(``from``); messages name no password (a URL is shown only as ``DatabaseUrl.redacted``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)

from ledger.errors import StoreConflictError, StoreError, StoreUnavailableError

SQLITE_FAILURES = (sqlite3.Error, PersistenceError)


class _Executes(Protocol):
    def execute(self, sql: str, /) -> object: ...


C = TypeVar("C", bound=_Executes)


def sqlite_error(what: str, exc: BaseException) -> StoreError:
    """Ours for an SQLite failure of ``what`` (e.g. ``"write"``): a conflict, the file
    locked past the timeout, or another."""
    if isinstance(exc, sqlite3.IntegrityError | IntegrityError):
        return StoreConflictError(f"SQLite refused a conflicting {what}: {exc}")
    if isinstance(exc, sqlite3.OperationalError | OperationalError) and "locked" in str(exc):
        return StoreUnavailableError(f"SQLite {what} failed, the database stayed locked: {exc}")
    return StoreError(f"SQLite {what} failed: {exc}")


def postgres_error(what: str, exc: BaseException) -> StoreError:
    """Ours for a PostgreSQL failure of ``what``: a conflict, the server away (or the
    connection lost), or another refusal."""
    import psycopg  # loaded already wherever PostgreSQL is used; SQLite never needs it

    away = (psycopg.OperationalError, psycopg.InterfaceError, OperationalError, InterfaceError)
    if isinstance(exc, psycopg.IntegrityError | IntegrityError):
        return StoreConflictError(f"PostgreSQL refused a conflicting {what}: {exc}")
    if isinstance(exc, away):
        return StoreUnavailableError(
            f"PostgreSQL {what} failed, the database is unavailable: {exc}"
        )
    return StoreError(f"PostgreSQL {what} failed: {exc}")


@contextmanager
def sqlite_failures(what: str) -> Iterator[None]:
    """Raise a driver's (or eventsourcing's) failure inside as :func:`sqlite_error`."""
    try:
        yield
    except SQLITE_FAILURES as exc:
        raise sqlite_error(what, exc) from exc


@contextmanager
def postgres_failures(what: str, *, when_away: Callable[[], None] | None = None) -> Iterator[None]:
    """Raise a driver's (or eventsourcing's) failure inside as :func:`postgres_error`;
    ``when_away`` is called first when the server is away (to drop a pool's broken
    connections, say; its own failures are ignored)."""
    import psycopg

    failures = (psycopg.Error, PersistenceError)
    try:
        yield
    except failures as exc:
        error = postgres_error(what, exc)
        if when_away is not None and isinstance(error, StoreUnavailableError):
            with contextlib.suppress(*failures):
                when_away()
        raise error from exc


@contextmanager
def sqlite_immediate(cursor: C) -> Iterator[C]:
    """An SQLite write transaction on ``cursor`` (a connection in autocommit mode):
    ``BEGIN IMMEDIATE`` takes the write lock first, so what is read inside cannot be raced
    by another writer; committed when the block ends, rolled back when it raises."""
    cursor.execute("BEGIN IMMEDIATE")
    try:
        yield cursor
        cursor.execute("COMMIT")
    except BaseException:
        # SQLite may have rolled back already (on some errors it does): nothing to undo.
        with contextlib.suppress(sqlite3.Error, PersistenceError):
            cursor.execute("ROLLBACK")
        raise


class LockClock:
    """How long this process's appends waited for the events table's write lock and held
    it (through their commit): what a second writer on the same database costs."""

    def __init__(self) -> None:
        self.appends = 0
        self.waited_s = 0.0
        self.held_s = 0.0
        self._asked = self._granted = 0.0

    def asked(self) -> None:
        self._asked = time.perf_counter()

    def granted(self) -> None:
        self._granted = time.perf_counter()
        self.waited_s += self._granted - self._asked

    def released(self) -> None:
        self.appends += 1
        self.held_s += time.perf_counter() - self._granted

    def figures(self) -> dict[str, float]:
        return {"appends": self.appends, "lock_waited_s": self.waited_s, "lock_held_s": self.held_s}
