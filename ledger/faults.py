"""One input's fault stays its own: an unexpected error while preparing it is its rejection."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from ledger.errors import ConfigurationError, StoreError
from schemas.validation import Problem

log = logging.getLogger("lll.pipeline")
# Faults of the whole batch (the store, the configuration), raised to the caller; any
# other error while preparing an input is that input's rejection (``internal``).
BATCH_FAULTS = (StoreError, ConfigurationError)


class Indexed(Protocol):
    """An input being prepared, by its place in the batch."""

    index: int


_I = TypeVar("_I", bound=Indexed)
_T = TypeVar("_T")


def internal_problem(exc: Exception, stage: str) -> Problem:
    """The reason for an input an unexpected error stopped, ``stage`` saying at what.

    The log gets an error id, the exception's type and where it was raised, never its
    message (it may quote the input's content); the reason carries the same id.
    """
    error_id = uuid.uuid4().hex[:16]
    frames = traceback.extract_tb(exc.__traceback__)
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames[::-1])
    log.error(
        "error %s: %s while %s an input, at %s; the input is rejected (internal)",
        error_id, type(exc).__name__, stage, where or "?",
    )  # fmt: skip
    return Problem(
        "",
        "internal",
        f"an internal error stopped this input (error id {error_id}); it was not stored, "
        "and the operators can find the error in the ledger's log by its id",
    )


def isolated(
    items: Iterable[_I],
    stage: str,
    work: Callable[[_I], _T],
    refuse: Callable[[int, Problem], None],
) -> list[tuple[_I, _T]]:
    """``work`` done on each item, with its outcome; an item it fails on (other than by a
    batch fault) is refused (``refuse(index, problem)``) and left out."""
    out = []
    for item in items:
        try:
            out.append((item, work(item)))
        except BATCH_FAULTS:
            raise
        except Exception as exc:
            refuse(item.index, internal_problem(exc, stage))
    return out
