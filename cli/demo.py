"""`ledger demo`: generate a population, ingest it on the embedded default, erase, audit, project."""

from __future__ import annotations

import argparse
import collections
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from cli.commands import print_ingest_summary
from cli.output import emit_json, out, progress_bar
from demo import generate
from ledger.application import Ledger
from ledger.crypto import decode_key, encode_key, generate_key
from ledger.dburl import VARIABLE as DATABASE_URL
from ledger.dburl import DatabaseUrl
from ledger.ingest import ingest_file
from ledger.outcomes import Channel
from ledger.settings import Settings
from projections.learner_record import LearnerRecordProjection
from projections.pathways import PathwaysProjection
from projections.reading import LedgerRecords
from projections.runner import Projector
from projections.store import open_projection_store
from services.audit import verify_chain
from services.records import overview


def _demo_key(folder: Path) -> tuple[bytes, str | None]:
    """The configured master key, or a demo-only key kept beside the demo database."""
    settings = Settings.from_env()
    if settings.has_master_key:
        return settings.master_key(), None
    path = folder / "master.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(encode_key(generate_key()) + "\n")
    return decode_key(path.read_text(), name=str(path)), str(path)


def _write_events(path: Path, events: list[dict[str, Any]], bad: list[tuple[str, bytes]]) -> int:
    """Events in time order, bad lines spread among them, and a re-sent stretch at the end
    (as a publisher that retries would)."""
    lines = [orjson.dumps(e) for e in events]
    step = max(1, len(lines) // (len(bad) + 1))
    for i, (_, line) in enumerate(bad):
        lines.insert((i + 1) * step + i, line)
    resent = [orjson.dumps(e) for e in events[-min(25, len(events)) :]]
    with path.open("wb") as fh:
        for line in lines + resent:
            fh.write(line + b"\n")
    return len(lines) + len(resent)


def run_demo(args: argparse.Namespace) -> int:
    base = Settings.from_env()
    db = Path(args.db) if args.db else base.data_dir / "demo" / "ledger.db"
    folder = db.parent
    folder.mkdir(parents=True, exist_ok=True)
    key, key_file = _demo_key(folder)
    settings = Settings.from_env(database_url=DatabaseUrl.sqlite(db).text, _master_key=key)
    population = generate(args.seed, args.learners, max_event_bytes=settings.max_event_bytes)
    events_file = folder / f"events-seed{args.seed}-learners{args.learners}.jsonl"
    lines = _write_events(events_file, population.events, population.bad_lines)
    quiet = args.json or args.no_progress
    with Ledger.open(settings) as ledger:
        for spec in population.issuers:
            ledger.registry.register(
                spec.id, name=spec.name, source=spec.source, kind=spec.kind, types=spec.types
            )
        with progress_bar("ingest", events_file.stat().st_size, enabled=not quiet) as advance:
            summary = ingest_file(
                ledger,
                events_file,
                channel=Channel("file"),
                batch_size=settings.batch_size,
                rejects_path=events_file.with_suffix(".rejects.jsonl"),
                on_batch=advance,
            )
        erased = []
        for learner in population.erasure_requested:
            already = ledger.keyring.erased_among([learner])
            if not already:
                ledger.erase(learner, request_id=f"ER{args.seed}-{learner[-6:]}")
            erased.append(learner)
        with progress_bar("audit", ledger.recorder.max_position(), enabled=not quiet) as advance:
            report = verify_chain(ledger, progress=advance)
        sample = next(lid for lid in population.learners if lid not in erased)
        sample_events = len(ledger.learner_events(sample))
        erased_view = ledger.learner_events(erased[0]) if erased else []
        read_models = _project(ledger, settings, sample, erased, quiet=quiet)
    by_category = collections.Counter(e["type"].split(".")[2] for e in population.events)
    result = {
        "database": str(db),
        "events_file": str(events_file),
        "seed": args.seed,
        "learners": len(population.learners),
        "issuers": [s.id for s in population.issuers],
        "event_types_used": len({e["type"] for e in population.events}),
        "events_by_category": dict(sorted(by_category.items())),
        "ingest": summary.as_dict(),
        "erased_learners": erased,
        "erased_learner_events_readable_without_personal_data": sum(e.erased for e in erased_view),
        "audit": report.as_dict(),
        "sample_learner": {"id": sample, "events": sample_events},
        "read_models": read_models,
        "demo_master_key_file": key_file,
        "lines_written": lines,
    }
    if args.json:
        emit_json(result)
        return 0 if report.ok else 1
    out.print(f"[bold]Lifelong Learner Ledger demo[/] (seed {args.seed})")
    out.print(
        f"{len(population.learners)} learners, {len(population.issuers)} issuers "
        f"({', '.join(s.id for s in population.issuers)}), "
        f"{len(population.events)} events of {result['event_types_used']} types: "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_category.items()))
    )
    print_ingest_summary(summary.as_dict())
    for learner in erased:
        out.print(
            f"erased {learner}: key destroyed; {result['erased_learner_events_readable_without_personal_data']} "
            "of their events now read without personal data"
        )
    status = "[green]OK[/]" if report.ok else f"[red]FAILED[/] {report.failure}"
    out.print(f"audit: {status}, {report.events_checked} events, head {report.head}")
    r = read_models
    out.print(
        f"read models: {r['learner_records']} learner records, {r['pathways']} pathways; "
        f"{sample}: {r['sample']['learning']} learning, {r['sample']['work']} work, "
        f"{r['sample']['credentials']} credentials, {r['sample']['skills']} skills, "
        f"{r['sample']['pathways_complete']} of {r['sample']['pathways_begun']} pathways complete; "
        f"erased learners' records are tombstones: {r['erased_are_tombstones']}"
    )
    out.print(f"database: {db}")
    env = f"{DATABASE_URL}={DatabaseUrl.sqlite(db).text}"
    if key_file:
        env += f" LEDGER_MASTER_KEY_FILE={key_file}"
    out.print("try:")
    out.print(f"  {env} .venv/bin/ledger show --learner {sample}")
    out.print(f"  {env} .venv/bin/ledger record --learner {sample}")
    out.print(f"  {env} .venv/bin/ledger replay --learner {sample} --at-sequence 1000")
    out.print(f"  {env} .venv/bin/ledger audit verify")
    out.print(f"  {env} .venv/bin/ledger issuers list")
    if not report.ok:
        return 1
    port = getattr(args, "port", 8080)
    if getattr(args, "serve", False):
        _serve_pages(settings, folder, port, sample)
    else:
        out.print(f"  .venv/bin/ledger demo --serve   (the web pages on 127.0.0.1:{port})")
    return 0


