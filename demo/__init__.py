"""A realistic, deterministic population of learners, institutions and employers.

``generate(seed, learners)`` returns the issuers and the CloudEvents a few years of their
lives produce — enrolments, modules stacking into certificates, competency assessments,
apprenticeships, job changes, endorsements, consents, corrections — plus a handful of
malformed or unauthorised inputs, the way a real feed has them. Same seed, same events.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson

from demo.builder import EventBuilder, Population, define_pathways, learner_id
from demo.learning import learner_life
from demo.reference import EMPLOYERS, INSTITUTIONS, IssuerSpec, skill


def _bad_lines(
    b: EventBuilder, rng: random.Random, max_event_bytes: int
) -> list[tuple[str, bytes]]:

    good = b.pop.events
    sample = good[rng.randrange(len(good))]
    bad: list[tuple[str, bytes]] = [
        ("malformed JSON", b'{"specversion": "1.0", "id": "broken-1", "source": ')
    ]
    unknown = dict(sample, id="bad-unknown-type", type="org.lll.learning.course-attended.v1")
    bad.append(("unknown type", orjson.dumps(unknown)))
    course = next(e for e in good if e["type"].endswith("course-completed.v1"))
    broken = dict(
        course,
        id="bad-schema",
        data=dict(course["data"], endDate="2024-13-40", credits={"value": -5}),
    )
    bad.append(("schema violations", orjson.dumps(broken)))
    spoof = dict(course, id="bad-spoof", source="https://diploma-mill.example")
    bad.append(("unregistered issuer", orjson.dumps(spoof)))
    employer_course = dict(course, id="bad-unauthorised", source=EMPLOYERS[0].source)
    bad.append(("issuer not registered for this type", orjson.dumps(employer_course)))
    art = next((e for e in good if e["type"].endswith("portfolio-artifact-added.v1")), course)
    huge = dict(art, id="bad-oversized", data=dict(art["data"], description="x" * 9000))
    huge["data"]["skills"] = [skill(f"skill {i}") for i in range(100)]
    line = orjson.dumps(huge)
    while len(line) <= max_event_bytes:
        huge["data"]["description"] = huge["data"].get("description", "") + "y" * 9000
        line = orjson.dumps(huge)
    bad.append(("oversized", line))
    return bad


def generate(seed: int, learners: int, *, max_event_bytes: int = 256 * 1024) -> Population:
    """The population for ``seed`` with ``learners`` learners (deterministic)."""
    rng = random.Random(seed)
    pop = Population(issuers=[*INSTITUTIONS, *EMPLOYERS])
    b = EventBuilder(rng, pop)
    pathways = define_pathways(b, datetime(2014, 9, 1, 9, tzinfo=UTC))
    for _ in range(learners):
        lid = learner_id(rng)
        pop.learners.append(lid)
        learner_life(b, lid, pathways)
    if learners:
        requester = pop.learners[rng.randrange(len(pop.learners))]
        pop.erasure_requested.append(requester)
        b.emit(
            "ledger",
            "learner.erasure-requested",
            requester,
            datetime(2025, 6, 1, 12, tzinfo=UTC),
            {
                "requestId": f"ER{seed}-{requester[-6:]}",
                "requestedAt": "2025-06-01T12:00:00Z",
                "channel": "cli",
            },
        )
        pop.bad_lines = _bad_lines(b, rng, max_event_bytes)
    return pop


def generate_at_least(
    count: int, *, seed: int, learners: int, exclude_source: str | None = None
) -> tuple[Population, list[dict[str, Any]]]:
    """A population with at least ``count`` events (those from ``exclude_source`` not
    counted), starting from ``learners`` learners and growing until there are enough.

    Returns:
        The population and its counted events, in time order.
    """
    while True:
        population = generate(seed=seed, learners=learners)
        events = [e for e in population.events if e["source"] != exclude_source]
        if len(events) >= count:
            return population, events
        learners = int(learners * 1.5) + 1


__all__ = ["IssuerSpec", "Population", "generate", "generate_at_least", "learner_id"]
