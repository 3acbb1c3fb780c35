"""The catalogue: which types exist, and that every schema is sound, bounded and annotated."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest

from schemas.catalogue import SCHEMA_DIR, CatalogueError, EventType, load_catalogue, load_from
from tests.strategies import ALL_ISSUERS, EVENT_STRATEGIES, ISSUERS, LEDGER, publishers

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DEFS_ID = "https://schemas.lll.example/v1/defs.json"
EVENTS_BASE = "https://schemas.lll.example/v1/events/"
EXPECTED = {
    "learning": {
        "enrolment-started",
        "enrolment-ended",
        "course-completed",
        "module-completed",
        "assessment-recorded",
        "competency-mastered",
        "portfolio-artifact-added",
    },
    "work": {
        "employment-started",
        "employment-ended",
        "apprenticeship-completed",
        "placement-completed",
        "mentorship-recorded",
        "skill-endorsed",
    },
    "credentials": {"issued", "revoked", "endorsed", "pathway-defined"},
    "learner": {
        "registered",
        "consent-granted",
        "consent-revoked",
        "record-exported",
        "export-withdrawn",
        "record-disclosed",
        "erasure-requested",
        "erasure-completed",
    },
    "corrections": {"event-retracted", "event-corrected"},
}
# Keywords a subschema may use: JSON Schema 2020-12 plus our annotations. A typo such as
# "maxlength" would otherwise be ignored silently and leave a field unbounded.
KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "title", "description", "examples", "type", "enum",
    "const", "properties", "required", "additionalProperties", "minProperties",
    "maxProperties", "propertyNames", "items", "minItems", "maxItems", "uniqueItems",
    "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "anyOf", "if",
    "then", "else", "x-lll-subject", "x-lll-personal",
}  # fmt: skip
CATALOGUE = load_catalogue()
TYPES = sorted(CATALOGUE.types.values(), key=lambda t: t.name)
DEFS: dict[str, Any] = dict(CATALOGUE.defs["$defs"])


def by_name(types: list[EventType]) -> list[Any]:
    return [pytest.param(t, id=t.name.removeprefix("org.lll.")) for t in types]


def subschemas(schema: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema of ``schema`` (not following $refs), with where it is."""
    if not isinstance(schema, dict):
        return
    yield where, schema
    for key in ("properties", "$defs"):
        for name, sub in schema.get(key, {}).items():
            yield from subschemas(sub, f"{where}/{key}/{name}")
    for key in ("items", "additionalProperties", "propertyNames", "if", "then", "else"):
        yield from subschemas(schema.get(key), f"{where}/{key}")
    for i, sub in enumerate(schema.get("anyOf", [])):
        yield from subschemas(sub, f"{where}/anyOf/{i}")


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DEFS[schema["$ref"].removeprefix(DEFS_ID + "#/$defs/")]
    return schema


def alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema itself and its anyOf branches, references resolved."""
    schema = resolve(schema)
    return [schema, *(resolve(b) for b in schema.get("anyOf", []))]


def object_property(schema: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Whether ``path`` (``*`` = any array item) leads to a declared object property."""
    head, rest = path[0], path[1:]
    for option in alternatives(schema):
        if head == "*":
            found = "items" in option and bool(rest) and object_property(option["items"], rest)
        else:
            props = option.get("properties", {})
            found = head in props and (not rest or object_property(props[head], rest))
        if found:
            return True
    return False


def test_catalogue_of_v1_has_exactly_the_listed_types_in_their_categories() -> None:
    found: dict[str, set[str]] = {}
    for t in CATALOGUE:
        found.setdefault(t.category, set()).add(t.name.split(".")[3])
    assert found == EXPECTED
    assert len(CATALOGUE) == 27


@pytest.mark.parametrize("event_type", by_name(TYPES))
def test_catalogue_type_name_matches_its_file_and_schema_id(event_type: EventType) -> None:
    stem = event_type.file.name.removesuffix(".json")
    assert event_type.name == f"org.lll.{event_type.category}.{stem}"
    assert event_type.schema_id == f"{EVENTS_BASE}{event_type.category}/{stem}.json"


@pytest.mark.parametrize(
    "document",
    [pytest.param(CATALOGUE.envelope, id="envelope"), pytest.param(CATALOGUE.defs, id="defs")]
    + [pytest.param(t.schema, id=t.name.removeprefix("org.lll.")) for t in TYPES],
)
def test_every_schema_document_is_valid_draft_2020_12(document: dict[str, Any]) -> None:
    assert document["$schema"] == DRAFT
    jsonschema_rs.meta.validate(dict(document))


@pytest.mark.parametrize("event_type", by_name(TYPES))
def test_every_event_schema_is_a_closed_object_with_title_and_annotations(
    event_type: EventType,
) -> None:
    schema = event_type.schema
    assert schema["title"]
    assert schema["description"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) <= set(schema["properties"])
    assert schema["x-lll-subject"] in ("learner", "none")
    assert isinstance(schema["x-lll-personal"], list)


