"""Shared fixtures: store adapters on SQLite and a real PostgreSQL, and event builders."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, settings

from ledger.crypto import generate_key
from ledger.persistence import LedgerRecorder
from ledger.postgres import PostgresLedgerRecorder
from ledger.records import NewEvent, idempotency_key, learner_stream
from ledger.sqlite import SQLiteLedgerRecorder

if TYPE_CHECKING:
    from ledger.application import Ledger

PG_ENV = "LEDGER_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgres"]

# Nothing in hypothesis may depend on the machine's speed: no per-example deadline, no
# health check that fails when generating is slow (a busy machine is not a defect).
settings.register_profile(
    "ledger",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ledger")


def service_from_env(variable: str, service: str, script: str) -> str:
    """Where a real service runs; a missing or silent one fails the test loudly, in one
    line naming the variable and the command that starts it, instead of skipping it."""
    value = os.environ.get(variable)
    if not value:
        pytest.fail(
            f"{variable} is not set: these tests need the {service} that `scripts/test` "
            f"starts (scripts/services {script} start)",
            pytrace=False,
        )
    if value not in _REACHED:
        address = _address(value)
        try:
            socket.create_connection(address, timeout=5).close()
        except OSError as exc:
            pytest.fail(
                f"{variable} names {address[0]}:{address[1]}, where no {service} answers "
                f"({exc.strerror or exc}): start it with scripts/services {script} start",
                pytrace=False,
            )
        _REACHED.add(value)
    return value


# Services already found answering in this run (checked once each).
_REACHED: set[str] = set()


def _address(value: str) -> tuple[str, int]:
    """host and port of a PostgreSQL URL or of the first Kafka bootstrap server."""
    if "://" in value:
        parsed = urlsplit(value)
        return parsed.hostname or "127.0.0.1", parsed.port or 5432
    host, _, port = value.split(",")[0].rpartition(":")
    return host or "127.0.0.1", int(port or 9092)


def postgres_url() -> str:
    """The test database."""
    return service_from_env(PG_ENV, "PostgreSQL server", "postgres")


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL selecting a fresh schema, dropped after the test."""
    base = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{base}?schema={schema}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """A database URL for the backend the test is parametrised with."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgres":
        return str(request.getfixturevalue("pg_schema_url"))
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture(params=BACKENDS)
def recorder(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> Iterator[LedgerRecorder]:
    """A fresh store on each backend, tables created."""
    rec: LedgerRecorder
    if request.param == "postgres":
        rec = PostgresLedgerRecorder(request.getfixturevalue("pg_schema_url"))
    else:
        rec = SQLiteLedgerRecorder(f"{tmp_path}/ledger.db")
    rec.create_tables()
    yield rec
    rec.close()


NewEventBuilder = Callable[..., NewEvent]


@pytest.fixture
def new_event() -> NewEventBuilder:
    """Builder of raw NewEvents for store-level tests."""

    def build(
        event_id: str,
        learner: str = "lrn_A",
        *,
        source: str = "https://uni.example",
        body: bytes | None = None,
    ) -> NewEvent:
        return NewEvent.of(
            idempotency_key(source, event_id),
            learner_stream(learner),
            "org.lll.test.thing.v1",
            body if body is not None else b'{"id":"' + event_id.encode() + b'"}',
        )

    return build


LedgerBuilder = Callable[..., "Ledger"]


@pytest.fixture
def make_ledger(tmp_path: os.PathLike[str]) -> Iterator[LedgerBuilder]:
    """Builder of Ledgers with the test issuers registered; closed after the test.

    Call with a database URL (default: a fresh SQLite file) and optionally ``master_key``.
    """
    from ledger.application import Ledger
    from ledger.settings import Settings
    from tests.strategies import ISSUERS
    from tests.strategies.credentials import register_issuers

    opened: list[Ledger] = []
    counter = iter(range(10**6))

    def build(url: str | None = None, *, master_key: bytes | None = None) -> Ledger:
        url = url or f"sqlite:///{tmp_path}/ledger-{next(counter)}.db"
        settings = Settings.from_env({}, database_url=url, _master_key=master_key or generate_key())
        ledger = Ledger.open(settings)
        register_issuers(ledger.registry, ISSUERS)
        opened.append(ledger)
        return ledger

    yield build
    for ledger in opened:
        ledger.close()


@pytest.fixture(scope="module")
def ed_key() -> Ed25519PrivateKey:
    """A signing key for credentials under test (one per test module)."""
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    """An RSA key for RS256 VC-JWTs (one per test module: generating one takes a while)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
