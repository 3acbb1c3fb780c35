"""eventsourcing's recorders as the ledger drives them: the one module that calls their
private methods.

The store adapters append a batch in one transaction of their own (the chain head, the
stream versions, the idempotency check, the checkpoint, learner keys and the consumed
upstream positions, all under the events table's write lock). eventsourcing's public
methods each open and commit a transaction, so the adapters drive the steps inside them
instead, through the methods below, each a thin call to one private method of the
recorder. ``tests/contract/test_recorders.py`` pins, on the installed eventsourcing (9.5)
and against SQLite and the real PostgreSQL, that each exists with the signature called
here and does what the adapters rely on; an eventsourcing upgrade that changes one fails
there first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteProcessRecorder

from ledger.dburl import PostgresUrl

if TYPE_CHECKING:  # imported when used: an SQLite ledger never loads the PostgreSQL driver
    from psycopg import Cursor
    from psycopg.rows import DictRow
    from psycopg.sql import Composable

# The eventsourcing release the private methods below are pinned on (see the contract test).
PINNED_VERSION = "9.5"


def _checked() -> None:
    """Nothing left to check (each position was checked as it was recorded)."""


class PostgresEventsourcing:
    """eventsourcing's PostgreSQL datastore (a connection pool) and process recorder.

    Args:
        url: the database and schema.
        events_table: the events table's name (eventsourcing's columns, our indexes).
        tracking_table: the table of consumed upstream positions.
        pool_size: connections kept (as many again may be opened under load).
    """

    def __init__(
        self, url: PostgresUrl, *, events_table: str, tracking_table: str, pool_size: int = 4
    ) -> None:
        from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder

        self.datastore = PostgresDatastore(
            **url.connection_kwargs(),
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_timeout=10,
            lock_timeout=30,
            schema=url.schema,
        )
        self.recorder = PostgresProcessRecorder(
            self.datastore, events_table_name=events_table, tracking_table_name=tracking_table
        )

    def create_tables(self) -> None:
        """The events and tracking tables, if missing (eventsourcing's public method)."""
        self.recorder.create_table()

    def lock_statements(self) -> list[Composable]:
        """The statements :meth:`lock_events` runs (they take no parameters, so they can
        share one message with others)."""
        from psycopg.sql import SQL, Composable

        statements: list[Composable] = []
        for statement in self.recorder.lock_table_statements:
            if not isinstance(statement, Composable | str):
                raise TypeError(f"unexpected lock statement: {statement!r}")
            statements.append(statement if isinstance(statement, Composable) else SQL(statement))
        return statements

    def lock_events(self, curs: Cursor[DictRow]) -> None:
        """Take the events table's EXCLUSIVE lock for the rest of ``curs``'s transaction:
        writers wait for it, readers do not."""
        self.recorder._lock_table(curs)

    def notify(self, curs: Cursor[DictRow]) -> None:
        """Tell eventsourcing's subscribers (LISTEN) that events were appended, on commit."""
        self.recorder._notify_channel(curs)

    def insert_tracking(self, curs: Cursor[DictRow], tracking: Tracking) -> None:
        """Record an upstream position inside ``curs``'s transaction; one not beyond the
        position recorded for its name fails (IntegrityError), and the transaction with it."""
        self.recorder._insert_tracking(curs, tracking)

    def insert_trackings(self, curs: Cursor[DictRow], trackings: Sequence[Tracking]) -> None:
        """:meth:`insert_tracking` for several names in one statement (a Kafka poll has a
        position per partition: one round trip, not one each); any one not beyond the
        position recorded for its name fails the lot (IntegrityError)."""
        self.send_trackings(curs, trackings)()

    def send_trackings(
        self, curs: Cursor[DictRow], trackings: Sequence[Tracking]
    ) -> Callable[[], None]:
        """:meth:`insert_trackings`, its check left for later: the statement is sent and
        the check returned, to call once its result is in (at once, or after the sync of
        the pipeline it was sent in)."""
        from eventsourcing.persistence import IntegrityError
        from psycopg.sql import SQL, Identifier

        names = [t.application_name for t in trackings]
        if not trackings or len(set(names)) < len(names) or not self.datastore.single_row_tracking:
            for tracking in trackings:
                self.insert_tracking(curs, tracking)
            return _checked
        self.recorder._check_has_multi_row_tracking_table(curs)
        table = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier(self.recorder.tracking_table_name)
        )
        # eventsourcing's single-row upsert (insert_tracking_statement), for many rows.
        curs.execute(
            SQL(
                "INSERT INTO {0} (application_name, notification_id)"
                " SELECT * FROM unnest(%s::text[], %s::bigint[])"
                " ON CONFLICT (application_name) DO UPDATE"
                " SET notification_id = EXCLUDED.notification_id"
                " WHERE {0}.notification_id < EXCLUDED.notification_id"
                " RETURNING application_name"
            ).format(table),
            (names, [t.notification_id for t in trackings]),
            prepare=True,
        )

        def check() -> None:
            recorded = {row["application_name"] for row in curs.fetchall()}
            if len(recorded) < len(names):
                behind = sorted(set(names) - recorded)
                raise IntegrityError(f"Failed to record tracking for {', '.join(behind)}")

        return check

    def max_tracking_id(self, curs: Cursor[DictRow], name: str) -> int | None:
        """The last position recorded for ``name`` (``None`` before the first), read on
        ``curs``: one attempt, where the public method makes ten."""
        return self.recorder._max_tracking_id(name, curs)

    def close(self) -> None:
        self.datastore.close()


class SQLiteEventsourcing:
    """eventsourcing's SQLite datastore (WAL mode) and process recorder.

    Args:
        path: the database file (``:memory:`` for one in memory).
        events_table: the events table's name.
    """

    def __init__(self, path: str, *, events_table: str) -> None:
        self.datastore = SQLiteDatastore(path, lock_timeout=30)
        self.recorder = SQLiteProcessRecorder(self.datastore, events_table_name=events_table)

    def create_tables(self) -> None:
        """The events and tracking tables, if missing (eventsourcing's public method)."""
        self.recorder.create_table()

    def insert_events(self, c: SQLiteCursor, stored: Sequence[StoredEvent]) -> list[int]:
        """Insert ``stored`` inside ``c``'s transaction; their positions (rowids), in order."""
        return list(self.recorder._insert_events(c, stored) or [])

    def insert_tracking(self, c: SQLiteCursor, tracking: Tracking) -> None:
        """Record an upstream position inside ``c``'s transaction; one not beyond the
        position recorded for its name fails (IntegrityError), and the transaction with it."""
        self.recorder._insert_tracking(c, tracking)

    def max_tracking_id(self, name: str) -> int | None:
        """The last position recorded for ``name`` (eventsourcing's public method)."""
        return self.recorder.max_tracking_id(name)

    def close(self) -> None:
        self.datastore.close()
