"""The reference the append and ingest benchmarks measure against: the plain ``eventsourcing``
pattern (load the learner's aggregate, add one event, save it), in the same run on the same
database."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.databases import create_schema
from ledger.dburl import DatabaseUrl, SQLiteUrl


class LearnerRecord(Aggregate):
    """The reference's aggregate: one per learner, one event per ingested item."""

    @event("Opened")
    def __init__(self, learner_id: str) -> None:
        self.learner_id = learner_id
        self.items = 0

    @event("ItemRecorded")
    def record(self, payload: dict[str, Any]) -> None:
        self.items += 1


class ReferenceApp(Application[uuid.UUID]):
    """Plain eventsourcing application used only as the benchmark's reference."""

    name = "BenchReference"


@dataclass
class Measurement:
    backend: str
    mode: str
    batch_size: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _reference_env(url: str) -> dict[str, str]:
    p = DatabaseUrl.parse(url)
    if isinstance(p, SQLiteUrl):
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(p.path)}
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": p.dbname,
        "POSTGRES_HOST": p.host,
        "POSTGRES_PORT": str(p.port),
        "POSTGRES_USER": p.user,
        "POSTGRES_PASSWORD": p.password,
        "POSTGRES_SCHEMA": p.schema,
        "CREATE_TABLE": "y",
    }


def measure_reference(url: str, backend: str, lines: list[bytes]) -> Measurement:
    """Each event of ``lines`` stored the plain eventsourcing way, one save per event."""
    if DatabaseUrl.parse(url).is_postgres:
        create_schema(url)
    app = ReferenceApp(env=_reference_env(url))
    ids: dict[str, uuid.UUID] = {}
    events = [orjson.loads(line) for line in lines]
    started = time.perf_counter()
    for ev in events:
        learner = ev.get("subject") or ev["source"]
        if learner not in ids:
            agg = LearnerRecord(learner)
            ids[learner] = agg.id
        else:
            agg = app.repository.get(ids[learner])
        agg.record(ev)
        app.save(agg)
    seconds = time.perf_counter() - started
    app.close()
    return Measurement(backend, "reference", 1, len(events), seconds)
