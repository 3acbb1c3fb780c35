"""Handlers of the Kafka subcommands: `ledger consume`, `ledger publish`, `ledger topics`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from cli.output import emit_json, out
from consumers.publisher import publish_lines
from consumers.settings import KafkaSettings, WorkerConfig
from consumers.topics import ensure_topics, issuer_topic
from ledger.errors import LedgerError
from schemas.times import utc_seconds

if TYPE_CHECKING:
    from ledger.application import Ledger

# `ledger publish` runs once per issuer: it imports only the producer's side. The worker, the
# ledger and its settings are imported by the commands that use them.

# While the broker is away, aiokafka logs the same few errors every 100 ms.
REPEAT_QUIET_S = 30.0


class _QuietRepeats(logging.Filter):
    """Passes an aiokafka message (by logger and format) at most once per ``REPEAT_QUIET_S``."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[tuple[str, object], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka"):
            return True
        key = (record.name, record.msg)
        now = time.monotonic()
        if now - self._last.get(key, -REPEAT_QUIET_S) < REPEAT_QUIET_S:
            return False
        self._last[key] = now
        return True


def consume(args: argparse.Namespace) -> int:
    from ledger.application import Ledger
    from ledger.collector import tune_gc
    from ledger.settings import Settings

    settings = Settings.from_env()
    kafka = KafkaSettings.from_env()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    quiet = _QuietRepeats()
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
    given = {
        "bootstrap": args.bootstrap,
        "group": args.group,
        "dead_letter_topic": args.dead_letter_topic,
        "client_id": args.client_id,
        "instance_id": args.instance_id,
        "session_timeout_ms": args.session_timeout_ms,
    }
    config = WorkerConfig.of(
        kafka,
        topics=tuple(issuer_topic(i) for i in args.issuer or ()),
        batch_size=args.batch_size or kafka.worker_batch(settings.batch_size),
        prepare_in_process={"process": True, "thread": False}.get(args.prepare),
        **{name: value for name, value in given.items() if value not in (None, "")},
    )
    with Ledger.open(settings) as ledger:
        tune_gc()
        # OutageTooLongError (a LedgerError) ends it with status 1 and its one line.
        stats = asyncio.run(_consume(ledger, config, args))
    emit_json({"stopped": True, **stats})
    return 0


async def _consume(
    ledger: Ledger, config: WorkerConfig, args: argparse.Namespace
) -> dict[str, object]:
    from consumers.metrics import serve_metrics
    from consumers.worker import IngestWorker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Drain: the batch in hand is finished and committed, then the worker exits.
        loop.add_signal_handler(sig, stop.set)
    worker = IngestWorker(ledger, config)
    server = (
        await serve_metrics(worker.stats, args.metrics_port, args.metrics_host)
        if args.metrics_port
        else None
    )

    async def report() -> None:
        while not stop.is_set():
            await asyncio.sleep(args.stats_interval)
            line = {
                "time": utc_seconds(datetime.now(UTC)),
                **worker.stats.as_dict(),
            }
            print(orjson.dumps(line).decode(), file=sys.stderr, flush=True)

    reporter = asyncio.create_task(report()) if args.stats_interval else None
    try:
        stats = await worker.run(stop)
    finally:
        if reporter:
            reporter.cancel()
        if server:
            server.close()
    return stats.as_dict()


def publish(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise LedgerError(f"file: {path} does not exist or is not a file")
    bootstrap = args.bootstrap or KafkaSettings.from_env().bootstrap
    topic = issuer_topic(args.issuer)
    asyncio.run(ensure_topics(bootstrap, [topic]))
    with path.open("rb") as fh:
        summary = asyncio.run(
            publish_lines(fh, issuer_id=args.issuer, bootstrap=bootstrap, rate=args.rate)
        )
    if args.json:
        emit_json(summary.as_dict())
    else:
        s = summary.as_dict()
        out.print(
            f"sent {s['sent']} messages to {s['topic']} in {s['seconds']} s "
            f"({s['messages_per_second']}/s); failed {s['failed']}; by partition {s['by_partition']}"
        )
    return 0 if summary.failed == 0 else 1


def topics(args: argparse.Namespace) -> int:
    from consumers.topics import registered_topics
    from ledger.application import Ledger
    from ledger.settings import Settings

    kafka = KafkaSettings.from_env()
    bootstrap = args.bootstrap or kafka.bootstrap
    with Ledger.open(Settings.from_env()) as ledger:
        names = registered_topics(ledger.registry)
    created = asyncio.run(
        ensure_topics(
            bootstrap, names, partitions=args.partitions, dead_letter=kafka.dead_letter_topic
        )
    )
    emit_json({"topics": [*names, kafka.dead_letter_topic], "created": created})
    return 0
