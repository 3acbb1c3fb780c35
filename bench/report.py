"""What every benchmark reports: the machine it ran on, percentiles, its table printed, its
figures saved as JSON."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table


def machine() -> dict[str, Any]:
    """The machine the figures come from: cores, Python, platform."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 to 1) of ``values`` (nearest rank), or 0.0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str | None = None,
    left: Sequence[str] = (),
) -> Table:
    """A table of figures: every column right-justified but those named in ``left``."""
    shown = Table(title=title, caption=caption)
    for column in columns:
        shown.add_column(column, justify="left" if column in left else "right")
    for row in rows:
        shown.add_row(*row)
    return shown


def save_report(kind: str, report: dict[str, Any], out: str | None) -> Path:
    """Write a benchmark's figures as JSON (default ``bench-results/<kind>-<time>.json``)."""
    path = (
        Path(out)
        if out
        else Path("bench-results") / f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return path


def conclude(
    report: dict[str, Any],
    out: str | None,
    shown: Table,
    notes: Iterable[str] = (),
    *,
    width: int = 120,
) -> Path:
    """Print ``shown`` and the ``notes`` under it, save ``report`` (its ``benchmark`` names
    the default file) and say where; the file's path."""
    console = Console(width=width)
    console.print(shown)
    for note in notes:
        console.print(note)
    path = save_report(report["benchmark"], report, out)
    console.print(f"saved {path}")
    return path
