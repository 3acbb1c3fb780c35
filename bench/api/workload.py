"""What `ledger bench api` sends: each scenario's requests, and how their answers are judged."""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.auth import Role, mint_token
from bench.api.load import Call
from demo import Population
from ledger.outcomes import Accepted, Duplicated, Result

SEED = 515
JSON = ("content-type", "application/json")
HEALTHZ = Call("GET", "/healthz")


class Workload:
    """Every scenario's requests, drawn from the seeded population.

    Tokens are minted here, in memory, one per learner and per issuer. Events are the
    population's own, taken round-robin by issuer, each under a fresh id.
    """

    def __init__(
        self, population: Population, key: Ed25519PrivateKey, *, batch: int, ttl_s: int
    ) -> None:
        self.batch = batch
        self._rng = random.Random(SEED)
        self._learners = [
            (learner, _bearer(key, learner, Role.LEARNER, ttl_s)) for learner in population.learners
        ]
        owner = {s.source: s.id for s in population.issuers}
        by_issuer: dict[str, list[dict[str, Any]]] = {}
        for event in population.events:
            issuer = owner.get(event["source"])  # the ledger's own events are not for issuers
            if issuer is not None:
                by_issuer.setdefault(issuer, []).append(event)
        self._issuers = [
            (issuer, _bearer(key, issuer, Role.ISSUER, ttl_s), events)
            for issuer, events in by_issuer.items()
        ]
        self._turn = itertools.count()
        self._cursor = dict.fromkeys(by_issuer, 0)
        self._serial = itertools.count()
        self._tag = uuid.uuid4().hex[:8]

    def take(self, count: int) -> tuple[str, tuple[str, str], list[bytes]]:
        """The next issuer in turn, its authorization header, and ``count`` of its events
        under fresh ids."""
        issuer, auth, events = self._issuers[next(self._turn) % len(self._issuers)]
        start = self._cursor[issuer]
        self._cursor[issuer] = start + count
        raws = []
        for i in range(start, start + count):
            event = events[i % len(events)]
            fresh = f"b{self._tag}{next(self._serial)}-{event['id']}"[:128]
            raws.append(orjson.dumps({**event, "id": fresh}))
        return issuer, auth, raws

    def record(self) -> Call:
        learner, auth = self._learners[self._rng.randrange(len(self._learners))]
        return Call("GET", f"/v1/learners/{learner}/record", (auth,))

    def single(self) -> Call:
        _, auth, raws = self.take(1)
        return Call("POST", "/v1/events", (auth, JSON), raws[0], 1)

    def batched(self) -> Call:
        _, auth, raws = self.take(self.batch)
        body = b'{"events":[' + b",".join(raws) + b"]}"
        return Call("POST", "/v1/events", (auth, JSON), body, len(raws))


def _bearer(key: Ed25519PrivateKey, subject: str, role: Role, ttl_s: int) -> tuple[str, str]:
    token = mint_token(key, subject=subject, role=role, ttl_s=ttl_s)
    return ("authorization", "Bearer " + token)


def _failure(status: int, body: bytes) -> str:
    """A label for a failed answer: its status and the API's stable error code."""
    try:
        code = orjson.loads(body)["error"]["code"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        code = "(no error code)"
    return f"HTTP {status} {code}"


def succeeded(call: Call, status: int, body: bytes) -> str | None:
    return None if 200 <= status < 300 else _failure(status, body)


def all_accepted(call: Call, status: int, body: bytes) -> str | None:
    if not 200 <= status < 300:
        return _failure(status, body)
    try:
        answer = orjson.loads(body)
        if answer["accepted"] == call.events:
            return None
        first = next(r for r in answer["results"] if r["status"] != "accepted")
    except (orjson.JSONDecodeError, KeyError, TypeError, StopIteration):
        return "an ingest answer without every event's result"
    if first["status"] == "duplicate":
        return "event duplicate"
    problem = (first.get("problems") or [{}])[0]  # paths and rules only, never values
    return f"event rejected: {problem.get('path')} [{problem.get('rule')}]"


def pipeline_failure(results: list[Result]) -> str | None:
    for result in results:
        if isinstance(result, Duplicated):
            return "event duplicate"
        if not isinstance(result, Accepted):
            problem = result.problems[0]
            return f"event rejected: {problem.path} [{problem.rule}]"
    return None
