"""The one reader of ``LEDGER_*`` environment variables, shared by every component's settings.

A component declares its settings as a frozen dataclass whose fields name their variable
with :func:`variable`, next to the field's default (written there and nowhere else).
:func:`read` builds the dataclass from an environment: an unset or empty variable leaves
the default; a set one is parsed by the field's type (``int`` within its bounds, ``bool``,
``str``, ``Path``) and checked, and a bad value is one :class:`ConfigurationError` naming
the variable and the rule.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Self, TypeVar, get_type_hints

from ledger.errors import ConfigurationError

T = TypeVar("T")
PREFIX = "LEDGER_"
_KEY = "ledger.env"
_TRUE = frozenset(("1", "true", "yes", "on"))
_FALSE = frozenset(("0", "false", "no", "off"))


@dataclass(frozen=True)
class Variable:
    """How one environment variable sets one field.

    Attributes:
        name: the whole variable name, ``LEDGER_…``.
        low, high: an ``int`` field's bounds (inclusive).
        check: for a ``str`` field: returns the value, or raises ConfigurationError.
    """

    name: str
    low: int | None = None
    high: int | None = None
    check: Callable[[str], str] | None = None

    def parse(self, raw: str, kind: Any) -> object:
        """``raw`` as a value of ``kind`` (a field's resolved type).

        Raises:
            ConfigurationError: the value breaks the rule (the message names both).
        """
        if kind is int:
            return self._int(raw)
        if kind is bool:
            return self._bool(raw)
        if kind is Path:
            return Path(raw)
        if kind is str:
            return self.check(raw) if self.check else raw
        raise TypeError(f"{self.name}: no reader for fields of type {kind!r}")

    def _int(self, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigurationError(f"{self.name}: must be an integer, got {raw!r}") from None
        below = self.low is not None and value < self.low
        above = self.high is not None and value > self.high
        if below or above:
            if self.low is None:
                rule = f"at most {self.high}"
            elif self.high is None:
                rule = f"at least {self.low}"
            else:
                rule = f"between {self.low} and {self.high}"
            raise ConfigurationError(f"{self.name}: must be {rule}")
        return value

    def _bool(self, raw: str) -> bool:
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ConfigurationError(
            f"{self.name}: must be true or false (1/0, yes/no, on/off), got {raw!r}"
        )


def variable(
    name: str,
    default: Any,
    *,
    low: int | None = None,
    high: int | None = None,
    check: Callable[[str], str] | None = None,
    secret: bool = False,
) -> Any:
    """A dataclass field set by environment variable ``name``, else ``default``; a
    ``secret`` one (or one that may hold a secret) is left out of the ``repr``."""
    if not name.startswith(PREFIX):
        raise ValueError(f"{name}: setting variables start with {PREFIX}")
    return field(
        default=default, repr=not secret, metadata={_KEY: Variable(name, low, high, check)}
    )


def declared(cls: type) -> dict[str, Variable]:
    """The variables a settings dataclass reads, by field name."""
    return {f.name: f.metadata[_KEY] for f in fields(cls) if _KEY in f.metadata}


def text(env: Mapping[str, str], name: str) -> str | None:
    """The value of ``name``, or ``None`` when it is unset or empty (as if unset)."""
    return env.get(name) or None


def read(cls: type[T], env: Mapping[str, str] | None = None, /, **overrides: Any) -> T:
    """An instance of the settings dataclass ``cls`` read from ``env`` (default ``os.environ``).

    Each field declared with :func:`variable` takes its variable's value when set, else its
    default; ``overrides`` (field names) win over both.

    Raises:
        ConfigurationError: a variable's value breaks its rule.
    """
    assert is_dataclass(cls)
    env = os.environ if env is None else env
    kinds = get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, var in declared(cls).items():
        raw = text(env, var.name)
        if raw is not None and name not in overrides:
            values[name] = var.parse(raw, _optional_of(kinds[name]))
    values.update(overrides)
    return cls(**values)


class FromEnv:
    """What every settings dataclass has: ``from_env``, reading its fields with :func:`read`."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Read from ``env`` (default ``os.environ``); ``overrides`` (field names) win.

        Raises:
            ConfigurationError: a value is malformed (the message names the variable).
        """
        return read(cls, env, **overrides)


def _optional_of(kind: Any) -> Any:
    """``X`` for ``X | None``, else ``kind``."""
    if isinstance(kind, types.UnionType):
        rest = [k for k in kind.__args__ if k is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return kind
