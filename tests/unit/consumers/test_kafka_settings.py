"""The Kafka side's settings: whether a broker is configured, a malformed bootstrap, the batch."""

from __future__ import annotations

import pytest

from consumers.settings import KafkaSettings, WorkerConfig
from ledger.errors import ConfigurationError


def test_without_a_bootstrap_no_broker_is_configured() -> None:
    kafka = KafkaSettings.from_env({})
    assert not kafka.configured
    assert kafka.bootstrap == "127.0.0.1:19092"  # the default, for the CLI's tools
    assert (kafka.group, kafka.dead_letter_topic, kafka.worker_max_outage_s) == (
        "lll-ingest",
        "lll.deadletter",
        0,
    )


@pytest.mark.parametrize("servers", ["kafka:9092", "a:1,b:2", "kafka", "[::1]:9092"])
def test_a_bootstrap_set_configures_a_broker(servers: str) -> None:
    kafka = KafkaSettings.from_env({"LEDGER_KAFKA_BOOTSTRAP": servers})
    assert kafka.configured
    assert kafka.bootstrap == servers


def test_a_bootstrap_given_configures_a_broker_unless_told_otherwise() -> None:
    assert KafkaSettings.from_env({}, bootstrap="kafka:9092").configured
    assert not KafkaSettings.from_env({}, bootstrap="kafka:9092", configured=False).configured


@pytest.mark.parametrize("servers", ["kafka:x", "kafka:0", "kafka:65536", "a:1,", ":9092"])
def test_a_malformed_bootstrap_names_the_variable_and_rule(servers: str) -> None:
    with pytest.raises(ConfigurationError, match=r"LEDGER_KAFKA_BOOTSTRAP: .*host:port"):
        KafkaSettings.from_env({"LEDGER_KAFKA_BOOTSTRAP": servers})


def test_the_outage_limit_is_bounded() -> None:
    assert KafkaSettings.from_env({"LEDGER_WORKER_MAX_OUTAGE_S": "30"}).worker_max_outage_s == 30
    with pytest.raises(ConfigurationError, match="LEDGER_WORKER_MAX_OUTAGE_S: must be between"):
        KafkaSettings.from_env({"LEDGER_WORKER_MAX_OUTAGE_S": "-1"})


def test_a_worker_polls_the_kafka_batch_unless_the_append_batch_is_larger() -> None:
    kafka = KafkaSettings()
    assert kafka.worker_batch(500) == kafka.batch_size == 5000
    assert kafka.worker_batch(8000) == 8000


def test_the_worker_configuration_takes_its_defaults_from_the_settings() -> None:
    kafka = KafkaSettings.from_env(
        {
            "LEDGER_KAFKA_BOOTSTRAP": "kafka:9092",
            "LEDGER_KAFKA_GROUP": "g",
            "LEDGER_KAFKA_DEAD_LETTER_TOPIC": "dead",
            "LEDGER_WORKER_MAX_OUTAGE_S": "60",
        }
    )
    config = WorkerConfig.of(kafka, client_id="w1")
    assert (config.bootstrap, config.group, config.dead_letter_topic) == ("kafka:9092", "g", "dead")
    assert (config.batch_size, config.max_outage_s, config.client_id) == (5000, 60, "w1")
    bare = WorkerConfig("kafka:9092", "g", "dead")
    assert (bare.batch_size, bare.max_outage_s) == (KafkaSettings.batch_size, 0)
