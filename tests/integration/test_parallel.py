"""Preparation in a worker process gives the same results as in-process ingest."""

from __future__ import annotations

import orjson
import pytest

from ledger.demo import generate
from ledger.parallel import ingest_in_parallel
from ledger.pipeline import Accepted, Channel, Duplicated, Rejected
from tests.conftest import LedgerBuilder

FILE = Channel("file")


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_parallel_ingest_matches_in_process_ingest(
    make_ledger: LedgerBuilder, database_url: str
) -> None:
    population = generate(seed=11, learners=25)
    lines = [orjson.dumps(e) for e in population.events]
    lines += [line for _, line in population.bad_lines] + lines[-30:]  # bad lines, then re-sends
    batches = [(lines[i : i + 40], FILE) for i in range(0, len(lines), 40)]

    def run(ledger_url: str | None, parallel: bool) -> list[type]:
        ledger = make_ledger(ledger_url)
        for s in population.issuers:
            ledger.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
        stream = ingest_in_parallel(ledger, batches) if parallel else ledger.ingest_stream(batches)
        outcome = [type(r) for results in stream for r in results]
        assert ledger.audit().ok
        return outcome

    parallel = run(database_url, parallel=True)
    in_process = run(None, parallel=False)
    assert parallel == in_process
    assert parallel.count(Rejected) == len(population.bad_lines)
    assert parallel.count(Duplicated) == 30
    assert parallel.count(Accepted) == len(population.events)
