"""Contract of the read-model store port, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import zlib
from collections.abc import Iterator

import orjson
import psycopg
import pytest

from projections.postgres import PostgresProjectionStore
from projections.sqlite import LZ4_MAGIC, SQLiteProjectionStore
from projections.store import PositionConflictError, ProjectionStore, open_store_at
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[ProjectionStore]:
    s: ProjectionStore
    if request.param == "postgres":
        s = PostgresProjectionStore(str(request.getfixturevalue("pg_schema_url")))
    else:
        s = SQLiteProjectionStore(f"{tmp_path}/read.db")
    s.create_tables()
    s.create_tables()  # idempotent
    yield s
    s.close()


def test_save_writes_documents_and_position_together(store: ProjectionStore) -> None:
    assert store.position("p") == 0
    store.save("p", {"a": {"n": 1}, "b": {"n": 2}}, expected=0, position=7)
    assert store.position("p") == 7
    assert store.load("p", ["a", "b", "c"]) == {"a": {"n": 1}, "b": {"n": 2}}
    assert store.get("p", "a") == {"n": 1}


def test_save_replaces_and_deletes_documents(store: ProjectionStore) -> None:
    store.save("p", {"a": {"n": 1}, "b": {"n": 2}}, expected=0, position=3)
    store.save("p", {"a": {"n": 9}, "b": None}, expected=3, position=5)
    assert list(store.scan("p")) == [("a", {"n": 9})]


def test_save_from_a_stale_position_changes_nothing(store: ProjectionStore) -> None:
    store.save("p", {"a": {"n": 1}}, expected=0, position=4)
    with pytest.raises(PositionConflictError):
        store.save("p", {"a": {"n": 2}, "z": {"n": 3}}, expected=0, position=8)
    assert store.position("p") == 4
    assert list(store.scan("p")) == [("a", {"n": 1})]


def test_projections_are_kept_apart_and_reset_forgets_one(store: ProjectionStore) -> None:
    store.save("p", {"a": {"n": 1}}, expected=0, position=2)
    store.save("q", {"a": {"m": 1}}, expected=0, position=9)
    store.reset("p")
    assert store.position("p") == 0
    assert list(store.scan("p")) == []
    assert list(store.scan("q")) == [("a", {"m": 1})]
    assert store.position("q") == 9


def stored_namespaces(store: ProjectionStore) -> set[str]:
    """Every namespace that holds documents, read from the table itself."""
    if isinstance(store, SQLiteProjectionStore):
        with sqlite3.connect(store.path) as conn:
            found = conn.execute("SELECT DISTINCT projection FROM projection_documents")
            return {str(r[0]) for r in found}
    assert isinstance(store, PostgresProjectionStore)
    with psycopg.connect(store.locator().partition("?")[0]) as conn:
        rows = conn.execute(f"SELECT DISTINCT projection FROM {store.t_documents}").fetchall()
        return {str(r[0]) for r in rows}


def test_promote_swaps_the_shadows_in_for_the_target_atomically(store: ProjectionStore) -> None:
    store.save("p", {"old": {"v": 0}, "a": {"v": 0}}, expected=0, position=5)
    store.save("q", {"a": {"q": 1}}, expected=0, position=7)
    store.prepare_shadows(["p~0", "p~1"], "p~new")
    store.save("p~0", {"a": {"v": 1}}, expected=0, position=30)
    store.save("p~1", {"b": {"v": 2}}, expected=0, position=30)
    store.save("p~1", {"b": {"v": 3}}, expected=30, position=30)
    assert [k for k, _ in store.scan("p")] == ["a", "old"]  # still served meanwhile
    assert store.get("p~0", "b") == {"v": 3}  # the shadows' documents sit side by side
    store.promote(["p~0", "p~1"], "p", position=30)
    assert list(store.scan("p")) == [("a", {"v": 1}), ("b", {"v": 3})]
    assert store.position("p") == 30
    assert list(store.scan("p~0")) == list(store.scan("p~1")) == []
    assert store.position("p~0") == store.position("p~1") == 0
    assert list(store.scan("q")) == [("a", {"q": 1})]
    assert stored_namespaces(store) == {"p~new", "q"}  # the former documents are gone
    store.save("p", {"c": {"v": 4}, "a": None}, expected=30, position=31)
    assert list(store.scan("p")) == [("b", {"v": 3}), ("c", {"v": 4})]
    store.reset("p")
    assert list(store.scan("p")) == []
    assert store.position("p") == 0
    assert stored_namespaces(store) == {"q"}


def test_promote_with_a_shadow_behind_changes_nothing(store: ProjectionStore) -> None:
    store.save("p", {"old": {"v": 0}}, expected=0, position=5)
    store.prepare_shadows(["p~0", "p~1"], "p~new")
    store.save("p~0", {"a": {"v": 1}}, expected=0, position=30)
    store.save("p~1", {"b": {"v": 2}}, expected=0, position=29)
    with pytest.raises(PositionConflictError, match="p~1"):
        store.promote(["p~0", "p~1"], "p", position=30)
    assert list(store.scan("p")) == [("old", {"v": 0})]
    assert store.position("p") == 5
    assert [k for k, _ in store.scan("p~0")] == ["a", "b"]


def test_prepare_shadows_clears_what_a_killed_rebuild_left(store: ProjectionStore) -> None:
    store.prepare_shadows(["p~0"], "p~first")
    store.save("p~0", {"a": {"v": 1}}, expected=0, position=9)
    store.prepare_shadows(["p~0"], "p~second")
    assert store.position("p~0") == 0
    assert list(store.scan("p~0")) == []
    assert stored_namespaces(store) == set()


def test_store_opens_again_from_its_locator(store: ProjectionStore) -> None:
    store.save("p", {"a": {"v": 1}}, expected=0, position=3)
    again = open_store_at(store.locator())
    try:
        assert again.position("p") == 3
        assert again.get("p", "a") == {"v": 1}
    finally:
        again.close()


def test_sqlite_documents_are_stored_compressed_and_earlier_forms_still_read(
    tmp_path: os.PathLike[str],
) -> None:
    store = SQLiteProjectionStore(f"{tmp_path}/read.db")
    store.create_tables()
    doc = {"items": [{"title": "Certificate in Nursing", "n": i} for i in range(200)]}
    store.save("p", {"a": doc}, expected=0, position=1)
    earlier = {
        "plain": {"written": "before compression"},
        "deflated": {"written": "deflated", "n": list(range(50))},
    }
    with sqlite3.connect(store.path) as conn:
        (blob,) = conn.execute("SELECT doc FROM projection_documents WHERE key = 'a'").fetchone()
        assert blob[:4] == LZ4_MAGIC
        assert len(blob) < len(orjson.dumps(doc)) / 3
        conn.executemany(
            "INSERT INTO projection_documents (projection, key, doc) VALUES ('p', ?, ?)",
            [
                ("plain", orjson.dumps(earlier["plain"])),
                ("deflated", zlib.compress(orjson.dumps(earlier["deflated"]), 1)),
            ],
        )
    assert store.load("p", ["a", *earlier]) == {"a": doc, **earlier}
    assert dict(store.scan("p")) == {"a": doc, **earlier}
    store.close()
