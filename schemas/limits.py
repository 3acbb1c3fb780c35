"""How deep inbound JSON may nest: hostile nesting is refused before any recursive code reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

# Levels of arrays and objects an event (or a credential inside one) may nest; the event
# object itself is level 1. Real events nest under a dozen levels, embedded CLR
# credentials under twenty.
DEFAULT_MAX_DEPTH: Final = 32
# The highest limit an operator may set: the schema validator's own recursion gives out
# near 250 levels, and JSON encoding at 255.
MAX_DEPTH_CEILING: Final = 128
MIN_DEPTH: Final = 4
# A reported path stops after this many characters (keys may be long).
MAX_PATH_CHARS: Final = 200


def may_nest_deeper(data: bytes | str, limit: int) -> bool:
    """False when ``data`` cannot nest deeper than ``limit``: it has too few brackets.

    Counting is a fast scan in C; only inputs with more opening brackets than the limit
    need the exact walk of :func:`deeper_than`.
    """
    if isinstance(data, str):
        return data.count("[") + data.count("{") > limit
    return data.count(b"[") + data.count(b"{") > limit


def deeper_than(value: Any, limit: int) -> list[str | int] | None:
    """The path to the first array or object nested deeper than ``limit``, or None.

    Iterative, so hostile depth cannot exhaust the interpreter's stack.
    """
    if not isinstance(value, dict | list):
        return None
    stack: list[Iterator[tuple[str | int, Any]]] = [_children(value)]
    path: list[str | int] = []
    while stack:
        for key, child in stack[-1]:
            if isinstance(child, dict | list):
                if len(stack) >= limit:
                    return [*path, key]
                path.append(key)
                stack.append(_children(child))
                break
        else:
            stack.pop()
            if path:
                path.pop()
    return None


def too_deep(raw: bytes | str, value: Any, limit: int) -> list[str | int] | None:
    """:func:`deeper_than` for ``value`` parsed from ``raw``, skipped when ``raw`` has too
    few brackets to nest that deep (most inputs)."""
    return deeper_than(value, limit) if may_nest_deeper(raw, limit) else None


def parser_refused_depth(exc: ValueError) -> bool:
    """The JSON parser (orjson) refused the input for nesting past its own limit, 1024."""
    return "depth limit" in str(exc)


def _children(value: dict[str, Any] | list[Any]) -> Iterator[tuple[str | int, Any]]:
    if isinstance(value, dict):
        return iter(value.items())
    return enumerate(value)


def depth_message(limit: int) -> str:
    """The reason given for JSON nested too deep."""
    return f"nests arrays or objects deeper than {limit} levels (the limit, LEDGER_MAX_JSON_DEPTH)"
