"""PostgreSQL connection settings from a URL: parsing, the schema parameter, redaction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.postgres import PostgresDatastore

from ledger.errors import ConfigurationError

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class ConnectionParams:
    """What a ``postgresql://user:pw@host:port/db[?schema=NAME]`` URL says."""

    dbname: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    schema: str


def connection_params(url: str) -> ConnectionParams:
    """Parse a PostgreSQL URL (schema default ``public``).

    Raises:
        ConfigurationError: the URL lacks a part the datastore needs.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigurationError("LEDGER_DATABASE_URL: expected a postgresql:// URL")
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise ConfigurationError("LEDGER_DATABASE_URL: the database name is missing")
    return ConnectionParams(
        dbname=unquote(dbname),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        schema=schema_of(url),
    )


def datastore_from_url(url: str, *, pool_size: int = 4) -> PostgresDatastore:
    """Build an eventsourcing PostgresDatastore from a PostgreSQL URL (see
    :func:`connection_params`)."""
    p = connection_params(url)
    return PostgresDatastore(
        dbname=p.dbname,
        host=p.host,
        port=p.port,
        user=p.user,
        password=p.password,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_timeout=10,
        lock_timeout=30,
        schema=p.schema,
    )


def schema_of(url: str) -> str:
    """The ``schema`` query parameter of a database URL (default ``public``).

    Raises:
        ConfigurationError: the name is not a plain identifier.
    """
    values = parse_qs(urlsplit(url).query).get("schema", ["public"])
    name = values[-1]
    if not SCHEMA_NAME.match(name):
        raise ConfigurationError(
            "LEDGER_DATABASE_URL: schema must be a plain lower-case identifier"
        )
    return name


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
