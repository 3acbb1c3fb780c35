"""Contract of the read-model store port, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from projections.postgres import PostgresProjectionStore
from projections.sqlite import SQLiteProjectionStore
from projections.store import PositionConflictError, ProjectionStore
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
