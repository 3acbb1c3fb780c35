"""The `ledger` command's parser: every command reaches its handler, and `ledger publish`
loads only the producer's side."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from cli.main import build_parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every leaf command, by its words (``projections rebuild``), with its parser."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = _commands(sub)
                found.update({f"{name} {k}".strip(): v for k, v in inner.items()} or {name: sub})
    return found


def test_every_command_names_a_handler_that_exists() -> None:
    commands = _commands(build_parser())
    assert len(commands) > 20
    for words, sub in commands.items():
        handler = sub.get_default("handler")
        if handler is None:  # a group whose default comes from its parent's set_defaults
            continue
        module, _, name = handler.__qualname__.rpartition(".")
        target = getattr(importlib.import_module(module), name, None)
        assert callable(target), f"`ledger {words}` names {handler.__qualname__}, which is missing"


def test_publish_loads_neither_the_ledger_nor_the_credential_checks() -> None:
    probe = (
        "import sys\n"
        "from cli.main import build_parser\n"
        "build_parser().parse_args(['publish', 'events.jsonl', '--issuer', 'uni'])\n"
        "import cli.kafka\n"
        "heavy = ['ledger.application', 'ledger.pipeline', 'credentials.inbound',\n"
        "         'projections.runner', 'services.export', 'consumers.worker']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_an_unknown_projection_name_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["projections", "rebuild", "--name", "nope"])
    assert exit_.value.code == 2
    assert "learner-record" in capsys.readouterr().err
