"""The Node packages the tests run (interop/): where they are, and node itself, checked once."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INTEROP = ROOT / "interop"
INSTALL = "scripts/interop install"


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
