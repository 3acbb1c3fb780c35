"""The API's settings, and everything `ledger serve` reads, from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.auth import MAX_TOKEN_TTL_S
from api.settings import ApiSettings, ServerSettings
from ledger.errors import ConfigurationError


def test_the_api_limits_have_their_defaults() -> None:
    api = ApiSettings.from_env({})
    assert api == ApiSettings()
    assert (api.token_keys_file, api.max_body_bytes, api.max_batch) == (None, 1 << 20, 500)
    assert api.max_token_ttl_s == MAX_TOKEN_TTL_S == 86_400


def test_the_longest_token_lifetime_is_bounded() -> None:
    assert ApiSettings.from_env({"LEDGER_API_MAX_TOKEN_TTL_S": "900"}).max_token_ttl_s == 900
    with pytest.raises(ConfigurationError, match="LEDGER_API_MAX_TOKEN_TTL_S: must be between"):
        ApiSettings.from_env({"LEDGER_API_MAX_TOKEN_TTL_S": str(365 * 86_400)})


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LEDGER_API_MAX_BODY_BYTES", "10"), ("LEDGER_API_MAX_BATCH", "0")],
)
def test_a_limit_out_of_bounds_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{variable}: must be between"):
        ApiSettings.from_env({variable: value})


def test_the_server_reads_every_component_from_one_environment() -> None:
    env = {
        "LEDGER_DATABASE_URL": "sqlite:///x.db",
        "LEDGER_API_TOKEN_KEYS_FILE": "keys.json",
        "LEDGER_API_MAX_BATCH": "7",
        "LEDGER_KAFKA_BOOTSTRAP": "kafka:9092",
        "LEDGER_SIGNING_KEY_FILE": "signing.pem",
        "LEDGER_MAX_JSON_DEPTH": "16",
    }
    server = ServerSettings.from_env(env)
    assert server.core.database_url == "sqlite:///x.db"
    assert server.api.token_keys_file == Path("keys.json")
    assert server.kafka.configured
    assert server.signing.key_file == Path("signing.pem")
    assert (server.api.max_batch, server.core.max_json_depth) == (7, 16)
    assert server.kafka.bootstrap == "kafka:9092"
    with pytest.raises(ConfigurationError, match="LEDGER_SIGNING_KEY_FILE: cannot read"):
        server.signing.key()
