"""`ledger token` mints what `ledger serve` accepts, over a real socket on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ledger.crypto import encode_key, generate_key
from tests.api.serving import ledger_serve

REPO = Path(__file__).resolve().parents[2]


def _ledger(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


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
    with ledger_serve(env) as served:
        base = served.base
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
        listed = httpx.get(f"{base}/v1/issuers", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        assert [i["id"] for i in listed.json()] == ["ledger"]
        assert httpx.get(f"{base}/v1/issuers").status_code == 401
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"]
    output = "".join(served.output)
    assert token not in output
    assert "GET /v1/issuers 200" in output


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "ledger.example"])
def test_ledger_serve_refuses_the_development_sign_in_off_loopback(
    env: dict[str, str], host: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", "--host", host, "--port", "1"],
        env={**env, "LEDGER_WEB_DEV_SIGNIN": "true"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "LEDGER_WEB_DEV_SIGNIN" in done.stderr
    assert "loopback" in done.stderr
