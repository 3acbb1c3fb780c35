"""Handlers of the ``ledger`` subcommands; each returns the process exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from cli.output import emit_json, err, out, progress_bar
from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.crypto import encode_key, generate_key
from ledger.errors import LedgerError
from ledger.ingest import ingest_file
from ledger.outcomes import Channel
from ledger.settings import Settings
from schemas.catalogue import load_catalogue
from services.audit import verify_chain


def schemas(args: argparse.Namespace) -> int:
    catalogue = load_catalogue()
    if args.action == "show":
        if args.type not in catalogue:
            raise LedgerError(
                f"type: unknown event type {args.type!r}; `ledger schemas` lists them"
            )
        emit_json(dict(catalogue.get(args.type).schema))
        return 0
    if args.json:
        emit_json(
            [
                {
                    "type": t.name,
                    "category": t.category,
                    "title": t.title,
                    "subject": t.subject,
                    "personal": [".".join(p) for p in t.personal_paths],
                }
                for t in catalogue
            ]
        )
        return 0
    table = Table(title=f"{len(catalogue)} event types")
    for col in ("type", "category", "title", "personal fields"):
        table.add_column(col)
    for t in sorted(catalogue, key=lambda t: (t.category, t.name)):
        table.add_row(t.name, t.category, t.title, ", ".join(".".join(p) for p in t.personal_paths))
    out.print(table)
    return 0


def issuers(args: argparse.Namespace) -> int:
    with Ledger.open() as ledger:
        registry = ledger.registry
        if args.action == "add":
            issuer = registry.register(
                args.id,
                name=args.name,
                source=args.source,
                kind=args.kind,
                types=args.types,
                dids=args.did or (),
            )
            if args.json:
                emit_json(issuer.as_dict())
            else:
                out.print(f"registered {issuer.id} ({issuer.kind}) for {len(issuer.types)} types")
            return 0
        if args.action == "suspend":
            issuer = registry.suspend(args.id)
            if args.json:
                emit_json(issuer.as_dict())
            else:
                out.print(f"suspended {issuer.id}")
            return 0
        listed = registry.all()
        if args.json:
            emit_json([i.as_dict() for i in listed])
            return 0
        table = Table(title="issuers")
        for col in ("id", "kind", "source", "types", "active"):
            table.add_column(col)
        for i in listed:
            table.add_row(i.id, i.kind, i.source, str(len(i.types)), "yes" if i.active else "no")
        out.print(table)
        return 0


def ingest(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise LedgerError(f"file: {path} does not exist or is not a file")
    settings = Settings.from_env()
    rejects = Path(args.rejects) if args.rejects else path.with_name(path.name + ".rejects.jsonl")
    with Ledger.open(settings) as ledger:
        if args.issuer and ledger.registry.get(args.issuer) is None:
            raise LedgerError(f"--issuer: no registered issuer {args.issuer!r}")
        tune_gc()
        with progress_bar(
            f"ingest {path.name}", path.stat().st_size, enabled=not (args.no_progress or args.json)
        ) as advance:
            summary = ingest_file(
                ledger,
                path,
                channel=Channel("file", args.issuer),
                batch_size=args.batch_size or settings.batch_size,
                rejects_path=rejects,
                on_batch=advance,
                prepare_process=args.prepare_process,
            )
    if args.json:
        emit_json(summary.as_dict())
    else:
        print_ingest_summary(summary.as_dict())
    return 0


def print_ingest_summary(s: dict[str, Any]) -> None:
    out.print(
        f"{s['lines']} lines: [green]{s['accepted']} accepted[/], "
        f"{s['duplicates']} duplicates, [red]{s['rejected']} rejected[/]"
        + (f", {s['blank']} blank" if s["blank"] else "")
        + f" in {s['seconds']} s"
    )
    for r in s["rejections"][:10]:
        reasons = "; ".join(
            f"{x['path'] or '(event)'}: {x['message']} [{x['rule']}]" for x in r["reasons"]
        )
        out.print(f"  line {r['line']}: {escape(reasons)}")
    if s["rejected"] > 10:
        out.print(f"  … {s['rejected'] - 10} more")
    if s["rejects_file"]:
        out.print(f"rejected lines and reasons: {s['rejects_file']}")


def audit(args: argparse.Namespace) -> int:
    if args.action != "verify":
        from cli.transparency import HANDLERS

        return HANDLERS[args.action](args)
    with Ledger.open() as ledger:
        total = ledger.recorder.max_position()
        with progress_bar(
            "verify chain", total, enabled=not (args.no_progress or args.json)
        ) as adv:
            report = verify_chain(ledger, progress=adv)
    if args.json:
        emit_json(report.as_dict())
    elif report.ok:
        out.print(
            f"[green]OK[/]: {report.events_checked} events and {report.checkpoints_checked} "
            f"checkpoints verified; head {report.head}"
        )
    else:
        assert report.failure is not None
        out.print(
            f"[red]FAILED[/] at position {report.failure.position}: {report.failure.reason} "
            f"({report.events_checked} events verified before it)"
        )
    return 0 if report.ok else 1


def erase(args: argparse.Namespace) -> int:
    from projections.reading import LedgerRecords
    from projections.store import open_projection_store
    from services.erasure import erase_learner
    from services.records import NoRecordError

    settings = Settings.from_env()
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            done = erase_learner(LedgerRecords(ledger, store), ledger, args.learner, channel="cli")
        except NoRecordError:
            raise LedgerError(f"--learner: no record for learner {args.learner!r}") from None
        finally:
            store.close()
    if args.json:
        emit_json(
            {
                "learner": done.learner,
                "requestId": done.request_id,
                "erased": True,
                "position": done.position,
            }
        )
    else:
        out.print(
            f"learner {done.learner} erased: request recorded, key destroyed, "
            f"erasure recorded at {done.position}"
        )
    return 0


def show(args: argparse.Namespace) -> int:
    with Ledger.open() as ledger:
        events = ledger.learner_events(args.learner)
    if args.json:
        emit_json(
            [
                {
                    "position": e.position,
                    "version": e.version,
                    "issuer": e.issuer,
                    "recordedAt": e.recorded_at,
                    "erased": e.erased,
                    "event": e.envelope,
                }
                for e in events
            ]
        )
        return 0
    if not events:
        err.print(f"no events for learner {args.learner}")
        return 1
    for e in events:
        flag = " [yellow](personal data erased)[/]" if e.erased else ""
        out.print(f"{e.position:>8} v{e.version:<4} {e.topic} from {e.issuer}{flag}")
    return 0


def keys(args: argparse.Namespace) -> int:
    out.print(encode_key(generate_key()))
    return 0


def demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    return run_demo(args)


def consume(args: argparse.Namespace) -> int:
    from cli.kafka import consume as run

    return run(args)


def publish(args: argparse.Namespace) -> int:
    from cli.kafka import publish as run

    return run(args)


def topics(args: argparse.Namespace) -> int:
    from cli.kafka import topics as run

    return run(args)


# The benchmarks are a distribution of their own (bench/, lifelong-ledger-bench), kept out of
# the runtime wheel: each names the function `ledger bench ACTION` runs under this group.
BENCH_GROUP = "lifelong_learner_ledger.bench"
BENCH_MISSING = (
    "ledger: the benchmarks are not installed: from a checkout, scripts/bootstrap dev "
    "(or pip install -e ./bench) installs them"
)


def bench(args: argparse.Namespace) -> int:
    run = installed_benchmark(args.action)
    if run is None:
        print(BENCH_MISSING, file=sys.stderr)
        return 2
    url = getattr(args, "postgres_url", None) or os.environ.get("LEDGER_BENCH_POSTGRES_URL")
    if url:
        from ledger.postgres import probe

        probe(url)  # a missing database is one line, not a traceback from inside a run
    return run(args)


def installed_benchmark(action: str) -> Callable[[argparse.Namespace], int] | None:
    """The installed benchmark that `ledger bench ACTION` runs, or None when the benchmarks
    are not installed (their package metadata left behind without their code counts too)."""
    for entry in entry_points(group=BENCH_GROUP, name=action):
        try:
            run: Callable[[argparse.Namespace], int] = entry.load()
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] != "bench":
                raise
            return None
        return run
    return None
