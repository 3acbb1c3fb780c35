"""PostgreSQL adapter of the store port: the ledger at scale."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from psycopg.rows import DictRow

from ledger.errors import ConfigurationError, StoreError
from ledger.integrity import GENESIS, HASH_LEN, Checkpoint, StoredRow
from ledger.persistence import KeyRecord, LedgerRecorder, plan_append
from ledger.records import AppendOutcome, NewEvent

EVENTS_TABLE = "ledger_events"
TRACKING_TABLE = "ledger_tracking"
GUARDED_TABLES = (EVENTS_TABLE, "ledger_event_keys", "ledger_checkpoints")

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS ledger_event_keys ("
    " key bytea PRIMARY KEY, position bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_checkpoints ("
    " seq bigserial PRIMARY KEY, first_position bigint NOT NULL,"
    " last_position bigint NOT NULL, count integer NOT NULL, head bytea NOT NULL,"
    " committed_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS ledger_learner_keys ("
    " learner_id text PRIMARY KEY, key_id text NOT NULL, wrapped bytea,"
    " created_at timestamptz NOT NULL DEFAULT now(), erased_at timestamptz)",
    "CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
    *(
        f"CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE"
        f" ON {t} FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
        for t in GUARDED_TABLES
    ),
]


def datastore_from_url(url: str, *, pool_size: int = 4) -> PostgresDatastore:
    """Build an eventsourcing PostgresDatastore from ``postgresql://user:pw@host:port/db``.

    Raises:
        ConfigurationError: the URL lacks a part the datastore needs.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigurationError("LEDGER_DATABASE_URL: expected a postgresql:// URL")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ConfigurationError("LEDGER_DATABASE_URL: the database name is missing")
    return PostgresDatastore(
        dbname=unquote(dbname),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_timeout=10,
        lock_timeout=30,
    )


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


