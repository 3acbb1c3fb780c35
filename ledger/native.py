"""The compiled hot path (``lll_native``, built from ``native/`` by ``scripts/native``), when
it is there, and the pure-Python twin of its append half.

``LEDGER_NATIVE`` chooses: ``auto`` (the default: compiled when installed), ``off``
(Python throughout), ``require`` (refuse to start without it). Its preparation half is
:mod:`ledger.fastpath`; its append half, :func:`plan_copy`, places an append's events
(new, repeated in the batch, or stored before; each new one's stream version) and
hash-links and encodes the new rows as one binary COPY block for PostgreSQL
(:func:`chain_copy` does the last two for rows already placed). The contract tests run
both halves compiled and in Python.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any, cast

from ledger.errors import ConfigurationError
from ledger.integrity import HASH_LEN

NATIVE_ENV = "LEDGER_NATIVE"
MODES = ("auto", "off", "require")


def native_mode(value: str) -> str:
    """``value`` as a ``LEDGER_NATIVE`` mode.

    Raises:
        ConfigurationError: not one of :data:`MODES` (the message names the variable).
    """
    mode = value.strip().lower()
    if mode not in MODES:
        raise ConfigurationError(f"{NATIVE_ENV}: {value!r} is not one of {', '.join(MODES)}")
    return mode


def native_module(mode: str | None = None) -> Any | None:
    """``lll_native`` when it is installed and ``mode`` (default: ``LEDGER_NATIVE``) allows it.

    Raises:
        ConfigurationError: an unknown mode, or ``require`` and the module is missing.
    """
    mode = native_mode(mode or os.environ.get(NATIVE_ENV) or "auto")
    if mode == "off":
        return None
    try:
        return importlib.import_module("lll_native")
    except ImportError:
        if mode == "require":
            raise ConfigurationError(
                f"{NATIVE_ENV}=require, but the compiled module lll_native is not installed"
                " (build it with scripts/native)"
            ) from None
        return None


# (stream id, version, topic, key, body, content digest)
ChainRow = tuple[bytes, int, str, bytes, bytes, bytes]

# chain_copy's signature: (previous hash, first position, rows) -> (block, hashes, head).
ChainCopy = Callable[[bytes, int, Sequence[ChainRow]], tuple[bytes, bytes, bytes]]

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)


def chain_copy_python(
    prev: bytes, first: int, rows: Sequence[ChainRow]
) -> tuple[bytes, bytes, bytes]:
    """The pure-Python twin of ``lll_native.chain_copy``: the rows hash-linked after
    ``prev``, as one binary COPY block (position, stream, version, topic, state) for
    positions from ``first``; the block, the chain hashes concatenated, the new head."""
    if len(prev) != HASH_LEN:
        raise ValueError(f"the previous hash must be {HASH_LEN} bytes, not {len(prev)}")
    parts = [_COPY_HEADER]
    hashes = []
    for n, (stream, version, topic, key, body, content) in enumerate(rows):
        digest = hashlib.sha256(prev + stream + version.to_bytes(8, "big") + content).digest()
        name = topic.encode()
        parts.append(
            b"".join((
                b"\x00\x05\x00\x00\x00\x08", (first + n).to_bytes(8, "big", signed=True),
                b"\x00\x00\x00\x10", stream,
                b"\x00\x00\x00\x08", version.to_bytes(8, "big", signed=True),
                len(name).to_bytes(4, "big"), name,
                (2 * HASH_LEN + len(key) + len(body)).to_bytes(4, "big"), digest, prev, key, body,
            ))
        )  # fmt: skip
        hashes.append(digest)
        prev = digest
    parts.append(b"\xff\xff")
    return b"".join(parts), b"".join(hashes), prev


# plan_copy's answer: the COPY block, the new rows' chain hashes, the new head, each
# event's position, whether each is new (a byte each), each event's version (0 for a
# duplicate), and the last version of each stream written (by 16-byte id).
CopyPlanned = tuple[bytes, bytes, bytes, list[int], bytes, list[int], dict[bytes, int]]

# plan_copy's signature: (previous hash, first position, parts, stored positions by key,
# last versions by stream id) -> CopyPlanned. Parts: see ledger.batch.EventBatch.parts.
PlanCopy = Callable[
    [bytes, int, Sequence[tuple[Any, ...]], dict[bytes, int], dict[bytes, int]], CopyPlanned
]


def _rows_of(parts: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The (key, stream id, topic, body, content digest) rows of ``parts``, in order."""
    rows: list[tuple[Any, ...]] = []
    for part in parts:
        if len(part) == 3:
            rows.extend(zip(*part[0].columns(part[1], part[2]), strict=True))
        elif len(part) == 5:
            rows.append(part)
        else:
            raise ValueError(f"a part has 3 or 5 fields, not {len(part)}")
    return rows


def plan_copy_python(
    prev: bytes,
    first: int,
    parts: Sequence[tuple[Any, ...]],
    existing: dict[bytes, int],
    heads: dict[bytes, int],
) -> CopyPlanned:
    """The pure-Python twin of ``lll_native.plan_copy``: place each event of ``parts`` (a
    key stored before keeps its position in ``existing``; a key repeated in the batch, its
    first one's; any other is new, at the next position from ``first``, one version past
    its stream's in ``heads`` or earlier in the batch) and encode the new rows with
    :func:`chain_copy_python` after ``prev``."""
    positions: list[int] = []
    fresh = bytearray()
    versions: list[int] = []
    placed: dict[bytes, int] = {}
    ends: dict[bytes, int] = {}
    new: list[ChainRow] = []
    for key, stream, topic, body, content in _rows_of(parts):
        earlier = existing.get(key, placed.get(key))
        if earlier is not None:
            positions.append(earlier)
            fresh.append(0)
            versions.append(0)
            continue
        version = ends.get(stream, heads.get(stream, 0)) + 1
        ends[stream] = version
        placed[key] = first + len(new)
        positions.append(placed[key])
        fresh.append(1)
        versions.append(version)
        new.append((stream, version, topic, key, body, content))
    block, hashes, head = chain_copy_python(prev, first, new)
    return block, hashes, head, positions, bytes(fresh), versions, ends


def plan_copy(mode: str | None = None) -> PlanCopy:
    """``lll_native.plan_copy`` when available (see :func:`native_module`), else
    :func:`plan_copy_python`."""
    module = native_module(mode)
    return plan_copy_python if module is None else cast(PlanCopy, module.plan_copy)


def chain_copy(mode: str | None = None) -> ChainCopy:
    """``lll_native.chain_copy`` when available (see :func:`native_module`), else
    :func:`chain_copy_python`."""
    module = native_module(mode)
    return chain_copy_python if module is None else cast(ChainCopy, module.chain_copy)
