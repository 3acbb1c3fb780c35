"""The nesting limit: exact, iterative, and cheap for inputs with few brackets."""

from __future__ import annotations

import orjson
import pytest

from schemas.limits import deeper_than, may_nest_deeper


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [1, 5, 32])
def test_deeper_than_at_or_under_the_limit_is_none(depth: int) -> None:
    assert deeper_than({"a": nested(depth - 1)}, 32) is None


def test_deeper_than_one_level_over_names_the_path_to_it() -> None:
    event = {"id": "1", "data": {"list": [{"ok": 1}, {"x": nested(3)}]}}
    # Levels: event 1, data 2, list 3, item 4, x 5, …, the innermost list 7.
    assert deeper_than(event, 7) is None
    assert deeper_than(event, 6) == ["data", "list", 1, "x", 0, 0]


def test_deeper_than_walks_a_million_levels_without_recursion() -> None:
    raw = b"[" * 1_000_000 + b"]" * 1_000_000
    value: list[object] = []
    top = value
    for _ in range(999_999):
        inner: list[object] = []
        value.append(inner)
        value = inner
    assert may_nest_deeper(raw, 32)
    where = deeper_than(top, 32)
    assert where is not None
    assert len(where) == 32


def test_deeper_than_ignores_scalars_and_siblings() -> None:
    assert deeper_than("text", 4) is None
    assert deeper_than({"a": [1, 2, 3], "b": {"c": [4]}, "d": [[[]]]}, 4) is None
    assert deeper_than({"a": [1, 2, 3], "b": {"c": [4]}, "d": [[[[]]]]}, 4) == ["d", 0, 0, 0]


def test_may_nest_deeper_with_few_brackets_is_false() -> None:
    shallow = orjson.dumps({"a": [1], "b": {"c": 2}})
    assert not may_nest_deeper(shallow, 3)
    assert may_nest_deeper(shallow, 2)
    assert not may_nest_deeper(shallow.decode(), 3)
