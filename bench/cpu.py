"""Where a benchmark's CPU goes, by process, from /proc (Linux): this process, its child
processes (preparers, workers), the PostgreSQL server's processes and the JVM (Kafka).

A process that ends during a measurement would take its CPU with it, so a sampler thread
reads every process's counters often and keeps the last figures it saw of each.
"""

from __future__ import annotations

import os
import threading

TICKS = os.sysconf("SC_CLK_TCK")
# How often the sampler reads /proc (seconds): often enough to see a process before it
# ends, seldom enough not to take the measured process's time (it runs in that process).
SAMPLE_S = 0.5
KINDS = ("this process", "its children", "postgresql", "kafka (jvm)")


def read_processes() -> dict[int, tuple[str, int, float]]:
    """Every process now: pid → (name, parent pid, CPU seconds used, user and system)."""
    found: dict[int, tuple[str, int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                text = fh.read().decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        fields = rest.split()
        found[int(entry)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def database_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes: 0 where there are
    none, as for SQLite, whose work is the calling process's own."""
    return sum(cpu for name, _, cpu in read_processes().values() if name == "postgres")


def _kind(pid: int, name: str, parent: int, me: int, children: set[int]) -> str | None:
    if pid == me:
        return KINDS[0]
    if parent == me or parent in children:
        children.add(pid)
        return KINDS[1]
    if name == "postgres":
        return KINDS[2]
    if name == "java":
        return KINDS[3]
    return None


class CpuSampler:
    """Samples /proc in a thread while open; :meth:`mark` and :meth:`spent` give CPU
    seconds by kind (:data:`KINDS`) between two moments."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[str, float]] = {}
        self._children: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample()

    def _sample(self) -> None:
        me = os.getpid()
        now = read_processes()
        with self._lock:
            for pid, (name, parent, cpu) in sorted(now.items()):
                kind = _kind(pid, name, parent, me, self._children)
                if kind is not None:
                    self._seen[pid] = (kind, cpu)

    def mark(self) -> dict[int, tuple[str, float]]:
        """Every process's figures now."""
        self._sample()
        with self._lock:
            return dict(self._seen)

    @staticmethod
    def spent(
        before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
    ) -> dict[str, float]:
        """CPU seconds used by each kind between ``before`` and ``after``."""
        out = dict.fromkeys(KINDS, 0.0)
        for pid, (kind, cpu) in after.items():
            out[kind] += cpu - (before[pid][1] if pid in before else 0.0)
        return out
