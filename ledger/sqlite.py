"""SQLite adapter of the store port: the embedded default, one file, no server."""

from __future__ import annotations

import fcntl
import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteCursor

from ledger.integrity import GENESIS, HASH_LEN, KEY_LEN, KEY_OFFSET, Checkpoint, StoredRow
from ledger.persistence import (
    HeadsUpdate,
    KeyRecord,
    LedgerRecorder,
    StreamHeads,
    Trackings,
    as_trackings,
    check_partition,
    refuse_erased,
)
from ledger.plan import plan_append
from ledger.recorders import SQLiteEventsourcing
from ledger.records import AppendOutcome, NewEvent, utc_now
from ledger.sqlite_tree import (
    EVENTS_TABLE,
    TREE_GUARDED,
    TREE_SCHEMA,
    SQLiteTreeTables,
    chunks,
)
from ledger.transactions import sqlite_failures, sqlite_immediate

# A stream's rows come many at a time (a learner's events): parse each stored id once.
_stream_id = functools.lru_cache(maxsize=1 << 16)(UUID)
HEX_DIGITS = "0123456789abcdef"

GUARDED_TABLES = (EVENTS_TABLE, "ledger_checkpoints", "ledger_erasures", *TREE_GUARDED)
# The idempotency key sits at a fixed place in every stored state (see integrity).
KEY_EXPR = f"substr(state, {KEY_OFFSET + 1}, {KEY_LEN})"

SCHEMA = [
    f"CREATE UNIQUE INDEX IF NOT EXISTS {EVENTS_TABLE}_key_idx ON {EVENTS_TABLE} ({KEY_EXPR})",
    "CREATE TABLE IF NOT EXISTS ledger_checkpoints ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, first_position INTEGER NOT NULL,"
    " last_position INTEGER NOT NULL, count INTEGER NOT NULL, head BLOB NOT NULL,"
    " committed_at TEXT NOT NULL, hashes BLOB)",
    "CREATE INDEX IF NOT EXISTS ledger_checkpoints_last_idx ON ledger_checkpoints (last_position)",
    "CREATE TABLE IF NOT EXISTS ledger_learner_keys ("
    " learner_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, wrapped BLOB,"
    " created_at TEXT NOT NULL, erased_at TEXT) WITHOUT ROWID",
    # Each erasure by its event's log position: how other processes learn of it.
    "CREATE TABLE IF NOT EXISTS ledger_erasures (position INTEGER PRIMARY KEY,"
    " learner_id TEXT NOT NULL)",
    *TREE_SCHEMA,
    *(
        f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
        f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
        for t in GUARDED_TABLES
        for op in ("UPDATE", "DELETE")
    ),
]


