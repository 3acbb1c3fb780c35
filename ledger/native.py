"""The compiled hot path (``lll_native``, built from ``native/`` by ``scripts/native``), when
it is there, and the pure-Python twin of its append half.

``LEDGER_NATIVE`` chooses: ``auto`` (the default: compiled when installed), ``off``
(Python throughout), ``require`` (refuse to start without it). Its preparation half is
:mod:`ledger.fastpath`; its append half, :func:`chain_copy`, hash-links an append's new
rows and encodes them as one binary COPY block for PostgreSQL. The contract tests run both
halves compiled and in Python.
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


def chain_copy(mode: str | None = None) -> ChainCopy:
    """``lll_native.chain_copy`` when available (see :func:`native_module`), else
    :func:`chain_copy_python`."""
    module = native_module(mode)
    return chain_copy_python if module is None else cast(ChainCopy, module.chain_copy)
