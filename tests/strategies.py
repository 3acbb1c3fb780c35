"""Hypothesis strategies for every event type, in one place, reused by every property test.

Each type's ``data`` strategy is derived from its JSON Schema (the subset of 2020-12 our
schemas use), so a new event type is covered as soon as its schema exists; ``OVERRIDES``
makes chosen fields more realistic. Generated events are valid by construction.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
from hypothesis import strategies as st

from ledger.records import LEDGER_SOURCE
from schemas.catalogue import Catalogue, load_catalogue

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_TEXT = 40  # generated strings stay short; length limits are tested separately


@dataclass(frozen=True)
class Issuer:
    id: str
    source: str
    kind: str
    categories: tuple[str, ...]


ISSUERS = (
    Issuer(
        "uni-north",
        "https://registrar.uni-north.example",
        "institution",
        ("learning", "credentials", "corrections"),
    ),
    Issuer(
        "codecamp",
        "https://api.codecamp.example/ledger",
        "institution",
        ("learning", "credentials", "corrections"),
    ),
    Issuer(
        "northwind",
        "https://hr.northwind.example",
        "employer",
        ("work", "credentials", "corrections"),
    ),
    Issuer("brightworks", "urn:brightworks:hr", "employer", ("work", "credentials", "corrections")),
)
LEDGER = Issuer("ledger", LEDGER_SOURCE, "ledger", ("learner",))


def publishers(category: str) -> list[Issuer]:
    return [i for i in (*ISSUERS, LEDGER) if category in i.categories]


def learner_ids() -> st.SearchStrategy[str]:
    return st.text(alphabet=CROCKFORD, min_size=26, max_size=26).map(lambda s: "lrn_" + s)


def _datetime() -> st.SearchStrategy[str]:
    return st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)).map(
        lambda d: d.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    )


def _uri() -> st.SearchStrategy[str]:
    host = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=12)
    path = st.text(alphabet=string.ascii_letters + string.digits + "-_", max_size=16)
    return st.builds(lambda h, p: f"https://{h}.example/{p}", host, path)


FORMATS: dict[str, st.SearchStrategy[str]] = {
    "date-time": _datetime(),
    "uri": _uri(),
    "uri-reference": _uri(),
    "email": st.builds(
        lambda a, b: f"{a}@{b}.example",
        st.text(
            alphabet=string.ascii_lowercase + string.digits + ".", min_size=1, max_size=12
        ).filter(lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s),
        st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10),
    ),
}


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "format" in schema:
        return FORMATS[schema["format"]]
    if "pattern" in schema:
        low, high = schema.get("minLength", 0), schema.get("maxLength", 10**6)
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda s: low <= len(s) <= high
        )
    low = schema.get("minLength", 0)
    high = min(schema.get("maxLength", MAX_TEXT), MAX_TEXT)
    return st.text(min_size=low, max_size=max(low, high))


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        # An open object (a correction's replacement): small, JSON-safe.
        return st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=4)
    required = list(schema.get("required", []))
    branches = [b["required"] for b in schema.get("anyOf", []) if set(b) == {"required"}]
    if schema.get("minProperties") and not required:
        branches = [[p] for p in props]

    def build(extra: Sequence[str]) -> st.SearchStrategy[dict[str, Any]]:
        need = set(required) | set(extra)
        return st.fixed_dictionaries(
            {k: strategy(props[k]) for k in props if k in need},
            optional={k: strategy(props[k]) for k in props if k not in need},
        )

    if branches:
        return st.sampled_from(branches).flatmap(build)
    return build(())


def strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for values valid under a dereferenced schema (our subset of 2020-12)."""
    if "const" in schema:
        return st.just(schema["const"])
    if "anyOf" in schema and "type" not in schema:
        return st.one_of([strategy(b) for b in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema)
    if kind == "array":
        return st.lists(
            strategy(schema["items"]),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
        )
    if kind == "string" or "enum" in schema:
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        return st.floats(
            schema.get("minimum", -1e6), schema.get("maximum", 1e6), allow_nan=False
        ).map(lambda x: round(x, 2))
    if kind == "boolean":
        return st.booleans()
    raise NotImplementedError(f"no strategy for schema {schema!r}")


# Realistic values for fields where the schema alone would give noise.
NAMES = st.sampled_from(["Zoë Ångström", "李华", "Oluwaseun Adeyemi", "Tomás Ó Briain", "Amara"])
OVERRIDES: dict[tuple[str, str], st.SearchStrategy[Any]] = {}


@functools.cache
def _dereferenced() -> dict[str, dict[str, Any]]:
    catalogue: Catalogue = load_catalogue()
    registry = jsonschema_rs.Registry([(uri, dict(doc)) for uri, doc in catalogue.resources()])
    return {t.name: jsonschema_rs.dereference(dict(t.schema), registry=registry) for t in catalogue}


def data_for(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Strategy of the ``data`` of one event type."""
    return strategy(_dereferenced()[type_name])  # type: ignore[no-any-return]


@st.composite
def _event(
    draw: st.DrawFn, type_name: str, learners: st.SearchStrategy[str] | None
) -> dict[str, Any]:
    etype = load_catalogue().get(type_name)
    issuer = draw(st.sampled_from(publishers(etype.category)))
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": draw(
            st.text(alphabet=string.ascii_letters + string.digits + "-:.", min_size=1, max_size=24)
        ),
        "source": issuer.source,
        "type": type_name,
        "time": draw(_datetime()),
        "data": draw(data_for(type_name)),
    }
    if draw(st.booleans()):
        event["datacontenttype"] = "application/json"
    if etype.subject == "learner":
        event["subject"] = draw(learners if learners is not None else learner_ids())
    if etype.category == "corrections":
        # An issuer may retract or correct only its own events.
        event["data"]["target"]["source"] = issuer.source
        if event["data"]["target"]["id"] == event["id"]:
            event["data"]["target"]["id"] = event["id"] + "-target"
    return event


def target_of(correction: dict[str, Any]) -> dict[str, Any]:
    """A minimal stored event that ``correction`` may refer to (same issuer and learner)."""
    issuer = next(i for i in ISSUERS if i.source == correction["source"])
    target = correction["data"]["target"]
    if issuer.kind == "employer":
        kind, data = "work.employment-ended", {"employmentId": "J1", "endDate": "2020"}
    else:
        kind, data = (
            "learning.enrolment-ended",
            {"enrolmentId": "E1", "endDate": "2020", "reason": "completed"},
        )
    return {
        "specversion": "1.0",
        "id": target["id"],
        "source": target["source"],
        "type": f"org.lll.{kind}.v1",
        "subject": correction["subject"],
        "time": "2020-01-01T00:00:00Z",
        "data": data,
    }


def event_types(categories: Sequence[str] | None = None) -> list[str]:
    return [t.name for t in load_catalogue() if categories is None or t.category in categories]


@functools.cache
def _per_type(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    return _event(type_name, None)


def EVENT_STRATEGIES() -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Type name → strategy of complete, valid CloudEvents of that type."""
    return {name: _per_type(name) for name in event_types()}


def events(
    types: Sequence[str] | None = None, learners: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """One valid event of any (or the given) types."""
    names = list(types) if types is not None else event_types()
    return st.sampled_from(names).flatmap(lambda n: _event(n, learners))


def event_batches(
    min_size: int = 1,
    max_size: int = 30,
    *,
    types: Sequence[str] | None = None,
    learner_pool: int = 4,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Batches of events with unique (source, id), several per learner."""
    names = (
        types
        if types is not None
        else [n for n in event_types() if not n.startswith("org.lll.corrections.")]
    )
    pool = st.lists(learner_ids(), min_size=1, max_size=learner_pool, unique=True)
    return pool.flatmap(
        lambda learners: st.lists(
            events(names, st.sampled_from(learners)),
            min_size=min_size,
            max_size=max_size,
            unique_by=lambda e: (e["source"], e["id"]),
        )
    )
