"""With the benchmarks installed, every `ledger bench` action finds its benchmark, and every
installed benchmark has its action."""

from __future__ import annotations

import argparse
from importlib.metadata import entry_points

from bench.api import run_api_bench
from bench.append import run_append_bench
from bench.fuzz import run_fuzz_bench
from bench.ingest import run_ingest_bench
from bench.log import run_log_bench
from bench.projections import run_projection_bench
from bench.scale import run_scale_bench
from cli.commands import BENCH_GROUP, installed_benchmark
from cli.main import build_parser

RUNS = {
    "append": run_append_bench,
    "ingest": run_ingest_bench,
    "projections": run_projection_bench,
    "api": run_api_bench,
    "fuzz": run_fuzz_bench,
    "log": run_log_bench,
    "scale": run_scale_bench,
}


def _bench_actions() -> set[str]:
    def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        (found,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return dict(found.choices)

    return set(subcommands(subcommands(build_parser())["bench"]))


def test_every_bench_action_runs_its_installed_benchmark() -> None:
    assert _bench_actions() == set(RUNS)
    for action, run in RUNS.items():
        assert installed_benchmark(action) is run, action


def test_every_installed_benchmark_is_an_action() -> None:
    assert {e.name for e in entry_points(group=BENCH_GROUP)} == _bench_actions()
