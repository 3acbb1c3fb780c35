"""`ledger bench …` as a person runs it: a child process from the checkout, on no PostgreSQL
but the one a test names (never the caller's LEDGER_BENCH_POSTGRES_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.databases import POSTGRES_ENV

REPO = Path(__file__).resolve().parents[2]


def ledger_bench(action: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `ledger bench ACTION ARGS…`; its exit status and output, never raising on them."""
    env = {k: v for k, v in os.environ.items() if k != POSTGRES_ENV}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "bench", action, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
