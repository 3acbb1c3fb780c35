"""Handlers of `ledger projections` (status, run, rebuild), `ledger record` and `ledger replay`."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from cli.output import emit_json, err, out, progress_bar
from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.errors import LedgerError
from ledger.settings import Settings
from projections.activity import NAME as ACTIVITY
from projections.activity import LearnerActivityProjection
from projections.grants import NAME as GRANTS
from projections.grants import ConsentGrantsProjection
from projections.issued import NAME as ISSUED
from projections.issued import IssuedCredentialsProjection
from projections.learner_record import NAME, LearnerRecordProjection
from projections.pathways import NAME as PATHWAYS
from projections.pathways import PathwaysProjection
from projections.reading import LedgerRecords
from projections.runner import Projector, ReadModel
from projections.status import NAME as STATUS
from projections.status import StatusListsProjection
from projections.store import open_projection_store
from services import records
from services.audit import replay_record
from services.records import NoRecordError
from services.signing import SigningSettings, issuance


def _issued_credentials(ledger: Ledger, signing: SigningSettings) -> ReadModel:
    return IssuedCredentialsProjection(issuance(ledger, signing))


# Each projection built for the ledger with the signing settings (ConfigurationError when
# the signing key is needed and missing).
PROJECTIONS: dict[str, Callable[[Ledger, SigningSettings], ReadModel]] = {
    NAME: lambda *_: LearnerRecordProjection(),
    PATHWAYS: lambda *_: PathwaysProjection(),
    ISSUED: _issued_credentials,
    ACTIVITY: lambda *_: LearnerActivityProjection(),
    GRANTS: lambda *_: ConsentGrantsProjection(),
    STATUS: lambda *_: StatusListsProjection(),
}


def _names(args: argparse.Namespace, signing: SigningSettings) -> list[str]:
    """The projections a command runs: the one named, else every one it can."""
    if getattr(args, "name", None):
        return [args.name]  # named: a missing signing key is the user's error to see
    names = sorted(PROJECTIONS)
    if not signing.configured:
        names.remove(ISSUED)
        err.print(
            f"{ISSUED}: not run, LEDGER_SIGNING_KEY_FILE is not set "
            "(an export, which needs it anyway, issues what it holds)"
        )
    return names


def projections(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    signing = SigningSettings.from_env()
    names = _names(args, signing)
    if args.action in ("run", "rebuild"):
        tune_gc()  # a long catch-up or rebuild, in this process alone
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            page = getattr(args, "page", None)
            runners = [
                Projector(ledger, store, PROJECTIONS[n](ledger, signing), page=page) for n in names
            ]
            if args.action == "status":
                report = [r.status().as_dict() for r in runners]
                if args.json:
                    emit_json(report)
                else:
                    for s in report:
                        out.print(
                            f"{s['projection']}: position {s['position']} of "
                            f"{s['head']}, lag {s['lag']}"
                        )
                return 0
            for runner in runners:
                _run(runner, args)
            if args.action == "run" and args.follow:
                _follow(runners, poll_s=args.poll)
        finally:
            store.close()
    return 0


def _run(runner: Projector, args: argparse.Namespace) -> None:
    status = runner.status()
    total = status.head if args.action == "rebuild" else status.lag
    verb = "rebuild" if args.action == "rebuild" else "catch up"
    with progress_bar(f"{verb} {status.name}", total, enabled=not args.no_progress) as advance:
        if args.action == "rebuild":
            covered = runner.rebuild(advance, workers=args.workers)
        else:
            covered = runner.catch_up(advance)
    err.print(f"{status.name}: {covered} log rows applied; now at {runner.status().position}")


def _follow(runners: list[Projector], *, poll_s: float) -> None:
    """Keep every projection caught up, in turn, until SIGTERM or SIGINT (following only
    the first, as before, left the others behind for good)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        if not sum(runner.catch_up() for runner in runners):
            stop.wait(poll_s)


def record(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            doc = records.learner_record(
                LedgerRecords(ledger, store),
                args.learner,
                today=datetime.now(UTC).date(),
                catch_up=not args.no_catch_up,
            )
        except NoRecordError as exc:
            raise LedgerError(f"--learner: {exc}") from None
        finally:
            store.close()
    emit_json(doc)
    return 0


def replay(args: argparse.Namespace) -> int:
    with Ledger.open(Settings.from_env()) as ledger:
        doc = replay_record(ledger, args.learner, at_sequence=args.at_sequence, as_of=args.as_of)
    if doc is None:
        raise LedgerError(f"--learner: no events for learner {args.learner!r} by then")
    emit_json(doc)
    return 0
