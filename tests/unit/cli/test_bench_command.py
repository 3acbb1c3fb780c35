"""`ledger bench …` without the benchmarks installed says in one line what to install and
exits 2, before it reaches for any database."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from cli import commands
from cli.main import main

ACTIONS = ["append", "ingest", "projections", "api", "fuzz"]
# Nothing listens on port 1: a probe of it would fail the command with status 1.
UNREACHABLE = "postgresql://ledger@127.0.0.1:1/ledger"


@pytest.fixture
def not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """No distribution offers a benchmark (the group the CLI looks in is empty)."""
    monkeypatch.setattr(commands, "BENCH_GROUP", "lifelong_learner_ledger.no_such_group")
    monkeypatch.delenv("LEDGER_BENCH_POSTGRES_URL", raising=False)


@pytest.mark.usefixtures("not_installed")
@pytest.mark.parametrize("action", ACTIONS)
def test_bench_without_the_benchmarks_says_what_to_install_and_exits_2(
    action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", action, "--postgres-url", UNREACHABLE]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    (line,) = printed.err.strip().splitlines()
    assert line == commands.BENCH_MISSING
    assert "scripts/bootstrap dev" in line
    assert "pip install -e ./bench" in line


def test_bench_whose_metadata_outlives_its_code_counts_as_not_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    left = EntryPoint("append", "bench.no_such_module:run", commands.BENCH_GROUP)
    monkeypatch.setattr(commands, "entry_points", lambda **_: [left])
    assert main(["bench", "append"]) == 2
    assert capsys.readouterr().err.strip() == commands.BENCH_MISSING


def test_bench_missing_another_module_is_not_taken_for_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = EntryPoint("append", "no_such_dependency_of_bench:run", commands.BENCH_GROUP)
    monkeypatch.setattr(commands, "entry_points", lambda **_: [broken])
    with pytest.raises(ModuleNotFoundError):
        commands.installed_benchmark("append")
