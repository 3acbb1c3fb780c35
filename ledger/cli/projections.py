"""Handlers of `ledger projections` (status, run, rebuild) and `ledger record`."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from ledger.application import Ledger
from ledger.cli.output import emit_json, err, out, progress_bar
from ledger.errors import LedgerError
from ledger.settings import Settings
from projections.learner_record import NAME, LearnerRecordProjection, credential_status
from projections.pathways import NAME as PATHWAYS
from projections.pathways import PathwaysProjection, progress
from projections.replay import replay_learner
from projections.runner import Projection, ProjectionRunner
from projections.store import Document, open_projection_store

PROJECTIONS: dict[str, Callable[[], Projection]] = {
    NAME: LearnerRecordProjection,
    PATHWAYS: PathwaysProjection,
}


def projections(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    names = [args.name] if getattr(args, "name", None) else sorted(PROJECTIONS)
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            page = getattr(args, "page", 2000)
            runners = [ProjectionRunner(ledger, store, PROJECTIONS[n](), page=page) for n in names]
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


def _run(runner: ProjectionRunner, args: argparse.Namespace) -> None:
    status = runner.status()
    total = status.head if args.action == "rebuild" else status.lag
    verb = "rebuild" if args.action == "rebuild" else "catch up"
    with progress_bar(f"{verb} {status.name}", total, enabled=not args.no_progress) as advance:
        apply = runner.rebuild if args.action == "rebuild" else runner.catch_up
        covered = apply(advance)
    err.print(f"{status.name}: {covered} log rows applied; now at {runner.status().position}")


def _follow(runners: list[ProjectionRunner], *, poll_s: float) -> None:
    """Keep every projection caught up, in turn, until SIGTERM or SIGINT (following only
    the first, as before, left the others behind for good)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        if not sum(runner.catch_up() for runner in runners):
            stop.wait(poll_s)


def learner_record(
    ledger: Ledger, settings: Settings, learner: str, *, catch_up: bool = True
) -> tuple[Document, list[Document]]:
    """A learner's record and every pathway definition, caught up with the log first.

    Raises:
        LedgerError: the learner has no record.
    """
    store = open_projection_store(settings)
    try:
        if catch_up:
            for projection in PROJECTIONS.values():
                ProjectionRunner(ledger, store, projection()).catch_up()
        doc = store.get(NAME, learner)
        pathways = [d for _, d in store.scan(PATHWAYS)]
    finally:
        store.close()
    if doc is None:
        raise LedgerError(f"--learner: no record for learner {learner!r}")
    return doc, pathways


def record(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    with Ledger.open(settings) as ledger:
        doc, pathways = learner_record(
            ledger, settings, args.learner, catch_up=not args.no_catch_up
        )
    today = datetime.now(UTC).date()
    if not doc.get("erased"):
        doc["pathways"] = progress(doc, pathways, today)
    for item in doc.get("credentials", ()):
        item["status"] = credential_status(item, today)
    emit_json(doc)
    return 0


def replay(args: argparse.Namespace) -> int:
    with Ledger.open(Settings.from_env()) as ledger:
        doc = replay_learner(ledger, args.learner, at_sequence=args.at_sequence, as_of=args.as_of)
    if doc is None:
        raise LedgerError(f"--learner: no events for learner {args.learner!r} by then")
    emit_json(doc)
    return 0
