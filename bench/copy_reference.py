"""The database's own speed for the rows an ingest run stored, measured in the same run:
the references ``ledger bench ingest`` sets the ledger's backlog rate against."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from ledger.dburl import PostgresUrl


def raw_copy(url: str, schema: str) -> dict[str, Any]:
    """Binary COPY of the rows the ledger stored into a plain table (no index), in one
    transaction: what the issue's target (≥ 50 %) is judged against."""
    return _timed_copy(
        url,
        schema,
        f'CREATE TABLE "{schema}".bench_raw (originator_id uuid, originator_version bigint,'
        " topic text, state bytea)",
        "bench_raw",
        {"originator_id": "uuid", "originator_version": "int8", "topic": "text", "state": "bytea"},
        batch_size=None,
    )


def indexed_copy(url: str, schema: str, batch_size: int) -> dict[str, Any]:
    """Binary COPY of the same rows into a table built like the events table (its
    primary key, its position and idempotency-key unique indexes), one transaction per
    batch of the ledger's size, each commit waiting for the disk as an append's does: the
    database's own cost of storing these rows as the ledger must, without the ledger's
    work (parsing, validating, sealing, chaining, Kafka)."""
    return _timed_copy(
        url,
        schema,
        f'CREATE TABLE "{schema}".bench_indexed'
        f' (LIKE "{schema}".ledger_events INCLUDING CONSTRAINTS INCLUDING INDEXES)',
        "bench_indexed",
        {
            "notification_id": "int8",
            "originator_id": "uuid",
            "originator_version": "int8",
            "topic": "text",
            "state": "bytea",
        },
        batch_size=batch_size,
    )


def _timed_copy(
    url: str,
    schema: str,
    create: str,
    table: str,
    types: dict[str, str],
    *,
    batch_size: int | None,
) -> dict[str, Any]:
    """Read the rows the ledger stored from the benchmark's events (not its registry's),
    ``create`` the table, and time their binary COPY into it (the columns of ``types``),
    ``batch_size`` rows per transaction (None: all in one)."""
    columns = ", ".join(types)
    with psycopg.connect(**PostgresUrl.of(url).connection_kwargs(), autocommit=True) as conn:
        rows = conn.execute(
            f"SELECT {columns} FROM \"{schema}\".ledger_events WHERE topic LIKE 'org.lll.%%'"
            " ORDER BY notification_id"
        ).fetchall()
        conn.execute(create)
        step = batch_size or max(len(rows), 1)
        started = time.perf_counter()
        for first in range(0, len(rows), step):
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(f'COPY "{schema}".{table} ({columns}) FROM STDIN (FORMAT BINARY)') as copy,
            ):
                copy.set_types(list(types.values()))
                for row in rows[first : first + step]:
                    copy.write_row(row)
        seconds = time.perf_counter() - started
    return {
        "events": len(rows),
        "seconds": round(seconds, 3),
        "events_per_second": round(len(rows) / seconds),
    }
