"""The README's settings tables and the code agree: every LEDGER_* variable the code names is
in a table, every variable in a table is named in the code, and each component's table lists
exactly the variables that component reads, with the default it declares."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from api.settings import ApiSettings, WebSettings
from consumers.settings import KafkaSettings
from ledger.env import declared
from ledger.settings import MASTER_KEY, MASTER_KEY_FILE, Settings
from services.signing import SigningSettings
from services.transparency import LogSettings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "cli", "consumers", "credentials", "ledger", "projections", "schemas")
PACKAGES += ("services", "tests")
OTHER_FILES = ("docker-compose.yml", "Dockerfile")
# A variable named in Python: a string that is exactly its name (not a mention in prose,
# nor a Python name in __all__).
NAME = re.compile(r"LEDGER_[A-Z0-9_]*[A-Z0-9]")
# Made up, to test the reader itself.
EXAMPLES = {"tests/unit/ledger/test_env.py"}
ROW = re.compile(r"^\| `(LEDGER_[A-Z0-9_]+)` \|(.*)\|(.*)\|$")

# Each component's table is the one introduced by a line naming its module.
COMPONENTS: dict[str, tuple[type, set[str]]] = {
    "ledger/settings.py": (Settings, {MASTER_KEY, MASTER_KEY_FILE}),
    "consumers/settings.py": (KafkaSettings, set()),
    "api/settings.py": (ApiSettings, set()),
    "api/settings.py WebSettings": (WebSettings, set()),
    "services/signing.py": (SigningSettings, set()),
    "services/transparency.py": (LogSettings, set()),
}


def readme_tables() -> dict[str, dict[str, str]]:
    """The settings section's tables: by the line introducing each, variable → default."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Settings") :]
    section = section[: section.index("\n### ", 1)]
    tables: dict[str, dict[str, str]] = {}
    caption, paragraph = "", []
    for line in section.splitlines():
        row = ROW.match(line)
        if row:
            tables.setdefault(caption, {})[row[1]] = row[3].strip()
        elif not line.strip():
            caption, paragraph = (" ".join(paragraph), []) if paragraph else (caption, [])
        elif not line.startswith("|"):
            paragraph.append(line)
    return tables


def named_in_code() -> dict[str, list[str]]:
    """Every LEDGER_* variable the code names, with where."""
    found: dict[str, list[str]] = {}
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    for path in files:
        where = str(path.relative_to(ROOT))
        if where not in EXAMPLES:
            for name in _strings(path):
                found.setdefault(name, []).append(where)
    others = [ROOT / name for name in OTHER_FILES] + sorted((ROOT / "scripts").iterdir())
    for path in others:
        if path.is_file():
            for name in NAME.findall(path.read_text(errors="replace")):
                found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def _strings(path: Path) -> list[str]:
    """The string constants of a module that are exactly a variable name."""
    tree = ast.parse(path.read_text())
    exported = {
        id(element)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        for element in ast.walk(node.value)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and NAME.fullmatch(node.value)
        and id(node) not in exported
    ]


def test_every_variable_the_code_names_is_in_the_readme_and_no_other() -> None:
    documented = {name for table in readme_tables().values() for name in table}
    named = named_in_code()
    missing = {name: where for name, where in named.items() if name not in documented}
    assert missing == {}, "add these to a settings table in the README"
    assert sorted(documented - set(named)) == [], "the code no longer reads these"


def test_the_scan_finds_variables_read_outside_the_settings_classes() -> None:
    named = named_in_code()
    assert "tests/conftest.py" in named["LEDGER_TEST_DATABASE_URL"]
    assert "scripts/services" in named["LEDGER_PG_PORT"]


@pytest.mark.parametrize("module", sorted(COMPONENTS))
def test_each_component_table_lists_what_it_reads_with_its_declared_default(module: str) -> None:
    cls, extra = COMPONENTS[module]
    path, _, named = module.partition(" ")
    # A module declaring two components introduces the second's table with its class too.
    others = [k.partition(" ")[2] for k in COMPONENTS if k.startswith(f"{path} ") and k != module]
    (table,) = [
        t
        for caption, t in readme_tables().items()
        if f"`{path}`" in caption
        and (not named or f"`{named}`" in caption)
        and not any(f"`{o}`" in caption for o in others)
    ]
    variables = {v.name: getattr(cls, field) for field, v in declared(cls).items()}
    assert set(table) == set(variables) | extra
    for name, default in variables.items():
        if isinstance(default, int) and not isinstance(default, bool):
            assert table[name] == str(default), name
        elif isinstance(default, str) and default:
            assert table[name] == f"`{default}`", name
