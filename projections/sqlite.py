"""SQLite adapter of the read-model store (the embedded default, next to the ledger file)."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import lz4.frame
import orjson

from ledger.dburl import DatabaseUrl
from ledger.transactions import sqlite_failures, sqlite_immediate
from projections.store import (
    Document,
    PositionConflictError,
    ProjectionStore,
    promotable_namespace,
)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS projection_positions ("
    " projection TEXT PRIMARY KEY, position INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS projection_documents ("
    " projection TEXT NOT NULL, key TEXT NOT NULL, doc BLOB NOT NULL,"
    " PRIMARY KEY (projection, key))",
    # Where a projection's documents live when not under its own name (after a rebuild).
    "CREATE TABLE IF NOT EXISTS projection_namespaces ("
    " projection TEXT PRIMARY KEY, documents TEXT NOT NULL)",
)
# The documents' namespace of the projection bound twice after it.
NAMESPACE = "COALESCE((SELECT documents FROM projection_namespaces WHERE projection = ?), ?)"
# SQLite caps the number of bound parameters per statement.
CHUNK = 500


# An LZ4 frame starts with these four bytes; a zlib stream with 0x78 ("x"), JSON with "{".
LZ4_MAGIC = b"\x04\x22\x4d\x18"


def _encoded(doc: Document) -> bytes:
    """A document as stored: JSON in an LZ4 frame (about a quarter of the size, so a
    rebuild writes, and deletes with secure_delete, four times fewer pages; compressing
    costs a seventh of what zlib's fastest level does, decompressing a third)."""
    framed: bytes = lz4.frame.compress(orjson.dumps(doc))
    return framed


def _decoded(stored: bytes) -> Document:
    """Also reads what earlier versions stored: deflated (zlib) and plain JSON documents."""
    if stored[:4] == LZ4_MAGIC:
        stored = lz4.frame.decompress(stored)
    elif stored[:1] == b"x":
        stored = zlib.decompress(stored)
    doc: Document = orjson.loads(stored)
    return doc


class SQLiteProjectionStore(ProjectionStore):
    """Read models in the ledger's SQLite file (own tables, own connection)."""

    # In process, a page costs no round trip: small enough that its rows and decoded
    # events stay in the CPU's caches (a quarter to a third faster than 2,000 rows on the
    # demo population, `ledger bench projections`; on PostgreSQL, slower).
    page_rows = 500

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with sqlite_failures(f"opening of {self.path}"):
            self._conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode = WAL")
            # Read models are derived: a commit lost to a power cut is projected again
            # from the log (documents and position commit together, so they still agree).
            self._conn.execute("PRAGMA synchronous = NORMAL")
            # Erased learners' documents must not linger in freed pages.
            self._conn.execute("PRAGMA secure_delete = ON")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Cursor]:
        with sqlite_failures("projection write"), sqlite_immediate(self._conn.cursor()) as c:
            yield c

    def create_tables(self) -> None:
        with self._write() as c:
            for statement in SCHEMA:
                c.execute(statement)

    def position(self, projection: str) -> int:
        with sqlite_failures("projection read"):
            return self._position(self._conn.cursor(), projection)

    def load(self, projection: str, keys: Sequence[str]) -> dict[str, Document]:
        found: dict[str, Document] = {}
        keys = list(keys)
        with sqlite_failures("projection read"):
            for i in range(0, len(keys), CHUNK):
                chunk = keys[i : i + CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    "SELECT key, doc FROM projection_documents"
                    f" WHERE projection = {NAMESPACE} AND key IN ({marks})",
                    [projection, projection, *chunk],
                ).fetchall()
                found.update((k, _decoded(d)) for k, d in rows)
        return found

    def save(
        self,
        projection: str,
        changes: Mapping[str, Document | None],
        *,
        expected: int,
        position: int,
    ) -> None:
        # Encoded before the write lock is taken: other writers (a rebuild's workers)
        # wait only for the writing itself.
        encoded = [(k, _encoded(d)) for k, d in changes.items() if d is not None]
        with self._write() as c:
            row = c.execute(
                "SELECT position FROM projection_positions WHERE projection = ?", (projection,)
            ).fetchone()
            if (int(row[0]) if row else 0) != expected:
                raise PositionConflictError(
                    f"projection {projection!r} moved past {expected} meanwhile"
                )
            namespace = self._namespace(c, projection)
            c.executemany(
                "INSERT INTO projection_documents (projection, key, doc) VALUES (?, ?, ?)"
                " ON CONFLICT (projection, key) DO UPDATE SET doc = excluded.doc",
                [(namespace, k, d) for k, d in encoded],
            )
            c.executemany(
                "DELETE FROM projection_documents WHERE projection = ? AND key = ?",
                [(namespace, k) for k, d in changes.items() if d is None],
            )
            c.execute(
                "INSERT INTO projection_positions (projection, position) VALUES (?, ?)"
                " ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
                (projection, position),
            )

    @staticmethod
    def _namespace(c: sqlite3.Cursor, projection: str) -> str:
        row = c.execute(f"SELECT {NAMESPACE}", (projection, projection)).fetchone()
        return str(row[0])

    @staticmethod
    def _forget(c: sqlite3.Cursor, projection: str) -> None:
        c.execute("DELETE FROM projection_positions WHERE projection = ?", (projection,))
        c.execute("DELETE FROM projection_namespaces WHERE projection = ?", (projection,))

    @staticmethod
    def _drop_documents(c: sqlite3.Cursor, namespace: str) -> None:
        c.execute("DELETE FROM projection_documents WHERE projection = ?", (namespace,))

    def reset(self, projection: str) -> None:
        with self._write() as c:
            self._drop_documents(c, self._namespace(c, projection))
            self._forget(c, projection)

    def prepare_shadows(self, parts: Sequence[str], documents: str) -> None:
        with self._write() as c:
            for part in parts:
                self._drop_documents(c, self._namespace(c, part))
                self._forget(c, part)
                c.execute(
                    "INSERT INTO projection_namespaces (projection, documents) VALUES (?, ?)",
                    (part, documents),
                )
            self._drop_documents(c, documents)

    def promote(self, parts: Sequence[str], target: str, *, position: int) -> None:
        with self._write() as c:
            shadow = promotable_namespace(
                target,
                {p: self._position(c, p) for p in parts},
                [self._namespace(c, p) for p in parts],
                position,
            )
            former = self._namespace(c, target)
            if former != shadow:
                self._drop_documents(c, former)
            c.execute(
                "INSERT INTO projection_namespaces (projection, documents) VALUES (?, ?)"
                " ON CONFLICT (projection) DO UPDATE SET documents = excluded.documents",
                (target, shadow),
            )
            for part in parts:
                self._forget(c, part)
            c.execute(
                "INSERT INTO projection_positions (projection, position) VALUES (?, ?)"
                " ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
                (target, position),
            )

    @staticmethod
    def _position(c: sqlite3.Cursor, projection: str) -> int:
        row = c.execute(
            "SELECT position FROM projection_positions WHERE projection = ?", (projection,)
        ).fetchone()
        return int(row[0]) if row else 0

    def scan(self, projection: str) -> Iterator[tuple[str, Document]]:
        with sqlite_failures("projection read"):
            rows = self._conn.execute(
                f"SELECT key, doc FROM projection_documents WHERE projection = {NAMESPACE}"
                " ORDER BY key",
                (projection, projection),
            )
            for key, doc in rows:
                yield key, _decoded(doc)

    def locator(self) -> str:
        return DatabaseUrl.sqlite(self.path).text

    def close(self) -> None:
        self._conn.close()
