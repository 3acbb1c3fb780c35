"""Retrying while PostgreSQL or Kafka is down: capped exponential backoff, optional limit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ledger.errors import LedgerError

log = logging.getLogger("lll.ingest")

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0
# Longest one line of a failure shown in the log: the error's class and first line.
DETAIL_CHARS = 300


class OutageTooLongError(LedgerError):
    """A service stayed down for longer than LEDGER_WORKER_MAX_OUTAGE_S allows."""


def describe(exc: BaseException) -> str:
    """What failed, for the log: the error's class and first line, without arguments.

    Our errors and the drivers' connection errors name the server, never a password or
    an event's content; only the first line is kept (psycopg's later lines may quote SQL).
    """
    first = (str(exc).strip().splitlines() or [""])[0][:DETAIL_CHARS]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class Outage:
    """The failed attempts of one service since its last success, and the wait before
    the next: ``first_delay`` doubling up to ``max_delay``.

    Args:
        service: what is down, as the log and the error name it ("PostgreSQL").
        limit_s: give up (raise) once the outage lasts longer than this; 0 never gives up.
        on_retry: called once per failed attempt (counts retries in the worker's stats).
    """

    def __init__(
        self,
        service: str,
        *,
        limit_s: float = 0,
        first_delay: float = FIRST_DELAY_S,
        max_delay: float = MAX_DELAY_S,
        on_retry: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.limit_s = limit_s
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.on_retry = on_retry
        self.clock = clock
        self.attempts = 0
        self.since: float | None = None

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, what: str, exc: BaseException | None = None) -> float:
        """Record a failed attempt and log it; returns the seconds to wait before the next.

        Args:
            what: the operation that failed ("append", "reading positions").
            exc: the error it raised, if any (described without its arguments).

        Raises:
            OutageTooLongError: the service has been down for longer than ``limit_s``.
        """
        now = self.clock()
        if self.since is None:
            self.since = now
        self.attempts += 1
        down_for = now - self.since
        detail = f" ({describe(exc)})" if exc is not None else ""
        if self.limit_s and down_for > self.limit_s:
            raise OutageTooLongError(
                f"{self.service} failing for {down_for:.0f} s, longer than "
                f"LEDGER_WORKER_MAX_OUTAGE_S={self.limit_s:g}: giving up after "
                f"{self.attempts} attempts; last: {what}{detail}"
            )
        delay = min(self.max_delay, self.first_delay * 2.0 ** min(self.attempts - 1, 30))
        if self.on_retry is not None:
            self.on_retry()
        log.warning(
            "%s: %s failed%s; attempt %d, failing for %.1f s, retrying in %.1f s",
            self.service,
            what,
            detail,
            self.attempts,
            down_for,
            delay,
        )
        return delay

    def succeeded(self) -> None:
        """The service answered: log the end of the outage, if there was one, and reset."""
        if self.since is None:
            return
        log.warning(
            "%s: working again after %.1f s and %d failed attempts",
            self.service,
            self.clock() - self.since,
            self.attempts,
        )
        self.since = None
        self.attempts = 0
