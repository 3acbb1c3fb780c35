"""PostgreSQL adapter of the store port: the ledger at scale."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import DictRow

from ledger.batch import EventBatch
from ledger.dburl import PostgresUrl
from ledger.errors import StoreUnavailableError
from ledger.integrity import KEY_LEN, KEY_OFFSET, Checkpoint, StoredRow
from ledger.native import plan_copy
from ledger.persistence import (
    KeyRecord,
    LedgerRecorder,
    StreamHeads,
    check_partition,
)
from ledger.postgres_append import PostgresAppends, rolled_back_on_error
from ledger.postgres_tree import TREE_GUARDED, PostgresTreeTables, tree_statements
from ledger.recorders import PostgresEventsourcing
from ledger.records import AppendOutcome, NewEvent
from ledger.transactions import LockClock, postgres_failures

EVENTS_TABLE = "ledger_events"
TRACKING_TABLE = "ledger_tracking"
GUARDED_TABLES = (EVENTS_TABLE, "ledger_checkpoints", "ledger_erasures", *TREE_GUARDED)
# The idempotency key sits at a fixed place in every stored state (see integrity).
KEY_EXPR = f"substring(state from {KEY_OFFSET + 1} for {KEY_LEN})"


def probe(url: str | PostgresUrl) -> None:
    """Connect once, so a wrong URL is one clear error before any work starts.

    Raises:
        ConfigurationError: ``url`` is not a PostgreSQL URL.
        StoreUnavailableError: the server does not answer, refuses the login, or has no
            such database (the message names the URL without its password, and the
            server's reason).
    """
    url = PostgresUrl.of(url) if isinstance(url, str) else url
    try:
        psycopg.connect(**url.connection_kwargs(), connect_timeout=10).close()
    except psycopg.Error as exc:
        text = str(exc).strip()
        reason = text.splitlines()[-1].strip() if text else type(exc).__name__
        raise StoreUnavailableError(f"cannot connect to {url.redacted}: {reason}") from exc


def schema_statements(schema: str) -> list[str]:
    """DDL of the ledger's own tables and append-only guards in ``schema``."""
    q = f'"{schema}".'
    return [
        f"CREATE UNIQUE INDEX IF NOT EXISTS {EVENTS_TABLE}_key_idx ON {q}{EVENTS_TABLE} (({KEY_EXPR}))",
        f"CREATE TABLE IF NOT EXISTS {q}ledger_checkpoints ("
        " seq bigserial PRIMARY KEY, first_position bigint NOT NULL,"
        " last_position bigint NOT NULL, count integer NOT NULL, head bytea NOT NULL,"
        " committed_at timestamptz NOT NULL DEFAULT now())",
        # Each append's chain hashes, for the Merkle tree; EXTERNAL: stored out of line
        # without trying to compress them (hashes do not compress).
        f"ALTER TABLE {q}ledger_checkpoints ADD COLUMN IF NOT EXISTS hashes bytea",
        f"ALTER TABLE {q}ledger_checkpoints ALTER COLUMN hashes SET STORAGE EXTERNAL",
        f"CREATE INDEX IF NOT EXISTS ledger_checkpoints_last_idx"
        f" ON {q}ledger_checkpoints (last_position)",
        f"CREATE TABLE IF NOT EXISTS {q}ledger_learner_keys ("
        " learner_id text PRIMARY KEY, key_id text NOT NULL, wrapped bytea,"
        " created_at timestamptz NOT NULL DEFAULT now(), erased_at timestamptz)",
        # Each erasure by its event's log position: how other processes learn of it.
        f"CREATE TABLE IF NOT EXISTS {q}ledger_erasures (position bigint PRIMARY KEY,"
        " learner_id text NOT NULL)",
        *tree_statements(q),
        f"CREATE OR REPLACE FUNCTION {q}ledger_append_only() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
        *(
            f"CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE"
            f" ON {q}{t} FOR EACH STATEMENT EXECUTE FUNCTION {q}ledger_append_only()"
            for t in GUARDED_TABLES
        ),
    ]


class PostgresLedgerRecorder(PostgresAppends, PostgresTreeTables, LedgerRecorder):
    """The ledger in PostgreSQL, through eventsourcing's PostgreSQL process recorder."""

    url_scheme = "postgresql"

    def __init__(self, url: str | PostgresUrl, *, pool_size: int = 4, native: str | None = None):
        self.database = PostgresUrl.of(url) if isinstance(url, str) else url
        self._plan = plan_copy(native)  # appends to COPY, in this LEDGER_NATIVE mode
        self.url = self.database.redacted
        self.schema = self.database.schema
        q = f'"{self.schema}".'
        self.t_events = q + EVENTS_TABLE
        self.t_checkpoints = q + "ledger_checkpoints"
        self.t_learner_keys = q + "ledger_learner_keys"
        self.t_erasures = q + "ledger_erasures"
        self.name_tree_tables(q)
        self._heads = StreamHeads()
        self.lock = LockClock()
        with postgres_failures(f"connection to {self.url}"):
            self.eventsourcing = PostgresEventsourcing(
                self.database,
                events_table=EVENTS_TABLE,
                tracking_table=TRACKING_TABLE,
                pool_size=pool_size,
            )
        self.datastore = self.eventsourcing.datastore

    def __repr__(self) -> str:
        return f"PostgresLedgerRecorder({self.url!r})"

    @contextmanager
    def _tx(self, *, commit: bool) -> Iterator[psycopg.Cursor[DictRow]]:
        with (
            self._failures("write" if commit else "read"),
            self.datastore.transaction(commit=commit) as curs,
        ):
            yield curs

    @contextmanager
    def _statement(self, what: str = "read") -> Iterator[psycopg.Cursor[DictRow]]:
        """A cursor for one statement outside any transaction block (the pool's
        connections are in autocommit): one round trip, where a transaction takes three."""
        with (
            self._failures(what),
            self.datastore.get_connection() as conn,
            conn.cursor() as curs,
        ):
            yield curs

    def _failures(self, what: str) -> AbstractContextManager[None]:
        """Driver failures as ours; after a lost connection the pool is checked too: a
        restarted server broke every pooled connection, not just this one, so they are
        dropped now, or each would fail one more call before the pool replaced it."""
        return postgres_failures(what, when_away=self.datastore.pool.check)

    def create_tables(self) -> None:
        # Workers starting together must not create types, tables and functions at once
        # (PostgreSQL answers "tuple concurrently updated"): hold a session lock throughout.
        with (
            self._failures(f"table creation in {self.url}"),
            self.datastore.get_connection() as lock_conn,
        ):
            lock_conn.execute("SELECT pg_advisory_lock(7412001)")
            try:
                self._create_tables()
            finally:
                lock_conn.execute("SELECT pg_advisory_unlock(7412001)")

    def _create_tables(self) -> None:
        with self._tx(commit=True) as c:
            c.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        self.eventsourcing.create_tables()
        with self._tx(commit=True) as c:
            for statement in schema_statements(self.schema):
                c.execute(statement)

    def close(self) -> None:
        self.eventsourcing.close()

    # -- reads ----------------------------------------------------------------------------

    @staticmethod
    def _rows(raw: list[Any]) -> list[StoredRow]:
        return [
            StoredRow(
                r["notification_id"],
                r["originator_id"],
                r["originator_version"],
                r["topic"],
                bytes(r["state"]),
            )
            for r in raw
        ]

    def select_log(
        self,
        start: int,
        limit: int,
        *,
        until: int | None = None,
        partition: tuple[int, int] | None = None,
    ) -> list[StoredRow]:
        check_partition(partition)
        k, n = partition or (0, 1)
        with self._statement() as c:
            # One statement for every case (prepared once): no bound, no partition = n 1.
            c.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {self.t_events} WHERE notification_id >= %s AND notification_id <= %s"
                " AND (%s = 1 OR (get_byte(uuid_send(originator_id), 15) & 15) %% %s = %s)"
                " ORDER BY notification_id LIMIT %s",
                (start, until if until is not None else 2**63 - 1, n, n, k, limit),
                prepare=True,
                binary=True,
            )
            return self._rows(c.fetchall())

    def select_stream(self, stream: UUID, *, after_version: int = 0) -> list[StoredRow]:
        with self._statement() as c:
            self._select_stream(c, stream, after_version)
            return self._rows(c.fetchall())

    def _select_stream(self, c: psycopg.Cursor[DictRow], stream: UUID, after: int) -> None:
        c.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            f" FROM {self.t_events} WHERE originator_id = %s AND originator_version > %s"
            " ORDER BY originator_version",
            (stream, after),
            prepare=True,
            binary=True,
        )

    def changes_since(
        self, stream: UUID, after_version: int, erasures_after: int | None
    ) -> tuple[list[StoredRow], tuple[int, list[str]]]:
        # Both statements in one pipeline: one round trip instead of two.
        with self._statement() as rows:
            with rows.connection.pipeline():
                self._select_stream(rows, stream, after_version)
                erased = rows.connection.cursor()
                self._erasures_after(erased, erasures_after)
            return self._rows(rows.fetchall()), self._erased(erased, erasures_after)

    def max_position(self) -> int:
        with self._statement() as c:
            c.execute(f"SELECT max(notification_id) AS m FROM {self.t_events}")
            row = c.fetchone()
            return int(row["m"] or 0) if row else 0

    def checkpoints(self) -> list[Checkpoint]:
        with self._statement() as c:
            c.execute(
                "SELECT seq, first_position, last_position, count, head"
                f" FROM {self.t_checkpoints} ORDER BY seq"
            )
            return [
                Checkpoint(
                    r["seq"], r["first_position"], r["last_position"], r["count"], bytes(r["head"])
                )
                for r in c.fetchall()
            ]

    def positions_of(self, keys: Sequence[bytes]) -> dict[bytes, int]:
        with self._statement() as c:
            return self._positions(c, list(keys))

    def _positions(self, c: psycopg.Cursor[DictRow], keys: list[bytes]) -> dict[bytes, int]:
        """Positions of the stored events among ``keys``."""
        c.execute(
            f"SELECT {KEY_EXPR} AS key, notification_id AS position FROM {self.t_events}"
            f" WHERE {KEY_EXPR} = ANY(%b)",
            (keys,),
            prepare=True,
        )
        return {bytes(r["key"]): r["position"] for r in c.fetchall()}

    def max_tracking_id(self, name: str) -> int | None:
        # One attempt, not eventsourcing's ten (each waiting up to the pool's timeout):
        # callers retry as they see fit, and a failure reaches them in seconds.
        with (
            self._failures("read"),
            self.datastore.get_connection() as conn,
            conn.cursor() as curs,
        ):
            value = self.eventsourcing.max_tracking_id(curs, name)
        return None if value is None else int(value)

    # -- learner keys ---------------------------------------------------------------------

    def load_keys(self, learner_ids: Sequence[str]) -> dict[str, KeyRecord]:
        with self._statement() as c:
            c.execute(
                f"SELECT learner_id, key_id, wrapped, erased_at FROM {self.t_learner_keys}"
                " WHERE learner_id = ANY(%s)",
                (list(learner_ids),),
                prepare=True,
            )
            return {r["learner_id"]: _key_record(r) for r in c.fetchall()}

    def insert_keys(
        self, records: Sequence[KeyRecord], *, also: Sequence[str] = ()
    ) -> dict[str, KeyRecord]:
        if not records:
            return self.load_keys(also) if also else {}
        learners = [r.learner_id for r in records]
        with self._statement("write") as c, rolled_back_on_error(c.connection):
            # One round trip: one statement (the keys added, and those kept: the outer
            # SELECT reads the table as it was, without the rows added) in a transaction
            # committed without waiting for the log to reach the disk. A key is nothing
            # until an event sealed with it is stored, and that append commits after this
            # one, flushing the log (which PostgreSQL writes in order) past this commit
            # too: whenever such an event is durable, so is its key. A crash before that
            # loses at most keys no stored event needs (their events come again, and get
            # new ones). Waiting for the flush here cost the preparing stage a disk sync
            # per batch that meets new learners.
            conn = c.connection
            with conn.pipeline():
                c.execute("BEGIN")
                c.execute("SET LOCAL synchronous_commit TO OFF")
                added = conn.cursor()
                added.execute(
                    f"WITH added AS (INSERT INTO {self.t_learner_keys}"
                    " (learner_id, key_id, wrapped)"
                    " SELECT * FROM unnest(%s::text[], %s::text[], %b::bytea[])"
                    " ON CONFLICT (learner_id) DO NOTHING"
                    " RETURNING learner_id, key_id, wrapped, erased_at)"
                    " SELECT * FROM added UNION ALL SELECT learner_id, key_id, wrapped, erased_at"
                    f" FROM {self.t_learner_keys} WHERE learner_id = ANY(%s)",
                    (
                        learners,
                        [r.key_id for r in records],
                        [r.wrapped for r in records],
                        [*learners, *also],
                    ),
                    prepare=True,
                )
                c.execute("COMMIT")
            stored = {r["learner_id"]: _key_record(r) for r in added.fetchall()}
        # A key another writer added after the statement began is in neither part.
        late = [learner for learner in learners if learner not in stored]
        return stored | self.load_keys(late) if late else stored

    def erasures_after(self, position: int | None) -> tuple[int, list[str]]:
        with self._statement() as c:
            self._erasures_after(c, position)
            return self._erased(c, position)

    def _erasures_after(self, c: psycopg.Cursor[DictRow], position: int | None) -> None:
        if position is None:
            c.execute(f"SELECT coalesce(max(position), 0) AS position FROM {self.t_erasures}")
        else:
            c.execute(
                f"SELECT position, learner_id FROM {self.t_erasures} WHERE position > %s"
                " ORDER BY position",
                (position,),
                prepare=True,
            )

    @staticmethod
    def _erased(c: psycopg.Cursor[DictRow], position: int | None) -> tuple[int, list[str]]:
        """What :meth:`_erasures_after` found: the last erasure's position, and the
        learners erased after ``position`` (none when it was None)."""
        rows = c.fetchall()
        if position is None:
            return int(rows[0]["position"]), []
        return (rows[-1]["position"] if rows else position), [r["learner_id"] for r in rows]

    def destroy_key(self, learner_id: str, events: Sequence[NewEvent]) -> list[AppendOutcome]:
        with self._tx(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.t_learner_keys} (learner_id, key_id, wrapped, erased_at)"
                " VALUES (%s, '', NULL, now()) ON CONFLICT (learner_id) DO UPDATE"
                " SET wrapped = NULL, erased_at = now()",
                (learner_id,),
            )
            batch = EventBatch.of(events)
            plan, update = self._append(c, batch, None, optimistic=False, begin=False)
            outcomes = plan.outcomes(batch)
            c.execute(
                f"INSERT INTO {self.t_erasures} (position, learner_id) VALUES (%s, %s)"
                " ON CONFLICT (position) DO NOTHING",
                (outcomes[0].position, learner_id),
            )
        self.lock.released()
        self._heads.committed(update)
        # The old row version holds the wrapped key until vacuumed; reclaim it now.
        with self._failures("VACUUM after erasure"), self.datastore.get_connection() as conn:
            conn.execute(f"VACUUM {self.t_learner_keys}")
        return outcomes


def _key_record(row: DictRow) -> KeyRecord:
    return KeyRecord(
        row["learner_id"],
        row["key_id"],
        None if row["wrapped"] is None else bytes(row["wrapped"]),
        None if row["erased_at"] is None else row["erased_at"].isoformat(),
    )