class SQLiteLedgerRecorder(SQLiteTreeTables, LedgerRecorder):
    """The ledger on one SQLite file (WAL mode), through eventsourcing's SQLite recorder."""

    url_scheme = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._heads = StreamHeads()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with sqlite_failures(f"opening of {self.path}"):
            self.eventsourcing = SQLiteEventsourcing(self.path, events_table=EVENTS_TABLE)
        self.datastore = self.eventsourcing.datastore

    def __repr__(self) -> str:
        return f"SQLiteLedgerRecorder({self.path!r})"

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[SQLiteCursor]:
        """An IMMEDIATE transaction: takes the write lock first, so reads made inside it
        (chain head, stream versions, idempotency keys) cannot be raced by another writer."""
        with sqlite_failures("write"), self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA secure_delete = ON")
            with sqlite_immediate(cursor):
                yield cursor

    @contextmanager
    def _read(self) -> Iterator[SQLiteCursor]:
        with sqlite_failures("read"), self.datastore.get_connection(commit=False) as conn:
            yield conn.cursor()

    def create_tables(self) -> None:
        # Several processes may open a new database at once; eventsourcing's table
        # creation is not safe against that, so serialise it with a lock file.
        if self.path == ":memory:":
            self._create_tables()
            return
        with open(self.path + ".init-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._create_tables()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _create_tables(self) -> None:
        with sqlite_failures("table creation"):
            self.eventsourcing.create_tables()
        with self._write() as c:
            c.execute("PRAGMA table_info(ledger_checkpoints)")
            columns = {row[1] for row in c.fetchall()}
            if columns and "hashes" not in columns:  # a ledger from before they were kept
                c.execute("ALTER TABLE ledger_checkpoints ADD COLUMN hashes BLOB")
            for statement in SCHEMA:
                c.execute(statement)

    def close(self) -> None:
        self.eventsourcing.close()

    # -- append ---------------------------------------------------------------------------

    def append(
        self,
        events: Sequence[NewEvent],
        *,
        tracking: Trackings = None,
        erasures_seen: int | None = None,
    ) -> list[AppendOutcome]:
        if not events and not as_trackings(tracking):
            return []
        with self._write() as c:
            if erasures_seen is not None:
                # Under the write lock, which erasures take too.
                c.execute(
                    "SELECT learner_id FROM ledger_erasures WHERE position > ?", (erasures_seen,)
                )
                refuse_erased([r[0] for r in c.fetchall()], {e.stream for e in events})
            outcomes, update = self._append(c, events, tracking)
        self._heads.committed(update)
        return outcomes

    def _append(
        self, c: SQLiteCursor, events: Sequence[NewEvent], tracking: Trackings
    ) -> tuple[list[AppendOutcome], HeadsUpdate]:
        c.execute(
            f"SELECT rowid, substr(state, 1, {HASH_LEN}) FROM {EVENTS_TABLE}"
            " ORDER BY rowid DESC LIMIT 1"
        )
        row = c.fetchone()
        last, prev = (int(row[0]), bytes(row[1])) if row else (0, GENESIS)
        existing = self._existing(c, list({e.key for e in events}))
        heads = self._heads.read(
            list({e.stream for e in events}),
            last,
            changed_since=lambda position: self._versions_since(c, position),
            load=lambda streams: self._versions_of(c, streams),
        )
        plan = plan_append(events, existing, heads, prev)
        positions: list[int] = []
        if plan.stored:
            stored = [StoredEvent(*row) for row in plan.stored]
            positions = self.eventsourcing.insert_events(c, stored)
            c.execute(
                "INSERT INTO ledger_checkpoints (first_position, last_position, count, head,"
                " committed_at, hashes) VALUES (?,?,?,?,?,?)",
                (positions[0], positions[-1], len(positions), plan.head, utc_now(), plan.hashes),
            )
        for position in as_trackings(tracking):
            self.eventsourcing.insert_tracking(c, position)
        return plan.outcomes(positions), HeadsUpdate(
            last, positions[-1] if positions else last, heads
        )

    def _existing(self, c: SQLiteCursor, keys: list[bytes]) -> dict[bytes, int]:
        found: dict[bytes, int] = {}
        for chunk in chunks(keys):
            marks = ",".join("?" * len(chunk))
            c.execute(
                f"SELECT {KEY_EXPR}, rowid FROM {EVENTS_TABLE} WHERE {KEY_EXPR} IN ({marks})",
                chunk,
            )
            found.update((bytes(k), p) for k, p in c.fetchall())
        return found

    def _versions_of(self, c: SQLiteCursor, streams: list[UUID]) -> dict[UUID, int]:
        heads: dict[UUID, int] = {}
        for chunk in chunks(streams):
            marks = ",".join("?" * len(chunk))
            c.execute(
                f"SELECT originator_id, MAX(originator_version) FROM {EVENTS_TABLE}"
                f" WHERE originator_id IN ({marks}) GROUP BY originator_id",
                [s.hex for s in chunk],
            )
            heads.update((UUID(o), v) for o, v in c.fetchall())
        return heads

    def _versions_since(self, c: SQLiteCursor, position: int) -> dict[UUID, int]:
        c.execute(
            f"SELECT originator_id, MAX(originator_version) FROM {EVENTS_TABLE}"
            " WHERE rowid > ? GROUP BY originator_id",
            (position,),
        )
        return {UUID(o): v for o, v in c.fetchall()}

    # -- reads ----------------------------------------------------------------------------

    @staticmethod
    def _rows(raw: list[Any]) -> list[StoredRow]:
        return [StoredRow(p, _stream_id(o), v, t, bytes(s)) for p, o, v, t, s in raw]

    def select_log(
        self,
        start: int,
        limit: int,
        *,
        until: int | None = None,
        partition: tuple[int, int] | None = None,
    ) -> list[StoredRow]:
        check_partition(partition)
        where = "rowid >= ?"
        params: list[int | str] = [start]
        if until is not None:
            where += " AND rowid <= ?"
            params.append(until)
        if partition is not None:
            # The stream's low 4 bits are its hex id's last digit (see partition_of): the
            # part's digits as a list of constants (cheaper than arithmetic on every row).
            k, n = partition
            digits = [d for i, d in enumerate(HEX_DIGITS) if i % n == k]
            where += f" AND substr(originator_id, 32, 1) IN ({','.join('?' * len(digits))})"
            params += digits
        with self._read() as c:
            c.execute(
                "SELECT rowid, originator_id, originator_version, topic, state"
                f" FROM {EVENTS_TABLE} WHERE {where} ORDER BY rowid LIMIT ?",
                (*params, limit),
            )
            return self._rows(c.fetchall())

    def select_stream(self, stream: UUID, *, after_version: int = 0) -> list[StoredRow]:
        with self._read() as c:
            c.execute(
                "SELECT rowid, originator_id, originator_version, topic, state"
                f" FROM {EVENTS_TABLE} WHERE originator_id = ? AND originator_version > ?"
                " ORDER BY originator_version",
                (stream.hex, after_version),
            )
            return self._rows(c.fetchall())

    def max_position(self) -> int:
        with self._read() as c:
            c.execute(f"SELECT MAX(rowid) FROM {EVENTS_TABLE}")
            row = c.fetchone()
            return int(row[0] or 0)

    def checkpoints(self) -> list[Checkpoint]:
        with self._read() as c:
            c.execute(
                "SELECT seq, first_position, last_position, count, head"
                " FROM ledger_checkpoints ORDER BY seq"
            )
            return [Checkpoint(s, f, last, n, bytes(h)) for s, f, last, n, h in c.fetchall()]

    def positions_of(self, keys: Sequence[bytes]) -> dict[bytes, int]:
        with self._read() as c:
            return self._existing(c, list(keys))

    def max_tracking_id(self, name: str) -> int | None:
        with sqlite_failures("read"):
            return self.eventsourcing.max_tracking_id(name)

    # -- learner keys ---------------------------------------------------------------------

    def load_keys(self, learner_ids: Sequence[str]) -> dict[str, KeyRecord]:
        with self._read() as c:
            return _load_keys(c, list(learner_ids))

    def insert_keys(
        self, records: Sequence[KeyRecord], *, also: Sequence[str] = ()
    ) -> dict[str, KeyRecord]:
        if not records:
            return self.load_keys(also) if also else {}
        now = utc_now()
        with self._write() as c:
            c.executemany(
                "INSERT OR IGNORE INTO ledger_learner_keys"
                " (learner_id, key_id, wrapped, created_at) VALUES (?, ?, ?, ?)",
                [(r.learner_id, r.key_id, r.wrapped, now) for r in records],
            )
            return _load_keys(c, [*(r.learner_id for r in records), *also])

    def erasures_after(self, position: int | None) -> tuple[int, list[str]]:
        with self._read() as c:
            if position is None:
                c.execute("SELECT coalesce(max(position), 0) FROM ledger_erasures")
                return int(c.fetchone()[0]), []
            c.execute(
                "SELECT position, learner_id FROM ledger_erasures WHERE position > ?"
                " ORDER BY position",
                (position,),
            )
            rows = c.fetchall()
        return (int(rows[-1][0]) if rows else position), [r[1] for r in rows]

    def destroy_key(self, learner_id: str, events: Sequence[NewEvent]) -> list[AppendOutcome]:
        now = utc_now()
        with self._write() as c:
            # secure_delete (set on every write) overwrites the old key bytes in the file.
            c.execute(
                "INSERT INTO ledger_learner_keys (learner_id, key_id, wrapped, created_at, erased_at)"
                " VALUES (?, '', NULL, ?, ?) ON CONFLICT (learner_id) DO UPDATE"
                " SET wrapped = NULL, erased_at = excluded.erased_at",
                (learner_id, now, now),
            )
            outcomes, update = self._append(c, events, None)
            c.execute(
                "INSERT OR IGNORE INTO ledger_erasures (position, learner_id) VALUES (?, ?)",
                (outcomes[0].position, learner_id),
            )
        self._heads.committed(update)
        self._checkpoint_wal()
        return outcomes

    def _checkpoint_wal(self) -> None:
        # Old page images (with the key) may linger in the WAL until it is checkpointed.
        with (
            sqlite_failures("WAL checkpoint"),
            self.datastore.get_connection(commit=True) as conn,
        ):
            conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _load_keys(c: SQLiteCursor, learner_ids: list[str]) -> dict[str, KeyRecord]:
    """The key records of these learners that have one."""
    found: dict[str, KeyRecord] = {}
    for chunk in chunks(learner_ids):
        marks = ",".join("?" * len(chunk))
        c.execute(
            "SELECT learner_id, key_id, wrapped, erased_at FROM ledger_learner_keys"
            f" WHERE learner_id IN ({marks})",
            chunk,
        )
        for lid, kid, wrapped, erased in c.fetchall():
            found[lid] = KeyRecord(lid, kid, None if wrapped is None else bytes(wrapped), erased)
    return found
