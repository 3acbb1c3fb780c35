"""Preparation in a worker process gives the same results as in-process ingest."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from demo import generate
from ledger.outcomes import Accepted, Channel, Duplicated, Rejected
from ledger.parallel import ingest_in_parallel
from tests.conftest import LedgerBuilder

REPO = Path(__file__).resolve().parents[2]

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


def test_preparer_process_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A worker killed with SIGKILL cannot stop its preparer: the child must notice."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from ledger.parallel import PreparerProcess\n"
        "from ledger.settings import Settings\n"
        "if __name__ == '__main__':\n"
        f"    settings = Settings.from_env({{}}, database_url='sqlite:///{tmp_path}/l.db')\n"
        "    preparer = PreparerProcess(settings)\n"
        "    preparer.ready().result(timeout=60)\n"
        "    import multiprocessing\n"
        "    print(multiprocessing.active_children()[0].pid, flush=True)\n"
        "    time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, cwd=REPO)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child), "the preparer outlived its killed parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its exit status is left to collect.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
