"""The dependency rule: schemas ← credentials ← ledger ← projections ← services, and ← consumers.

The composition roots are the CLI (`cli/`) and the HTTP API (`api/`): they may import
every layer, and no layer imports them. Operations a person triggers live in `services/`,
which the roots call; nothing below the services imports them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What each layer must never import.
WEB = ("api", "cli", "fastapi", "starlette", "uvicorn")
FORBIDDEN = {
    "schemas": ("credentials", "ledger", "projections", "consumers", "services", "aiokafka", *WEB),
    "credentials": ("ledger", "projections", "consumers", "services", "aiokafka", *WEB),
    "ledger": ("projections", "consumers", "services", "aiokafka", *WEB),
    "projections": ("consumers", "services", "aiokafka", *WEB),
    "consumers": ("services", *WEB),
    "services": ("consumers", "aiokafka", *WEB),
}


# Remnants the benchmark modules still use (Settings.kafka_bootstrap, Settings.api_max_batch
# in ledger/settings.py): each imports a component's settings lazily, from the core. They
# go when ledger/bench.py, consumers/bench.py and api/bench/ read those settings themselves.
REMNANT_IMPORTS = {
    ("ledger/settings.py", "consumers.settings"),
    ("ledger/settings.py", "api.settings"),
}


def outward(path: Path, name: str) -> bool:
    """Whether importing ``name`` in ``path`` may cross the rule (a listed remnant)."""
    return (str(path.relative_to(ROOT)), name) in REMNANT_IMPORTS


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


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_outer(layer: str) -> None:
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in layer_files(layer)
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN[layer] and not outward(path, name)
    ]
    assert violations == []


def test_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import aiokafka\nfrom projections.x import y\n")
    assert {"aiokafka", "projections.x"} <= imported_modules(bad)


@pytest.mark.parametrize("source", ["import fastapi\n", "from api.deps import LedgerDep\n"])
def test_rule_refuses_the_web_layer_in_the_core(tmp_path: Path, source: str) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(source)
    assert any(name.split(".")[0] in FORBIDDEN["ledger"] for name in imported_modules(bad))


def test_the_api_never_imports_the_cli() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "api").rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] == "cli"
    ]
    assert offenders == []


def test_nothing_imports_the_composition_roots() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}"
        for layer in ("schemas", "credentials", "ledger", "projections", "consumers", "services")
        for path in layer_files(layer)
        for name in imported_modules(path)
        if name.split(".")[0] in ("cli", "api") and not outward(path, name)
    ]
    assert offenders == []


# Modules on a request's path: the API and the services it calls, and the read models they
# catch up. The collector's process-wide settings are never theirs to change (ledger.collector);
# a rebuild's child process sets its own at its start (projections/rebuild.py, its entry).
REQUEST_PATH = ("api", "services", "projections")
PROCESS_ENTRIES = {"projections/rebuild.py", "projections/bench.py", "api/bench/__init__.py"}


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
