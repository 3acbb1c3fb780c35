"""The database URL, parsed once: SQLite paths, PostgreSQL parameters and schema, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.dburl import DatabaseUrl, PostgresUrl, SQLiteUrl
from ledger.errors import ConfigurationError


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("sqlite:///ledger-data/ledger.db", Path("ledger-data/ledger.db")),
        ("sqlite:////var/lib/ledger.db", Path("/var/lib/ledger.db")),
    ],
)
def test_an_sqlite_url_names_a_file(text: str, path: Path) -> None:
    url = DatabaseUrl.parse(text)
    assert url == SQLiteUrl(text, path)
    assert not url.is_postgres
    assert url.redacted == text
    assert DatabaseUrl.sqlite(path) == url


def test_a_postgresql_url_gives_every_connection_parameter_and_the_schema() -> None:
    url = DatabaseUrl.parse("postgresql://led%40ger:p%2Fw@db.example:5433/ledger?schema=tenant_a")
    assert isinstance(url, PostgresUrl)
    assert url.is_postgres
    assert url.connection_kwargs() == {
        "dbname": "ledger",
        "host": "db.example",
        "port": 5433,
        "user": "led@ger",
        "password": "p/w",
    }
    assert url.schema == "tenant_a"


def test_a_postgresql_url_has_defaults_for_what_it_leaves_out() -> None:
    url = PostgresUrl.of("postgres:///ledger")
    assert (url.host, url.port, url.user, url.password, url.schema) == (
        "127.0.0.1",
        5432,
        "",
        "",
        "public",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mysql://db/ledger", "expected sqlite:///PATH or postgresql://"),
        ("ledger.db", "expected sqlite:///PATH or postgresql://"),
        ("postgresql://db", "the database name is missing"),
        ("postgresql://db:port/ledger", "the port must be a number"),
        ("postgresql://db/ledger?schema=Tenant", "schema must be a plain lower-case identifier"),
        ("postgresql://db/ledger?schema=a;drop", "schema must be a plain lower-case identifier"),
    ],
)
def test_a_url_the_ledger_cannot_use_is_one_error_naming_the_variable(
    text: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^LEDGER_DATABASE_URL: {message}"):
        DatabaseUrl.parse(text)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("postgresql://ledger:s3cret@db/ledger", "postgresql://ledger:***@db/ledger"),
        (
            "postgresql://ledger:s3cret@db:5433/ledger?schema=a",
            "postgresql://ledger:***@db:5433/ledger?schema=a",
        ),
        (
            "postgresql://db/ledger?password=s3cret&schema=a",
            "postgresql://db/ledger?password=***&schema=a",
        ),
        ("postgresql://ledger@db/ledger", "postgresql://ledger@db/ledger"),
    ],
)
def test_the_redacted_form_never_shows_a_password(text: str, redacted: str) -> None:
    url = DatabaseUrl.parse(text)
    assert url.redacted == redacted
    assert str(url) == redacted
    assert "s3cret" not in repr(url)


def test_with_schema_keeps_the_database_and_login_and_replaces_the_schema() -> None:
    url = PostgresUrl.of("postgresql://ledger:s3cret@db:5433/ledger?schema=a&sslmode=disable")
    other = url.with_schema("b_2")
    assert other.schema == "b_2"
    assert other.connection_kwargs() == url.connection_kwargs()
    assert "sslmode=disable" in other.text
    with pytest.raises(ConfigurationError, match="schema must be a plain lower-case identifier"):
        url.with_schema("Bad-Name")
