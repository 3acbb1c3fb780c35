"""`ledger serve` as a real process on loopback, for tests that need a socket."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    """A running server: its address, and everything it printed once it stopped."""

    base: str = ""
    output: list[str] = field(default_factory=list)


@contextmanager
def ledger_serve(env: dict[str, str]) -> Iterator[Served]:
    """Run `ledger serve --port 0` (it binds a free port itself, with no race for it, and
    says which in its start-up line) until the block ends."""
    server = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", "0"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served()
    try:
        assert server.stdout is not None
        while not (
            running := re.search(
                r"running on (http://127\.0\.0\.1:\d+)", "".join(served.output[-1:])
            )
        ):
            line = server.stdout.readline()
            assert line, "the server exited: " + "".join(served.output)
            served.output.append(line)
        served.base = running.group(1)
        yield served
    finally:
        server.terminate()
        rest, _ = server.communicate(timeout=30)
        served.output.append(rest)
