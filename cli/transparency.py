"""`ledger audit checkpoint | log-key | prove | check | witness`: the log as a verifiable log."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape

from cli.output import emit_json, out, progress_bar
from ledger.application import Ledger
from ledger.errors import ConfigurationError, LedgerError
from ledger.merkle import ProofError
from ledger.notes import NoteError, NoteVerifier, b64
from services.audit import check_log
from services.signing import SigningSettings
from services.transparency import (
    LogSettings,
    TransparencyLog,
    checkpoint_dict,
    open_log,
)
from services.witness import WitnessError, http_get, http_post, submit, witness


def transparency_log(ledger: Ledger) -> TransparencyLog:
    """The ledger's log with its checkpoint key and policy, from the environment."""
    return open_log(ledger, LogSettings.from_env(), SigningSettings.from_env().base_url)


def _pinned_key(given: str | None, ledger: Ledger) -> tuple[NoteVerifier, str]:
    """The log key an auditor checks with: the one given (a vkey or a file holding one),
    else this ledger's own (said so: it is only as good as this machine's configuration)."""
    if given is None:
        return NoteVerifier.parse(transparency_log(ledger).vkey), "this ledger's configured key"
    path = Path(given)
    text = path.read_text() if path.is_file() else given
    try:
        return NoteVerifier.parse(text), "the key given"
    except NoteError as exc:
        raise ConfigurationError(f"--log-key: {exc}") from None


def checkpoint(args: argparse.Namespace) -> int:
    with Ledger.open() as ledger:
        log = transparency_log(ledger)
        missing = ledger.recorder.max_position() - log.tree.size()
        with progress_bar(
            "grow Merkle tree", missing, enabled=missing > 10_000 and not args.json
        ) as advance:
            made = log.checkpoint(force=True, progress=advance)
    if args.out:
        Path(args.out).write_text(made.note)
    if args.json:
        emit_json(checkpoint_dict(made))
    else:
        out.print(escape(made.note), end="")
        if args.out:
            out.print(f"saved to {escape(args.out)}")
    return 0


def log_key(args: argparse.Namespace) -> int:
    with Ledger.open() as ledger:
        vkey = transparency_log(ledger).vkey
    if args.json:
        emit_json({"vkey": vkey})
    else:
        out.print(vkey)
    return 0


def prove(args: argparse.Namespace) -> int:
    with Ledger.open() as ledger:
        log = transparency_log(ledger)
        try:
            proof = log.prove_inclusion(args.position, args.size)
        except ProofError as exc:
            raise LedgerError(f"--position: {exc}") from None
    answer = proof.as_dict()
    if args.json:
        emit_json(answer)
        return 0
    out.print(
        f"event {proof.position} (leaf {proof.position - 1}) is in the tree of size "
        f"{proof.size}, root {b64(proof.root)}"
    )
    out.print(f"leaf (chain hash): {answer['leaf']}")
    for i, h in enumerate(answer["proof"]):
        out.print(f"  {i:2d} {h}")
    if proof.checkpoint:
        out.print("signed checkpoint:")
        out.print(escape(proof.checkpoint), end="")
    return 0


def check(args: argparse.Namespace) -> int:
    try:
        saved = Path(args.checkpoint).read_text()
    except OSError as exc:
        raise LedgerError(f"--checkpoint: cannot read {args.checkpoint}: {exc.strerror}") from None
    with Ledger.open() as ledger:
        key, source = _pinned_key(args.log_key, ledger)
        total = ledger.recorder.max_position()
        with progress_bar("check log", total, enabled=not (args.json or args.no_progress)) as adv:
            result = check_log(ledger, saved, key, progress=adv)
    if args.json:
        emit_json(result.as_dict() | {"logKey": key.vkey})
    elif result.ok:
        assert result.saved is not None
        assert result.latest is not None
        out.print(
            f"[green]OK[/]: the log extends the saved checkpoint of {result.saved.size} events "
            f"(consistency with the latest checkpoint, {result.latest.size} events, verified); "
            f"{result.chain.events_checked} events and {result.chain.checkpoints_checked} "
            f"chain checkpoints re-checked; signatures checked with {source}"
        )
    else:
        out.print(f"[red]FAILED[/]: {escape(result.failure or '')}")
    return 0 if result.ok else 1


def witness_command(args: argparse.Namespace) -> int:
    try:
        seen = witness(http_get(args.url), Path(args.state), log_key=args.log_key, name=args.name)
    except WitnessError as exc:
        if args.json:
            emit_json({"ok": False, "failure": str(exc)})
        else:
            out.print(f"[red]REFUSED[/]: {escape(str(exc))}")
        return 1
    except OSError as exc:
        raise LedgerError(f"{args.url}: {exc}") from None
    submitted: list[str] | None = None
    if args.submit:
        try:
            submitted = submit(http_post(args.url), seen)
        except OSError as exc:
            raise LedgerError(f"{args.url}: {exc} (the cosignature is kept in --state)") from None
    if args.json:
        emit_json(seen.as_dict() | {"submitted": submitted})
    else:
        since = "first checkpoint seen" if seen.previous is None else f"extends {seen.previous}"
        out.print(
            f"[green]COSIGNED[/]: {seen.checkpoint.size} events ({since}), root "
            f"{b64(seen.checkpoint.root)}"
        )
        out.print(escape(seen.note), end="")
    return 0


HANDLERS = {
    "checkpoint": checkpoint,
    "log-key": log_key,
    "prove": prove,
    "check": check,
    "witness": witness_command,
}
