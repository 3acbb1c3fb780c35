"""PostgreSQL adapter of the read-model store (tables beside the ledger's, same schema)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg

from ledger.dburl import PostgresUrl
from ledger.transactions import postgres_failures
from projections.store import (
    Document,
    PositionConflictError,
    ProjectionStore,
    promotable_namespace,
)


class PostgresProjectionStore(ProjectionStore):
    """Read models in the ledger's PostgreSQL database (own tables, own connection)."""

    def __init__(self, url: str | PostgresUrl) -> None:
        self.database = PostgresUrl.of(url) if isinstance(url, str) else url
        self.url = self.database.redacted
        self.schema = self.database.schema
        q = f'"{self.schema}".'
        self.t_positions = q + "projection_positions"
        self.t_documents = q + "projection_documents"
        self.t_namespaces = q + "projection_namespaces"
        # The documents' namespace of the projection bound twice after it.
        self.namespace = (
            f"COALESCE((SELECT documents FROM {self.t_namespaces} WHERE projection = %s), %s)"
        )
        with postgres_failures(f"connection to {self.url}"):
            self._conn = psycopg.connect(
                **self.database.connection_kwargs(), connect_timeout=10, autocommit=True
            )
            # Read models are derived: a commit lost to a crash is projected again from
            # the log (documents and position commit together, so they still agree).
            self._conn.execute("SET synchronous_commit = off")

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor[tuple[Any, ...]]]:
        with (
            postgres_failures("projection write"),
            self._conn.transaction(),
            self._conn.cursor() as c,
        ):
            yield c

    @contextmanager
    def _read(self) -> Iterator[psycopg.Cursor[tuple[Any, ...]]]:
        """For one statement that only reads: the connection autocommits, so it runs in a
        transaction of its own, without the BEGIN and COMMIT round trips of ``_tx``."""
        with postgres_failures("projection read"), self._conn.cursor() as c:
            yield c

    def create_tables(self) -> None:
        with self._tx() as c:
            c.execute("SELECT pg_advisory_xact_lock(7412002)")
            c.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.t_positions} ("
                " projection text PRIMARY KEY, position bigint NOT NULL)"
            )
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.t_documents} ("
                " projection text NOT NULL, key text NOT NULL, doc bytea NOT NULL,"
                " PRIMARY KEY (projection, key))"
            )
            # Documents are rewritten as they change: lz4 compresses them several times
            # faster than the default pglz (servers built without lz4 keep pglz).
            try:
                with self._conn.transaction():
                    c.execute(
                        f"ALTER TABLE {self.t_documents} ALTER COLUMN doc SET COMPRESSION lz4"
                    )
            except psycopg.errors.FeatureNotSupported:
                pass
            # Where a projection's documents live when not under its own name (rebuilds).
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.t_namespaces} ("
                " projection text PRIMARY KEY, documents text NOT NULL)"
            )

    def position(self, projection: str) -> int:
        with self._read() as c:
            c.execute(
                f"SELECT position FROM {self.t_positions} WHERE projection = %s", (projection,)
            )
            row = c.fetchone()
            return int(row[0]) if row else 0

    def load(self, projection: str, keys: Sequence[str]) -> dict[str, Document]:
        with self._read() as c:
            c.execute(
                f"SELECT key, doc FROM {self.t_documents}"
                f" WHERE projection = {self.namespace.replace('%s', '%b')} AND key = ANY(%b)",
                (projection, projection, list(keys)),
                binary=True,
            )
            return {str(k): orjson.loads(bytes(d)) for k, d in c.fetchall()}

    def save(
        self,
        projection: str,
        changes: Mapping[str, Document | None],
        *,
        expected: int,
        position: int,
    ) -> None:
        upserts = [(k, orjson.dumps(d)) for k, d in changes.items() if d is not None]
        deletes = [k for k, d in changes.items() if d is None]
        with self._tx() as c:
            # The row lock serialises runners of one projection; the check refuses a stale one.
            c.execute(
                f"INSERT INTO {self.t_positions} (projection, position) VALUES (%s, 0)"
                " ON CONFLICT (projection) DO NOTHING",
                (projection,),
            )
            c.execute(
                f"SELECT position FROM {self.t_positions} WHERE projection = %s FOR UPDATE",
                (projection,),
            )
            row = c.fetchone()
            if row is None or int(row[0]) != expected:
                raise PositionConflictError(
                    f"projection {projection!r} moved past {expected} meanwhile"
                )
            namespace = self._namespace(c, projection)
            if upserts:
                c.execute(
                    f"INSERT INTO {self.t_documents} (projection, key, doc)"
                    " SELECT %s, k, d FROM unnest(%b::text[], %b::bytea[]) AS u(k, d)"
                    " ON CONFLICT (projection, key) DO UPDATE SET doc = excluded.doc",
                    (namespace, [k for k, _ in upserts], [d for _, d in upserts]),
                )
            if deletes:
                c.execute(
                    f"DELETE FROM {self.t_documents} WHERE projection = %s AND key = ANY(%b)",
                    (namespace, deletes),
                )
            c.execute(
                f"UPDATE {self.t_positions} SET position = %s WHERE projection = %s",
                (position, projection),
            )

    def _namespace(self, c: psycopg.Cursor[tuple[Any, ...]], projection: str) -> str:
        c.execute(f"SELECT {self.namespace}", (projection, projection))
        row = c.fetchone()
        return str(row[0]) if row else projection

    def _forget(self, c: psycopg.Cursor[tuple[Any, ...]], projection: str) -> None:
        c.execute(f"DELETE FROM {self.t_positions} WHERE projection = %s", (projection,))
        c.execute(f"DELETE FROM {self.t_namespaces} WHERE projection = %s", (projection,))

    def _drop_documents(self, c: psycopg.Cursor[tuple[Any, ...]], namespace: str) -> None:
        c.execute(f"DELETE FROM {self.t_documents} WHERE projection = %s", (namespace,))

    def reset(self, projection: str) -> None:
        with self._tx() as c:
            self._drop_documents(c, self._namespace(c, projection))
            self._forget(c, projection)

    def prepare_shadows(self, parts: Sequence[str], documents: str) -> None:
        with self._tx() as c:
            for part in parts:
                self._drop_documents(c, self._namespace(c, part))
                self._forget(c, part)
                c.execute(
                    f"INSERT INTO {self.t_namespaces} (projection, documents) VALUES (%s, %s)",
                    (part, documents),
                )
            self._drop_documents(c, documents)

    def promote(self, parts: Sequence[str], target: str, *, position: int) -> None:
        parts = list(parts)
        with self._tx() as c:
            c.execute(
                f"INSERT INTO {self.t_positions} (projection, position) VALUES (%s, 0)"
                " ON CONFLICT (projection) DO NOTHING",
                (target,),
            )
            # Lock the target's row first, as save() does, then the shadows'.
            c.execute(
                f"SELECT position FROM {self.t_positions} WHERE projection = %s FOR UPDATE",
                (target,),
            )
            c.execute(
                f"SELECT projection, position FROM {self.t_positions}"
                " WHERE projection = ANY(%s) FOR UPDATE",
                (parts,),
            )
            found = {str(p): int(v) for p, v in c.fetchall()}
            shadow = promotable_namespace(
                target,
                {p: found.get(p, 0) for p in parts},
                [self._namespace(c, p) for p in parts],
                position,
            )
            former = self._namespace(c, target)
            if former != shadow:
                self._drop_documents(c, former)
            c.execute(
                f"INSERT INTO {self.t_namespaces} (projection, documents) VALUES (%s, %s)"
                " ON CONFLICT (projection) DO UPDATE SET documents = excluded.documents",
                (target, shadow),
            )
            for part in parts:
                self._forget(c, part)
            c.execute(
                f"UPDATE {self.t_positions} SET position = %s WHERE projection = %s",
                (position, target),
            )

    def locator(self) -> str:
        return self.database.text

    def scan(self, projection: str) -> Iterator[tuple[str, Document]]:
        with self._read() as c:
            c.execute(
                f"SELECT key, doc FROM {self.t_documents} WHERE projection = {self.namespace}"
                " ORDER BY key",
                (projection, projection),
            )
            rows = c.fetchall()
        for key, doc in rows:
            yield str(key), orjson.loads(bytes(doc))

    def close(self) -> None:
        self._conn.close()
