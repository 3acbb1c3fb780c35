"""The database URL (``LEDGER_DATABASE_URL``), parsed once into what the adapters need.

``sqlite:///PATH`` is an SQLite file; ``postgresql://user:pw@host:port/db[?schema=NAME]``
(or ``postgres://…``) a PostgreSQL database and the schema the ledger's and the read
models' tables live in (default ``public``). Every message and log names a URL by its
:attr:`DatabaseUrl.redacted` form, which never shows a password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from ledger.errors import ConfigurationError

VARIABLE = "LEDGER_DATABASE_URL"
SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DEFAULT_SCHEMA = "public"
HIDDEN = "***"
# What psycopg.connect takes of a PostgresUrl, by the same names.
CONNECTION_PARAMETERS = ("dbname", "host", "port", "user", "password")


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL; :meth:`parse` makes one.

    Attributes:
        text: the URL as given. It may hold a password: pass it to a child process (it
            is what the child parses again), never show it; show :attr:`redacted`.
    """

    text: str = field(repr=False)

    @staticmethod
    def parse(text: str) -> SQLiteUrl | PostgresUrl:
        """What ``text`` names.

        Raises:
            ConfigurationError: neither an SQLite nor a PostgreSQL URL, or a PostgreSQL
                URL without a database name or with a schema that is not a plain
                lower-case identifier (the message names LEDGER_DATABASE_URL).
        """
        if text.startswith(SQLITE_PREFIX):
            return SQLiteUrl(text, Path(text.removeprefix(SQLITE_PREFIX)))
        if urlsplit(text).scheme in POSTGRES_SCHEMES:
            return PostgresUrl.of(text)
        raise ConfigurationError(
            f"{VARIABLE}: expected sqlite:///PATH or postgresql://user:pw@host:port/db"
        )

    @staticmethod
    def sqlite(path: str | Path) -> SQLiteUrl:
        """The URL of the SQLite file at ``path``."""
        return SQLiteUrl(f"{SQLITE_PREFIX}{path}", Path(path))

    @property
    def is_postgres(self) -> bool:
        return isinstance(self, PostgresUrl)

    @property
    def redacted(self) -> str:
        """The URL for messages and logs: no password in it."""
        return self.text

    def __str__(self) -> str:
        return self.redacted


@dataclass(frozen=True)
class SQLiteUrl(DatabaseUrl):
    """``sqlite:///PATH``: the file at ``path`` (relative to the working directory unless
    absolute, ``sqlite:////abs/path``)."""

    path: Path


@dataclass(frozen=True)
class PostgresUrl(DatabaseUrl):
    """A PostgreSQL database, the login to it, and the schema of the ledger's tables."""

    dbname: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    schema: str

    @classmethod
    def of(cls, text: str) -> PostgresUrl:
        """Parse ``postgresql://user:pw@host:port/db[?schema=NAME]`` (host default
        127.0.0.1, port 5432, schema public).

        Raises:
            ConfigurationError: not such a URL, no database name, or a bad schema name.
        """
        parts = urlsplit(text)
        if parts.scheme not in POSTGRES_SCHEMES:
            raise ConfigurationError(f"{VARIABLE}: expected a postgresql:// URL")
        dbname = parts.path.lstrip("/")
        if not dbname:
            raise ConfigurationError(f"{VARIABLE}: the database name is missing")
        try:
            port = parts.port or 5432
        except ValueError:
            raise ConfigurationError(f"{VARIABLE}: the port must be a number") from None
        schemas = [v for k, v in parse_qsl(parts.query) if k == "schema"]
        schema = schemas[-1] if schemas else DEFAULT_SCHEMA
        if not SCHEMA_NAME.match(schema):
            raise ConfigurationError(f"{VARIABLE}: schema must be a plain lower-case identifier")
        return cls(
            text,
            dbname=unquote(dbname),
            host=parts.hostname or "127.0.0.1",
            port=port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            schema=schema,
        )

    @property
    def redacted(self) -> str:
        parts = urlsplit(self.text)
        query = parse_qsl(parts.query, keep_blank_values=True)
        in_query = any(k == "password" for k, _ in query)
        if not parts.password and not in_query:
            return self.text
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", f":{HIDDEN}@")
            parts = parts._replace(netloc=netloc)
        if in_query:
            hidden = [(k, HIDDEN if k == "password" else v) for k, v in query]
            parts = parts._replace(query=urlencode(hidden, safe="*"))
        return parts.geturl()

    def with_schema(self, schema: str) -> PostgresUrl:
        """The same database and login, the ledger's tables in ``schema``.

        Raises:
            ConfigurationError: ``schema`` is not a plain lower-case identifier.
        """
        parts = urlsplit(self.text)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "schema"]
        return PostgresUrl.of(
            parts._replace(query=urlencode([*query, ("schema", schema)])).geturl()
        )

    def connection_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``psycopg.connect`` for this database."""
        return {name: getattr(self, name) for name in CONNECTION_PARAMETERS}
