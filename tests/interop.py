"""The verifiers the tests run (interop/): the Node packages and node itself, and the Go
program tlogcheck; each checked to be installed, and built from the current sources."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]
INTEROP = ROOT / "interop"
INSTALL = "scripts/interop install"
TLOG_SOURCES = tuple(INTEROP / "tlog" / name for name in ("go.mod", "go.sum", "main.go"))
TLOGCHECK = INTEROP / "bin" / "tlogcheck"
TLOGCHECK_TIMEOUT_SECONDS = 60


def node(package: str | None = None) -> str:
    """The node binary, with interop/node_modules installed from the current lockfile (and
    ``package`` among them, when named); else the test fails naming the command to run."""
    binary = shutil.which("node")
    if binary is None:
        pytest.fail(
            f"node (20+) is not on PATH: install Node.js, then run `{INSTALL}`", pytrace=False
        )
    modules = INTEROP / "node_modules"
    stamp = modules / ".installed"
    if not stamp.is_file() or (package is not None and not (modules / package).is_dir()):
        missing = f"interop/node_modules/{package}" if package else "interop/node_modules"
        pytest.fail(f"{missing} is missing: run `{INSTALL}` (scripts/test does)", pytrace=False)
    lock_hash = hashlib.sha1((INTEROP / "package-lock.json").read_bytes()).hexdigest()
    if stamp.read_text().strip() != lock_hash:
        pytest.fail(
            f"interop/node_modules predates interop/package-lock.json: run `{INSTALL}`",
            pytrace=False,
        )
    return binary


def tlogcheck() -> str:
    """interop/bin/tlogcheck (Go's sumdb/tlog and sumdb/note), built from the current
    interop/tlog sources; else the test fails naming the command that builds it."""
    stamp = TLOGCHECK.parent / ".built"
    if not TLOGCHECK.is_file() or not stamp.is_file():
        pytest.fail(
            f"interop/bin/tlogcheck is missing: run `{INSTALL}` (scripts/test does; it "
            "needs Go 1.26+ on PATH)",
            pytrace=False,
        )
    # The hash scripts/interop stamps the build with: go.mod, go.sum and main.go, in a row.
    sources = hashlib.sha1(b"".join(path.read_bytes() for path in TLOG_SOURCES)).hexdigest()
    if stamp.read_text().strip() != sources:
        pytest.fail(
            f"interop/bin/tlogcheck predates interop/tlog's sources: run `{INSTALL}`",
            pytrace=False,
        )
    return str(TLOGCHECK)


def run_tlogcheck(job: dict[str, Any], mode: str = "check") -> tuple[int, dict[str, Any]]:
    """tlogcheck's exit status (0 all checks passed, 1 one failed) and answer to ``job``;
    a job it calls malformed (exit 2) fails the test with its message."""
    proc = subprocess.run(
        [tlogcheck(), mode],
        input=orjson.dumps(job),
        capture_output=True,
        timeout=TLOGCHECK_TIMEOUT_SECONDS,
        check=False,
    )
    if proc.returncode not in (0, 1):
        pytest.fail(
            f"tlogcheck {mode} refused the job (exit {proc.returncode}): "
            f"{proc.stderr.decode().strip()}",
            pytrace=False,
        )
    answer: dict[str, Any] = orjson.loads(proc.stdout)
    return proc.returncode, answer
