"""`ledger bench projections`: rebuild throughput of the learner record, and export times.

A demo population is ingested into a fresh ledger (SQLite, and PostgreSQL when a URL is
given); then, in the same run and each in a freshly opened ledger, the reference reads
and decodes the whole log page by page in one process (what any projection must do at
least), the runner catches the empty learner record up from zero in one process, and
`rebuild` projects the whole log again beside it and swaps it in, as
`ledger projections rebuild` does (two processes on two cores; then in one, for
comparison). Figures are events/s and the ratio of the rebuild to the reference.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console

from bench.databases import backends, postgres_base, settings_for, temporary_sqlite_url
from bench.report import conclude, machine, percentile, table
from bench.seeding import demo_population, seed
from credentials import dataintegrity
from credentials.identity import SigningIdentity
from credentials.jwt import credential_of, decode_jwt
from demo import IssuerSpec
from ledger.application import Ledger
from ledger.collector import tune_gc
from ledger.dburl import DatabaseUrl
from ledger.records import LEDGER_SOURCE
from projections.clr import build_clr
from projections.export import ClrSigner
from projections.issued import NAME as ISSUED
from projections.learner_record import LearnerRecordProjection
from projections.reading import LedgerRecords, catch_up_records
from projections.rebuild import default_workers
from projections.runner import Projector
from projections.store import open_projection_store
from services.export import record_export, sign_learner_export
from services.signing import LOCAL_URL, issuing_as

TARGET = 50_000
EXPORT_TARGET_MS = 100


def _read_and_decode(ledger: Ledger, page_rows: int) -> int:
    """The reference: every row of the log, read and decoded, nothing applied, in the
    pages a runner reads."""
    count = 0
    for page in ledger.recorder.iter_log(page=page_rows):
        ledger.decode_rows(page)
        count += len(page)
    return count


def _timed(run: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    covered = run()
    return covered, time.perf_counter() - started


def _measure(
    backend: str, url: str, lines: list[bytes], issuers: list[IssuerSpec], repeats: int
) -> dict[str, Any]:
    """Each figure in a freshly opened ledger, as a command would run it (no keys cached).

    The reference and the rebuild run ``repeats`` times, in turns (on a shared machine
    a neighbour's burst then spoils one run, not a figure): each is reported as the
    median run, with every run listed."""
    settings = settings_for(url)
    with Ledger.open(settings) as ledger:
        seed(ledger, issuers, lines)
        head = ledger.recorder.max_position()
    runs: dict[str, list[tuple[int, float]]] = {}
    store = open_projection_store(settings)

    def timed(name: str, run: Callable[[Ledger, Projector], int]) -> None:
        with Ledger.open(settings) as ledger:
            runner = Projector(ledger, store, LearnerRecordProjection())
            runs.setdefault(name, []).append(_timed(lambda: run(ledger, runner)))

    try:
        timed("catch_up_from_zero", lambda _, runner: runner.catch_up())
        for _ in range(repeats):
            timed(
                "reference_read_decode", lambda ledger, _: _read_and_decode(ledger, store.page_rows)
            )
            timed("rebuild", lambda _, runner: runner.rebuild())
        timed("rebuild_one_process", lambda _, runner: runner.rebuild(workers=1))
        learners = sum(1 for _ in store.scan(LearnerRecordProjection.name))
    finally:
        store.close()
    if any(covered != head for done in runs.values() for covered, _ in done):
        raise RuntimeError(f"bench projections: a run did not cover the {head} rows: {runs}")
    figures = {name: statistics.median(s for _, s in done) for name, done in runs.items()}
    return {
        "backend": backend,
        "events": head,
        "learners": learners,
        "page_rows": store.page_rows,
        "rebuild_workers": default_workers(head),
        **{
            name: {
                "seconds": round(figures[name], 3),
                "events_per_second": round(head / figures[name]),
                "runs_events_per_second": [round(head / s) for _, s in done],
            }
            for name, done in runs.items()
        },
        "ratio_rebuild_to_reference": round(
            figures["reference_read_decode"] / figures["rebuild"], 3
        ),
    }


def _measure_export(
    events: list[dict[str, Any]], issuers: list[IssuerSpec], runs: int
) -> dict[str, Any]:
    """Export time for one learner with ``len(events)`` events, both formats, as
    `ledger export` and the HTTP API export: :func:`services.export.sign_learner_export`
    (read models caught up, issued credentials reused, the outer credential signed), then
    :func:`services.export.record_export` (the export recorded in the learner's stream),
    timed apart.

    First the learner record is projected. The first export finds nothing issued:
    catching up the issued-credentials projection signs every credential once, within that
    export. Then ``runs`` exports of each format (p50/p99), each recorded, and the record
    caught up with that record between runs, untimed, as `ledger projections run --follow`
    does (without it, the next export's own catch-up projects it: a few milliseconds
    more); beside them a reference in the same process, the record read and built into an
    unsigned CLR. The last exports are checked afterwards: the Data Integrity one
    verifies, and both hold the issued proofs.
    """
    learner = "lrn_0BENCHEXP0RT" + "0" * 14
    lines = [orjson.dumps({**e, "subject": learner}) for e in events]
    key = Ed25519PrivateKey.generate()
    with temporary_sqlite_url() as url:
        settings = settings_for(url)
        with Ledger.open(settings) as ledger:
            if seed(ledger, issuers, lines, batch=len(lines)) != len(lines):
                raise RuntimeError("bench export: the learner's events were not all accepted")
            stored = len(ledger.learner_events(learner))
            store = open_projection_store(settings)
            try:
                catch_up_records(ledger, store)
                records, signer = (
                    LedgerRecords(ledger, store),
                    ClrSigner(
                        ledger, store, issuing_as(ledger, SigningIdentity.of(key), LOCAL_URL)
                    ),
                )

                def unsigned() -> tuple[float, bytes, int]:
                    started = time.perf_counter()
                    doc = store.get(LearnerRecordProjection.name, learner)
                    assert doc is not None
                    clr = build_clr(doc, issuer_did="did:key:z", issued_at="x", inner=[])
                    return time.perf_counter() - started, orjson.dumps(clr), 0

                recording: list[float] = []

                def export(fmt: str) -> tuple[float, bytes, int]:
                    started = time.perf_counter()
                    now = datetime.now(UTC).replace(microsecond=0)
                    signed = sign_learner_export(records, signer, learner, fmt=fmt, now=now)
                    signed_at = time.perf_counter()
                    record_export(ledger, learner, signed)
                    recording.append(time.perf_counter() - signed_at)
                    catch_up_records(ledger, store)
                    return signed_at - started, signed.data, signed.count

                first_s = export("di")[0]
                issued = store.get(ISSUED, learner)
                assert issued is not None
                timings: dict[str, list[float]] = {"unsigned": [], "di": [], "jwt": []}
                last: dict[str, bytes] = {}
                count = 0
                recording.clear()
                for _ in range(runs):
                    for fmt in timings:
                        elapsed, last[fmt], held = unsigned() if fmt == "unsigned" else export(fmt)
                        count = max(count, held)
                        timings[fmt].append(elapsed)
            finally:
                store.close()
    _check_warm(last, issued)
    return {
        "learner_events": stored,
        "credentials": count,
        "runs": runs,
        "first_export": {
            "format": "di",
            "ms": round(first_s * 1000, 1),
            "credentials_issued": len(issued["issued"]),
        },
        **{
            fmt: {
                "p50_ms": round(percentile(t, 0.5) * 1000, 1),
                "p99_ms": round(percentile(t, 0.99) * 1000, 1),
            }
            for fmt, t in (*timings.items(), ("record_export", recording))
        },
    }


def _check_warm(last: dict[str, bytes], issued: dict[str, Any]) -> None:
    """The warm exports are real: the Data Integrity one verifies, both hold the issued
    credentials' proofs."""
    outer = orjson.loads(last["di"])
    if not dataintegrity.verify(outer):
        raise RuntimeError("bench export: the warm Data Integrity export does not verify")
    stored = {e["credential"]["proof"]["proofValue"] for e in issued["issued"].values()}
    token = last["jwt"].decode("ascii").strip()
    for clr in (outer, credential_of(decode_jwt(token)[1])):
        held = clr["credentialSubject"]["verifiableCredential"]
        if {c["proof"]["proofValue"] for c in held} != stored:
            raise RuntimeError("bench export: a warm export does not hold the issued proofs")


def run_projection_bench(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    pg = postgres_base(args.postgres_url)
    console.print(f"generating {args.events} events")
    population, events = demo_population(args.events, seed=77)
    lines = [orjson.dumps(e) for e in events[: args.events]]
    # The collector set as `ledger serve` and `ledger projections` set it for their whole
    # process; the generated population, alive for the whole run, is frozen with the rest
    # (left out of the collector's passes, which would otherwise time the bench's own data).
    tune_gc()
    # Exports first: the rebuilds leave the database busy for a while (checkpoints, vacuum).
    console.print(f"export of one learner with {args.export_events} events × {args.export_runs}")
    with_subject = [e for e in events if "subject" in e and e["source"] != LEDGER_SOURCE]
    export = _measure_export(
        with_subject[: args.export_events], population.issuers, args.export_runs
    )
    results = []
    for backend, fresh in backends(pg, console):
        console.print(f"{backend}: ingest, then read+decode reference and rebuild")
        with fresh() as url:
            results.append(_measure(backend, url, lines, population.issuers, args.repeats))
    best = max(r["rebuild"]["events_per_second"] for r in results)
    report = {
        "benchmark": "projections",
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "postgresql": DatabaseUrl.parse(pg).redacted if pg else None,
        "projection": LearnerRecordProjection.name,
        "results": results,
        "target_events_per_second": TARGET,
        "target_met": best >= TARGET,
        "export": export,
        "export_target_p99_ms": EXPORT_TARGET_MS,
        "export_target_met": export["jwt"]["p99_ms"] < EXPORT_TARGET_MS
        and export["di"]["p99_ms"] < EXPORT_TARGET_MS,
    }
    shown = table(
        "learner record (events/s)",
        (
            "backend",
            "events",
            "learners",
            "read+decode (median)",
            "catch-up from 0",
            "rebuild, 1 process",
            "rebuild (median)",
            "rebuild / reference",
        ),
        (
            (
                r["backend"],
                str(r["events"]),
                str(r["learners"]),
                f"{r['reference_read_decode']['events_per_second']:,}",
                f"{r['catch_up_from_zero']['events_per_second']:,}",
                f"{r['rebuild_one_process']['events_per_second']:,}",
                f"{r['rebuild']['events_per_second']:,} ({r['rebuild_workers']} processes)",
                f"{r['ratio_rebuild_to_reference']:.2f}",
            )
            for r in results
        ),
    )
    runs = [
        f"{r['backend']} runs, in turns: read+decode "
        + " / ".join(f"{v:,}" for v in r["reference_read_decode"]["runs_events_per_second"])
        + "; rebuild "
        + " / ".join(f"{v:,}" for v in r["rebuild"]["runs_events_per_second"])
        for r in results
    ]
    first = export["first_export"]
    conclude(
        report,
        args.out,
        shown,
        [
            *runs,
            f"target ≥ {TARGET:,} events/s — {report['target_met']}",
            f"export (sign_learner_export, as `ledger export`), learner with "
            f"{export['learner_events']} events, {export['credentials']} credentials: first "
            f"export {first['ms']} ms (Data Integrity; issues all {first['credentials_issued']} "
            f"credentials); then {export['runs']} runs: reference (record read, unsigned CLR) "
            f"p50 {export['unsigned']['p50_ms']} ms; Data Integrity p50 "
            f"{export['di']['p50_ms']} / p99 {export['di']['p99_ms']} ms; VC-JWT p50 "
            f"{export['jwt']['p50_ms']} / p99 {export['jwt']['p99_ms']} ms; target p99 < "
            f"{EXPORT_TARGET_MS} ms — {report['export_target_met']}; then recording the export "
            f"p50 {export['record_export']['p50_ms']} / p99 {export['record_export']['p99_ms']} ms",
        ],
    )
    return 0
