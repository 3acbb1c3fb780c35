"""Settings from the environment: whether a broker is configured, a malformed bootstrap, limits."""

from __future__ import annotations

import pytest

from ledger.errors import ConfigurationError
from ledger.settings import Settings


def test_settings_without_kafka_bootstrap_have_no_broker_configured() -> None:
    settings = Settings.from_env({})
    assert not settings.kafka_configured
    assert settings.kafka_bootstrap == "127.0.0.1:19092"  # the default, for the CLI's tools


@pytest.mark.parametrize("servers", ["kafka:9092", "a:1,b:2", "kafka", "[::1]:9092"])
def test_settings_with_kafka_bootstrap_set_have_a_broker_configured(servers: str) -> None:
    settings = Settings.from_env({"LEDGER_KAFKA_BOOTSTRAP": servers})
    assert settings.kafka_configured
    assert settings.kafka_bootstrap == servers


def test_settings_given_a_bootstrap_override_have_a_broker_configured() -> None:
    assert Settings.from_env({}, kafka_bootstrap="kafka:9092").kafka_configured
    assert not Settings.from_env(
        {}, kafka_bootstrap="kafka:9092", kafka_configured=False
    ).kafka_configured


@pytest.mark.parametrize("servers", ["kafka:x", "kafka:0", "kafka:65536", "a:1,", ":9092"])
def test_settings_with_a_malformed_bootstrap_name_the_variable_and_rule(servers: str) -> None:
    with pytest.raises(ConfigurationError, match=r"LEDGER_KAFKA_BOOTSTRAP: .*host:port"):
        Settings.from_env({"LEDGER_KAFKA_BOOTSTRAP": servers})


def test_the_longest_api_token_lifetime_defaults_to_a_day_and_is_bounded() -> None:
    assert Settings.from_env({}).api_max_token_ttl_s == 86_400
    assert Settings.from_env({"LEDGER_API_MAX_TOKEN_TTL_S": "900"}).api_max_token_ttl_s == 900
    with pytest.raises(ConfigurationError, match="LEDGER_API_MAX_TOKEN_TTL_S: must be between"):
        Settings.from_env({"LEDGER_API_MAX_TOKEN_TTL_S": str(365 * 86_400)})
