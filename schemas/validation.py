"""Compiled validation of inbound events, reporting every problem as field path + rule."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from schemas.catalogue import Catalogue, EventType

DRAFT = "https://json-schema.org/draft/2020-12/schema"
COMPILED_BASE = "https://schemas.lll.example/v1/compiled/"
# Messages quote the offending value; cap them so a huge field cannot flood a report.
MAX_MESSAGE = 300
# Paths name keys, which may be long; and an input may break a rule in every one of
# thousands of items: reports stay small (they travel in dead-letter headers).
MAX_PATH = 200
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    """One reason an event was refused.

    Attributes:
        path: where in the event, e.g. ``data.evidence[0].url`` (``""`` for the whole event).
        rule: the rule broken, e.g. ``required``, ``pattern``, ``known-type``.
        message: what a person needs to fix it.
    """

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = self.path or "(event)"
        return f"{where}: {self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "rule": self.rule, "message": self.message}


def format_path(parts: Sequence[str | int]) -> str:
    """Render a JSON location as ``a.b[0].c``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _rule_name(kind: object) -> str:
    name = type(kind).__name__
    # CamelCase kind names become the JSON Schema keyword they stand for.
    keyword = name[0].lower() + name[1:]
    return {
        "falseSchema": "false",
        "constant": "const",
        "oneOfNotValid": "oneOf",
        "oneOfMultipleValid": "oneOf",
    }.get(keyword, keyword)


def _without_value(error: Any) -> str:
    """The library's message minus the offending value it quotes first.

    Reasons are printed, logged and written to rejects summaries; a value may be
    personal data, so reasons name the field and the rule, never the value.
    """
    message = str(error.message)
    try:
        shown = json.dumps(error.instance, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        shown = None
    if shown is not None and message.startswith(shown):
        return "value" + message[len(shown) :]
    if message.startswith(("{", "[", '"')):
        return f"value breaks the {_rule_name(error.kind)!r} rule of the schema"
    return message


def _required_options(kind: Any) -> list[str]:
    """For an anyOf whose branches only require fields: each branch's missing fields."""
    options = []
    for branch in getattr(kind, "context", None) or []:
        if not branch or any(type(e.kind).__name__ != "Required" for e in branch):
            return []
        options.append(" and ".join(repr(str(e.kind.property)) for e in branch))
    return options


def _problem(error: Any) -> Problem:
    parts: list[str | int] = list(error.instance_path)
    kind = error.kind
    rule = _rule_name(kind)
    message = _without_value(error)
    if rule == "required":
        # Point at the missing field itself, not at its parent object.
        parts.append(str(kind.property))
        message = "is required"
    elif rule == "const":
        message = (
            f"must be {json.dumps(kind.expected_value)}"
            if hasattr(kind, "expected_value")
            else message
        )
    elif rule == "anyOf" and (options := _required_options(kind)):
        message = "needs " + ", or ".join(options)
    elif rule == "additionalProperties":
        unexpected = ", ".join(repr(u) for u in kind.unexpected)
        message = f"unexpected field(s) {unexpected}: not part of this event type"
    elif rule == "false" and parts:
        message = "this field is not allowed here"
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    path = format_path(parts)
    if len(path) > MAX_PATH:
        path = path[: MAX_PATH - 1] + "…"
    return Problem(path, rule, message)


class EventValidator:
    """Validates CloudEvents against the catalogue; every schema is compiled once.

    The fast path (``is_valid``) costs well under a microsecond per event; the full
    error walk runs only for events that fail it.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._registry = jsonschema_rs.Registry(
            [(uri, dict(doc)) for uri, doc in catalogue.resources()]
        )
        self._envelope = self._compile(dict(catalogue.envelope))
        self._by_type = {t.name: self._compile(self._wrapper(t)) for t in catalogue}

    def _compile(self, schema: dict[str, Any]) -> Any:
        return jsonschema_rs.validator_for(schema, registry=self._registry, validate_formats=True)

    def _wrapper(self, event_type: EventType) -> dict[str, Any]:
        subject_rule: dict[str, Any] = (
            {"required": ["subject"]}
            if event_type.subject == "learner"
            else {"properties": {"subject": False}}
        )
        return {
            "$schema": DRAFT,
            "$id": COMPILED_BASE + event_type.name + ".json",
            "allOf": [
                {"$ref": str(self.catalogue.envelope["$id"])},
                {
                    "properties": {
                        "type": {"const": event_type.name},
                        "data": {"$ref": event_type.schema_id},
                    }
                },
                subject_rule,
            ],
        }

    def validate(self, event: Any) -> list[Problem]:
        """Return every problem with ``event`` (a decoded JSON value); empty when valid."""
        if not isinstance(event, dict):
            return [Problem("", "type", "an event must be a JSON object (a CloudEvent)")]
        event_type = event.get("type")
        validator = self._by_type.get(event_type) if isinstance(event_type, str) else None
        if validator is None:
            problems = _dedupe(_problem(e) for e in self._envelope.iter_errors(event))
            if isinstance(event_type, str) and not any(p.path == "type" for p in problems):
                problems.append(
                    Problem(
                        "type",
                        "known-type",
                        f"unknown event type {event_type[:100]!r}; `ledger schemas` lists them",
                    )
                )
            return problems
        if validator.is_valid(event):
            return []
        return _dedupe(_problem(e) for e in validator.iter_errors(event))

    def is_valid(self, event: Any) -> bool:
        return not self.validate(event)

    def valid_as(self, event: Any, type_name: str) -> bool:
        """Whether ``event`` is a valid event of the catalogue type ``type_name`` (the fast
        verdict only: :meth:`validate` says what is wrong)."""
        return bool(self._by_type[type_name].is_valid(event))

    def schema_texts(self) -> tuple[list[tuple[str, str]], dict[str, str]]:
        """What the compiled preparer (``lll_native``) compiles the same validators from:
        every schema document as (``$id``, JSON text), and each type's wrapper schema."""
        resources = [(uri, json.dumps(dict(doc))) for uri, doc in self.catalogue.resources()]
        wrappers = {t.name: json.dumps(self._wrapper(t)) for t in self.catalogue}
        return resources, wrappers


def _dedupe(problems: Any) -> list[Problem]:
    """Distinct problems, at most MAX_PROBLEMS, then one saying there were more."""
    seen: set[Problem] = set()
    out: list[Problem] = []
    for p in problems:
        if p not in seen:
            if len(out) == MAX_PROBLEMS:
                out.append(
                    Problem(
                        "", "max-problems", f"more problems; the first {MAX_PROBLEMS} are listed"
                    )
                )
                break
            seen.add(p)
            out.append(p)
    return out
