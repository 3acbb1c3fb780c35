"""Fixtures of the integration tests: a Kafka scenario on the shared broker and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.kafka_support import Scenario, kafka_bootstrap


@pytest.fixture
def scenario(pg_schema_url: str, tmp_path: Path) -> Iterator[Scenario]:
    """A fresh schema, topics, group and dead-letter topic; workers stopped, topics deleted."""
    world = Scenario(pg_schema_url, kafka_bootstrap(), tmp_path)
    yield world
    world.stop_all()
    world.remove_topics()
