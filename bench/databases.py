"""Where a benchmark runs: a fresh SQLite file or a fresh PostgreSQL schema, removed afterwards,
and the settings of a ledger on it."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from rich.console import Console

from ledger.crypto import generate_key
from ledger.dburl import DatabaseUrl, PostgresUrl
from ledger.settings import Settings

POSTGRES_ENV = "LEDGER_BENCH_POSTGRES_URL"

Fresh = Callable[[], AbstractContextManager[str]]


def postgres_base(given: str | None) -> str:
    """The PostgreSQL a benchmark measures: ``--postgres-url``, else ``LEDGER_BENCH_POSTGRES_URL``;
    empty when neither names one."""
    return given or os.environ.get(POSTGRES_ENV, "")


@contextmanager
def temporary_sqlite_url() -> Iterator[str]:
    """A SQLite URL in a fresh folder, removed afterwards."""
    folder = tempfile.mkdtemp(prefix="ledger-bench-")
    try:
        yield DatabaseUrl.sqlite(f"{folder}/bench.db").text
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def temporary_postgres_url(base: str) -> Iterator[str]:
    """``base`` with a fresh schema, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        yield PostgresUrl.of(base).with_schema(schema).text
    finally:
        drop_schemas(base, [schema])


def fresh_database(postgres: str) -> AbstractContextManager[str]:
    """A fresh schema of ``postgres`` when it names one, else a fresh SQLite file."""
    return temporary_postgres_url(postgres) if postgres else temporary_sqlite_url()


def backends(postgres: str, console: Console) -> list[tuple[str, Fresh]]:
    """SQLite, and PostgreSQL when ``postgres`` names one (else a note says SQLite only):
    each backend's name and how to get a fresh database on it."""
    found: list[tuple[str, Fresh]] = [("sqlite", temporary_sqlite_url)]
    if postgres:
        found.append(("postgresql", lambda: temporary_postgres_url(postgres)))
    else:
        console.print(f"no PostgreSQL URL (--postgres-url / {POSTGRES_ENV}): SQLite only")
    return found


def create_schema(url: str) -> None:
    """The schema a PostgreSQL ``url`` selects, created if missing."""
    postgres = PostgresUrl.of(url)
    with psycopg.connect(**postgres.connection_kwargs(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{postgres.schema}"')


def drop_schemas(base: str, schemas: Iterable[str]) -> None:
    """Drop ``schemas`` of the PostgreSQL at ``base`` with all they hold."""
    with psycopg.connect(**PostgresUrl.of(base).connection_kwargs(), autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def settings_for(url: str, *, master_key: bytes | None = None, **changes: Any) -> Settings:
    """A ledger's settings on ``url`` with a master key made for the run (or ``master_key``),
    nothing read from the environment but what ``changes`` set."""
    return Settings.from_env(
        {}, database_url=url, _master_key=master_key or generate_key(), **changes
    )
