"""/readyz checks the store always, and the Kafka broker only when the deployment uses one."""

from __future__ import annotations

import socket
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import World, build_settings
from tests.integration.kafka_support import kafka_bootstrap


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readyz(tmp_path: Path, bootstrap: str) -> tuple[int, dict[str, object]]:
    settings = build_settings(tmp_path, Ed25519PrivateKey.generate(), kafka_bootstrap=bootstrap)
    assert settings.kafka.configured
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    return response.status_code, response.json()


def test_readyz_with_a_reachable_broker_is_ready_and_says_so(tmp_path: Path) -> None:
    status, body = _readyz(tmp_path, kafka_bootstrap())
    assert status == 200
    assert body == {"status": "ready", "checks": {"store": "ok", "broker": "ok"}}


def test_readyz_with_an_unreachable_broker_is_503_naming_the_failure(tmp_path: Path) -> None:
    status, body = _readyz(tmp_path, f"127.0.0.1:{_closed_port()}")
    assert status == 503
    assert body == {
        "status": "unavailable",
        "checks": {"store": "ok", "broker": "KafkaConnectionError"},
    }


def test_readyz_without_a_configured_broker_checks_only_the_store(world: World) -> None:
    assert not world.settings.kafka.configured
    response = world.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"store": "ok"}}
