"""The shared reader of LEDGER_* variables: typed, bounded, one error naming the variable and rule."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.env import declared, read, variable
from ledger.errors import ConfigurationError


def _even(value: str) -> str:
    if len(value) % 2:
        raise ConfigurationError(f"LEDGER_T_WORD: must have an even length, got {value!r}")
    return value


@dataclass(frozen=True)
class Example:
    count: int = variable("LEDGER_T_COUNT", 3, low=1, high=9)
    flag: bool = variable("LEDGER_T_FLAG", False)
    word: str = variable("LEDGER_T_WORD", "ab", check=_even)
    path: Path | None = variable("LEDGER_T_PATH", None)
    floor: int = variable("LEDGER_T_FLOOR", 0, low=0)
    derived: int = 0


def test_unset_or_empty_variables_leave_the_declared_defaults() -> None:
    assert read(Example, {}) == Example()
    assert (
        read(Example, dict.fromkeys(("LEDGER_T_COUNT", "LEDGER_T_FLAG", "LEDGER_T_WORD"), ""))
        == Example()
    )


def test_set_variables_are_parsed_by_the_field_type() -> None:
    env = {
        "LEDGER_T_COUNT": "9",
        "LEDGER_T_FLAG": "Yes",
        "LEDGER_T_WORD": "abcd",
        "LEDGER_T_PATH": "/x",
    }
    assert read(Example, env) == Example(9, True, "abcd", Path("/x"))
    assert read(Example, {"LEDGER_T_FLOOR": "12345678"}).floor == 12_345_678


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", True), ("on", True), ("TRUE", True), ("0", False), ("off", False), ("no", False)],
)
def test_booleans_take_the_usual_words(raw: str, value: bool) -> None:
    assert read(Example, {"LEDGER_T_FLAG": raw}).flag is value


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEDGER_T_COUNT": "x"}, "LEDGER_T_COUNT: must be an integer, got 'x'"),
        ({"LEDGER_T_COUNT": "10"}, "LEDGER_T_COUNT: must be between 1 and 9"),
        ({"LEDGER_T_COUNT": "0"}, "LEDGER_T_COUNT: must be between 1 and 9"),
        ({"LEDGER_T_FLOOR": "-1"}, "LEDGER_T_FLOOR: must be at least 0"),
        (
            {"LEDGER_T_FLAG": "maybe"},
            "LEDGER_T_FLAG: must be true or false (1/0, yes/no, on/off), got 'maybe'",
        ),
        ({"LEDGER_T_WORD": "abc"}, "LEDGER_T_WORD: must have an even length, got 'abc'"),
    ],
)
def test_a_bad_value_is_one_error_naming_the_variable_and_the_rule(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        read(Example, env)
    assert str(caught.value) == message


def test_overrides_win_and_are_not_checked_against_the_environment() -> None:
    assert read(Example, {"LEDGER_T_COUNT": "bad"}, count=7, derived=1) == Example(
        count=7, derived=1
    )


def test_declared_lists_the_fields_read_from_variables() -> None:
    assert {name: v.name for name, v in declared(Example).items()} == {
        "count": "LEDGER_T_COUNT",
        "flag": "LEDGER_T_FLAG",
        "word": "LEDGER_T_WORD",
        "path": "LEDGER_T_PATH",
        "floor": "LEDGER_T_FLOOR",
    }


def test_a_variable_outside_the_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="start with LEDGER_"):
        variable("HOME", "/")
