"""One backend's part of `ledger bench api`: seed it, serve it and drive the server from this
process, then measure the in-process references."""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.progress import Progress, TaskID

from api.auth import jwks_of
from bench.api.load import Call, Check, Tally, run_load
from bench.api.workload import HEALTHZ, Workload, all_accepted, pipeline_failure, succeeded
from bench.databases import settings_for
from bench.report import percentile
from bench.seeding import seed
from demo import Population
from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.errors import LedgerError
from ledger.outcomes import Channel
from projections.reading import catch_up_records
from projections.store import open_projection_store

HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
REFERENCES = ("healthz", "pipeline-single", "pipeline-batch")


def _cpu_s(pid: int) -> float | None:
    """User plus system CPU seconds of process ``pid`` (Linux ``/proc``), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _share(cpu_before: float | None, cpu_after: float | None, wall: float) -> float | None:
    if cpu_before is None or cpu_after is None:
        return None
    return round(100 * (cpu_after - cpu_before) / wall, 1)


def _require_measurements(tally: Tally) -> None:
    """A run without one measured request has no figures: that is a failure too."""
    if not tally.requests and not tally.errors:
        tally.errors["no request answered inside the measured window"] += 1


def _row(
    backend: str, scenario: str, tally: Tally, clients: int, cpu: tuple[float | None, ...]
) -> dict[str, Any]:
    latencies = tally.latencies
    return {
        "backend": backend,
        "scenario": scenario,
        "reference": scenario in REFERENCES,
        "clients": clients,
        "requests": tally.requests,
        "events": tally.events,
        "seconds": round(tally.seconds, 3),
        "requests_per_second": round(tally.requests / tally.seconds, 1),
        "events_per_second": round(tally.events / tally.seconds, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "max": round(max(latencies, default=0.0) * 1000, 2),
        },
        "errors": tally.error_count,
        "error_kinds": dict(tally.errors),
        "server_cpu_percent": cpu[0],
        "client_cpu_percent": cpu[1],
    }


class BackendRun:
    """One backend's part of the bench: seed, the server under load, then the references."""

    def __init__(self, backend: str, url: str, args: argparse.Namespace, progress: Progress):
        self.backend = backend
        self.url = url
        self.args = args
        self.progress = progress
        self.rows: list[dict[str, Any]] = []
        self.master_key = generate_key()
        self.settings = settings_for(url, master_key=self.master_key)

    def failed(self) -> bool:
        return any(row["errors"] for row in self.rows)

    def seed(self, population: Population) -> dict[str, Any]:
        """Register the population's issuers, ingest its events, project the records."""
        started = time.perf_counter()
        lines = [orjson.dumps(e) for e in population.events]
        with Ledger.open(self.settings) as ledger:
            accepted = seed(ledger, population.issuers, lines)
            store = open_projection_store(self.settings)
            try:
                # Record reads then measure reading, not catching up with the seed.
                catch_up_records(ledger, store)
            finally:
                store.close()
        seconds = time.perf_counter() - started
        self.progress.console.print(
            f"{self.backend}: seeded {accepted:,} events, {len(population.learners):,} learners "
            f"(records projected) in {seconds:.1f} s"
        )
        return {
            "backend": self.backend,
            "seeded_events": accepted,
            "seed_seconds": round(seconds, 2),
        }

    def references(self, workload: Workload) -> None:
        """The pipeline call the HTTP route makes, in this process (the server stopped), one
        event and a batch per call."""
        with Ledger.open(self.settings) as ledger:
            for scenario, count in (("pipeline-single", 1), ("pipeline-batch", workload.batch)):
                tally = Tally()
                task = self._task(scenario)
                cpu_before, began = time.process_time(), time.perf_counter()
                measure_from = began + self.args.warmup
                stop_at = measure_from + self.args.duration
                shown = 0.0
                while (now := time.perf_counter()) < stop_at and not tally.errors:
                    if self.args.requests and tally.requests >= self.args.requests:
                        break
                    if now - shown > 0.25:
                        shown = now
                        self._show(task, now - began, tally)
                    issuer, _, raws = workload.take(count)
                    sent = time.perf_counter()
                    results = ledger.ingest(raws, Channel("http", issuer))
                    if (error := pipeline_failure(results)) is not None:
                        tally.errors[error] += 1
                    elif sent >= measure_from:
                        tally.latencies.append(time.perf_counter() - sent)
                        tally.events += len(raws)
                wall = time.perf_counter() - began
                tally.seconds = max(time.perf_counter() - measure_from, 1e-9)
                _require_measurements(tally)
                self._show(task, wall, tally)
                cpu = _share(cpu_before, time.process_time(), wall)
                self.rows.append(_row(self.backend, scenario, tally, 1, (cpu, None)))
                if tally.errors:
                    return

    def serve_and_load(
        self, workload: Workload, folder: Path, token_key: Ed25519PrivateKey
    ) -> None:
        """Start `ledger serve` on this backend and run each HTTP scenario against it."""
        scenarios: list[tuple[str, Callable[[], Call], Check]] = [
            ("healthz", lambda: HEALTHZ, succeeded),
            ("record-read", workload.record, succeeded),
            ("ingest-single", workload.single, all_accepted),
            ("ingest-batch", workload.batched, all_accepted),
        ]
        with _served(self._server_env(folder, token_key), folder / "server.log") as (pid, port):
            for scenario, next_call, check in scenarios:
                self.rows.append(self._drive(scenario, pid, port, next_call, check))
                if self.failed():
                    return

    def _server_env(self, folder: Path, token_key: Ed25519PrivateKey) -> dict[str, str]:
        """The server's environment: this run's database and keys, no other LEDGER_ setting
        (a broker the caller's environment names is not part of this bench)."""
        master = folder / "master.key"
        descriptor = os.open(master, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write(encode_key(self.master_key))
        keys = folder / "api-keys.json"
        keys.write_bytes(orjson.dumps(jwks_of(token_key.public_key())))
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        env |= {
            "LEDGER_DATABASE_URL": self.url,
            "LEDGER_DATA_DIR": str(folder),
            "LEDGER_MASTER_KEY_FILE": str(master),
            "LEDGER_API_TOKEN_KEYS_FILE": str(keys),
        }
        return env

    def _drive(
        self,
        scenario: str,
        pid: int,
        port: int,
        next_call: Callable[[], Call],
        check: Check,
    ) -> dict[str, Any]:
        args = self.args
        tally = Tally()
        task = self._task(scenario)

        async def drive() -> None:
            load = asyncio.create_task(
                run_load(
                    HOST,
                    port,
                    next_call,
                    check,
                    tally,
                    clients=args.concurrency,
                    duration_s=args.duration,
                    warmup_s=args.warmup,
                    max_requests=args.requests,
                )
            )
            began = time.perf_counter()
            while not load.done():
                await asyncio.wait({load}, timeout=0.25)
                self._show(task, time.perf_counter() - began, tally)
            load.result()

        before = (_cpu_s(pid), time.process_time(), time.perf_counter())
        asyncio.run(drive())
        _require_measurements(tally)
        wall = time.perf_counter() - before[2]
        self._show(task, wall, tally)
        cpu = (_share(before[0], _cpu_s(pid), wall), _share(before[1], time.process_time(), wall))
        return _row(self.backend, scenario, tally, args.concurrency, cpu)

    def _task(self, scenario: str) -> TaskID:
        total = self.args.warmup + self.args.duration
        return self.progress.add_task(f"{self.backend} {scenario}", total=total, status="")

    def _show(self, task: TaskID, elapsed: float, tally: Tally) -> None:
        measured = max(elapsed - self.args.warmup, 0.0)
        rate = f"{tally.requests / measured:,.0f} req/s" if measured > 0.2 else "warming up"
        status = f"{tally.requests:,} requests, {rate}, {tally.error_count} errors"
        total = self.args.warmup + self.args.duration
        self.progress.update(task, completed=min(elapsed, total), status=status)


@contextmanager
def _served(env: dict[str, str], log: Path) -> Iterator[tuple[int, int]]:
    """`ledger serve` in a child process on a free loopback port, ready; its pid and port.

    Raises:
        LedgerError: it exited, or was not ready within ``READY_TIMEOUT_S``.
    """
    port = _free_port()
    command = [sys.executable, "-m", "cli.main", "serve", "--host", HOST]
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [*command, "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(server, port, log)
        yield server.pid, port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise LedgerError(
                f"bench api: ledger serve exited with status {server.returncode}:\n{_tail(log)}"
            )
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise LedgerError(
                f"bench api: ledger serve was not ready within {READY_TIMEOUT_S:.0f} s:\n"
                f"{_tail(log)}"
            )
        time.sleep(0.1)


def _tail(log: Path, lines: int = 15) -> str:
    """The end of the server's log (route templates and errors: no tokens, no ids)."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
