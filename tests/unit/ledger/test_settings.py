"""Settings from the environment: a malformed Kafka bootstrap list."""

from __future__ import annotations

import pytest

from ledger.errors import ConfigurationError
from ledger.settings import Settings


@pytest.mark.parametrize("servers", ["kafka:x", "kafka:0", "kafka:65536", "a:1,", ":9092"])
def test_settings_with_a_malformed_bootstrap_name_the_variable_and_rule(servers: str) -> None:
    with pytest.raises(ConfigurationError, match=r"LEDGER_KAFKA_BOOTSTRAP: .*host:port"):
        Settings.from_env({"LEDGER_KAFKA_BOOTSTRAP": servers})
