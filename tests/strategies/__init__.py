"""Hypothesis strategies for every event type, in one place, reused by every property test.

A new event type is covered by adding its ``data`` strategy to the ``DATA`` table of its
category's module (``learning``, ``work``, ``credentials``, ``learner``, ``corrections``);
``tests/unit/schemas`` fails until every catalogue type has one. Every generated event is
valid under the catalogue by construction (nothing is filtered out):

- ``EVENT_STRATEGIES[type]``: complete CloudEvents of one type.
- ``events(types, learners)``: one event of any (or the given) types.
- ``event_batches(...)``: batches with unique (source, id), several events per learner,
  corrections targeting earlier events of the same batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from schemas.catalogue import EventType, load_catalogue
from tests.strategies import corrections, credentials, learner, learning, work
from tests.strategies.base import Data, Strategy, date_times, learner_ids
from tests.strategies.defs import event_ids
from tests.strategies.issuers import (
    ALL_ISSUERS,
    BY_SOURCE,
    ISSUERS,
    LEDGER,
    LEDGER_SOURCE,
    Issuer,
    publishers,
)

__all__ = [
    "ALL_ISSUERS",
    "DATA",
    "EVENT_STRATEGIES",
    "ISSUERS",
    "LEDGER",
    "LEDGER_SOURCE",
    "Issuer",
    "event_batches",
    "event_types",
    "events",
    "learner_ids",
    "publishers",
    "target_of",
]

# Type name → (issuer → strategy of that type's ``data`` as this issuer would send it).
DATA = {**learning.DATA, **work.DATA, **credentials.DATA, **learner.DATA, **corrections.DATA}


def event_types(categories: Sequence[str] | None = None) -> list[str]:
    """The catalogue's type names, optionally only those of some categories."""
    return [t.name for t in load_catalogue() if categories is None or t.category in categories]


def _envelope(
    draw: st.DrawFn,
    etype: EventType,
    issuer: Issuer,
    data: Data,
    subject: str | None,
    event_id: str | None = None,
) -> Data:
    """A CloudEvent around ``data``; optional attributes are sometimes there, sometimes not."""
    event: Data = {
        "specversion": "1.0",
        "id": event_id if event_id is not None else draw(event_ids()),
        "source": issuer.source,
        "type": etype.name,
    }
    if etype.subject == "learner":
        assert subject is not None
        event["subject"] = subject
    event["time"] = draw(date_times())
    if draw(st.sampled_from((True, True, True, False))):
        event["datacontenttype"] = "application/json"
    if draw(st.sampled_from((False, False, False, True))):
        event["dataschema"] = etype.schema_id
    event["data"] = data
    return event


@st.composite
def _event(draw: st.DrawFn, type_name: str, learners: Strategy[str] | None) -> Data:
    etype = load_catalogue().get(type_name)
    issuer = draw(st.sampled_from(publishers(type_name)))
    data = draw(DATA[type_name](issuer))
    subject = draw(learners if learners is not None else learner_ids())
    event = _envelope(draw, etype, issuer, data, subject)
    if etype.category == "corrections" and data["target"]["id"] == event["id"]:
        data["target"]["id"] += "-orig"  # an event never corrects itself
    return event


# Type name → strategy of complete, valid CloudEvents of that type.
EVENT_STRATEGIES: dict[str, Strategy[Data]] = {name: _event(name, None) for name in DATA}


def events(
    types: Sequence[str] | None = None, learners: Strategy[str] | None = None
) -> Strategy[Data]:
    """One valid event of any (or the given) types, about a learner drawn from ``learners``."""
    names = sorted(types) if types is not None else sorted(DATA)
    return st.sampled_from(names).flatmap(lambda n: _event(n, learners))


@st.composite
def _batch(
    draw: st.DrawFn,
    base: list[str],
    fixes: list[str],
    learners: Strategy[str],
    min_size: int,
    max_size: int,
) -> list[Data]:
    batch = draw(
        st.lists(
            events(base, learners),
            min_size=min_size,
            max_size=max_size,
            unique_by=lambda e: (e["source"], e["id"]),
        )
    )
    eligible = [
        i
        for i, e in enumerate(batch)
        if "subject" in e and any(BY_SOURCE[e["source"]].may_publish(f) for f in fixes)
    ]
    count = draw(st.integers(0, min(max_size - len(batch), len(eligible), 5))) if eligible else 0
    placed: list[tuple[int, int, Data]] = []
    for n in range(count):
        at = draw(st.sampled_from(eligible))
        target = batch[at]
        issuer = BY_SOURCE[target["source"]]
        fix_type = draw(st.sampled_from([f for f in fixes if issuer.may_publish(f)]))
        data = draw(corrections.correcting(fix_type, issuer, target))
        etype = load_catalogue().get(fix_type)
        # ".fix<n>" never occurs in drawn ids, so (source, id) stays unique.
        fix = _envelope(draw, etype, issuer, data, target["subject"], f"{target['id']}.fix{n}")
        placed.append((draw(st.integers(at, len(batch) - 1)), n, fix))
    out: list[Data] = []
    for i, event in enumerate(batch):
        out.append(event)
        out.extend(fix for after, _, fix in sorted(placed, key=lambda p: p[:2]) if after == i)
    return out


def event_batches(
    min_size: int = 1,
    max_size: int = 50,
    learners: Strategy[str] | None = None,
    *,
    types: Sequence[str] | None = None,
    learner_pool: int = 4,
) -> Strategy[list[Data]]:
    """Batches of valid events with unique (source, id), several about the same learner.

    Args:
        min_size, max_size: bounds on the batch length.
        learners: the learners events are about; by default a pool of 1 to
            ``learner_pool`` learners drawn afresh for each batch.
        types: the types to draw from (default: all). Corrections of the given types
            are added after the event they target, from the same issuer, same learner.
    """
    names = sorted(types) if types is not None else sorted(DATA)
    base = [n for n in names if load_catalogue().get(n).category != "corrections"]
    fixes = [n for n in names if n not in base]
    if not base:
        raise ValueError("event_batches: corrections need other types of events to correct")
    if learners is not None:
        return _batch(base, fixes, learners, min_size, max_size)
    pool = st.lists(learner_ids(), min_size=1, max_size=learner_pool, unique=True)
    return pool.flatmap(lambda ids: _batch(base, fixes, st.sampled_from(ids), min_size, max_size))


def target_of(correction: dict[str, Any]) -> Data:
    """A minimal stored event that a standalone ``correction`` may refer to (same issuer, learner)."""
    issuer = BY_SOURCE[correction["source"]]
    target = correction["data"]["target"]
    if issuer.kind == "employer":
        kind, data = "work.employment-ended", {"employmentId": "J1", "endDate": "2020"}
    else:
        kind = "learning.enrolment-ended"
        data = {"enrolmentId": "E1", "endDate": "2020", "reason": "completed"}
    return {
        "specversion": "1.0",
        "id": target["id"],
        "source": target["source"],
        "type": f"org.lll.{kind}.v1",
        "subject": correction["subject"],
        "time": "2020-01-01T00:00:00Z",
        "data": data,
    }
