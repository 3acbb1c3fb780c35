"""Fixtures of the service tests: an embedded ledger holding a small demo population."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from demo import Population, generate
from ledger.application import Ledger
from ledger.crypto import generate_key
from ledger.outcomes import Channel
from ledger.settings import Settings
from projections.sqlite import SQLiteProjectionStore

Demo = tuple[Ledger, SQLiteProjectionStore, Population]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """Six demo learners' events ingested into an embedded ledger, and a read-model store."""
    settings = Settings.from_env(
        {}, database_url=f"sqlite:///{tmp_path}/ledger.db", _master_key=generate_key()
    )
    population = generate(seed=4, learners=6)
    store = SQLiteProjectionStore(tmp_path / "read.db")
    store.create_tables()
    with Ledger.open(settings) as ledger:
        for s in population.issuers:
            ledger.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
        ledger.ingest([orjson.dumps(e) for e in population.events], Channel("file"))
        yield ledger, store, population
    store.close()
