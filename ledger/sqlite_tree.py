"""The SQLite adapter's Merkle-tree tables: the tiles and the tree's size, the signed
checkpoints and the witnesses' cosignatures (the store port's tree methods)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from eventsourcing.sqlite import SQLiteCursor

from ledger.integrity import HASH_LEN
from ledger.notes import SignedCheckpoint
from ledger.persistence import contiguous_hashes, hash_run
from ledger.tiles import TileKey

# eventsourcing's events table, as the SQLite adapter names it.
EVENTS_TABLE = "ledger_events"
# SQLite's default cap on bound parameters is 32766; stay far below it.
CHUNK = 900
# Append-only, as the log: the signed checkpoints and the cosignatures kept with them.
TREE_GUARDED = ("ledger_log_checkpoints", "ledger_log_cosignatures")
TREE_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS ledger_tree_tiles (level INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, hashes BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS ledger_tree (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " size INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO ledger_tree (id, size) VALUES (1, 0)",
    "CREATE TABLE IF NOT EXISTS ledger_log_checkpoints (size INTEGER PRIMARY KEY,"
    " root BLOB NOT NULL, note TEXT NOT NULL, created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger_log_cosignatures (size INTEGER NOT NULL,"
    " name TEXT NOT NULL, line TEXT NOT NULL, created_at TEXT NOT NULL,"
    " PRIMARY KEY (size, name)) WITHOUT ROWID",
]


def chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``CHUNK``, each bound as one statement's parameters."""
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


class SQLiteTreeTables:
    """The tree's tables, for :class:`ledger.sqlite.SQLiteLedgerRecorder`, whose
    transactions these methods use."""

    def _read(self) -> AbstractContextManager[SQLiteCursor]:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[SQLiteCursor]:
        raise NotImplementedError

    def chain_hashes(self, start: int, limit: int) -> bytes:
        with self._read() as c:
            c.execute(
                "SELECT first_position, last_position, hashes FROM ledger_checkpoints"
                " WHERE last_position >= ? ORDER BY last_position LIMIT ?",
                (start, limit // 64 + 2),
            )
            run, stop = hash_run(start, limit, c.fetchall())
            if run or stop >= start + limit:
                return run
            # No checkpoint kept these hashes (written before they did): the events'.
            c.execute(
                f"SELECT rowid, substr(state, 1, {HASH_LEN}) FROM {EVENTS_TABLE}"
                " WHERE rowid >= ? ORDER BY rowid LIMIT ?",
                (start, limit),
            )
            return contiguous_hashes(start, c.fetchall())

    def tree_size(self) -> int:
        with self._read() as c:
            c.execute("SELECT size FROM ledger_tree WHERE id = 1")
            row = c.fetchone()
            return int(row[0]) if row else 0

    def tree_tiles(self, keys: Sequence[TileKey]) -> dict[TileKey, bytes]:
        found: dict[TileKey, bytes] = {}
        by_level: dict[int, list[int]] = {}
        for level, idx in keys:
            by_level.setdefault(level, []).append(idx)
        with self._read() as c:
            # One primary-key probe per tile: `level = ? AND idx IN (…)` (a row-value IN
            # over a VALUES list would scan the whole table).
            for level, indexes in by_level.items():
                for chunk in chunks(indexes):
                    c.execute(
                        "SELECT idx, hashes FROM ledger_tree_tiles WHERE level = ?"
                        f" AND idx IN ({','.join('?' * len(chunk))})",
                        (level, *chunk),
                    )
                    found.update(((level, i), bytes(h)) for i, h in c.fetchall())
        return found

    def grow_tree(self, old_size: int, new_size: int, tiles: Mapping[TileKey, bytes]) -> bool:
        with self._write() as c:
            c.execute(
                "UPDATE ledger_tree SET size = ? WHERE id = 1 AND size = ?", (new_size, old_size)
            )
            if int(c.sqlite_cursor.rowcount) != 1:
                return False
            c.executemany(
                "INSERT INTO ledger_tree_tiles (level, idx, hashes) VALUES (?, ?, ?)"
                " ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes",
                [(t, i, h) for (t, i), h in tiles.items()],
            )
        return True

    def signed_checkpoints(
        self, *, after_size: int = -1, limit: int = 100, newest_first: bool = False
    ) -> list[SignedCheckpoint]:
        order = "DESC" if newest_first else "ASC"
        with self._read() as c:
            c.execute(
                "SELECT size, root, note, created_at FROM ledger_log_checkpoints"
                f" WHERE size > ? ORDER BY size {order} LIMIT ?",
                (after_size, limit),
            )
            return [SignedCheckpoint(n, bytes(r), t, w) for n, r, t, w in c.fetchall()]

    def add_signed_checkpoint(self, checkpoint: SignedCheckpoint) -> bool:
        with self._write() as c:
            c.execute(
                "INSERT OR IGNORE INTO ledger_log_checkpoints (size, root, note, created_at)"
                " VALUES (?, ?, ?, ?)",
                (checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.created_at),
            )
            return int(c.sqlite_cursor.rowcount) == 1

    def add_cosignature(self, size: int, name: str, line: str, created_at: str) -> bool:
        with self._write() as c:
            c.execute(
                "INSERT OR IGNORE INTO ledger_log_cosignatures (size, name, line, created_at)"
                " VALUES (?, ?, ?, ?)",
                (size, name, line, created_at),
            )
            return int(c.sqlite_cursor.rowcount) == 1

    def cosignatures(self, size: int) -> list[str]:
        with self._read() as c:
            c.execute(
                "SELECT line FROM ledger_log_cosignatures WHERE size = ? ORDER BY name", (size,)
            )
            return [line for (line,) in c.fetchall()]
