"""Closed-loop HTTP load for `ledger bench api`: keep-alive HTTP/1.1 clients over asyncio.

Each client holds one connection and sends its next request as soon as the previous answer
has arrived. The protocol is h11's (a dependency of the benchmarks, which uvicorn uses
too), driven directly: the load generator shares a small machine's cores with the server
it measures, so it should spend as little as it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import h11

# A run whose requests keep failing stops: its figures would mean nothing.
MAX_ERRORS = 100
# How long the last requests of a run may take once its time is up.
GRACE_S = 30.0


@dataclass(frozen=True)
class Call:
    """One request: method, target (path and query), headers and body, and how many events
    it carries (ingest)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    events: int = 0


Check = Callable[[Call, int, bytes], str | None]
"""Judges an answer (call, status, body): None when it is what the call should get, else
a short label of what went wrong (no identifiers, no personal data)."""


class ConnectionLostError(Exception):
    """The server closed the connection before answering."""


class Connection:
    """One keep-alive HTTP/1.1 connection to ``host:port``; reopened when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._authority = f"{host}:{port}"
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._protocol = h11.Connection(h11.CLIENT)

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect (again): a fresh connection with a fresh protocol state."""
        self._streams = await asyncio.open_connection(self.host, self.port)
        self._protocol = h11.Connection(h11.CLIENT)
        return self._streams

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def exchange(self, call: Call) -> tuple[int, bytes]:
        """Send ``call``; its answer's status and body.

        Raises:
            OSError: the connection failed.
            ConnectionLostError: the server closed it before answering.
            h11.ProtocolError: the answer is not HTTP/1.1.
        """
        reader, writer = self._streams or await self.open()
        protocol = self._protocol
        headers = [
            ("host", self._authority),
            ("content-length", str(len(call.body))),
            *call.headers,
        ]
        data = protocol.send(h11.Request(method=call.method, target=call.target, headers=headers))
        if call.body:
            data = (data or b"") + (protocol.send(h11.Data(data=call.body)) or b"")
        writer.write((data or b"") + (protocol.send(h11.EndOfMessage()) or b""))
        await writer.drain()
        status = 0
        body: list[bytes] = []
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                protocol.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                await self.close()
                raise ConnectionLostError("the server closed the connection")
        if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
        else:  # the server ends this connection: the next call opens another
            await self.close()
        return status, b"".join(body)


@dataclass
class Tally:
    """What one run's clients did; read while it runs (progress) and after (figures).

    Attributes:
        latencies: seconds from sending to the whole answer, of each measured request.
        events: events carried by the measured requests that succeeded.
        errors: failed requests (warm-up included) by what went wrong.
        seconds: the measured window, from the end of the warm-up to the last answer.
    """

    latencies: list[float] = field(default_factory=list)
    events: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


async def run_load(
    host: str,
    port: int,
    next_call: Callable[[], Call],
    check: Check,
    tally: Tally,
    *,
    clients: int,
    duration_s: float,
    warmup_s: float = 0.0,
    max_requests: int | None = None,
) -> Tally:
    """Drive ``clients`` concurrent connections with ``next_call()`` requests.

    The first ``warmup_s`` seconds are not measured (their failures still count); then
    requests are measured for ``duration_s`` seconds, or until ``max_requests`` measured
    requests were sent. A request is measured when it was sent inside the window and
    ``check`` passes it. The run stops early after ``MAX_ERRORS`` failures.

    Returns:
        ``tally``, filled in.

    Raises:
        OSError: a connection could not be opened at the start.
    """
    connections = [Connection(host, port) for _ in range(clients)]
    try:
        await asyncio.gather(*(c.open() for c in connections))
        started = time.perf_counter()
        measure_from = started + warmup_s
        stop_at = measure_from + duration_s
        sent = 0
        in_flight = 0

        def more() -> bool:
            if tally.error_count >= MAX_ERRORS or time.perf_counter() >= stop_at:
                return False
            return max_requests is None or sent < max_requests

        async def client(connection: Connection) -> None:
            nonlocal sent, in_flight
            while more():
                call = next_call()
                began = time.perf_counter()
                measured = began >= measure_from
                if measured:
                    sent += 1
                in_flight += 1
                try:
                    status, body = await connection.exchange(call)
                    error = check(call, status, body)
                except (OSError, ConnectionLostError, h11.ProtocolError) as exc:
                    error = f"transport: {type(exc).__name__}"
                    await connection.close()
                finally:
                    in_flight -= 1
                if error is not None:
                    tally.errors[error] += 1
                elif measured:
                    tally.latencies.append(time.perf_counter() - began)
                    tally.events += call.events

        try:
            await asyncio.wait_for(
                asyncio.gather(*(client(c) for c in connections)),
                timeout=warmup_s + duration_s + GRACE_S,
            )
        except TimeoutError:
            tally.errors["timeout: no answer"] += in_flight
        tally.seconds = max(time.perf_counter() - measure_from, 1e-9)
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    return tally
