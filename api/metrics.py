"""Request counts, latencies and HTTP ingest outcomes, in Prometheus text format.

Labelled by route template (``/v1/learners/{learner_id}/record``), never by the path
itself, so no learner id or other identifier reaches the metrics.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

# Upper bounds (seconds) of the latency histogram's buckets.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    seconds: float = 0.0

    def observe(self, seconds: float) -> None:
        self.total += 1
        self.seconds += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
                break


class ApiMetrics:
    """Counters of one API process (each replica reports its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._latency: dict[tuple[str, str], _Histogram] = defaultdict(_Histogram)
        self._ingest: dict[str, int] = {"accepted": 0, "duplicate": 0, "rejected": 0}

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, route, status)] += 1
            self._latency[(method, route)].observe(seconds)

    def ingested(self, accepted: int, duplicates: int, rejected: int) -> None:
        with self._lock:
            self._ingest["accepted"] += accepted
            self._ingest["duplicate"] += duplicates
            self._ingest["rejected"] += rejected

    def prometheus(self) -> str:
        with self._lock:
            lines = [
                "# HELP lll_api_requests_total HTTP requests answered",
                "# TYPE lll_api_requests_total counter",
            ]
            for (method, route, status), n in sorted(self._requests.items()):
                lines.append(
                    f'lll_api_requests_total{{method="{method}",route="{_escape(route)}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP lll_api_request_seconds time to answer an HTTP request",
                "# TYPE lll_api_request_seconds histogram",
            ]
            for (method, route), h in sorted(self._latency.items()):
                labels = f'method="{method}",route="{_escape(route)}"'
                cumulative = 0
                for bound, count in zip(BUCKETS, h.counts, strict=True):
                    cumulative += count
                    lines.append(
                        f'lll_api_request_seconds_bucket{{{labels},le="{bound}"}} {cumulative}'
                    )
                lines.append(f'lll_api_request_seconds_bucket{{{labels},le="+Inf"}} {h.total}')
                lines.append(f"lll_api_request_seconds_sum{{{labels}}} {h.seconds:.6f}")
                lines.append(f"lll_api_request_seconds_count{{{labels}}} {h.total}")
            lines += [
                "# HELP lll_api_ingest_events_total events received over HTTP, by outcome",
                "# TYPE lll_api_ingest_events_total counter",
            ]
            for outcome, n in self._ingest.items():
                lines.append(f'lll_api_ingest_events_total{{outcome="{outcome}"}} {n}')
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
