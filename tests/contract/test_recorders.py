"""Contract of eventsourcing's private methods the ledger calls (all of them in ledger/recorders.py).

Each is pinned on the installed eventsourcing: it exists, takes the arguments we pass, in
that order, and does what the adapters rely on, against SQLite and the real PostgreSQL.
An eventsourcing upgrade that changes one fails here, naming it, before anything else.
"""

from __future__ import annotations

import ast
import inspect
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing import postgres as es_postgres
from eventsourcing import sqlite as es_sqlite
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from psycopg.sql import SQL

from ledger.dburl import PostgresUrl
from ledger.recorders import PINNED_VERSION, PostgresEventsourcing, SQLiteEventsourcing

ROOT = Path(__file__).resolve().parents[2]
EVENTS = "contract_events"
TRACKING = "contract_tracking"

# Each private method called, with the parameters it must take in the order we pass them.
CALLED = {
    (es_postgres.PostgresProcessRecorder, "_lock_table"): ["self", "curs"],
    (es_postgres.PostgresProcessRecorder, "_notify_channel"): ["self", "curs"],
    (es_postgres.PostgresProcessRecorder, "_insert_tracking"): ["self", "curs", "tracking"],
    (es_postgres.PostgresProcessRecorder, "_check_has_multi_row_tracking_table"): ["self", "c"],
    (es_postgres.PostgresProcessRecorder, "_max_tracking_id"): [
        "self",
        "application_name",
        "curs",
    ],
    (es_sqlite.SQLiteProcessRecorder, "_insert_events"): ["self", "c", "stored_events"],
    (es_sqlite.SQLiteProcessRecorder, "_insert_tracking"): ["self", "c", "tracking"],
}
CONFLICTS = (IntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError)


def test_the_installed_eventsourcing_is_the_release_the_calls_are_pinned_on() -> None:
    assert version("eventsourcing").startswith(PINNED_VERSION + ".")


