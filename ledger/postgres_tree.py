"""The PostgreSQL adapter's Merkle-tree tables: the tiles and the tree's size, the signed
checkpoints and the witnesses' cosignatures (the store port's tree methods)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

import psycopg
from psycopg.rows import DictRow, tuple_row

from ledger.integrity import HASH_LEN
from ledger.notes import SignedCheckpoint
from ledger.persistence import contiguous_hashes, hash_run
from ledger.tiles import TileKey

# Append-only, as the log: the signed checkpoints and the cosignatures kept with them.
TREE_GUARDED = ("ledger_log_checkpoints", "ledger_log_cosignatures")


def tree_statements(q: str) -> list[str]:
    """DDL of the tree's tables in the schema ``q`` (quoted, with its dot)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {q}ledger_tree_tiles (level smallint NOT NULL,"
        " idx bigint NOT NULL, hashes bytea NOT NULL, PRIMARY KEY (level, idx))",
        f"ALTER TABLE {q}ledger_tree_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL",
        f"CREATE TABLE IF NOT EXISTS {q}ledger_tree (id smallint PRIMARY KEY CHECK (id = 1),"
        " size bigint NOT NULL)",
        f"INSERT INTO {q}ledger_tree (id, size) VALUES (1, 0) ON CONFLICT DO NOTHING",
        f"CREATE TABLE IF NOT EXISTS {q}ledger_log_checkpoints (size bigint PRIMARY KEY,"
        " root bytea NOT NULL, note text NOT NULL, created_at text NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {q}ledger_log_cosignatures (size bigint NOT NULL,"
        " name text NOT NULL, line text NOT NULL, created_at text NOT NULL,"
        " PRIMARY KEY (size, name))",
    ]


class PostgresTreeTables:
    """The tree's tables, for :class:`ledger.postgres.PostgresLedgerRecorder`, whose
    transactions and table names these methods use."""

    t_events: str
    t_checkpoints: str
    t_tiles: str
    t_tree: str
    t_signed: str
    t_cosigned: str

    def _tx(self, *, commit: bool) -> AbstractContextManager[psycopg.Cursor[DictRow]]:
        raise NotImplementedError

    def name_tree_tables(self, q: str) -> None:
        """Name the tree's tables in the schema ``q`` (quoted, with its dot)."""
        self.t_tiles = q + "ledger_tree_tiles"
        self.t_tree = q + "ledger_tree"
        self.t_signed = q + "ledger_log_checkpoints"
        self.t_cosigned = q + "ledger_log_cosignatures"

    def chain_hashes(self, start: int, limit: int) -> bytes:
        # Plain tuples (bytea arrives as bytes): a dict per row costs more than the work.
        with self._tx(commit=False) as c, c.connection.cursor(row_factory=tuple_row) as t:
            t.execute(
                "SELECT first_position, last_position, hashes FROM"
                f" {self.t_checkpoints} WHERE last_position >= %s ORDER BY last_position LIMIT %s",
                (start, limit // 64 + 2),
                prepare=True,
                binary=True,
            )
            run, stop = hash_run(start, limit, t.fetchall())
            if run or stop >= start + limit:
                return run
            # No checkpoint kept these hashes (written before they did): the events'.
            t.execute(
                f"SELECT notification_id, substring(state from 1 for {HASH_LEN})"
                f" FROM {self.t_events} WHERE notification_id >= %s"
                " ORDER BY notification_id LIMIT %s",
                (start, limit),
                prepare=True,
                binary=True,
            )
            return contiguous_hashes(start, t.fetchall())

    def tree_size(self) -> int:
        with self._tx(commit=False) as c:
            c.execute(f"SELECT size FROM {self.t_tree} WHERE id = 1", prepare=True)
            row = c.fetchone()
            return int(row["size"]) if row else 0

    def tree_tiles(self, keys: Sequence[TileKey]) -> dict[TileKey, bytes]:
        if not keys:
            return {}
        with self._tx(commit=False) as c:
            c.execute(
                f"SELECT t.level, t.idx, t.hashes FROM {self.t_tiles} t"
                " JOIN unnest(%b::smallint[], %b::bigint[]) AS k(level, idx)"
                " ON t.level = k.level AND t.idx = k.idx",
                ([k[0] for k in keys], [k[1] for k in keys]),
                prepare=True,
                binary=True,
            )
            return {(r["level"], r["idx"]): bytes(r["hashes"]) for r in c.fetchall()}

    def grow_tree(self, old_size: int, new_size: int, tiles: Mapping[TileKey, bytes]) -> bool:
        with self._tx(commit=True) as c:
            c.execute(
                f"UPDATE {self.t_tree} SET size = %s WHERE id = 1 AND size = %s",
                (new_size, old_size),
                prepare=True,
            )
            if c.rowcount != 1:
                return False
            c.execute(
                f"INSERT INTO {self.t_tiles} (level, idx, hashes)"
                " SELECT * FROM unnest(%b::smallint[], %b::bigint[], %b::bytea[])"
                " ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes",
                (
                    [k[0] for k in tiles],
                    [k[1] for k in tiles],
                    list(tiles.values()),
                ),
                prepare=True,  # %b: sent binary (as text, each byte would be escaped)
            )
        return True

    def signed_checkpoints(
        self, *, after_size: int = -1, limit: int = 100, newest_first: bool = False
    ) -> list[SignedCheckpoint]:
        order = "DESC" if newest_first else "ASC"
        with self._tx(commit=False) as c:
            c.execute(
                f"SELECT size, root, note, created_at FROM {self.t_signed}"
                f" WHERE size > %s ORDER BY size {order} LIMIT %s",
                (after_size, limit),
            )
            return [
                SignedCheckpoint(r["size"], bytes(r["root"]), r["note"], r["created_at"])
                for r in c.fetchall()
            ]

    def add_signed_checkpoint(self, checkpoint: SignedCheckpoint) -> bool:
        with self._tx(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.t_signed} (size, root, note, created_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (size) DO NOTHING",
                (checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.created_at),
            )
            return c.rowcount == 1

    def add_cosignature(self, size: int, name: str, line: str, created_at: str) -> bool:
        with self._tx(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.t_cosigned} (size, name, line, created_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (size, name) DO NOTHING",
                (size, name, line, created_at),
            )
            return c.rowcount == 1

    def cosignatures(self, size: int) -> list[str]:
        with self._tx(commit=False) as c:
            c.execute(f"SELECT line FROM {self.t_cosigned} WHERE size = %s ORDER BY name", (size,))
            return [r["line"] for r in c.fetchall()]