class PostgresLedgerRecorder(LedgerRecorder):
    """The ledger in PostgreSQL, through eventsourcing's PostgreSQL process recorder."""

    url_scheme = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = redact(url)
        try:
            self.datastore = datastore_from_url(url, pool_size=pool_size)
            self.recorder = PostgresProcessRecorder(
                self.datastore,
                events_table_name=EVENTS_TABLE,
                tracking_table_name=TRACKING_TABLE,
            )
        except PersistenceError as exc:
            raise StoreError(f"cannot open {self.url}: {exc}") from None

    def __repr__(self) -> str:
        return f"PostgresLedgerRecorder({self.url!r})"

    @contextmanager
    def _tx(self, *, commit: bool) -> Iterator[psycopg.Cursor[DictRow]]:
        try:
            with self.datastore.transaction(commit=commit) as curs:
                yield curs
        except (psycopg.Error, PersistenceError) as exc:
            raise StoreError(f"PostgreSQL operation failed: {exc}") from None

    def create_tables(self) -> None:
        try:
            self.recorder.create_table()
        except PersistenceError as exc:
            raise StoreError(f"cannot create tables in {self.url}: {exc}") from None
        with self._tx(commit=True) as c:
            # Serialise concurrent first starts of several workers.
            c.execute("SELECT pg_advisory_xact_lock(7412001)")
            for statement in SCHEMA:
                c.execute(statement)

    def close(self) -> None:
        self.datastore.close()

    # -- append ---------------------------------------------------------------------------

    def append(
        self, events: Sequence[NewEvent], *, tracking: Tracking | None = None
    ) -> list[AppendOutcome]:
        if not events and tracking is None:
            return []
        with self._tx(commit=True) as c:
            return self._append(c, events, tracking)

    def _append(
        self, c: psycopg.Cursor[DictRow], events: Sequence[NewEvent], tracking: Tracking | None
    ) -> list[AppendOutcome]:
        # The EXCLUSIVE lock eventsourcing takes for gap-free notification ids also makes
        # the chain head, stream versions and key checks below race-free.
        self.recorder._lock_table(c)
        keys = list({e.key for e in events})
        c.execute(
            "SELECT key, position FROM ledger_event_keys WHERE key = ANY(%s)", (keys,), prepare=True
        )
        existing = {bytes(r["key"]): r["position"] for r in c.fetchall()}
        streams = list({e.stream for e in events})
        c.execute(
            f"SELECT originator_id, max(originator_version) AS v FROM {EVENTS_TABLE}"
            " WHERE originator_id = ANY(%s) GROUP BY originator_id",
            (streams,),
            prepare=True,
        )
        heads = {r["originator_id"]: r["v"] for r in c.fetchall()}
        c.execute(
            f"SELECT substring(state from 1 for {HASH_LEN}) AS h FROM {EVENTS_TABLE}"
            " ORDER BY notification_id DESC LIMIT 1",
            prepare=True,
        )
        row = c.fetchone()
        prev = bytes(row["h"]) if row else GENESIS
        plan = plan_append(events, existing, heads, prev)
        positions: list[int] = []
        if plan.stored:
            self.recorder._insert_stored_events(c, plan.stored)
            positions = list(self.recorder._fetch_ids_after_insert_events(c, plan.stored) or [])
            c.execute(
                "INSERT INTO ledger_event_keys (key, position)"
                " SELECT * FROM unnest(%s::bytea[], %s::bigint[])",
                (plan.keys, positions),
                prepare=True,
            )
            c.execute(
                "INSERT INTO ledger_checkpoints (first_position, last_position, count, head)"
                " VALUES (%s, %s, %s, %s)",
                (positions[0], positions[-1], len(positions), plan.head),
                prepare=True,
            )
        if tracking is not None:
            self.recorder._insert_tracking(c, tracking)
        return plan.outcomes(positions)

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

    def select_log(self, start: int, limit: int) -> list[StoredRow]:
        with self._tx(commit=False) as c:
            c.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {EVENTS_TABLE} WHERE notification_id >= %s"
                " ORDER BY notification_id LIMIT %s",
                (start, limit),
                prepare=True,
            )
            return self._rows(c.fetchall())

    def select_stream(self, stream: UUID, *, after_version: int = 0) -> list[StoredRow]:
        with self._tx(commit=False) as c:
            c.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {EVENTS_TABLE} WHERE originator_id = %s AND originator_version > %s"
                " ORDER BY originator_version",
                (stream, after_version),
                prepare=True,
            )
            return self._rows(c.fetchall())

    def max_position(self) -> int:
        with self._tx(commit=False) as c:
            c.execute(f"SELECT max(notification_id) AS m FROM {EVENTS_TABLE}")
            row = c.fetchone()
            return int(row["m"] or 0) if row else 0

    def checkpoints(self) -> list[Checkpoint]:
        with self._tx(commit=False) as c:
            c.execute(
                "SELECT seq, first_position, last_position, count, head"
                " FROM ledger_checkpoints ORDER BY seq"
            )
            return [
                Checkpoint(
                    r["seq"], r["first_position"], r["last_position"], r["count"], bytes(r["head"])
                )
                for r in c.fetchall()
            ]

    def positions_of(self, keys: Sequence[bytes]) -> dict[bytes, int]:
        with self._tx(commit=False) as c:
            c.execute(
                "SELECT key, position FROM ledger_event_keys WHERE key = ANY(%s)", (list(keys),)
            )
            return {bytes(r["key"]): r["position"] for r in c.fetchall()}

    def max_tracking_id(self, name: str) -> int | None:
        try:
            value = self.recorder.max_tracking_id(name)
            return None if value is None else int(value)
        except PersistenceError as exc:
            raise StoreError(str(exc)) from None

    # -- learner keys ---------------------------------------------------------------------

    def load_keys(self, learner_ids: Sequence[str]) -> dict[str, KeyRecord]:
        with self._tx(commit=False) as c:
            c.execute(
                "SELECT learner_id, key_id, wrapped, erased_at FROM ledger_learner_keys"
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
                "INSERT INTO ledger_learner_keys (learner_id, key_id, wrapped)"
                " SELECT * FROM unnest(%s::text[], %s::text[], %s::bytea[])"
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
                "INSERT INTO ledger_learner_keys (learner_id, key_id, wrapped, erased_at)"
                " VALUES (%s, '', NULL, now()) ON CONFLICT (learner_id) DO UPDATE"
                " SET wrapped = NULL, erased_at = now()",
                (learner_id,),
            )
            outcomes = self._append(c, events, None)
        # The old row version holds the wrapped key until vacuumed; reclaim it now.
        try:
            with self.datastore.get_connection() as conn:
                conn.execute("VACUUM ledger_learner_keys")
        except (psycopg.Error, PersistenceError) as exc:
            raise StoreError(f"VACUUM after erasure failed: {exc}") from None
        return outcomes
