"""A demo population ingested into a ledger, and the learner records it gives."""

from __future__ import annotations

import orjson

from demo import generate
from ledger.application import Ledger
from ledger.outcomes import Channel
from ledger.settings import Settings
from projections.learner_record import NAME, LearnerRecordProjection
from projections.runner import Projector
from projections.store import Document, open_projection_store


def ingest_demo_records(
    led: Ledger, settings: Settings, *, seed: int, learners: int
) -> list[Document]:
    """Register the population's issuers, ingest its events, catch the learner record up;
    returns the records of its learners (in the population's order)."""
    population = generate(seed=seed, learners=learners)
    for s in population.issuers:
        led.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
    led.ingest([orjson.dumps(e) for e in population.events], Channel("file"))
    store = open_projection_store(settings)
    try:
        Projector(led, store, LearnerRecordProjection()).catch_up()
        found = (store.get(NAME, learner) for learner in population.learners)
        return [record for record in found if record is not None]
    finally:
        store.close()
