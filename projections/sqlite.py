"""SQLite adapter of the read-model store (the embedded default, next to the ledger file)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import orjson

from ledger.errors import StoreError
from projections.store import Document, PositionConflictError, ProjectionStore

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS projection_positions ("
    " projection TEXT PRIMARY KEY, position INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projection_documents ("
    " projection TEXT NOT NULL, key TEXT NOT NULL, doc BLOB NOT NULL,"
    " PRIMARY KEY (projection, key))",
)
# SQLite caps the number of bound parameters per statement.
CHUNK = 500


class SQLiteProjectionStore(ProjectionStore):
    """Read models in the ledger's SQLite file (own tables, own connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode = WAL")
            # Erased learners' documents must not linger in freed pages.
            self._conn.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        c = self._conn.cursor()
        try:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite projection write failed: {exc}") from None

    def create_tables(self) -> None:
        with self._write() as c:
            for statement in SCHEMA:
                c.execute(statement)

    def position(self, projection: str) -> int:
        row = self._conn.execute(
            "SELECT position FROM projection_positions WHERE projection = ?", (projection,)
        ).fetchone()
        return int(row[0]) if row else 0

    def load(self, projection: str, keys: Sequence[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        keys = list(keys)
        for i in range(0, len(keys), CHUNK):
            chunk = keys[i : i + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                "SELECT key, doc FROM projection_documents"
                f" WHERE projection = ? AND key IN ({marks})",
                [projection, *chunk],
            ).fetchall()
            found.update((k, orjson.loads(d)) for k, d in rows)
        return found

    def save(
        self,
        projection: str,
        changes: Mapping[str, Document | None],
        *,
        expected: int,
        position: int,
    ) -> None:
        with self._write() as c:
            row = c.execute(
                "SELECT position FROM projection_positions WHERE projection = ?", (projection,)
            ).fetchone()
            if (int(row[0]) if row else 0) != expected:
                raise PositionConflictError(
                    f"projection {projection!r} moved past {expected} meanwhile"
                )
            c.executemany(
                "INSERT INTO projection_documents (projection, key, doc) VALUES (?, ?, ?)"
                " ON CONFLICT (projection, key) DO UPDATE SET doc = excluded.doc",
                [(projection, k, orjson.dumps(d)) for k, d in changes.items() if d is not None],
            )
            c.executemany(
                "DELETE FROM projection_documents WHERE projection = ? AND key = ?",
                [(projection, k) for k, d in changes.items() if d is None],
            )
            c.execute(
                "INSERT INTO projection_positions (projection, position) VALUES (?, ?)"
                " ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
                (projection, position),
            )

    def reset(self, projection: str) -> None:
        with self._write() as c:
            c.execute("DELETE FROM projection_documents WHERE projection = ?", (projection,))
            c.execute("DELETE FROM projection_positions WHERE projection = ?", (projection,))

    def scan(self, projection: str) -> Iterator[tuple[str, Document]]:
        rows = self._conn.execute(
            "SELECT key, doc FROM projection_documents WHERE projection = ? ORDER BY key",
            (projection,),
        )
        for key, doc in rows:
            yield key, orjson.loads(doc)

    def close(self) -> None:
        self._conn.close()
