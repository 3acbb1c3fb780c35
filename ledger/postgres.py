"""PostgreSQL adapter of the store port: the ledger at scale."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import DictRow

from ledger.dburl import PostgresUrl
from ledger.errors import StoreUnavailableError
from ledger.integrity import GENESIS, HASH_LEN, KEY_LEN, KEY_OFFSET, Checkpoint, StoredRow
from ledger.native import chain_copy
from ledger.persistence import (
    HeadsUpdate,
    KeyRecord,
    LedgerRecorder,
    StreamHeads,
    Trackings,
    as_trackings,
    check_partition,
)
from ledger.plan import plan_block
from ledger.postgres_tree import TREE_GUARDED, PostgresTreeTables, tree_statements
from ledger.recorders import PostgresEventsourcing
from ledger.records import AppendOutcome, NewEvent
from ledger.transactions import LockClock, postgres_failures

EVENTS_TABLE = "ledger_events"
TRACKING_TABLE = "ledger_tracking"
GUARDED_TABLES = (EVENTS_TABLE, "ledger_checkpoints", *TREE_GUARDED)
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
        *tree_statements(q),
        f"CREATE OR REPLACE FUNCTION {q}ledger_append_only() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
        *(
            f"CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE"
            f" ON {q}{t} FOR EACH STATEMENT EXECUTE FUNCTION {q}ledger_append_only()"
            for t in GUARDED_TABLES
        ),
    ]


class PostgresLedgerRecorder(PostgresTreeTables, LedgerRecorder):
    """The ledger in PostgreSQL, through eventsourcing's PostgreSQL process recorder."""

    url_scheme = "postgresql"

    def __init__(self, url: str | PostgresUrl, *, pool_size: int = 4, native: str | None = None):
        self.database = PostgresUrl.of(url) if isinstance(url, str) else url
        self._encode = chain_copy(native)  # rows to COPY, in this LEDGER_NATIVE mode
        self.url = self.database.redacted
        self.schema = self.database.schema
        q = f'"{self.schema}".'
        self.t_events = q + EVENTS_TABLE
        self.t_checkpoints = q + "ledger_checkpoints"
        self.t_learner_keys = q + "ledger_learner_keys"
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

    # -- append ---------------------------------------------------------------------------

    def append(
        self, events: Sequence[NewEvent], *, tracking: Trackings = None
    ) -> list[AppendOutcome]:
        if not events and not as_trackings(tracking):
            return []
        with self._tx(commit=True) as c:
            outcomes, update = self._append(c, events, tracking)
        self.lock.released()
        self._heads.committed(update)
        return outcomes

    def _append(
        self, c: psycopg.Cursor[DictRow], events: Sequence[NewEvent], tracking: Trackings
    ) -> tuple[list[AppendOutcome], HeadsUpdate]:
        # The EXCLUSIVE lock eventsourcing takes for gap-free notification ids also makes
        # the chain head, stream versions and key checks below race-free.
        self.lock.asked()
        self.eventsourcing.lock_events(c)
        self.lock.granted()
        c.execute(
            f"SELECT notification_id AS n, substring(state from 1 for {HASH_LEN}) AS h"
            f" FROM {self.t_events} ORDER BY notification_id DESC LIMIT 1",
            prepare=True,
        )
        row = c.fetchone()
        prev, last = (bytes(row["h"]), int(row["n"])) if row else (GENESIS, 0)
        heads = self._heads.read(
            list({e.stream for e in events}),
            last,
            changed_since=lambda position: self._versions(c, "notification_id > %b", position),
            load=lambda streams: self._versions_of(c, streams),
        )
        # Optimistic: the batch is planned as if none of it were stored yet, and the
        # unique index on keys, which the COPY checks anyway, catches any that is (a
        # redelivery). Only then are the keys looked up and the batch planned again: in the
        # common case the database is spared a second index probe per event.
        plan = plan_block(events, {}, dict(heads), prev, last + 1, self._encode)
        if plan.count:
            try:
                with c.connection.transaction():
                    self._copy_block(c, plan.block)
            except psycopg.errors.UniqueViolation:
                existing = self._positions(c, list({e.key for e in events}))
                plan = plan_block(events, existing, dict(heads), prev, last + 1, self._encode)
                if plan.count:
                    self._copy_block(c, plan.block)
        positions: list[int] = []
        if plan.count:
            end = last + plan.count
            c.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)",
                (self.t_events, end),
                prepare=True,
            )
            positions = list(range(last + 1, end + 1))
            c.execute(
                f"INSERT INTO {self.t_checkpoints}"
                " (first_position, last_position, count, head, hashes) VALUES (%s, %s, %s, %s, %s)",
                (positions[0], positions[-1], len(positions), plan.head, plan.hashes),
                prepare=True,
            )
            self.eventsourcing.notify(c)
        self.eventsourcing.insert_trackings(c, as_trackings(tracking))
        heads.update(plan.versions)
        return plan.outcomes(positions), HeadsUpdate(last, last + len(positions), heads)

    def _versions(self, c: psycopg.Cursor[DictRow], where: str, value: Any) -> dict[UUID, int]:
        """Last version of each stream with rows matching ``where``."""
        c.execute(
            f"SELECT originator_id, max(originator_version) AS v FROM {self.t_events}"
            f" WHERE {where} GROUP BY originator_id",
            (value,),
            prepare=True,
            binary=True,
        )
        return {r["originator_id"]: r["v"] for r in c.fetchall()}

    def _versions_of(self, c: psycopg.Cursor[DictRow], streams: list[UUID]) -> dict[UUID, int]:
        """Last version of each of ``streams`` that has rows: one index probe each."""
        c.execute(
            "SELECT s.id AS originator_id, (SELECT max(originator_version)"
            f" FROM {self.t_events} WHERE originator_id = s.id) AS v"
            " FROM unnest(%b::uuid[]) AS s(id)",
            (streams,),
            prepare=True,
            binary=True,
        )
        return {r["originator_id"]: r["v"] for r in c.fetchall() if r["v"] is not None}

    def _copy_block(self, c: psycopg.Cursor[DictRow], block: bytes) -> None:
        """Insert a binary COPY block of rows (:func:`ledger.persistence.plan_block`) into
        eventsourcing's events table: several times faster than its INSERT of an array.
        Under the EXCLUSIVE lock this is the only writer; the rows' positions, given
        explicitly, follow the log's last (the unique index refuses any clash), and the
        column's sequence is then moved past them for anyone inserting through eventsourcing.
        """
        with c.copy(
            f"COPY {self.t_events} (notification_id, originator_id, originator_version,"
            " topic, state) FROM STDIN (FORMAT BINARY)"
        ) as cp:
            cp.write(block)

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
        with self._tx(commit=False) as c:
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
        with self._tx(commit=False) as c:
            c.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {self.t_events} WHERE originator_id = %s AND originator_version > %s"
                " ORDER BY originator_version",
                (stream, after_version),
                prepare=True,
                binary=True,
            )
            return self._rows(c.fetchall())

    def max_position(self) -> int:
        with self._tx(commit=False) as c:
            c.execute(f"SELECT max(notification_id) AS m FROM {self.t_events}")
            row = c.fetchone()
            return int(row["m"] or 0) if row else 0

    def checkpoints(self) -> list[Checkpoint]:
        with self._tx(commit=False) as c:
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
        with self._tx(commit=False) as c:
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
        with self._tx(commit=False) as c:
            c.execute(
                f"SELECT learner_id, key_id, wrapped, erased_at FROM {self.t_learner_keys}"
                " WHERE learner_id = ANY(%s)",
                (list(learner_ids),),
                prepare=True,
            )
            return {
                r["learner_id"]: KeyRecord(
                    r["learner_id"],
                    r["key_id"],
                    None if r["wrapped"] is None else bytes(r["wrapped"]),
                    None if r["erased_at"] is None else r["erased_at"].isoformat(),
                )
                for r in c.fetchall()
            }

    def insert_keys(self, records: Sequence[KeyRecord]) -> None:
        if not records:
            return
        with self._tx(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.t_learner_keys} (learner_id, key_id, wrapped)"
                " SELECT * FROM unnest(%s::text[], %s::text[], %b::bytea[])"
                " ON CONFLICT (learner_id) DO NOTHING",
                (
                    [r.learner_id for r in records],
                    [r.key_id for r in records],
                    [r.wrapped for r in records],
                ),
            )

    def destroy_key(self, learner_id: str, events: Sequence[NewEvent]) -> list[AppendOutcome]:
        with self._tx(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.t_learner_keys} (learner_id, key_id, wrapped, erased_at)"
                " VALUES (%s, '', NULL, now()) ON CONFLICT (learner_id) DO UPDATE"
                " SET wrapped = NULL, erased_at = now()",
                (learner_id,),
            )
            outcomes, update = self._append(c, events, None)
        self.lock.released()
        self._heads.committed(update)
        # The old row version holds the wrapped key until vacuumed; reclaim it now.
        with self._failures("VACUUM after erasure"), self.datastore.get_connection() as conn:
            conn.execute(f"VACUUM {self.t_learner_keys}")
        return outcomes
