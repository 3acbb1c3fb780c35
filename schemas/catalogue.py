"""The catalogue of event types: loads the envelope, shared definitions and per-type schemas."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

SCHEMA_DIR = Path(__file__).resolve().parent
ENVELOPE_FILE = SCHEMA_DIR / "envelope.v1.json"
DEFS_FILE = SCHEMA_DIR / "defs.v1.json"
EVENTS_DIR = SCHEMA_DIR / "events"
TYPE_PREFIX = "org.lll."
# The category of events that retract or correct earlier ones (checked against the log).
CORRECTIONS = "corrections"

# Annotation keywords our schemas carry beside standard JSON Schema.
SUBJECT_KEYWORD = "x-lll-subject"
PERSONAL_KEYWORD = "x-lll-personal"


class CatalogueError(Exception):
    """A schema file is missing, malformed or inconsistent with its place in the catalogue."""


PathTemplate = tuple[str, ...]


@dataclass(frozen=True)
class EventType:
    """One event type of the catalogue.

    Attributes:
        name: the CloudEvents ``type``, e.g. ``org.lll.learning.course-completed.v1``.
        category: learning, work, credentials, learner or corrections.
        schema: the JSON Schema of the event's ``data``.
        subject: ``"learner"`` when ``subject`` (the learner id) is required,
            ``"none"`` when the event concerns no learner and must not carry one.
        personal_paths: templates of the personal-data fields inside ``data``; each
            is a tuple of property names where ``"*"`` stands for any array item.
        file: where the schema lives.
    """

    name: str
    category: str
    schema: Mapping[str, Any]
    subject: Literal["learner", "none"]
    personal_paths: tuple[PathTemplate, ...]
    file: Path

    @property
    def schema_id(self) -> str:
        return str(self.schema["$id"])

    @property
    def title(self) -> str:
        return str(self.schema.get("title", self.name))


@dataclass(frozen=True)
class Catalogue:
    """All event types, the envelope schema and the shared definitions."""

    envelope: Mapping[str, Any]
    defs: Mapping[str, Any]
    types: Mapping[str, EventType]

    def __iter__(self) -> Iterator[EventType]:
        return iter(self.types.values())

    def __len__(self) -> int:
        return len(self.types)

    def __contains__(self, name: object) -> bool:
        return name in self.types

    def get(self, name: str) -> EventType:
        """Return the event type called ``name``.

        Raises:
            KeyError: no such type in the catalogue.
        """
        return self.types[name]

    def names(self) -> list[str]:
        return sorted(self.types)

    def resources(self) -> list[tuple[str, Mapping[str, Any]]]:
        """Every schema document with its ``$id``, for a validator's registry."""
        docs: list[Mapping[str, Any]] = [self.envelope, self.defs]
        docs.extend(t.schema for t in self.types.values())
        return [(str(d["$id"]), d) for d in docs]


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read schema: {exc}") from None
    if not isinstance(doc, dict) or "$id" not in doc:
        raise CatalogueError(f"{path}: a schema must be a JSON object with an $id")
    return doc


def _personal_paths(path: Path, schema: Mapping[str, Any]) -> tuple[PathTemplate, ...]:
    raw = schema.get(PERSONAL_KEYWORD, [])
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise CatalogueError(f"{path}: {PERSONAL_KEYWORD} must be a list of dotted paths")
    return tuple(tuple(p.split(".")) for p in raw)


def type_name(category: str, stem: str) -> str:
    """The CloudEvents type of the schema file ``events/<category>/<stem>.json``.

    ``stem`` is ``<kebab-name>.v<N>``, so ``learning/course-completed.v1`` becomes
    ``org.lll.learning.course-completed.v1``.
    """
    return f"{TYPE_PREFIX}{category}.{stem}"


def load_from(directory: Path) -> Catalogue:
    """Load a catalogue from ``directory`` (laid out like this package).

    Raises:
        CatalogueError: a file is unreadable or inconsistent.
    """
    envelope = _read(directory / ENVELOPE_FILE.name)
    defs = _read(directory / DEFS_FILE.name)
    types: dict[str, EventType] = {}
    for file in sorted((directory / EVENTS_DIR.name).glob("*/*.json")):
        schema = _read(file)
        category = file.parent.name
        name = type_name(category, file.name.removesuffix(".json"))
        subject = schema.get(SUBJECT_KEYWORD, "learner")
        if subject not in ("learner", "none"):
            raise CatalogueError(f"{file}: {SUBJECT_KEYWORD} must be 'learner' or 'none'")
        types[name] = EventType(
            name=name,
            category=category,
            schema=schema,
            subject=subject,
            personal_paths=_personal_paths(file, schema),
            file=file,
        )
    if not types:
        raise CatalogueError(f"{directory}: no event schemas found")
    return Catalogue(envelope=envelope, defs=defs, types=types)


@functools.cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with this package, loaded once on first use."""
    return load_from(SCHEMA_DIR)


def known_purposes() -> tuple[str, ...]:
    """The purposes a consent may name by word (it may also name a purpose IRI), as the
    consent-granted schema lists them."""
    from schemas.names import CONSENT_GRANTED

    items = load_catalogue().get(CONSENT_GRANTED).schema["properties"]["purposes"]["items"]
    words = next(option["enum"] for option in items["anyOf"] if "enum" in option)
    return tuple(words)
