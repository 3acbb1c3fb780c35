"""The bench's load generator counts what fails, keeps connections alive, and judges answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import h11
import orjson
import pytest

from bench.api.load import MAX_ERRORS, Call, Tally, run_load
from bench.api.workload import all_accepted, succeeded

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def answering(status: int, body: bytes, *, close: bool = False, seen: list[int]) -> Serve:
    """A tiny HTTP/1.1 server's handler: every request gets ``status`` and ``body``; each
    new connection is recorded in ``seen``; ``close`` ends the connection after an answer."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(1)
        protocol = h11.Connection(h11.SERVER)
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                protocol.receive_data(await reader.read(65536))
            elif isinstance(event, h11.EndOfMessage):
                headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
                if close:
                    headers.append(("connection", "close"))
                response = h11.Response(status_code=status, headers=headers)
                writer.write(
                    (protocol.send(response) or b"")
                    + (protocol.send(h11.Data(data=body)) or b"")
                    + (protocol.send(h11.EndOfMessage()) or b"")
                )
                await writer.drain()
                if close:
                    writer.close()
                    return
                protocol.start_next_cycle()
            elif isinstance(event, h11.ConnectionClosed):
                writer.close()
                return

    return serve


def load(serve: Serve, *, clients: int = 2, requests: int | None = None) -> Tally:
    async def run() -> Tally:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await run_load(
                "127.0.0.1",
                port,
                lambda: Call("GET", "/healthz"),
                succeeded,
                Tally(),
                clients=clients,
                duration_s=10,
                max_requests=requests,
            )

    return asyncio.run(run())


def test_run_load_over_keep_alive_measures_the_requests_asked_for_on_one_connection_each() -> None:
    seen: list[int] = []
    tally = load(answering(200, b"{}", seen=seen), clients=3, requests=50)
    assert tally.requests == 50
    assert tally.error_count == 0
    assert len(seen) == 3
    assert all(latency > 0 for latency in tally.latencies)


def test_run_load_reconnects_when_the_server_closes_each_connection() -> None:
    seen: list[int] = []
    tally = load(answering(200, b"{}", close=True, seen=seen), clients=2, requests=10)
    assert tally.requests == 10
    assert tally.error_count == 0
    assert len(seen) >= 10


def test_run_load_counts_failed_answers_by_code_and_stops_after_max_errors() -> None:
    body = orjson.dumps({"error": {"code": "unavailable", "path": None, "message": "down"}})
    tally = load(answering(503, body, seen=[]), clients=2)
    assert tally.requests == 0
    assert set(tally.errors) == {"HTTP 503 unavailable"}
    assert MAX_ERRORS <= tally.error_count < MAX_ERRORS + 2


def test_run_load_counts_a_refused_connection_as_a_transport_error() -> None:
    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    tally = load(refuse, clients=1)
    assert tally.requests == 0
    assert tally.error_count >= MAX_ERRORS
    assert all(kind.startswith("transport: ") for kind in tally.errors)


INGEST = Call("POST", "/v1/events", body=b"{}", events=2)


def answer(*statuses: str, problems: list[dict[str, str]] | None = None) -> bytes:
    results = [
        {"index": i, "status": s, **({"problems": problems} if s == "rejected" else {})}
        for i, s in enumerate(statuses)
    ]
    return orjson.dumps(
        {
            "accepted": statuses.count("accepted"),
            "duplicates": statuses.count("duplicate"),
            "rejected": statuses.count("rejected"),
            "results": results,
        }
    )


@pytest.mark.parametrize(
    ("status", "body", "label"),
    [
        (200, answer("accepted", "accepted"), None),
        (200, answer("accepted", "duplicate"), "event duplicate"),
        (
            200,
            answer("rejected", "accepted", problems=[{"path": "data.x", "rule": "enum"}]),
            "event rejected: data.x [enum]",
        ),
        (413, b'{"error": {"code": "batch-too-large"}}', "HTTP 413 batch-too-large"),
        (502, b"<html>bad gateway</html>", "HTTP 502 (no error code)"),
        (200, b"not json", "an ingest answer without every event's result"),
    ],
)
def test_all_accepted_passes_only_an_answer_accepting_every_event(
    status: int, body: bytes, label: str | None
) -> None:
    assert all_accepted(INGEST, status, body) == label
