"""`ledger token` mints what `ledger serve` accepts, over a real socket on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ledger.crypto import encode_key, generate_key

REPO = Path(__file__).resolve().parents[2]


def _ledger(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    key = tmp_path / "tokens.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "LEDGER_MASTER_KEY": encode_key(generate_key()),
        "TOKEN_KEY": str(key),
    }
    jwks = tmp_path / "api-keys.json"
    jwks.write_text(_ledger("token", "--jwks", "--key-file", str(key), env=env))
    env["LEDGER_API_TOKEN_KEYS_FILE"] = str(jwks)
    return env


def test_ledger_serve_accepts_a_token_from_ledger_token_and_refuses_none(
    env: dict[str, str],
) -> None:
    token = _ledger(
        "token", "--role", "admin", "--subject", "ops", "--key-file", env["TOKEN_KEY"], env=env
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            assert server.poll() is None, "the server exited"
            time.sleep(0.1)
        listed = httpx.get(f"{base}/v1/issuers", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        assert [i["id"] for i in listed.json()] == ["ledger"]
        assert httpx.get(f"{base}/v1/issuers").status_code == 401
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert token not in output
    assert "GET /v1/issuers 200" in output
