"""The dependency rule: schemas ← credentials ← ledger ← projections ← services, and ← consumers.

The composition roots are the CLI (`cli/`) and the HTTP API (`api/`): they may import
every layer, and no layer imports them. Operations a person triggers live in `services/`,
which the roots call; nothing below the services imports them. The demo generator
(`demo/`) builds on the core and only the roots use it. The benchmarks (`bench/`, a
distribution of their own) may import everything; nothing that is installed to run the
ledger imports them or the tests. Every top-level package has its rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each layer must never import.
WEB = ("api", "cli", "fastapi", "starlette", "uvicorn")
# Not installed to run the ledger: the benchmarks and the tests; and the demo generator,
# which only the composition roots use.
OUTSIDE = ("bench", "tests")
CORE_NEVER = (*OUTSIDE, "demo")
FORBIDDEN = {
    "schemas": (
        "credentials", "ledger", "projections", "consumers", "services", "aiokafka", *WEB,
        *CORE_NEVER,
    ),
    "credentials": (
        "ledger", "projections", "consumers", "services", "aiokafka", *WEB, *CORE_NEVER,
    ),
    "ledger": ("projections", "consumers", "services", "aiokafka", *WEB, *CORE_NEVER),
    "projections": ("consumers", "services", "aiokafka", *WEB, *CORE_NEVER),
    "consumers": ("services", *WEB, *CORE_NEVER),
    "services": ("consumers", "aiokafka", *WEB, *CORE_NEVER),
    "demo": ("projections", "consumers", "services", "aiokafka", *WEB, *OUTSIDE),
    "api": ("cli", *OUTSIDE),
    "cli": OUTSIDE,
    "bench": ("tests",),
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_files(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


def test_every_top_level_package_has_its_rule() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(FORBIDDEN)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_outer(layer: str) -> None:
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in layer_files(layer)
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN[layer]
    ]
    assert violations == []


def test_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import aiokafka\nfrom projections.x import y\n")
    assert {"aiokafka", "projections.x"} <= imported_modules(bad)


@pytest.mark.parametrize(
    "source",
    [
        "import fastapi\n",
        "from api.deps import LedgerDep\n",
        "from bench.report import save_report\n",
        "from demo import generate\n",
        "from tests.conftest import postgres_url\n",
    ],
)
def test_rule_refuses_the_web_layer_the_benchmarks_and_the_demo_in_the_core(
    tmp_path: Path, source: str
) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(source)
    assert any(name.split(".")[0] in FORBIDDEN["ledger"] for name in imported_modules(bad))


@pytest.mark.parametrize("root", ["api", "cli", "demo"])
def test_rule_refuses_the_benchmarks_in_what_runs_the_ledger(tmp_path: Path, root: str) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from bench.append import run_append_bench\n")
    assert any(name.split(".")[0] in FORBIDDEN[root] for name in imported_modules(bad))


def test_nothing_imports_the_composition_roots() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}"
        for layer in (
            "schemas",
            "credentials",
            "ledger",
            "projections",
            "consumers",
            "services",
            "demo",
        )
        for path in layer_files(layer)
        for name in imported_modules(path)
        if name.split(".")[0] in ("cli", "api")
    ]
    assert offenders == []


# Modules on a request's path: the API and the services it calls, and the read models they
# catch up. The collector's process-wide settings are never theirs to change (ledger.collector);
# a rebuild's child process sets its own at its start (projections/rebuild.py, its entry).
REQUEST_PATH = ("api", "services", "projections")
PROCESS_ENTRIES = {"projections/rebuild.py"}


def test_request_path_never_tunes_the_collector() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for layer in REQUEST_PATH
        for path in layer_files(layer)
        if str(path.relative_to(ROOT)) not in PROCESS_ENTRIES
        for name in imported_modules(path)
        if name in ("gc", "ledger.collector")
    ]
    assert offenders == []
