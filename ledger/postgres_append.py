"""The PostgreSQL adapter's appends: a batch in one transaction of five round trips.

The append is the ingest's critical path, and each round trip to the server costs a
wake-up of its backend and then of the appending thread. Beside a busy ingest worker
(two cores shared by the worker, its preparer, PostgreSQL and Kafka) one took 0.3 ms at
the median and 2 to 4 ms at the 99th percentile, so an append of fourteen statements each
waiting for its answer spent most of its time waiting. An append now sends:

1. one message (the simple query protocol, several statements): ``BEGIN``, eventsourcing's
   lock statements, the chain head, and the last versions of the batch's streams the
   cache of stream heads does not know (read after the lock, so exact);
2. the ``COPY`` of the batch's rows as one binary block (two round trips: its start, then
   the data);
3. one pipeline: the position sequence moved past the rows, the checkpoint row,
   ``NOTIFY``, and the consumed upstream positions;
4. ``COMMIT``.

The block is written as if none of the batch were stored yet. The unique index on keys,
which the COPY checks anyway, refuses a redelivered event; then the transaction is rolled
back and the append runs again with the keys looked up first (under the lock), so in the
common case the database is spared an index probe per event and a savepoint's two round
trips.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow

from ledger.batch import EventBatch
from ledger.integrity import GENESIS, HASH_LEN
from ledger.native import PlanCopy
from ledger.persistence import HeadsUpdate, StreamHeads, Trackings, as_trackings, refuse_erased
from ledger.plan import CopyPlan, plan_copy_block
from ledger.recorders import PostgresEventsourcing
from ledger.records import AppendOutcome, NewEvent, Outcomes
from ledger.transactions import LockClock

_OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


@contextmanager
def rolled_back_on_error(conn: psycopg.Connection[DictRow]) -> Iterator[None]:
    """Roll back the transaction a block began explicitly on an autocommit connection
    when the block raises, before the connection goes back to the pool."""
    try:
        yield
    except BaseException:
        if conn.info.transaction_status in _OPEN:
            # A broken connection has nothing to roll back; the pool replaces it.
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")
        raise


class _RedeliveredError(Exception):
    """The optimistic COPY met an event stored before: append again, keys looked up."""


class PostgresAppends:
    """Appends, for :class:`ledger.postgres.PostgresLedgerRecorder`, whose connections
    (eventsourcing's pool, in autocommit mode), tables and caches these methods use."""

    t_events: str
    t_checkpoints: str
    t_erasures: str
    eventsourcing: PostgresEventsourcing
    lock: LockClock
    _heads: StreamHeads
    _plan: PlanCopy

    def _failures(self, what: str) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _positions(self, c: psycopg.Cursor[DictRow], keys: list[bytes]) -> dict[bytes, int]:
        raise NotImplementedError

    def append(
        self,
        events: Sequence[NewEvent],
        *,
        tracking: Trackings = None,
        erasures_seen: int | None = None,
    ) -> list[AppendOutcome]:
        batch = EventBatch.of(events)
        plan = self._appended(batch, tracking, erasures_seen)
        return [] if plan is None else plan.outcomes(batch)

    def append_batch(
        self,
        events: Sequence[NewEvent],
        *,
        tracking: Trackings = None,
        erasures_seen: int | None = None,
    ) -> Outcomes:
        plan = self._appended(EventBatch.of(events), tracking, erasures_seen)
        return Outcomes([], b"") if plan is None else Outcomes(plan.positions, plan.fresh)

    def _appended(
        self, events: EventBatch, tracking: Trackings, erasures_seen: int | None
    ) -> CopyPlan | None:
        """The batch appended; None when there was nothing to append."""
        if not events and not as_trackings(tracking):
            return None
        with self._failures("write"):
            try:
                return self._append_once(events, tracking, erasures_seen, optimistic=True)
            except _RedeliveredError:
                return self._append_once(events, tracking, erasures_seen, optimistic=False)

    def _append_once(
        self,
        events: EventBatch,
        tracking: Trackings,
        erasures_seen: int | None,
        *,
        optimistic: bool,
    ) -> CopyPlan:
        with self._explicit() as c:
            plan, update = self._append(
                c, events, tracking, optimistic=optimistic, erasures_seen=erasures_seen
            )
        self.lock.released()
        self._heads.committed(update)
        return plan

    @contextmanager
    def _explicit(self) -> Iterator[psycopg.Cursor[DictRow]]:
        """A cursor on a pooled connection (autocommit) whose transaction the block opens
        with ``BEGIN`` in its first message; committed when the block ends, rolled back
        when it raises."""
        with self.eventsourcing.datastore.get_connection() as conn, rolled_back_on_error(conn):
            c = conn.cursor()
            yield c
            c.execute("COMMIT")

    def _append(
        self,
        c: psycopg.Cursor[DictRow],
        events: EventBatch,
        tracking: Trackings,
        *,
        optimistic: bool,
        begin: bool = True,
        erasures_seen: int | None = None,
    ) -> tuple[CopyPlan, HeadsUpdate]:
        """The batch appended inside ``c``'s transaction, begun here when ``begin`` (the
        caller began it otherwise). ``optimistic``: the rows are copied as if none were
        stored (:class:`_RedeliveredError` when one was); else the keys are looked up first.
        ``erasures_seen``: refused if one of the batch's learners was erased since (read
        under the lock, which erasures take too)."""
        streams = events.stream_ids()
        asked = self._heads.unknown(streams)
        # The EXCLUSIVE lock eventsourcing takes for gap-free notification ids also makes
        # the chain head, stream versions and key checks below race-free.
        opening = [
            *([sql.SQL("BEGIN")] if begin else []),
            *self.eventsourcing.lock_statements(),
            sql.SQL(
                "SELECT notification_id AS n, substring(state from 1 for {0}) AS h"
                " FROM {1} ORDER BY notification_id DESC LIMIT 1"
            ).format(HASH_LEN, sql.SQL(self.t_events)),
        ]
        after_head = len(opening)
        if asked:
            opening.append(self._versions_of_sql(asked))
        if erasures_seen is not None:
            opening.append(
                sql.SQL("SELECT learner_id FROM {0} WHERE position > {1}").format(
                    sql.SQL(self.t_erasures), sql.Literal(erasures_seen)
                )
            )
        self.lock.asked()
        c.execute(sql.SQL("; ").join(opening))
        for _ in range(after_head - 1):
            c.nextset()
        row = c.fetchone()
        loaded: dict[UUID, int] = {}
        if asked:
            c.nextset()
            loaded = found_versions(c.fetchall())
        self.lock.granted()
        if erasures_seen is not None:
            c.nextset()
            refuse_erased([r["learner_id"] for r in c.fetchall()], streams)
        prev, last = (bytes(row["h"]), int(row["n"])) if row else (GENESIS, 0)
        known = set(asked)

        def load(missing: list[UUID]) -> dict[UUID, int]:
            # Those not asked above: the cache was behind another writer and was cleared.
            rest = [s for s in missing if s not in known]
            found = dict(loaded)
            if rest:
                c.execute(self._versions_of_sql(rest))
                found.update(found_versions(c.fetchall()))
            return found

        heads = self._heads.read(
            streams,
            last,
            changed_since=lambda position: self._versions_after(c, position),
            load=load,
        )
        existing = {} if optimistic else self._positions(c, list(set(events.keys())))
        plan = plan_copy_block(events, existing, heads, prev, last + 1, self._plan)
        if plan.count:
            try:
                self._copy_block(c, plan.block)
            except psycopg.errors.UniqueViolation as exc:
                if optimistic:
                    raise _RedeliveredError from exc
                raise
        trackings = as_trackings(tracking)
        if plan.count or trackings:
            with c.connection.pipeline():
                if plan.count:
                    self._close_block(c, last + 1, last + plan.count, plan.head, plan.hashes)
                recorded = self.eventsourcing.send_trackings(c, trackings)
            recorded()
        heads.update(plan.heads)
        return plan, HeadsUpdate(last, last + plan.count, heads)

    def _close_block(
        self, c: psycopg.Cursor[DictRow], first: int, last: int, head: bytes, hashes: bytes
    ) -> None:
        """The sequence moved past the block's positions (for anyone inserting through
        eventsourcing), the append's checkpoint row, and eventsourcing's notification."""
        c.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)",
            (self.t_events, last),
            prepare=True,
        )
        c.execute(
            f"INSERT INTO {self.t_checkpoints}"
            " (first_position, last_position, count, head, hashes) VALUES (%s, %s, %s, %s, %s)",
            (first, last, last - first + 1, head, hashes),
            prepare=True,
        )
        self.eventsourcing.notify(c)

    def _versions_of_sql(self, streams: list[UUID]) -> sql.Composed:
        """Last version of each of ``streams`` that has rows: one index probe each (the
        streams inline, so the statement can share a message with others)."""
        return sql.SQL(
            "SELECT s.id AS originator_id, (SELECT max(originator_version)"
            " FROM {0} WHERE originator_id = s.id) AS v FROM unnest({1}::uuid[]) AS s(id)"
        ).format(sql.SQL(self.t_events), sql.Literal(streams))

    def _versions_after(self, c: psycopg.Cursor[DictRow], position: int) -> dict[UUID, int]:
        """Last version of each stream with rows after ``position``."""
        c.execute(
            f"SELECT originator_id, max(originator_version) AS v FROM {self.t_events}"
            " WHERE notification_id > %s GROUP BY originator_id",
            (position,),
            prepare=True,
            binary=True,
        )
        return {r["originator_id"]: r["v"] for r in c.fetchall()}

    def _copy_block(self, c: psycopg.Cursor[DictRow], block: bytes) -> None:
        """Insert a binary COPY block of rows (:func:`ledger.plan.plan_copy_block`) into
        eventsourcing's events table: several times faster than its INSERT of an array.
        Under the EXCLUSIVE lock this is the only writer; the rows' positions, given
        explicitly, follow the log's last (the unique index refuses any clash), and the
        column's sequence is then moved past them (:meth:`_close_block`).
        """
        with c.copy(
            f"COPY {self.t_events} (notification_id, originator_id, originator_version,"
            " topic, state) FROM STDIN (FORMAT BINARY)"
        ) as cp:
            cp.write(block)


def found_versions(rows: list[dict[str, Any]]) -> dict[UUID, int]:
    """Versions of the rows that have one (a stream with no rows has ``v`` NULL)."""
    return {r["originator_id"]: r["v"] for r in rows if r["v"] is not None}