def _serve_pages(settings: Settings, folder: Path, port: int, sample: str) -> None:
    """The web pages on the demo ledger, on loopback, with the development sign-in; the
    API beside them takes tokens of a throwaway key nobody holds."""
    import uvicorn
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    from api.app import create_app
    from api.auth import jwks_of
    from api.settings import ApiSettings, ServerSettings, WebSettings
    from consumers.settings import KafkaSettings
    from services.signing import SigningSettings

    keys = folder / "demo-token-keys.json"
    keys.write_bytes(orjson.dumps(jwks_of(Ed25519PrivateKey.generate().public_key())))
    signing = folder / "demo-signing.pem"
    if not signing.exists():
        fd = os.open(signing, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(
                Ed25519PrivateKey.generate().private_bytes(
                    Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
                )
            )
    server = ServerSettings(
        settings,
        ApiSettings.from_env({}, token_keys_file=keys),
        KafkaSettings.from_env(),
        # Its exports' status lists are served by this very server.
        SigningSettings(signing, public_url=f"http://127.0.0.1:{port}"),
        WebSettings.from_env(dev_signin=True),
    )
    out.print(f"web pages: http://127.0.0.1:{port}/ (Ctrl-C stops them)")
    out.print(f"  sign in (development, no password) as learner {sample},")
    out.print("  or as verifier verifier-talentco, to whom demo learners gave consents")
    uvicorn.run(
        create_app(server), host="127.0.0.1", port=port, access_log=False, log_level="warning"
    )


def _project(
    ledger: Ledger, settings: Settings, sample: str, erased: list[str], *, quiet: bool
) -> dict[str, Any]:
    """Bring the read models up to date and summarise one learner's record."""
    store = open_projection_store(settings)
    try:
        head = ledger.recorder.max_position()
        for projection in (LearnerRecordProjection(), PathwaysProjection()):
            runner = Projector(ledger, store, projection)
            with progress_bar(projection.name, head, enabled=not quiet) as advance:
                runner.rebuild(advance)
        today = datetime.now(UTC).date()
        return overview(LedgerRecords(ledger, store), sample, erased, today=today)
    finally:
        store.close()
