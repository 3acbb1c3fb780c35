"""The Docker deployment files agree with the code: no Docker engine runs here, so what can
be checked without one is checked statically."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def _ledger_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _compose()["services"].items() if s.get("build") == "."}


def test_the_image_holds_every_package_the_project_installs() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+) \1$", (REPO / "Dockerfile").read_text(), re.M))
    assert packages == copied


@pytest.mark.parametrize("name", sorted(_ledger_services()))
def test_each_ledger_service_runs_a_command_the_cli_accepts(name: str) -> None:
    command = _ledger_services()[name]["command"]
    args = build_parser().parse_args(command)  # exits (SystemExit) on an unknown command
    assert callable(args.handler)


def test_secrets_come_from_the_environment_and_files_never_the_file() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|MASTER_KEY$|SECRET|TOKEN$", key):
                assert str(value).startswith("${"), f"{name}: {key} is written in the file"
    declared = _compose()["secrets"]
    assert all(str(s["file"]).startswith("${") for s in declared.values())


def test_services_reading_key_files_get_them_as_secrets() -> None:
    for name, service in _ledger_services().items():
        env = service.get("environment") or {}
        mounted = set(service.get("secrets") or ())
        for key, value in env.items():
            if key.endswith("_FILE"):
                secret = str(value).removeprefix("/run/secrets/")
                assert secret in mounted, f"{name}: {key} names a secret it does not mount"


def test_the_api_and_the_projections_sign_with_the_ledgers_key() -> None:
    services = _ledger_services()
    for name in ("api", "projections"):
        assert (
            services[name]["environment"]["LEDGER_SIGNING_KEY_FILE"] == "/run/secrets/signing_key"
        )
    assert "LEDGER_API_TOKEN_KEYS_FILE" in services["api"]["environment"]
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
