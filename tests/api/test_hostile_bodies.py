"""Hostile bodies on POST /v1/events: a 4xx with the standard error body or per-event results, never a 5xx."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bench.hostile import hostile_inputs
from tests.api.conftest import World

DEEP = b"[" * 300 + b"]" * 300


def _issuer_of(world: World) -> tuple[str, list[dict[str, Any]]]:
    issuers = world.client.get("/v1/issuers", headers=world.auth("admin")).json()
    by_source = {i["source"]: i["id"] for i in issuers}
    source = next(e["source"] for e in world.events if e["source"] in by_source)
    return by_source[source], [e for e in world.events if e["source"] == source]


def _post(world: World, issuer: str, body: bytes) -> Any:
    return world.client.post(
        "/v1/events",
        content=body,
        headers={**world.auth("issuer", issuer), "Content-Type": "application/json"},
    )


def _assert_answered(response: Any, events_sent: int | None) -> str:
    """The answer is a 4xx error body or a 200 accounting for every event; returns its code."""
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"}
        assert set(body["error"]) == {"code", "path", "message"}
        return str(body["error"]["code"])
    assert response.status_code == 200
    if events_sent is not None:
        assert len(body["results"]) == events_sent
    for result in body["results"]:
        assert result["status"] in {"accepted", "duplicate", "rejected"}
        assert result["status"] != "rejected" or result["problems"]
    assert body["accepted"] + body["duplicates"] + body["rejected"] == len(body["results"])
    return "results"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (DEEP, ""),
        (b'{"specversion":"1.0","x":' + DEEP + b"}", "x[0]"),
        (b'{"events":[{"specversion":"1.0","x":' + DEEP + b"}]}", "events[0].x[0]"),
        (b"[" * 5000 + b"]" * 5000, None),
    ],
)
def test_a_body_nested_past_the_limit_is_a_422_max_depth(
    world: World, body: bytes, where: str | None
) -> None:
    issuer, _ = _issuer_of(world)
    response = _post(world, issuer, body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "max-depth"
    assert "LEDGER_MAX_JSON_DEPTH" in error["message"]
    if where is not None:
        assert (error["path"] or "").startswith(where)


def test_http_fuzz_hostile_bodies_never_answer_5xx(world: World) -> None:
    issuer, events = _issuer_of(world)
    codes: dict[str, int] = {}
    inputs = list(
        hostile_inputs(events, seed=5, count=600, max_bytes=world.settings.core.max_event_bytes)
    )
    for _, raw in inputs:
        code = _assert_answered(_post(world, issuer, raw), None)
        codes[code] = codes.get(code, 0) + 1
    # The same inputs in batches of 20 (those that are JSON at all).
    parsable = []
    for _, raw in inputs:
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        parsable.append(raw)
    for start in range(0, len(parsable), 20):
        chunk = parsable[start : start + 20]
        body = b'{"events":[' + b",".join(chunk) + b"]}"
        _assert_answered(_post(world, issuer, body), None)
    assert {"invalid-json", "max-depth", "results"} <= set(codes)
