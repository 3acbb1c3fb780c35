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


def imported_names(path: Path) -> set[str]:
    """Every module imported, and every ``module.name`` taken from one."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = imported_modules(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# Operations a person triggers are the services'; the front ends call those, never a write
# in the read-model layer (where consent and replay once lived, so that none returns there).
FRONT_ENDS = ("cli", "api")
PROJECTION_WRITES = (
    "projections.consent",
    "projections.replay",
)


def test_front_ends_leave_operations_to_the_services() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for layer in FRONT_ENDS
        for path in layer_files(layer)
        for name in imported_names(path)
        if under(name, PROJECTION_WRITES)
    ]
    assert offenders == []


# Services take ports (services/ports.py), never the concrete ledger, its stores or the
# read-model runner: their unit tests run them against in-memory fakes of the ports.
CONCRETE = (
    "ledger.application",
    "ledger.persistence",
    "ledger.plan",
    "ledger.sqlite",
    "ledger.postgres",
    "projections.runner",
    "projections.sqlite",
    "projections.postgres",
    "projections.store.ProjectionStore",
    "projections.store.open_projection_store",
)


def test_services_take_ports_not_the_concrete_ledger_or_stores() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in layer_files("services")
        for name in imported_names(path)
        if under(name, CONCRETE)
    ]
    assert offenders == []


def test_services_import_no_front_end() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in layer_files("services")
        for name in imported_modules(path)
        if under(name, FRONT_ENDS)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "source",
    [
        "from projections import consent\n",
        "import projections.replay\n",
    ],
)
def test_rule_catches_a_front_end_taking_a_projection_write(tmp_path: Path, source: str) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(source)
    assert any(under(name, PROJECTION_WRITES) for name in imported_names(bad))


def test_rule_catches_a_service_taking_the_concrete_ledger(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from ledger.application import Ledger\nfrom projections.store import ProjectionStore\n"
    )
    assert {"ledger.application", "projections.store.ProjectionStore"} <= {
        name for name in imported_names(bad) if under(name, CONCRETE)
    }
