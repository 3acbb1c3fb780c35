"""The Kafka side's settings: the broker, the ingest workers' group, dead letters, outages;
and a worker's whole configuration (WorkerConfig), from them and its own options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger import env as environment
from ledger.env import FromEnv, variable
from ledger.errors import ConfigurationError

BOOTSTRAP = "LEDGER_KAFKA_BOOTSTRAP"


def bootstrap_servers(servers: str) -> str:
    """``servers`` when each comma-separated entry is ``host`` or ``host:port`` (1-65535).

    Raises:
        ConfigurationError: an entry is empty or its port is not a number from 1 to 65535.
    """
    for entry in (e.strip() for e in servers.split(",")):
        host, colon, port = entry.rpartition(":")
        if not entry or (colon and (not host or not port.isdigit() or not 0 < int(port) < 65536)):
            raise ConfigurationError(
                f"{BOOTSTRAP}: each server must be host or host:port with a port "
                f"from 1 to 65535, got {entry!r}"
            )
    return servers


@dataclass(frozen=True)
class KafkaSettings(FromEnv):
    """What the Kafka commands (``ledger consume``, ``publish``, ``topics``) and the API's
    readiness check read.

    Attributes:
        bootstrap: Kafka bootstrap servers (``host:port[,host:port]``).
        configured: the deployment uses a broker: ``LEDGER_KAFKA_BOOTSTRAP`` is set (or
            ``bootstrap`` is given). The embedded default has none, so only then does the
            API's readiness check the broker.
        group: the ingest workers' consumer group.
        dead_letter_topic: where rejected Kafka messages go, with their reasons.
        worker_max_outage_s: an ingest worker exits (status 1, naming the service) once
            PostgreSQL or Kafka has failed every retry for longer than this; 0 retries
            forever.
        batch_size: most messages an ingest worker takes per poll, one append transaction
            (``ledger consume --batch-size``, ``ledger bench ingest``); the core's
            ``LEDGER_BATCH_SIZE`` raises it when larger (:meth:`worker_batch`).
    """

    bootstrap: str = variable(BOOTSTRAP, "127.0.0.1:19092", check=bootstrap_servers)
    configured: bool = False
    group: str = variable("LEDGER_KAFKA_GROUP", "lll-ingest")
    dead_letter_topic: str = variable("LEDGER_KAFKA_DEAD_LETTER_TOPIC", "lll.deadletter")
    worker_max_outage_s: int = variable("LEDGER_WORKER_MAX_OUTAGE_S", 0, low=0, high=7 * 86_400)
    # Behind a backlog each append's fixed part (the lock's round trip, the commit's flush)
    # is shared by more events: drained by one worker, 2000 gave 28.2-36.8 k/s and 5000
    # 36.8-45.2 k/s (three interleaved pairs, bench/ingest.py's backlog run); 10000 no
    # more. A poll short of it (a worker keeping up) is appended as soon as it is prepared.
    batch_size: int = 5000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> KafkaSettings:
        """Read from ``env`` (default ``os.environ``); ``overrides`` win.

        Raises:
            ConfigurationError: a value is malformed (the message names the variable).
        """
        env = os.environ if env is None else env
        if "configured" not in overrides:
            overrides["configured"] = (
                "bootstrap" in overrides or environment.text(env, BOOTSTRAP) is not None
            )
        return super().from_env(env, **overrides)

    def worker_batch(self, append_batch: int) -> int:
        """Messages per poll of a worker whose appends are ``append_batch`` events
        (``LEDGER_BATCH_SIZE``): the larger of the two."""
        return max(self.batch_size, append_batch)


@dataclass(frozen=True)
class WorkerConfig:
    """How a worker connects and batches.

    Attributes:
        bootstrap: Kafka bootstrap servers.
        group: consumer group shared by all ingest workers.
        dead_letter_topic: where rejected messages go.
        topics: issuer topics to read (default: every registered issuer's topic).
        batch_size: most messages per poll (one append transaction).
        poll_ms: how long a poll waits for messages.
        client_id: shows in the broker's consumer-group tools.
        instance_id: static group membership (``group.instance.id``): a restarted worker
            with the same id takes its partitions back without a rebalance.
        session_timeout_ms: how long the group waits for a silent member.
        prepare_in_process: prepare batches (parse, validate, encrypt) in a child
            process, so that work and the appends use both cores instead of sharing
            one interpreter lock; False: a thread of this process prepares them. None
            (the default): a thread when the compiled batch preparer is in use (it works
            without the interpreter lock, and a thread spares each poll two trips
            between processes), else a child process.
        max_outage_s: exit (OutageTooLongError) once PostgreSQL or Kafka has failed
            every attempt for longer than this; 0 retries forever.
    """

    bootstrap: str
    group: str
    dead_letter_topic: str
    topics: tuple[str, ...] = ()
    batch_size: int = KafkaSettings.batch_size
    poll_ms: int = 200
    client_id: str = "lll-ingest"
    instance_id: str | None = None
    session_timeout_ms: int = 10_000
    prepare_in_process: bool | None = None
    max_outage_s: int = KafkaSettings.worker_max_outage_s

    @classmethod
    def of(cls, kafka: KafkaSettings, **options: Any) -> WorkerConfig:
        """The configuration ``kafka`` settings give, with ``options`` (any other field,
        or one of those to override)."""
        given: dict[str, Any] = {
            "bootstrap": kafka.bootstrap,
            "group": kafka.group,
            "dead_letter_topic": kafka.dead_letter_topic,
            "batch_size": kafka.batch_size,
            "max_outage_s": kafka.worker_max_outage_s,
        }
        return cls(**(given | options))
