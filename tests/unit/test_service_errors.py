"""A test that needs a service it cannot reach fails in one line naming the variable and the fix."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_needing_postgres(url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_TEST_")}
    if url is not None:
        env["LEDGER_TEST_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/integration/test_registry_refresh.py", "-k", "postgres"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_service_unset_fails_naming_the_variable_and_the_command() -> None:
    proc = run_needing_postgres(None)
    assert proc.returncode != 0
    assert "LEDGER_TEST_DATABASE_URL is not set" in proc.stdout
    assert "scripts/services postgres start" in proc.stdout
    assert "Traceback" not in proc.stdout


def test_service_not_answering_fails_in_one_line_per_test_without_a_traceback() -> None:
    url = f"postgresql://ledger:secret-pw@127.0.0.1:{closed_port()}/ledger_test"
    proc = run_needing_postgres(url)
    assert proc.returncode != 0
    reasons = [line for line in proc.stdout.splitlines() if "where no PostgreSQL" in line]
    assert reasons
    assert all("scripts/services postgres start" in line for line in reasons)
    assert "Traceback" not in proc.stdout
    assert "secret-pw" not in proc.stdout
