"""The database's own speed for the rows an ingest run stored, measured in the same run:
the references ``ledger bench ingest`` sets the ledger's backlog rate against."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from ledger.dburl import PostgresUrl

# The rows the ledger stored from the benchmark's events (not its registry's).
_ROWS = (
    "SELECT {columns} FROM \"{schema}\".ledger_events WHERE topic LIKE 'org.lll.%%'"
    " ORDER BY notification_id"
)


def raw_copy(url: str, schema: str) -> dict[str, Any]:
    """Binary COPY of the rows the ledger stored into a plain table (no index), in one
    transaction: what the issue's target (≥ 50 %) is judged against."""
    with psycopg.connect(**PostgresUrl.of(url).connection_kwargs(), autocommit=True) as conn:
        columns = "originator_id, originator_version, topic, state"
        rows = conn.execute(_ROWS.format(columns=columns, schema=schema)).fetchall()
        conn.execute(
            f'CREATE TABLE "{schema}".bench_raw (originator_id uuid, originator_version bigint,'
            " topic text, state bytea)"
        )
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(f'COPY "{schema}".bench_raw FROM STDIN (FORMAT BINARY)') as copy,
        ):
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for row in rows:
                copy.write_row(row)
        return _rate(len(rows), time.perf_counter() - started)


def indexed_copy(url: str, schema: str, batch_size: int) -> dict[str, Any]:
    """Binary COPY of the same rows into a table built like the events table (its
    primary key, its position and idempotency-key unique indexes), one transaction per
    batch of the ledger's size, each commit waiting for the disk as an append's does: the
    database's own cost of storing these rows as the ledger must, without the ledger's
    work (parsing, validating, sealing, chaining, Kafka)."""
    with psycopg.connect(**PostgresUrl.of(url).connection_kwargs(), autocommit=True) as conn:
        columns = "notification_id, originator_id, originator_version, topic, state"
        rows = conn.execute(_ROWS.format(columns=columns, schema=schema)).fetchall()
        conn.execute(
            f'CREATE TABLE "{schema}".bench_indexed'
            f' (LIKE "{schema}".ledger_events INCLUDING CONSTRAINTS INCLUDING INDEXES)'
        )
        started = time.perf_counter()
        for first in range(0, len(rows), batch_size):
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(
                    f'COPY "{schema}".bench_indexed ({columns}) FROM STDIN (FORMAT BINARY)'
                ) as copy,
            ):
                copy.set_types(["int8", "uuid", "int8", "text", "bytea"])
                for row in rows[first : first + batch_size]:
                    copy.write_row(row)
        return _rate(len(rows), time.perf_counter() - started)


def _rate(count: int, seconds: float) -> dict[str, Any]:
    return {
        "events": count,
        "seconds": round(seconds, 3),
        "events_per_second": round(count / seconds),
    }
