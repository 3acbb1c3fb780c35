"""The read-model store port: JSON documents per projection, and each projection's position.

A projection's documents and the log position they reflect are written in one
transaction, so a runner killed at any moment resumes exactly where its last commit left
off: nothing applied twice, nothing skipped. Adapters live beside the ledger's own
(``projections.sqlite``, ``projections.postgres``), in the same database by default.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from ledger.dburl import DatabaseUrl, PostgresUrl, SQLiteUrl
from ledger.errors import StoreConflictError, StoreError
from ledger.settings import Settings

Document = dict[str, Any]


class PositionConflictError(StoreConflictError):
    """Another runner moved the projection's position first; nothing was written."""


class ProjectionStore(ABC):
    """Port: documents keyed by (projection, key), plus each projection's position."""

    # Log rows a runner reads, applies and saves per transaction unless told otherwise:
    # each page costs a server a few round trips (log, documents, save).
    page_rows: int = 2000

    @abstractmethod
    def create_tables(self) -> None:
        """Create the tables if missing (idempotent)."""

    @abstractmethod
    def position(self, projection: str) -> int:
        """The last log position applied (0 before the first)."""

    @abstractmethod
    def load(self, projection: str, keys: Sequence[str]) -> dict[str, Document]:
        """The stored documents among ``keys``."""

    @abstractmethod
    def save(
        self,
        projection: str,
        changes: Mapping[str, Document | None],
        *,
        expected: int,
        position: int,
    ) -> None:
        """Write ``changes`` (``None`` deletes) and move the position, atomically.

        Raises:
            PositionConflictError: the stored position is not ``expected``.
        """

    @abstractmethod
    def reset(self, projection: str) -> None:
        """Forget every document and go back to position 0, in one transaction."""

    @abstractmethod
    def prepare_shadows(self, parts: Sequence[str], documents: str) -> None:
        """Start projections ``parts`` afresh, all keeping their documents in one namespace.

        A rebuild projects into these shadows (each with its own position, their documents
        side by side under ``documents``) while the live read model keeps serving reads,
        then swaps them in with :meth:`promote`. Anything the parts or the namespace held
        before is deleted.
        """

    @abstractmethod
    def promote(self, parts: Sequence[str], target: str, *, position: int) -> None:
        """Make the shadows' documents ``target``'s, atomically and without copying them.

        In one transaction: ``target`` reads its documents from the shadows' namespace
        from now on, its former documents are deleted, its position becomes ``position``
        and the shadows are forgotten.

        Raises:
            PositionConflictError: a shadow is not at ``position``; nothing was changed.
        """

    @abstractmethod
    def locator(self) -> str:
        """What :func:`open_store_at` needs to open this store in another process.

        It may hold a password: pass it to a child process, never log it.
        """

    @abstractmethod
    def scan(self, projection: str) -> Iterator[tuple[str, Document]]:
        """Every document of a projection, by key order."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def get(self, projection: str, key: str) -> Document | None:
        return self.load(projection, [key]).get(key)


def promotable_namespace(
    target: str, positions: Mapping[str, int], namespaces: Iterable[str], position: int
) -> str:
    """The namespace ``promote`` may point ``target`` at: the one its shadows share, all of
    them at ``position`` (``positions``: each shadow's, absent ones count as 0).

    Raises:
        PositionConflictError: a shadow is not at ``position``.
        StoreError: the shadows do not share one namespace.
    """
    behind = [p for p, at in positions.items() if at != position]
    if behind:
        raise PositionConflictError(
            f"projection {target!r}: shadows {behind!r} are not at {position}"
        )
    distinct = set(namespaces)
    if len(distinct) != 1:
        raise StoreError(
            f"projection {target!r}: shadows {sorted(positions)!r} do not share one namespace"
        )
    (shared,) = distinct
    return shared


def open_projection_store(settings: Settings) -> ProjectionStore:
    """The adapter for the ledger's database (tables created if missing)."""
    return open_store_at(settings.database)


def open_store_at(url: str | SQLiteUrl | PostgresUrl) -> ProjectionStore:
    """The adapter for a database URL (``sqlite:///PATH`` or ``postgresql://…``, e.g. a
    :meth:`ProjectionStore.locator`), tables created if missing.

    Raises:
        ConfigurationError: the URL names no supported database.
    """
    database = DatabaseUrl.parse(url) if isinstance(url, str) else url
    store: ProjectionStore
    if isinstance(database, PostgresUrl):
        from projections.postgres import PostgresProjectionStore

        store = PostgresProjectionStore(database)
    else:
        from projections.sqlite import SQLiteProjectionStore

        store = SQLiteProjectionStore(database.path)
    store.create_tables()
    return store
