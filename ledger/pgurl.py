"""Remnant: what the benchmark modules still import. Use :mod:`ledger.dburl` instead.

``ledger/bench.py``, ``consumers/bench.py``, ``projections/bench.py`` and
``api/bench/__init__.py`` import these three names; once they use
:class:`ledger.dburl.DatabaseUrl` (``.redacted``, ``PostgresUrl.of(url)``, ``.schema``),
this module goes.
"""

from __future__ import annotations

from ledger.dburl import DatabaseUrl, PostgresUrl


def connection_params(url: str) -> PostgresUrl:
    """``PostgresUrl.of(url)``: dbname, host, port, user, password and schema."""
    return PostgresUrl.of(url)


def schema_of(url: str) -> str:
    """``PostgresUrl.of(url).schema``."""
    return PostgresUrl.of(url).schema


def redact(url: str) -> str:
    """``DatabaseUrl.parse(url).redacted``."""
    return DatabaseUrl.parse(url).redacted