def test_catalogue_only_pathway_definitions_concern_no_learner() -> None:
    assert {t.name for t in CATALOGUE if t.subject == "none"} == {
        "org.lll.credentials.pathway-defined.v1"
    }


@pytest.mark.parametrize("event_type", by_name(TYPES))
def test_every_personal_path_names_an_object_property_of_its_schema(
    event_type: EventType,
) -> None:
    for path in event_type.personal_paths:
        assert path[-1] != "*", f"{'.'.join(path)}: must end in a property name"
        assert object_property(dict(event_type.schema), path), ".".join(path)


def test_catalogue_marks_the_personal_fields_the_brief_names() -> None:
    personal = {t.name.split(".")[3]: {".".join(p) for p in t.personal_paths} for t in CATALOGUE}
    assert personal["registered"] == {"name", "birthDate", "contact"}
    assert "evidence.*.narrative" in personal["course-completed"]
    assert {"feedback", "evidence.*.narrative"} <= personal["assessment-recorded"]
    assert "description" in personal["portfolio-artifact-added"]
    assert {"hostSupervisor", "evaluation"} <= personal["placement-completed"]
    assert {"counterpartName", "notes"} <= personal["mentorship-recorded"]
    assert {"endorser.name", "comment"} <= personal["skill-endorsed"]
    assert "embedded" in personal["issued"]
    assert "replacement" in personal["event-corrected"]


# The shared definitions and each event type's schema, each a test case.
EVERY_SCHEMA = [pytest.param(CATALOGUE.defs, id="defs")] + [
    pytest.param(t.schema, id=t.name.removeprefix("org.lll.")) for t in TYPES
]


@pytest.mark.parametrize("document", EVERY_SCHEMA)
def test_every_string_number_array_and_object_in_the_schemas_is_bounded(
    document: dict[str, Any],
) -> None:
    unbounded = []
    for where, schema in subschemas(document):
        kinds = schema.get("type", [])
        for kind in kinds if isinstance(kinds, list) else [kinds]:
            bounded = {
                "string": "maxLength" in schema or "enum" in schema or "const" in schema,
                "integer": "maximum" in schema and "minimum" in schema,
                "number": "maximum" in schema and "minimum" in schema,
                "array": "maxItems" in schema,
                "object": schema.get("additionalProperties") is False or "maxProperties" in schema,
            }.get(kind, True)
            if not bounded:
                unbounded.append(f"{where or '/'} ({kind})")
    assert unbounded == []


@pytest.mark.parametrize("document", EVERY_SCHEMA)
def test_schemas_use_only_known_keywords_and_refs_to_existing_defs(
    document: dict[str, Any],
) -> None:
    for where, schema in subschemas(document):
        assert set(schema) <= KEYWORDS, f"{where}: {set(schema) - KEYWORDS}"
        if "$ref" in schema:
            assert schema["$ref"].startswith(DEFS_ID + "#/$defs/"), where
            assert schema["$ref"].rsplit("/", 1)[1] in DEFS, where


def test_catalogue_every_type_has_a_strategy_and_a_publisher() -> None:
    assert set(EVENT_STRATEGIES) == set(CATALOGUE.names())
    for name in CATALOGUE.names():
        assert publishers(name), name


def test_issuers_institutions_employers_and_ledger_publish_only_their_categories() -> None:
    kinds = {i.kind for i in ISSUERS}
    assert kinds == {"institution", "employer"}
    assert LEDGER in ALL_ISSUERS
    assert LEDGER.source == "urn:lll:ledger"
    assert LEDGER.categories == ("learner",)
    for issuer in ISSUERS:
        assert "learner" not in issuer.categories
        other = "work" if issuer.kind == "institution" else "learning"
        assert other not in issuer.categories


def copy_schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def rewrite(path: Path, **changes: Any) -> None:
    path.write_bytes(orjson.dumps({**orjson.loads(path.read_bytes()), **changes}))


def test_catalogue_copy_loads_the_same_types(tmp_path: Path) -> None:
    assert load_from(copy_schemas(tmp_path)).names() == CATALOGUE.names()


def test_catalogue_unknown_subject_annotation_is_refused(tmp_path: Path) -> None:
    root = copy_schemas(tmp_path)
    rewrite(root / "events/learner/registered.v1.json", **{"x-lll-subject": "issuer"})
    with pytest.raises(CatalogueError, match="x-lll-subject"):
        load_from(root)


def test_catalogue_personal_annotation_that_is_not_a_list_of_paths_is_refused(
    tmp_path: Path,
) -> None:
    root = copy_schemas(tmp_path)
    rewrite(root / "events/learner/registered.v1.json", **{"x-lll-personal": "name"})
    with pytest.raises(CatalogueError, match="x-lll-personal"):
        load_from(root)


def test_known_purposes_are_the_words_the_consent_schema_allows() -> None:
    from schemas.catalogue import known_purposes

    words = known_purposes()
    assert "recruitment" in words
    assert len(words) == len(set(words)) >= 5
    assert all(":" not in w for w in words)  # words, not IRIs
