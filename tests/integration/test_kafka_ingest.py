"""Kafka ingest end to end against the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from tests.integration.kafka_support import (
    Scenario,
    count_present,
    kafka_population,
    keys_of,
    last_stats,
    read_topic,
    stored_events,
    wait_for,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publish_population(world: Scenario, seed: int, learners: int) -> list[dict[str, Any]]:
    specs, by_source = kafka_population(seed, learners)
    world.register(specs)
    lines = {
        world.issuers[source].id: [orjson.dumps(e) for e in events]
        for source, events in by_source.items()
    }
    summaries = world.publish(lines)
    assert all(s.failed == 0 for s in summaries.values())
    return [e for events in by_source.values() for e in events]


def assert_exactly_once_in_order(world: Scenario, published: list[dict[str, Any]]) -> None:
    with world.open() as ledger:
        stored = list(stored_events(ledger))
        assert ledger.audit().ok
    ids = Counter((e["source"], e["id"]) for e in stored)
    assert set(ids) == {(e["source"], e["id"]) for e in published}
    assert max(ids.values()) == 1
    # Per learner and issuer (one partition), the ledger keeps the published order.
    expected: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e in published:
        expected[(e.get("subject", ""), e["source"])].append(e["id"])
    got: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e in stored:
        got[(e.get("subject", ""), e["source"])].append(e["id"])
    assert got == expected


def test_hundred_thousand_events_arrive_exactly_once_in_order(scenario: Scenario) -> None:
    published = publish_population(scenario, seed=21, learners=5600)
    assert len(published) >= 100_000
    keys = keys_of(published)
    scenario.start_worker("w1")
    with scenario.open() as ledger:
        wait_for(lambda: count_present(ledger, keys) == len(keys), timeout=600, what="all events")
    scenario.stop_all()
    assert scenario.workers[0].returncode == 0
    assert_exactly_once_in_order(scenario, published)


KILLS = 10


def test_worker_killed_at_random_moments_stores_everything_once(scenario: Scenario) -> None:
    published = publish_population(scenario, seed=22, learners=2000)
    keys = keys_of(published)
    rng = random.Random(22)
    progress: list[int] = []
    with scenario.open() as ledger:
        start = ledger.recorder.max_position()
        # Each run is killed as soon as the ledger has grown past its target; the targets
        # lie in the first third of the events, so two thirds (over a thousand batches of
        # 20) are still to come at the last kill, however busy or idle the machine.
        targets = sorted(rng.sample(range(1, len(keys) // 3), KILLS))
        for target in targets:
            floor = max(target, (progress[-1] if progress else 0) + 1)
            # Small batches: many appends, so a kill lands between or inside them.
            proc = scenario.start_worker(
                "victim", "--instance-id", "victim-1", "--batch-size", "20"
            )
            while ledger.recorder.max_position() - start < floor:
                assert proc.poll() is None, scenario.worker_log("victim")[-3000:]
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            progress.append(ledger.recorder.max_position() - start)
        scenario.start_worker("victim", "--instance-id", "victim-1", "--batch-size", "20")
        wait_for(lambda: count_present(ledger, keys) == len(keys), timeout=300, what="all events")
    # Every kill hit a run in progress: some stored before it, more still to come.
    assert 0 < progress[-1] < len(keys)
    assert progress == sorted(progress)
    scenario.stop_all()
    assert_exactly_once_in_order(scenario, published)


def test_resent_messages_are_stored_once(scenario: Scenario) -> None:
    specs, by_source = kafka_population(23, 60)
    scenario.register(specs)
    source, events = max(by_source.items(), key=lambda kv: len(kv[1]))
    issuer = scenario.issuers[source].id
    lines = [orjson.dumps(e) for e in events]
    # A publisher that retries whole files (or an upstream that redelivers) sends twice.
    scenario.publish({issuer: lines})
    scenario.publish({issuer: lines[: len(lines) // 2]})
    port = free_port()
    scenario.start_worker("w1", "--metrics-port", str(port))
    with scenario.open() as ledger:
        wait_for(
            lambda: count_present(ledger, keys_of(events)) == len(events),
            timeout=120,
            what="events",
        )
        # Let it also read the re-sent half (duplicates are counted once appended, after
        # the messages are consumed: wait for the count itself).
        wait_for(
            lambda: last_stats(scenario, "w1").get("duplicates") == len(lines) // 2,
            timeout=60,
            what="the re-sent messages",
        )
        stored = [e for e in stored_events(ledger) if e["source"] == source]
    assert len(stored) == len(events)
    assert last_stats(scenario, "w1")["consumed"] == len(lines) + len(lines) // 2


def test_poison_messages_go_to_dead_letter_topic_and_the_rest_is_stored(scenario: Scenario) -> None:
    specs, by_source = kafka_population(24, 20)
    scenario.register(specs)
    uni = next(s for s in specs if s.id == "uni-north")
    events = by_source[uni.source]
    learner = next(e["subject"] for e in events if "subject" in e)
    mine = [e for e in events if e.get("subject") == learner]
    employer_event = next(e for src, evs in by_source.items() if "hr." in src for e in evs)
    good = [orjson.dumps(e) for e in mine]
    poison = {
        "not json": b"{not json",
        "not a cloudevent": orjson.dumps({"hello": "world", "subject": learner}),
        "schema violation": orjson.dumps({**mine[0], "id": "p-schema", "data": {"title": 5}}),
        "oversized": orjson.dumps({**mine[0], "id": "p-big", "data": {**mine[0]["data"], "x": "y" * 300_000}}),
        "source of another issuer": orjson.dumps({**employer_event, "id": "p-spoof", "subject": learner}),
        "type not registered": orjson.dumps({**mine[0], "id": "p-type", "type": employer_event["type"], "data": employer_event["data"]}),
    }  # fmt: skip
    # Interleave: every poison message has good events of the same learner behind it.
    lines: list[bytes] = []
    for i, bad in enumerate(poison.values()):
        lines.append(bad)
        lines.extend(good[i :: len(poison)])
    scenario.publish({scenario.issuers[uni.source].id: lines})
    scenario.start_worker("w1")
    with scenario.open() as ledger:
        wait_for(
            lambda: count_present(ledger, keys_of(mine)) == len(mine),
            timeout=120,
            what="good events",
        )
    dead = asyncio.run(read_topic(scenario.bootstrap, scenario.dead_letter_topic, len(poison)))
    assert sorted(m["value"] for m in dead) == sorted(poison.values())
    for m in dead:
        headers = m["headers"]
        assert headers["lll-original-topic"] == f"lll.issuer.{scenario.issuers[uni.source].id}"
        assert int(headers["lll-original-offset"]) >= 0
        reasons = orjson.loads(headers["lll-reason"])
        assert reasons
        assert all({"path", "rule", "message"} <= set(r) for r in reasons)
    rules = {orjson.loads(m["headers"]["lll-reason"])[0]["rule"] for m in dead}
    assert {"json", "max-size", "matches-channel", "issuer-authorised"} <= rules


def test_two_workers_share_partitions_and_one_stopping_hands_over(scenario: Scenario) -> None:
    published = publish_population(scenario, seed=25, learners=1500)
    keys = keys_of(published)
    # Small batches keep the run long enough for the hand-over to happen mid-ingest.
    # a prepares in its child process, b in a thread: both modes in one group.
    a = scenario.start_worker(
        "a", "--session-timeout-ms", "6000", "--batch-size", "20", "--prepare", "process"
    )
    scenario.start_worker(
        "b", "--session-timeout-ms", "6000", "--batch-size", "20", "--prepare", "thread"
    )
    wait_for(
        lambda: "assigned [" in scenario.worker_log("a") and "assigned [" in scenario.worker_log("b")
        and "assigned []" not in scenario.worker_log("a").splitlines()[-1],
        timeout=60, what="both workers assigned",
    )  # fmt: skip
    with scenario.open() as ledger:
        wait_for(lambda: count_present(ledger, keys) > len(keys) // 5, timeout=120, what="progress")
        handed_over_before = scenario.worker_log("b").count("assigned [")
        a.send_signal(signal.SIGTERM)
        assert a.wait(timeout=60) == 0
        at_handover = count_present(ledger, keys)
        wait_for(
            lambda: scenario.worker_log("b").count("assigned [") > handed_over_before,
            timeout=60,
            what="b taking over a's partitions",
        )
        wait_for(lambda: count_present(ledger, keys) == len(keys), timeout=300, what="all events")
    scenario.stop_all()
    assert at_handover < len(keys)  # the hand-over happened mid-run
    assert_exactly_once_in_order(scenario, published)


def test_partitions_redelivered_from_offset_zero_store_nothing_twice(scenario: Scenario) -> None:
    published = publish_population(scenario, seed=26, learners=120)
    keys = keys_of(published)
    scenario.start_worker("first")
    with scenario.open() as ledger:
        wait_for(lambda: count_present(ledger, keys) == len(keys), timeout=120, what="all events")
    scenario.stop_all()
    # Rewind the group's committed offsets to 0, as a broker-side reset or an operator would.
    asyncio.run(rewind_group(scenario))
    scenario.start_worker("second")
    wait_for(
        lambda: (
            bool(last_stats(scenario, "second").get("lag_by_partition"))
            and last_stats(scenario, "second")["lag"] == 0
        ),
        timeout=60,
        what="assigned and caught up",
    )
    scenario.stop_all()
    stats = last_stats(scenario, "second")
    assert (stats["consumed"], stats["accepted"], stats["duplicates"]) == (0, 0, 0)
    assert_exactly_once_in_order(scenario, published)


async def rewind_group(world: Scenario) -> None:
    topics = [f"lll.issuer.{spec.id}" for spec in world.issuers.values()]
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=world.bootstrap, group_id=world.group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        for _ in range(50):
            if consumer.assignment():
                break
            await consumer.getmany(timeout_ms=200)
        await consumer.commit({tp: 0 for tp in consumer.assignment()})
    finally:
        await consumer.stop()


def test_publish_command_sends_every_nonblank_line_keyed_by_learner(
    scenario: Scenario, tmp_path: Path
) -> None:
    specs, by_source = kafka_population(27, 10)
    scenario.register(specs)
    uni = next(s for s in specs if s.id == "uni-north")
    events = [e for e in by_source[uni.source] if "subject" in e][:40]
    path = tmp_path / "outbox.jsonl"
    path.write_bytes(b"\n".join([*(orjson.dumps(e) for e in events), b"", b"not json"]) + b"\n")
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "publish", str(path),
         "--issuer", scenario.issuers[uni.source].id, "--json"],
        env=scenario.env(), capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    summary = orjson.loads(proc.stdout)
    assert (summary["sent"], summary["failed"]) == (len(events) + 1, 0)
    assert summary["topic"] == f"lll.issuer.{scenario.issuers[uni.source].id}"
    # One learner's events share a partition (key = learner id), so their order holds.
    per_learner: dict[str, int] = Counter(e["subject"] for e in events)
    partitions_used = len(summary["by_partition"])
    assert partitions_used <= len(per_learner) + 1  # + the line that is not JSON
    assert max(summary["by_partition"].values()) >= max(per_learner.values())