@pytest.mark.parametrize(("owner", "name"), sorted(CALLED, key=lambda k: (k[0].__name__, k[1])))
def test_each_private_method_called_exists_with_the_parameters_passed(
    owner: type, name: str
) -> None:
    method = getattr(owner, name, None)
    assert callable(method), f"{owner.__name__}.{name} is gone"
    parameters = inspect.signature(method).parameters.values()
    positional = [
        p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    assert positional == CALLED[owner, name]
    required_keywords = [
        p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    ]
    assert required_keywords == []


def _private_names() -> set[str]:
    """The private attributes of eventsourcing's recorders and datastores."""
    classes = (
        es_postgres.PostgresProcessRecorder,
        es_postgres.PostgresDatastore,
        es_sqlite.SQLiteProcessRecorder,
        es_sqlite.SQLiteDatastore,
    )
    return {
        name
        for cls in classes
        for klass in cls.__mro__
        if klass.__module__.startswith("eventsourcing")
        for name in vars(klass)
        if name.startswith("_") and not name.startswith("__")
    }


def test_only_ledger_recorders_reaches_into_eventsourcing() -> None:
    private = _private_names()
    assert {"_lock_table", "_insert_tracking", "_insert_events"} <= private
    offenders = []
    for layer in ("ledger", "projections", "consumers", "services", "api", "cli"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            if path == ROOT / "ledger" / "recorders.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in private
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert offenders == []


# -- behaviour ---------------------------------------------------------------------------


def stored(n: int, stream: uuid.UUID | None = None) -> list[StoredEvent]:
    stream = stream or uuid.uuid4()
    return [StoredEvent(stream, v, "contract.topic", b"state-%d" % v) for v in range(1, n + 1)]


@pytest.fixture
def sqlite_es(tmp_path: Path) -> Iterator[SQLiteEventsourcing]:
    es = SQLiteEventsourcing(str(tmp_path / "contract.db"), events_table=EVENTS)
    es.create_tables()
    yield es
    es.close()


@pytest.fixture
def pg_es(pg_schema_url: str) -> Iterator[PostgresEventsourcing]:
    url = PostgresUrl.of(pg_schema_url)
    with psycopg.connect(**url.connection_kwargs(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{url.schema}"')
    es = PostgresEventsourcing(url, events_table=EVENTS, tracking_table=TRACKING, pool_size=2)
    es.create_tables()
    yield es
    es.close()


def _sqlite_write(
    es: SQLiteEventsourcing, work: Callable[[es_sqlite.SQLiteCursor], object]
) -> object:
    """``work`` in one IMMEDIATE transaction, committed; rolled back if it raises."""
    with es.datastore.get_connection(commit=True) as conn:
        c = conn.cursor()
        c.execute("BEGIN IMMEDIATE")
        try:
            result = work(c)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return result


def test_sqlite_insert_events_returns_positions_in_order_inside_our_transaction(
    sqlite_es: SQLiteEventsourcing,
) -> None:
    first = _sqlite_write(sqlite_es, lambda c: sqlite_es.insert_events(c, stored(3)))
    assert first == [1, 2, 3]
    second = _sqlite_write(sqlite_es, lambda c: sqlite_es.insert_events(c, stored(2)))
    assert second == [4, 5]

    def then_fail(c: es_sqlite.SQLiteCursor) -> None:
        sqlite_es.insert_events(c, stored(2))
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        _sqlite_write(sqlite_es, then_fail)
    assert sqlite_es.recorder.max_notification_id() == 5


def test_sqlite_insert_events_refuses_a_stream_version_stored_before(
    sqlite_es: SQLiteEventsourcing,
) -> None:
    stream = uuid.uuid4()
    _sqlite_write(sqlite_es, lambda c: sqlite_es.insert_events(c, stored(1, stream)))
    with pytest.raises(CONFLICTS):
        _sqlite_write(sqlite_es, lambda c: sqlite_es.insert_events(c, stored(1, stream)))


def test_sqlite_insert_tracking_records_a_position_and_refuses_one_not_beyond_it(
    sqlite_es: SQLiteEventsourcing,
) -> None:
    assert sqlite_es.max_tracking_id("kafka:t:0") is None
    _sqlite_write(sqlite_es, lambda c: sqlite_es.insert_tracking(c, Tracking("kafka:t:0", 10)))
    assert sqlite_es.max_tracking_id("kafka:t:0") == 10

    def stale(c: es_sqlite.SQLiteCursor) -> None:
        sqlite_es.insert_events(c, stored(1))
        sqlite_es.insert_tracking(c, Tracking("kafka:t:0", 10))

    with pytest.raises(CONFLICTS):
        _sqlite_write(sqlite_es, stale)
    assert sqlite_es.max_tracking_id("kafka:t:0") == 10
    assert sqlite_es.recorder.max_notification_id() in (None, 0)
    _sqlite_write(sqlite_es, lambda c: sqlite_es.insert_tracking(c, Tracking("kafka:t:0", 11)))
    assert sqlite_es.max_tracking_id("kafka:t:0") == 11


def test_postgres_lock_events_holds_off_other_writers_but_not_readers(
    pg_es: PostgresEventsourcing, pg_schema_url: str
) -> None:
    url = PostgresUrl.of(pg_schema_url)
    table = f'"{url.schema}".{EVENTS}'
    _holds_off_writers_not_readers(pg_es, url, pg_es.lock_events)
    with psycopg.connect(**url.connection_kwargs(), autocommit=True) as after:
        after.execute("SET lock_timeout = '200ms'")
        _lock_for_insert(after, table)  # released with the transaction


def test_postgres_lock_statements_are_the_lock_appends_take_in_one_message(
    pg_es: PostgresEventsourcing, pg_schema_url: str
) -> None:
    # The PostgreSQL append sends these with BEGIN and its first reads, not lock_events.
    _holds_off_writers_not_readers(
        pg_es,
        PostgresUrl.of(pg_schema_url),
        lambda curs: curs.execute(SQL("; ").join(pg_es.lock_statements())),
    )


def _holds_off_writers_not_readers(
    pg_es: PostgresEventsourcing, url: PostgresUrl, lock: Callable[[Any], object]
) -> None:
    """Inside a transaction that ran ``lock``, another connection reads the events table
    but cannot take an INSERT's lock on it."""
    table = f'"{url.schema}".{EVENTS}'
    with (
        psycopg.connect(**url.connection_kwargs(), autocommit=True) as other,
        pg_es.datastore.transaction(commit=True) as curs,
    ):
        lock(curs)
        other.execute("SET lock_timeout = '200ms'")
        assert other.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _lock_for_insert(other, table)


def _lock_for_insert(conn: psycopg.Connection[tuple[object, ...]], table: str) -> None:
    """Take the lock an INSERT takes, in a transaction of its own."""
    with conn.transaction():
        conn.execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")


def test_postgres_notify_reaches_listeners_on_commit(
    pg_es: PostgresEventsourcing, pg_schema_url: str
) -> None:
    url = PostgresUrl.of(pg_schema_url)
    with psycopg.connect(**url.connection_kwargs(), autocommit=True) as listener:
        listener.execute(f'LISTEN "{pg_es.recorder.channel_name}"')
        with pg_es.datastore.transaction(commit=True) as curs:
            pg_es.notify(curs)
        heard = list(listener.notifies(timeout=10, stop_after=1))
    assert [n.channel for n in heard] == [pg_es.recorder.channel_name]


def test_postgres_tracking_is_recorded_in_our_transaction_and_a_stale_one_refused(
    pg_es: PostgresEventsourcing,
) -> None:
    def max_tracking_id(name: str) -> int | None:
        with pg_es.datastore.get_connection() as conn, conn.cursor() as curs:
            return pg_es.max_tracking_id(curs, name)

    assert max_tracking_id("kafka:t:0") is None
    with pg_es.datastore.transaction(commit=True) as curs:
        pg_es.insert_tracking(curs, Tracking("kafka:t:0", 10))
        pg_es.insert_tracking(curs, Tracking("kafka:t:1", 3))
    assert (max_tracking_id("kafka:t:0"), max_tracking_id("kafka:t:1")) == (10, 3)

    def stale() -> None:
        with pg_es.datastore.transaction(commit=True) as curs:
            pg_es.insert_tracking(curs, Tracking("kafka:t:1", 4))
            pg_es.insert_tracking(curs, Tracking("kafka:t:0", 10))

    with pytest.raises(CONFLICTS):
        stale()
    # The whole transaction rolled back, the partition that was ahead included.
    assert (max_tracking_id("kafka:t:0"), max_tracking_id("kafka:t:1")) == (10, 3)


def test_postgres_trackings_of_many_names_go_in_one_statement_and_a_stale_one_fails_all(
    pg_es: PostgresEventsourcing,
) -> None:
    names = [f"kafka:t:{p}" for p in range(32)]

    def positions() -> list[int | None]:
        with pg_es.datastore.get_connection() as conn, conn.cursor() as curs:
            return [pg_es.max_tracking_id(curs, n) for n in names]

    with pg_es.datastore.transaction(commit=True) as curs:
        pg_es.insert_trackings(curs, [Tracking(n, 10 + p) for p, n in enumerate(names)])
    assert positions() == [10 + p for p in range(32)]
    with pg_es.datastore.transaction(commit=True) as curs:
        pg_es.insert_trackings(curs, [Tracking(n, 100 + p) for p, n in enumerate(names[:5])])
    assert positions() == [100 + p for p in range(5)] + [10 + p for p in range(5, 32)]

    def stale(name: str, position: int) -> None:
        with pg_es.datastore.transaction(commit=True) as curs:
            pg_es.insert_trackings(curs, [Tracking(names[9], 500), Tracking(name, position)])

    with pytest.raises(CONFLICTS, match=names[0]):
        stale(names[0], 100)  # not beyond the position recorded
    with pytest.raises(CONFLICTS):
        stale(names[9], 400)  # the same name twice: one by one, the second not beyond the first
    assert positions()[9] == 19  # each transaction rolled back whole
