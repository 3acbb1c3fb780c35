"""The core's settings from the environment: defaults, the database URL, limits, the master key."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from ledger.crypto import encode_key, generate_key
from ledger.dburl import PostgresUrl, SQLiteUrl
from ledger.env import declared
from ledger.errors import ConfigurationError, MasterKeyMissingError
from ledger.settings import Settings


def test_without_variables_the_core_runs_embedded_with_its_declared_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database == SQLiteUrl(
        "sqlite:///ledger-data/ledger.db", Path("ledger-data/ledger.db")
    )
    assert not settings.is_postgres
    assert (settings.max_event_bytes, settings.max_json_depth, settings.batch_size) == (
        262_144,
        32,
        500,
    )
    assert not settings.has_master_key


def test_the_core_reads_only_its_own_variables() -> None:
    assert sorted(v.name for v in declared(Settings).values()) == [
        "LEDGER_BATCH_SIZE",
        "LEDGER_DATABASE_URL",
        "LEDGER_DATA_DIR",
        "LEDGER_MAX_EVENT_BYTES",
        "LEDGER_MAX_JSON_DEPTH",
        "LEDGER_NATIVE",
    ]


def test_the_native_mode_is_one_of_three() -> None:
    assert Settings.from_env({}).native == "auto"
    assert Settings.from_env({"LEDGER_NATIVE": " OFF "}).native == "off"
    with pytest.raises(
        ConfigurationError, match="LEDGER_NATIVE: 'fastest' is not one of auto, off, require"
    ):
        Settings.from_env({"LEDGER_NATIVE": "fastest"})


def test_the_embedded_database_follows_the_data_dir() -> None:
    settings = Settings.from_env({"LEDGER_DATA_DIR": "/srv/ledger"})
    assert settings.database_url == "sqlite:////srv/ledger/ledger.db"
    assert isinstance(settings.database, SQLiteUrl)
    assert settings.database.path == Path("/srv/ledger/ledger.db")


def test_a_postgresql_url_is_parsed_once_into_the_settings() -> None:
    url = "postgresql://ledger:pw@db:5433/ledger?schema=tenant_a"
    settings = Settings.from_env({"LEDGER_DATABASE_URL": url})
    assert settings.is_postgres
    assert isinstance(settings.database, PostgresUrl)
    assert (settings.database.host, settings.database.port, settings.database.schema) == (
        "db",
        5433,
        "tenant_a",
    )
    assert settings.database_url == url
    assert "pw" not in repr(settings)


def test_an_unsupported_database_url_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="LEDGER_DATABASE_URL: expected sqlite"):
        Settings.from_env({"LEDGER_DATABASE_URL": "mysql://db/ledger"})


def test_overrides_win_over_the_environment() -> None:
    settings = Settings.from_env(
        {"LEDGER_BATCH_SIZE": "10", "LEDGER_DATABASE_URL": "sqlite:///a.db"},
        batch_size=20,
        database_url="sqlite:///b.db",
    )
    assert settings.batch_size == 20
    assert settings.database == SQLiteUrl("sqlite:///b.db", Path("b.db"))


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("LEDGER_BATCH_SIZE", "0", "must be between 1 and 50000"),
        ("LEDGER_BATCH_SIZE", "many", "must be an integer, got 'many'"),
        ("LEDGER_MAX_EVENT_BYTES", "100", "must be between 1024 and 16777216"),
        ("LEDGER_MAX_JSON_DEPTH", "2", "must be between 4 and 128"),
    ],
)
def test_a_limit_out_of_bounds_names_the_variable_and_the_rule(
    variable: str, value: str, rule: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^{variable}: {rule}$"):
        Settings.from_env({variable: value})


def test_the_master_key_comes_from_the_variable_or_the_file(tmp_path: Path) -> None:
    key = generate_key()
    assert Settings.from_env({"LEDGER_MASTER_KEY": encode_key(key)}).master_key() == key
    path = tmp_path / "master.key"
    path.write_text(encode_key(key) + "\n")
    assert Settings.from_env({"LEDGER_MASTER_KEY_FILE": str(path)}).master_key() == key
    with pytest.raises(ConfigurationError, match="LEDGER_MASTER_KEY_FILE: cannot read"):
        Settings.from_env({"LEDGER_MASTER_KEY_FILE": str(tmp_path / "absent")})
    with pytest.raises(MasterKeyMissingError, match="LEDGER_MASTER_KEY is not set"):
        Settings.from_env({}).master_key()


def test_settings_travel_to_a_child_process_whole() -> None:
    settings = Settings.from_env({}, database_url="postgresql://u:pw@h/db", _master_key=b"k" * 32)
    again = pickle.loads(pickle.dumps(settings))
    assert again == settings
    assert again.database == settings.database
    assert again.master_key() == b"k" * 32
