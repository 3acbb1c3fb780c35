"""Embedded ingest: a JSONL file through the shared pipeline, in batches, with a rejects file."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from ledger.application import Ledger
from ledger.outcomes import Accepted, Channel, Duplicated, Rejected

MAX_REPORTED = 1000


@dataclass
class IngestSummary:
    """What one ingest run did with every line."""

    source: str
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    blank: int = 0
    rejects_file: str | None = None
    rejections: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    first_position: int | None = None
    last_position: int | None = None

    @property
    def lines(self) -> int:
        return self.accepted + self.duplicates + self.rejected + self.blank

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "lines": self.lines,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "blank": self.blank,
            "rejects_file": self.rejects_file,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.accepted / self.seconds) if self.seconds else None,
            "positions": [self.first_position, self.last_position],
            "rejections": self.rejections,
            "rejections_truncated": self.rejected > len(self.rejections),
        }


class RejectsFile:
    """Append-only JSONL of rejected lines with their reasons; created only when needed.

    It holds the original input, which may carry personal data, so it is private (0600).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def write(self, line_no: int, raw: bytes, reasons: list[dict[str, str]]) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._fh = os.fdopen(fd, "ab")
        record = {"line": line_no, "reasons": reasons, "input": raw.decode("utf-8", "replace")}
        self._fh.write(orjson.dumps(record) + b"\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


def _batches(lines: Iterable[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for number, line in enumerate(lines, start=1):
        batch.append((number, line))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_lines(
    ledger: Ledger,
    lines: Iterable[bytes],
    *,
    source: str,
    channel: Channel,
    batch_size: int,
    rejects: RejectsFile,
    on_batch: Callable[[int], None] | None = None,
    prepare_process: bool = False,
) -> IngestSummary:
    """Ingest numbered lines; every line ends accepted, duplicate, rejected or blank.

    Args:
        on_batch: called with the number of bytes consumed after each batch.
        prepare_process: prepare batches in a worker process (faster for long files).
    """
    summary = IngestSummary(source=source)
    started = time.perf_counter()
    staged: deque[tuple[int, list[tuple[int, bytes]]]] = deque()

    def feed() -> Iterator[tuple[list[bytes], Channel]]:
        for batch in _batches(lines, batch_size):
            consumed = sum(len(raw) for _, raw in batch)
            payload = [(n, raw.rstrip(b"\r\n")) for n, raw in batch]
            filled = [(n, raw) for n, raw in payload if raw.strip()]
            summary.blank += len(payload) - len(filled)
            staged.append((consumed, filled))
            yield [raw for _, raw in filled], channel

    if prepare_process:
        from ledger.parallel import ingest_in_parallel

        stream = ingest_in_parallel(ledger, feed())
    else:
        stream = ledger.ingest_stream(feed())
    for results in stream:
        consumed, filled = staged.popleft()
        for (number, raw), result in zip(filled, results, strict=True):
            if isinstance(result, Accepted):
                summary.accepted += 1
                if summary.first_position is None:
                    summary.first_position = result.position
                summary.last_position = result.position
            elif isinstance(result, Duplicated):
                summary.duplicates += 1
            elif isinstance(result, Rejected):
                summary.rejected += 1
                reasons = result.reasons()
                rejects.write(number, raw, reasons)
                if len(summary.rejections) < MAX_REPORTED:
                    summary.rejections.append({"line": number, "reasons": reasons})
        if on_batch:
            on_batch(consumed)
    summary.seconds = time.perf_counter() - started
    if summary.rejected:
        summary.rejects_file = str(rejects.path)
    return summary


def ingest_file(
    ledger: Ledger,
    path: Path,
    *,
    channel: Channel,
    batch_size: int,
    rejects_path: Path,
    on_batch: Callable[[int], None] | None = None,
    prepare_process: bool = False,
) -> IngestSummary:
    """Ingest a JSONL file (one CloudEvent per line); see :func:`ingest_lines`."""
    rejects = RejectsFile(rejects_path)
    try:
        with path.open("rb") as fh:
            return ingest_lines(
                ledger,
                fh,
                source=str(path),
                channel=channel,
                batch_size=batch_size,
                rejects=rejects,
                on_batch=on_batch,
                prepare_process=prepare_process,
            )
    finally:
        rejects.close()
