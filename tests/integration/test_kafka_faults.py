"""Kafka ingest while PostgreSQL or the broker restarts, on private instances of both."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from ledger.application import Ledger
from ledger.errors import StoreError
from tests.integration.kafka_support import (
    REPO,
    Scenario,
    count_present,
    kafka_population,
    keys_of,
    last_stats,
    read_topic,
    wait_for,
)
from tests.integration.test_kafka_ingest import (
    assert_exactly_once_in_order,
    free_port,
)

# About 30,000 events: big enough that a fault lands mid-drain, small enough for 2 cores.
LEARNERS = 1700
POISON_EVERY = 250
# One event in this many is published after the fault.
LATER_SHARE = 4
RETRY_LINE = re.compile(r"lll\.ingest WARNING (PostgreSQL|Kafka): .+ failed.*; attempt \d+")


@dataclass
class PrivateServices:
    """A PostgreSQL cluster and a Kafka broker of this module's own, free to restart."""

    env: dict[str, str]
    url: str
    bootstrap: str

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            [str(REPO / "scripts" / "services"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert proc.returncode == 0, f"scripts/services {' '.join(args)}: {proc.stderr}"
        return proc.stdout.strip()


@pytest.fixture(scope="module")
def services() -> Iterator[PrivateServices]:
    # Under /var/tmp, not the checkout: the postgres system user must reach the cluster.
    cache = Path(tempfile.mkdtemp(prefix="lll-faults-", dir="/var/tmp"))
    env = {
        **os.environ,
        "LEDGER_CACHE_DIR": str(cache),
        "LEDGER_PG_PORT": str(free_port()),
        "LEDGER_KAFKA_PORT": str(free_port()),
        "LEDGER_KAFKA_CONTROLLER_PORT": str(free_port()),
    }
    private = PrivateServices(env, "", "")
    try:
        private.run("postgres", "start")
        private.run("kafka", "start")
        private.url = private.run("postgres", "url", "ledger_test")
        private.bootstrap = private.run("kafka", "bootstrap")
        yield private
    finally:
        private.run("kafka", "stop")
        private.run("postgres", "stop")
        shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture
def scenario(services: PrivateServices, tmp_path: Path) -> Iterator[Scenario]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    world = Scenario(f"{services.url}?schema={schema}", services.bootstrap, tmp_path)
    yield world
    world.stop_all()
    world.remove_topics()
    with psycopg.connect(services.url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass
class Backlog:
    """Events and poison messages, published in two parts: before and after the fault."""

    events: list[dict[str, Any]]
    poison: list[bytes]
    later: dict[str, list[bytes]]


def publish_backlog(world: Scenario, seed: int) -> Backlog:
    """Publish most of each issuer's events, with half the poison messages among one
    issuer's; the last 1/LATER_SHARE of each issuer's events and the other half of the
    poison wait in ``later``.

    Events published after the fault can only be stored once the worker reads from
    the restarted broker (it may have fetched all of the first part before the fault).
    """
    specs, by_source = kafka_population(seed, LEARNERS)
    world.register(specs)
    now: dict[str, list[bytes]] = {}
    later: dict[str, list[bytes]] = {}
    for source, events in by_source.items():
        issuer = world.issuers[source].id
        lines = [orjson.dumps(e) for e in events]
        # One learner's events keep their order: each issuer's list is cut in two.
        cut = len(lines) - len(lines) // LATER_SHARE
        now[issuer], later[issuer] = lines[:cut], lines[cut:]
    events = [e for evs in by_source.values() for e in evs]
    poison = [b"{not json %d" % i for i in range(len(events) // POISON_EVERY)]
    first = next(iter(now))
    half = len(poison) // 2
    now[first] = [*poison[:half], *now[first]]
    later[first] = [*later[first], *poison[half:]]
    assert all(s.failed == 0 for s in world.publish(now).values())
    return Backlog(events, poison, later)


def stored_count(ledger: Ledger, keys: list[bytes]) -> int:
    """count_present, or -1 while our own connection to a restarted server fails."""
    try:
        return count_present(ledger, keys)
    except StoreError:
        return -1


def retries_logged(world: Scenario, name: str) -> list[str]:
    return [line for line in world.worker_log(name).splitlines() if RETRY_LINE.search(line)]


FAULTS = {
    "postgres-fast": ("postgres", "restart", "fast"),
    "postgres-immediate": ("postgres", "restart", "immediate"),
    "kafka-term": ("kafka", "restart"),
    "kafka-kill": ("kafka", "restart", "kill"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_worker_service_restarted_mid_drain_stores_everything_once_in_order(
    scenario: Scenario, services: PrivateServices, fault: str
) -> None:
    backlog = publish_backlog(scenario, seed=40 + list(FAULTS).index(fault))
    published, poison = backlog.events, backlog.poison
    keys = keys_of(published)
    proc = scenario.start_worker("w1")

    def alive_and(predicate: Any) -> Any:
        def check() -> bool:
            assert proc.poll() is None, scenario.worker_log("w1")[-3000:]
            return bool(predicate())

        return check

    with scenario.open() as ledger:
        # Some of the backlog is committed, so the worker is mid-drain when the fault hits.
        wait_for(alive_and(lambda: count_present(ledger, keys) > 0), timeout=120, what="progress")
        before = count_present(ledger, keys)
        started = time.monotonic()
        services.run(*FAULTS[fault])
        back = time.monotonic()
        wait_for(alive_and(lambda: stored_count(ledger, keys) >= 0), timeout=30, what="a read")
        at_back = stored_count(ledger, keys)
        assert all(s.failed == 0 for s in scenario.publish(backlog.later).values())
        wait_for(
            alive_and(lambda: stored_count(ledger, keys) > at_back),
            timeout=180,
            what="appends after the restart",
        )
        resumed = time.monotonic()
        wait_for(
            alive_and(lambda: stored_count(ledger, keys) == len(keys)),
            timeout=240,
            what="all events",
        )
        done = time.monotonic()
    wait_for(
        alive_and(lambda: last_stats(scenario, "w1").get("dead_lettered", 0) >= len(poison)),
        timeout=60,
        what="every poison message dead-lettered",
    )
    retries = retries_logged(scenario, "w1")
    print(
        f"\n{fault}: {len(keys)} events + {len(poison)} poison; {before} stored at the fault; "
        f"restart took {back - started:.1f} s; appends again {resumed - back:.1f} s after it; "
        f"all stored {done - back:.1f} s after it; {len(retries)} retries logged"
    )
    assert before < len(keys)
    scenario.stop_all()
    assert proc.returncode == 0, scenario.worker_log("w1")[-3000:]
    log = scenario.worker_log("w1")
    if fault.startswith("postgres"):
        assert retries, "no retry warning in the worker's log"
    else:
        # The worker may hold no dead letters while the broker is away (then only
        # aiokafka, reconnecting by itself, logs the outage, once per message per 30 s).
        assert "Unable connect to node" in log
        assert log.count("Unable connect to node") < 20
    assert_exactly_once_in_order(scenario, published)
    dead = asyncio.run(read_topic(scenario.bootstrap, scenario.dead_letter_topic, len(poison)))
    assert {m["value"] for m in dead} == set(poison)


def test_worker_postgres_down_longer_than_limit_exits_naming_it(
    scenario: Scenario, services: PrivateServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    backlog = publish_backlog(scenario, seed=49)
    keys = keys_of(backlog.events)
    monkeypatch.setenv("LEDGER_WORKER_MAX_OUTAGE_S", "3")
    proc = scenario.start_worker("w1")
    with scenario.open() as ledger:
        wait_for(lambda: count_present(ledger, keys) > 0, timeout=120, what="progress")
    services.run("postgres", "stop")
    try:
        # The worker may have drained everything published so far before the stop (then,
        # idle, it never meets the outage): what comes now needs the database that is down.
        assert all(s.failed == 0 for s in scenario.publish(backlog.later).values())
        assert proc.wait(timeout=120) == 1
    finally:
        services.run("postgres", "start")
    lines = scenario.worker_log("w1").splitlines()
    assert lines[-1].startswith("ledger: PostgreSQL failing for ")
    assert "LEDGER_WORKER_MAX_OUTAGE_S=3" in lines[-1]
    assert retries_logged(scenario, "w1")
